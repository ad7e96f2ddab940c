//! The search index handle: one tantivy index directory, its one writer
//! and its reader, and the change-log position its last commit applied.
//! The index is derived data: `arkiv reindex` rebuilds it from the
//! database, and the indexer keeps it in step with the change log, whose
//! last applied sequence number it stores in each commit's payload.
//!
//! What goes into it is in [`schema`](super::schema) and
//! [`document`](super::document); the queries run on it in
//! [`queries`](super::queries), [`fuzzy`](super::fuzzy),
//! [`facets`](super::facets) and [`suggest`](super::suggest); where they
//! matched in [`highlight`](super::highlight).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Mutex;

use tantivy::collector::{Count, TopDocs};
use tantivy::directory::{Directory, MmapDirectory, INDEX_WRITER_LOCK};
use tantivy::indexer::NoMergePolicy;
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser};
use tantivy::schema::{Schema, Value};
use tantivy::tokenizer::TokenizerManager;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term,
};

use super::analyzers;
use super::merge::ArchiveMergePolicy;
use super::queries::query_parser;
use super::schema::{schema, settings};
use crate::db::publications::Listing;

pub use super::facets::Facet;
pub use super::highlight::Marked;
pub use super::schema::{date_number, slot, timestamp_number, Fields, TEXT_LANGUAGES};

/// Memory for the index writer.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

/// One hit: the publication id, its score (0 when ordered by date), where
/// the index holds it, and the publication as the index stored it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub id: String,
    pub score: f32,
    pub address: DocAddress,
    /// None when the stored listing can't be read (written by another
    /// version of arkiv): the caller reads the database instead.
    pub listing: Option<Listing>,
}

/// Whether `query` is a union of single terms (a word looked for in
/// several fields), which tantivy scores with block-max WAND when it is
/// asked for the top hits alone.
fn is_term_union(query: &dyn Query) -> bool {
    let Some(union) = query.downcast_ref::<BooleanQuery>() else {
        return false;
    };
    union.clauses().iter().all(|(occur, clause)| {
        let mut terms = 0;
        let mut positions = false;
        clause.query_terms(&mut |_, need_positions| {
            terms += 1;
            positions |= need_positions;
        });
        *occur == Occur::Should && terms == 1 && !positions
    })
}

/// A page of hits, with the index snapshot they were found in (addresses
/// mean something only there).
pub struct Page {
    pub searcher: tantivy::Searcher,
    pub hits: Vec<Hit>,
    pub total: usize,
}

/// How search results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOrder {
    Relevance,
    PublishedDesc,
    PublishedAsc,
}

/// A search index directory, with its one writer.
pub struct SearchIndex {
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
    writer: Mutex<IndexWriter>,
    /// The parsers of queries: phrases by common pairs, and word by word
    /// for phrases with slop.
    pub(super) pair_parser: QueryParser,
    pub(super) word_parser: QueryParser,
    /// The parsers' analyzers, for finding a query's phrases in its terms.
    pub(super) pair_analyzers: TokenizerManager,
    pub(super) word_analyzers: TokenizerManager,
    /// The payload of the last commit: the change-log position applied.
    applied: AtomicU64,
}

/// Why the index could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("another process (a running `arkiv serve`?) holds the index in {0}; stop it first")]
    Locked(String),
    #[error("cannot open the search index in {dir}: {error}")]
    Tantivy {
        dir: String,
        error: tantivy::TantivyError,
    },
    #[error("cannot create the search index directory {dir}: {error}")]
    Io { dir: String, error: std::io::Error },
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it when there is none, and takes
    /// its writer lock.
    pub fn open(dir: &Path) -> Result<Self, OpenError> {
        let shown = dir.display().to_string();
        let tantivy_error = |error| OpenError::Tantivy {
            dir: shown.clone(),
            error,
        };
        std::fs::create_dir_all(dir).map_err(|error| OpenError::Io {
            dir: shown.clone(),
            error,
        })?;
        let (schema, fields) = schema();
        let create = |schema: Schema| {
            Index::builder()
                .schema(schema)
                .settings(settings())
                .create_in_dir(dir)
        };
        let index = if dir.join("meta.json").exists() {
            let index = Index::open_in_dir(dir).map_err(tantivy_error)?;
            if index.schema() != schema
                || index.settings().docstore_blocksize != settings().docstore_blocksize
            {
                // An index from another version of arkiv: derived data, so start over.
                tracing::warn!(
                    dir = %shown,
                    "the search index was written by another version of arkiv; \
                     starting it over (searches find less until it is built again)"
                );
                drop(index);
                // Only the process that may write the index may start it
                // over: a newer `arkiv reindex` run beside an older server
                // must refuse, not delete the index under it.
                let directory = MmapDirectory::open(dir)
                    .map_err(|error| tantivy_error(tantivy::TantivyError::from(error)))?;
                let _lock = directory
                    .acquire_lock(&INDEX_WRITER_LOCK)
                    .map_err(|_| OpenError::Locked(shown.clone()))?;
                clear_dir(dir).map_err(|error| OpenError::Io {
                    dir: shown.clone(),
                    error,
                })?;
                create(schema).map_err(tantivy_error)?
            } else {
                index
            }
        } else {
            create(schema).map_err(tantivy_error)?
        };
        analyzers::register(index.tokenizers());
        let writer = index.writer(WRITER_MEMORY).map_err(|error| match error {
            tantivy::TantivyError::LockFailure(..) => OpenError::Locked(shown.clone()),
            other => tantivy_error(other),
        })?;
        writer.set_merge_policy(Box::<ArchiveMergePolicy>::default());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(tantivy_error)?;
        let applied = index
            .load_metas()
            .ok()
            .and_then(|metas| metas.payload)
            .and_then(|payload| payload.parse().ok())
            .unwrap_or(0);
        let pair_analyzers = analyzers::for_queries(true);
        let word_analyzers = analyzers::for_queries(false);
        let pair_parser = query_parser(&index, &fields, pair_analyzers.clone());
        let word_parser = query_parser(&index, &fields, word_analyzers.clone());
        Ok(Self {
            index,
            reader,
            fields,
            writer: Mutex::new(writer),
            pair_parser,
            word_parser,
            pair_analyzers,
            word_analyzers,
            applied: AtomicU64::new(applied),
        })
    }

    /// The change-log sequence number the last commit applied (0 for none).
    pub fn applied_seq(&self) -> u64 {
        self.applied.load(AtomicOrdering::Acquire)
    }

    /// Applies changes: every id is deleted, then the public ones re-added;
    /// commits with `seq` as the payload and reloads the reader.
    pub fn apply(
        &self,
        deleted_ids: &[String],
        added: Vec<TantivyDocument>,
        seq: u64,
    ) -> tantivy::Result<()> {
        let mut writer = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for id in deleted_ids {
            writer.delete_term(Term::from_field_text(self.fields.id, id));
        }
        for doc in added {
            writer.add_document(doc)?;
        }
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&seq.to_string());
        commit.commit()?;
        drop(writer);
        self.reader.reload()?;
        self.applied.store(seq, AtomicOrdering::Release);
        Ok(())
    }

    /// Replaces everything in the index with the documents `fill` adds,
    /// as one commit with `seq` as its payload: a rebuild that stops
    /// half-way leaves the old index as it was. The segments are then
    /// merged into one, which every later query walks once instead of
    /// once per segment.
    pub fn rebuild<E>(
        &self,
        seq: u64,
        fill: impl FnOnce(&mut dyn FnMut(TantivyDocument) -> tantivy::Result<()>) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<tantivy::TantivyError>,
    {
        let mut writer = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Background merges would only be redone by the final one.
        writer.set_merge_policy(Box::new(NoMergePolicy));
        let filled = writer
            .delete_all_documents()
            .map_err(E::from)
            .and_then(|_| fill(&mut |doc| writer.add_document(doc).map(drop)))
            .and_then(|()| {
                let mut commit = writer.prepare_commit()?;
                commit.set_payload(&seq.to_string());
                commit.commit()?;
                let segments = self.index.searchable_segment_ids()?;
                if segments.len() > 1 {
                    writer.merge(&segments).wait()?;
                }
                Ok(())
            });
        writer.set_merge_policy(Box::<ArchiveMergePolicy>::default());
        if filled.is_err() {
            // Drop the half-made rebuild, so that the next commit does not publish it.
            writer.rollback()?;
        }
        filled?;
        drop(writer);
        self.reader.reload()?;
        self.applied.store(seq, AtomicOrdering::Release);
        Ok(())
    }

    /// Runs a query: one page of hits and the total.
    pub fn search(
        &self,
        query: &dyn Query,
        order: SearchOrder,
        limit: usize,
        offset: usize,
    ) -> tantivy::Result<Page> {
        let searcher = self.reader.searcher();
        let top = TopDocs::with_limit(limit.max(1)).and_offset(offset);
        let (addresses, total): (Vec<(f32, DocAddress)>, usize) = match order {
            // Block-max WAND finds the top hits of a union of terms without
            // scoring most of its matches, but then can't count them: a
            // count without scores is still cheaper than scoring them all.
            SearchOrder::Relevance if is_term_union(query) => (
                searcher.search(query, &top.order_by_score())?,
                query.count(&searcher)?,
            ),
            SearchOrder::Relevance => searcher.search(query, &(top.order_by_score(), Count))?,
            SearchOrder::PublishedDesc | SearchOrder::PublishedAsc => {
                let direction = if order == SearchOrder::PublishedDesc {
                    Order::Desc
                } else {
                    Order::Asc
                };
                let (docs, total) = searcher.search(
                    query,
                    &(top.order_by_u64_field("published_on", direction), Count),
                )?;
                (
                    docs.into_iter()
                        .map(|(_, address)| (0.0, address))
                        .collect(),
                    total,
                )
            }
        };
        let mut hits = Vec::with_capacity(addresses.len());
        for (score, address) in addresses {
            if let Some((id, listing)) = self.stored_at(&searcher, address)? {
                hits.push(Hit {
                    id,
                    score,
                    address,
                    listing,
                });
            }
        }
        Ok(Page {
            searcher,
            hits,
            total,
        })
    }

    /// Returns the publication id of a hit, and its stored listing.
    fn stored_at(
        &self,
        searcher: &tantivy::Searcher,
        address: DocAddress,
    ) -> tantivy::Result<Option<(String, Option<Listing>)>> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let Some(id) = doc
            .get_first(self.fields.id)
            .and_then(|value| value.as_str())
        else {
            return Ok(None);
        };
        let listing = doc
            .get_first(self.fields.listing)
            .and_then(|value| value.as_str())
            .and_then(|json| serde_json::from_str::<Listing>(json).ok())
            .filter(|listing| listing.row.id == id);
        Ok(Some((id.to_owned(), listing)))
    }

    /// How many documents the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Empties an index directory but for its writer lock, which the caller holds.
fn clear_dir(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.ends_with(&INDEX_WRITER_LOCK.filepath) {
            continue;
        }
        if path.is_dir() {
            std::fs::remove_dir_all(path)?;
        } else {
            std::fs::remove_file(path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_of_another_version_held_by_its_writer_is_left_alone() -> tantivy::Result<()> {
        let dir = tempfile::tempdir()?;
        // An index with another schema, as an older server would hold it.
        let mut builder = Schema::builder();
        let text = builder.add_text_field("text", tantivy::schema::TEXT);
        let older = Index::create_in_dir(dir.path(), builder.build())?;
        let mut writer: IndexWriter = older.writer(15_000_000)?;
        writer.add_document(tantivy::doc!(text => "kept"))?;
        writer.commit()?;
        let files = |dir: &Path| -> std::io::Result<usize> { Ok(std::fs::read_dir(dir)?.count()) };
        let before = files(dir.path())?;

        let opened = SearchIndex::open(dir.path());
        assert!(
            matches!(opened, Err(OpenError::Locked(_))),
            "opened beside the writer"
        );
        assert_eq!(files(dir.path())?, before, "files were deleted");
        assert_eq!(Index::open_in_dir(dir.path())?.schema(), older.schema());

        // Once its writer is gone, the old index is started over.
        drop(writer);
        let opened = SearchIndex::open(dir.path())
            .map_err(|error| tantivy::TantivyError::InternalError(error.to_string()))?;
        assert_eq!(opened.len(), 0);
        assert_eq!(Index::open_in_dir(dir.path())?.schema(), schema().0);
        Ok(())
    }
}
