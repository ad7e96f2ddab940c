//! The search index: one tantivy document per published publication, with
//! per-language text fields analysed by that language's chain, and filter
//! fields holding the same ids the database uses. The index is derived
//! data: `arkiv reindex` rebuilds it from the database, and the indexer
//! keeps it in step with the change log, whose last applied sequence
//! number it stores in each commit's payload.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Mutex;

use tantivy::collector::{Count, DocSetCollector, TopDocs};
use tantivy::directory::{Directory, MmapDirectory, INDEX_WRITER_LOCK};
use tantivy::indexer::NoMergePolicy;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::{
    BooleanQuery, BoostQuery, DfaWrapper, EmptyQuery, EmptyScorer, EnableScoring, Explanation,
    FuzzyTermQuery, Occur, Query, QueryParser, RangeQuery, RegexQuery, Scorer, TermQuery, Weight,
};
use tantivy::query_grammar::{UserInputAst, UserInputLeaf};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED,
    STRING,
};
use tantivy::tokenizer::{TextAnalyzer, TokenizerManager};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED};

use super::analyzers;
use super::highlight::Matches;
use super::merge::ArchiveMergePolicy;
use super::query::{self, Parsed};
use tantivy::{
    DocAddress, Index, IndexReader, IndexSettings, IndexWriter, Order, ReloadPolicy,
    TantivyDocument, Term,
};

use crate::catalog::Catalog;
use crate::db::publications::{Filter, Full, Listing};
use crate::domain::lang::available;
use crate::domain::{Lang, PublicationStatus};

/// The languages with text fields of their own; both Serbian scripts go to `sr`.
pub const TEXT_LANGUAGES: [&str; 3] = ["en", "sq", "sr"];

/// Memory for the index writer.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

/// The fields of the schema, looked up once.
#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    /// The publication as lists show it ([`Listing`], as JSON): stored, not indexed.
    pub listing: Field,
    pub title: [Field; 3],
    pub summary: [Field; 3],
    pub body: [Field; 3],
    pub keywords: Field,
    pub authors: Field,
    /// Every title, unstemmed and folded, for completions.
    pub title_suggest: Field,
    pub kind: Field,
    pub field: Field,
    pub project: Field,
    pub funder: Field,
    pub partner: Field,
    pub event: Field,
    pub language: Field,
    pub year: Field,
    pub published_on: Field,
    /// When the publication last changed, in microseconds since 1970.
    pub updated_at: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = |tokenizer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };
    let mut per_language = |name: &str| {
        TEXT_LANGUAGES.map(|lang| {
            builder.add_text_field(&format!("{name}_{lang}"), text(analyzer_name(lang)))
        })
    };
    let title = per_language("title");
    let summary = per_language("summary");
    let body = per_language("body");
    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED),
        listing: builder.add_text_field("listing", STORED),
        title,
        summary,
        body,
        keywords: builder.add_text_field("keywords", text(analyzers::KEYWORDS)),
        title_suggest: builder.add_text_field("title_suggest", text(analyzers::SUGGEST)),
        // Names are not stemmed, but their scripts and diacritics fold as
        // the completions' do: "Ivanović", "Ivanovic" and "Ивановић" meet.
        authors: builder.add_text_field("authors", text(analyzers::SUGGEST)),
        kind: builder.add_text_field("kind", STRING | FAST),
        field: builder.add_text_field("field", STRING | FAST),
        project: builder.add_text_field("project", STRING | FAST),
        funder: builder.add_text_field("funder", STRING | FAST),
        partner: builder.add_text_field("partner", STRING | FAST),
        event: builder.add_text_field("event", STRING | FAST),
        language: builder.add_text_field("language", STRING | FAST),
        year: builder.add_u64_field("year", INDEXED | FAST),
        published_on: builder.add_u64_field("published_on", INDEXED | FAST),
        updated_at: builder.add_u64_field("updated_at", INDEXED | FAST),
    };
    (builder.build(), fields)
}

/// The index's settings. The doc store is read for each hit's listing
/// (about a kilobyte of JSON), and tantivy decompresses a whole block to
/// read one document: blocks of 4 KiB rather than the default 16 KiB.
fn settings() -> IndexSettings {
    IndexSettings {
        docstore_blocksize: 4 * 1024,
        ..IndexSettings::default()
    }
}

/// The analyzer of a text language's fields.
fn analyzer_name(lang: &str) -> &'static str {
    match lang {
        "en" => analyzers::EN,
        "sq" => analyzers::SQ,
        _ => analyzers::SR,
    }
}

/// Maps a stored language tag to its text field slot.
pub fn slot(lang: Lang) -> usize {
    match lang {
        Lang::En => 0,
        Lang::Sq => 1,
        Lang::SrLatn | Lang::SrCyrl => 2,
    }
}

/// `YYYY-MM-DD` as the number `YYYYMMDD`, which orders as the date does.
pub fn date_number(date: &str) -> Option<u64> {
    let digits: String = date.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == 8).then(|| digits.parse().ok()).flatten()
}

/// A stored or parsed timestamp (RFC 3339) as microseconds since 1970,
/// which order as the times do.
pub fn timestamp_number(timestamp: &str) -> Option<u64> {
    let at = chrono::DateTime::parse_from_rfc3339(timestamp).ok()?;
    u64::try_from(at.timestamp_micros()).ok()
}

/// What a search can count its matches by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Facet {
    Kind,
    Field,
    Project,
    Funder,
    Language,
    Year,
}

impl Facet {
    pub const ALL: [Facet; 6] = [
        Facet::Kind,
        Facet::Field,
        Facet::Project,
        Facet::Funder,
        Facet::Language,
        Facet::Year,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Facet::Kind => "kind",
            Facet::Field => "field",
            Facet::Project => "project",
            Facet::Funder => "funder",
            Facet::Language => "language",
            Facet::Year => "year",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        crate::domain::one_of(raw, &Facet::ALL, |facet| facet.as_str()).copied()
    }
}

/// What a query matched in one variant, marked up.
#[derive(Debug, Clone, Default)]
pub struct Marked {
    pub title: Option<String>,
    pub body: Option<String>,
}

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

/// The terms within one edit of a word, but for its first letter, in one
/// or more fields with the same analyzer: documents with any of them in any
/// of the fields, scored by how many of the fields have one (as one fuzzy
/// query per field would score them together; with one field, a constant,
/// as tantivy's fuzzy query scores).
///
/// The automaton walks the dictionaries of the first field only, in every
/// segment, when the query is built; the others, when there are any, are
/// a language's titles and summaries beside its bodies, whose words are
/// mostly in the bodies too. Walking a dictionary is most of a fuzzy
/// query's cost, and one walk per language instead of three halves it.
/// A typo in a word's first letter is not one a reader makes often, and
/// Meilisearch counts it as two: keeping the first letter confines each
/// walk to the words that start with it.
/// Knowing its terms, the query also tells highlighting what to mark.
#[derive(Clone)]
struct FuzzyTerms {
    fields: Vec<Field>,
    /// The words found, in each of the fields.
    terms: Vec<Term>,
}

impl std::fmt::Debug for FuzzyTerms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FuzzyTerms")
            .field("fields", &self.fields)
            .field("terms", &self.terms.len())
            .finish()
    }
}

impl FuzzyTerms {
    /// The terms `automaton` accepts that start with the first letter of
    /// `word`, which it was built from.
    fn expand(
        searcher: &tantivy::Searcher,
        automaton: &DfaWrapper,
        word: &str,
        fields: Vec<Field>,
    ) -> tantivy::Result<Self> {
        let first = word.chars().next().map_or(0, char::len_utf8);
        let from = word.as_bytes()[..first].to_vec();
        // The first byte string past every word starting with `from`: its
        // last byte is a UTF-8 character's last, so never 0xFF.
        let mut past = from.clone();
        if let Some(last) = past.last_mut() {
            *last += 1;
        }
        let mut words = std::collections::BTreeSet::new();
        for reader in searcher.segment_readers() {
            let inverted = reader.inverted_index(fields[0])?;
            let mut builder = inverted.terms().search(automaton);
            if !from.is_empty() {
                builder = builder.ge(&from).lt(&past);
            }
            let mut stream = builder.into_stream()?;
            while stream.advance() {
                words.insert(stream.key().to_vec());
            }
        }
        let terms = fields
            .iter()
            .flat_map(|&field| {
                words.iter().filter_map(move |word| {
                    std::str::from_utf8(word).ok().map(|text| (field, text))
                })
            })
            .map(|(field, text)| Term::from_field_text(field, text))
            .collect();
        Ok(Self { fields, terms })
    }
}

impl Query for FuzzyTerms {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for term in &self.terms {
            visitor(term, false);
        }
    }
}

impl Weight for FuzzyTerms {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        if self.terms.is_empty() {
            return Ok(Box::new(EmptyScorer));
        }
        let max_doc = reader.max_doc() as usize;
        // Per document: the fields with a term, and the last field counted;
        // and the documents found, for when they are few.
        let (mut fields_with, mut counted_in) = (vec![0u8; max_doc], vec![0u8; max_doc]);
        let mut found: Vec<DocId> = Vec::new();
        for (number, &field) in (1u8..).zip(&self.fields) {
            let inverted = reader.inverted_index(field)?;
            for term in self.terms.iter().filter(|term| term.field() == field) {
                let Some(info) = inverted.terms().get(term.serialized_value_bytes())? else {
                    continue;
                };
                let mut postings =
                    inverted.read_block_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
                while !postings.docs().is_empty() {
                    for &doc in postings.docs() {
                        let doc = doc as usize;
                        if counted_in[doc] != number {
                            counted_in[doc] = number;
                            if fields_with[doc] == 0 {
                                found.push(doc as DocId);
                            }
                            fields_with[doc] += 1;
                        }
                    }
                    postings.advance();
                }
            }
        }
        let docs = counted_docs(&fields_with, found)
            .into_iter()
            .map(|doc| (doc, f32::from(fields_with[doc as usize]) * boost))
            .collect();
        Ok(Box::new(ScoredDocs { docs, at: 0 }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.scorer(reader, 1.0)?.seek(doc) == doc {
            Ok(Explanation::new("FuzzyTerms", 1.0))
        } else {
            Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )))
        }
    }
}

/// The documents with a count in `fields_with`, ascending, given the
/// same documents in the order they were `found`: sorted when they are
/// few, which is cheaper than going through every count.
fn counted_docs(fields_with: &[u8], mut found: Vec<DocId>) -> Vec<DocId> {
    if found.len() < fields_with.len() / 32 {
        found.sort_unstable();
        found
    } else {
        (0..)
            .zip(fields_with)
            .filter(|(_, &count)| count > 0)
            .map(|(doc, _)| doc)
            .collect()
    }
}

/// Documents with their scores, in document order.
struct ScoredDocs {
    docs: Vec<(DocId, Score)>,
    at: usize,
}

impl DocSet for ScoredDocs {
    fn advance(&mut self) -> DocId {
        self.at = (self.at + 1).min(self.docs.len());
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).map_or(TERMINATED, |(doc, _)| *doc)
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let rest = &self.docs[self.at..];
        self.at += rest.partition_point(|(doc, _)| *doc < target);
        self.doc()
    }

    fn size_hint(&self) -> u32 {
        self.docs.len() as u32
    }
}

impl Scorer for ScoredDocs {
    fn score(&mut self) -> Score {
        self.docs.get(self.at).map_or(0.0, |(_, score)| *score)
    }
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
    pair_parser: QueryParser,
    word_parser: QueryParser,
    /// The parsers' analyzers, for finding a query's phrases in its terms.
    pair_analyzers: TokenizerManager,
    word_analyzers: TokenizerManager,
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

    /// Builds the document of a publication, or None when it is not public.
    pub fn document(&self, full: &Full, catalog: &Catalog) -> Option<TantivyDocument> {
        if PublicationStatus::parse(&full.row.status) != Ok(PublicationStatus::Published) {
            return None;
        }
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &full.row.id);
        if let Ok(listing) = serde_json::to_string(&Listing::of(full)) {
            doc.add_text(f.listing, listing);
        }
        // Variants in language-tag order, files' text after every body:
        // the order highlighting numbers words in (see `highlight`).
        let mut variants: Vec<_> = full
            .variants
            .iter()
            .filter_map(|variant| Some((Lang::from_stored(&variant.lang)?, variant)))
            .collect();
        variants.sort_by_key(|(lang, _)| lang.as_str());
        let mut stored = Vec::new();
        for (lang, variant) in &variants {
            stored.push(*lang);
            let i = slot(*lang);
            doc.add_text(f.title[i], &variant.title);
            doc.add_text(f.title_suggest, &variant.title);
            doc.add_text(f.summary[i], &variant.summary);
            doc.add_text(f.body[i], &variant.body);
        }
        for (lang, variant) in &variants {
            if let Some(text) = &variant.file_text {
                doc.add_text(f.body[slot(*lang)], text);
            }
        }
        for lang in available(&stored) {
            doc.add_text(f.language, lang.as_str());
        }
        let keywords: Vec<String> = serde_json::from_str(&full.row.keywords).unwrap_or_default();
        doc.add_text(f.keywords, keywords.join(" "));
        let authors: Vec<String> = serde_json::from_str(&full.row.authors).unwrap_or_default();
        doc.add_text(f.authors, authors.join(" "));
        doc.add_text(f.kind, &full.row.kind);
        for field_id in &full.field_ids {
            doc.add_text(f.field, field_id);
        }
        if let Some(project_id) = &full.row.project_id {
            doc.add_text(f.project, project_id);
            if let Some(project) = catalog.projects.by_id(project_id) {
                for funding in &project.funders {
                    doc.add_text(f.funder, &funding.organisation_id);
                }
                for partner in &project.partner_ids {
                    doc.add_text(f.partner, partner);
                }
            }
        }
        if let Some(event_id) = &full.row.event_id {
            doc.add_text(f.event, event_id);
        }
        if let Some(date) = full.row.published_on.as_deref().and_then(date_number) {
            doc.add_u64(f.published_on, date);
            doc.add_u64(f.year, date / 10_000);
        }
        if let Some(at) = timestamp_number(&full.row.updated_at) {
            doc.add_u64(f.updated_at, at);
        }
        Some(doc)
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

    /// Builds the query of a search: the text query (words, phrases,
    /// `-exclusion`, `OR`, `field:`; see [`Parsed`]) AND the filters.
    pub fn query(&self, text: &str, filter: &Filter) -> Box<dyn Query> {
        self.search_query(text, filter).0
    }

    /// The query of a search, and its text as parsed (None when the text
    /// has nothing to look for), for [`matches`](Self::matches).
    pub fn search_query(&self, text: &str, filter: &Filter) -> (Box<dyn Query>, Option<Parsed>) {
        match self.runnable(text) {
            Some((parsed, query)) => (self.filtered(Some(query), filter), Some(parsed)),
            None if text.trim().is_empty() => (self.filtered(None, filter), None),
            // Only syntax (`-`, `:`, `(((`): nothing to look for, so nothing found.
            None => (Box::new(EmptyQuery), None),
        }
    }

    /// The phrases of a parsed text as the title and body fields hold
    /// them, and the terms that match anywhere on their own.
    fn phrase_plan(&self, parsed: &Parsed) -> PhrasePlan {
        let mut plan = PhrasePlan::default();
        let schema = self.index.schema();
        let f = &self.fields;
        let highlighted: Vec<Field> = f.title.iter().chain(&f.body).copied().collect();
        // The analyzers the parser used (see `parser`).
        let analyzers = if parsed.has_slop() {
            &self.word_analyzers
        } else {
            &self.pair_analyzers
        };
        query::visit_literals(&parsed.ast, true, &mut |literal| {
            let fields: Vec<Field> = match &literal.field_name {
                None => highlighted.clone(),
                Some(name) => schema
                    .get_field(name)
                    .ok()
                    .filter(|field| highlighted.contains(field))
                    .into_iter()
                    .collect(),
            };
            for field in fields {
                let Some(mut analyzer) = analyzer_of(&schema, field, analyzers) else {
                    continue;
                };
                let mut stream = analyzer.token_stream(&literal.phrase);
                let mut phrase: Vec<(Term, u32)> = Vec::new();
                while let Some(token) = stream.next() {
                    let position = u32::try_from(token.position).unwrap_or(u32::MAX);
                    phrase.push((Term::from_field_text(field, &token.text), position));
                }
                // Words a phrase with slop matches need not stand side by side.
                if phrase.len() < 2 || literal.slop > 0 {
                    plan.alone.extend(phrase.into_iter().map(|(term, _)| term));
                } else {
                    let start = phrase[0].1;
                    let phrase = phrase
                        .into_iter()
                        .map(|(term, position)| (term, position.saturating_sub(start)))
                        .collect();
                    plan.phrases.push(phrase);
                }
            }
        });
        plan
    }

    /// A search text as the index can run it, and its query: as typed, or
    /// its plain words when the index can't run it as typed. None when the
    /// text has nothing to look for.
    fn runnable(&self, text: &str) -> Option<(Parsed, Box<dyn Query>)> {
        let parsed = Parsed::new(text)?;
        let (query, errors) = self
            .parser(&parsed)
            .build_query_from_user_input_ast_lenient(parsed.ast.clone());
        if errors.is_empty() || !parsed.as_typed {
            return Some((parsed, query));
        }
        let plain = Parsed::plain_words(text);
        let (query, _) = self
            .parser(&plain)
            .build_query_from_user_input_ast_lenient(plain.ast.clone());
        Some((plain, query))
    }

    /// The parser for a query: a phrase with slop (`"a b"~2`) need not
    /// have its words side by side, so it can't be asked for by pairs.
    fn parser(&self, parsed: &Parsed) -> &QueryParser {
        if parsed.has_slop() {
            &self.word_parser
        } else {
            &self.pair_parser
        }
    }

    /// Builds a typo-tolerant version of a query, for when the exact one
    /// finds nothing: the same query, but a plain word of five letters or
    /// more may be found within one edit (a transposition counts as one)
    /// that keeps its first letter. Phrases, words with a field prefix and
    /// exclusions stay as typed. None when no word may take a typo.
    /// `parsed` is the text as the exact query ran it ([`search_query`](Self::search_query)).
    pub fn fuzzy_query(&self, parsed: &Parsed, filter: &Filter) -> Option<Box<dyn Query>> {
        let f = &self.fields;
        // The stemmed fields, a language's three in one walk, and the
        // unstemmed titles: a typo near the end of a word defeats its
        // stemmer, not the title's spelling.
        let mut groups: Vec<(Field, Vec<Field>)> = (0..TEXT_LANGUAGES.len())
            .map(|slot| (f.body[slot], vec![f.title[slot], f.summary[slot]]))
            .collect();
        groups.extend([f.keywords, f.authors, f.title_suggest].map(|field| (field, Vec::new())));
        let mut tolerant = Tolerant {
            index: self,
            parser: self.parser(parsed),
            searcher: self.reader.searcher(),
            groups,
            automata: HashMap::new(),
            forgiving: false,
        };
        let query = tolerant.query(&parsed.ast)?;
        tolerant
            .forgiving
            .then(|| self.filtered(Some(query), filter))
    }

    /// Combines a text query (or none) with the list filters, all required.
    fn filtered(&self, text_query: Option<Box<dyn Query>>, filter: &Filter) -> Box<dyn Query> {
        let f = &self.fields;
        let has_text = text_query.is_some();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(query) = text_query {
            clauses.push((Occur::Must, query));
        }
        let any_of = |field: Field, values: &[String]| -> Box<dyn Query> {
            let terms: Vec<(Occur, Box<dyn Query>)> = values
                .iter()
                .map(|value| {
                    let query: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(field, value),
                        IndexRecordOption::Basic,
                    ));
                    (Occur::Should, query)
                })
                .collect();
            Box::new(BooleanQuery::new(terms))
        };
        let mut filter_on = |field: Field, values: Option<&Vec<String>>| {
            if let Some(values) = values {
                clauses.push((Occur::Must, any_of(field, values)));
            }
        };
        filter_on(f.kind, (!filter.kinds.is_empty()).then_some(&filter.kinds));
        filter_on(f.field, filter.field_ids.as_ref());
        filter_on(f.project, filter.project_ids.as_ref());
        filter_on(f.event, filter.event_ids.as_ref());
        // The index lists the tags a publication is served in, derived
        // sr-Latn included, so the list filter's tags match as they are.
        filter_on(f.language, filter.languages.as_ref());
        let from = filter.published_from.as_deref().and_then(date_number);
        let to = filter.published_to.as_deref().and_then(date_number);
        if from.is_some() || to.is_some() {
            let bound = |value: Option<u64>| match value {
                Some(value) => Bound::Included(Term::from_field_u64(f.published_on, value)),
                None => Bound::Unbounded,
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(bound(from), bound(to))),
            ));
        }
        if let Some(since) = filter.updated_since.as_deref() {
            // A time before 1970 excludes nothing.
            let since = timestamp_number(since).unwrap_or(0);
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_u64(f.updated_at, since)),
                    Bound::Unbounded,
                )),
            ));
        }
        if clauses.is_empty() {
            return Box::new(tantivy::query::AllQuery);
        }
        if has_text && clauses.len() == 1 {
            // The text alone, unwrapped: a union of terms at the top is what
            // lets the top hits be found without scoring every match.
            if let Some((_, text_query)) = clauses.pop() {
                return text_query;
            }
        }
        if !has_text {
            // Filters alone: match every document, then narrow.
            clauses.push((Occur::Must, Box::new(tantivy::query::AllQuery)));
        }
        Box::new(BooleanQuery::new(clauses))
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

    /// Where `query` matched each hit of `page`: the positions of its terms
    /// in the hit's title and body fields, read from the index's postings,
    /// and the words of its terms in the completions' titles. Hits without
    /// any are left out.
    ///
    /// A term that the text (`parsed`) has only in phrases is marked only
    /// where its phrase matched: `"dialogue between"` does not mark a lone
    /// "between". Other terms (words, typo matches) are marked everywhere.
    pub fn matches(
        &self,
        page: &Page,
        query: &dyn Query,
        parsed: Option<&Parsed>,
    ) -> tantivy::Result<HashMap<String, Matches>> {
        let mut terms: Vec<Term> = Vec::new();
        query.query_terms(&mut |term, _| terms.push(term.clone()));
        terms.sort();
        terms.dedup();
        let plan = parsed
            .map(|parsed| self.phrase_plan(parsed))
            .unwrap_or_default();
        let in_phrases: HashSet<&Term> = plan
            .phrases
            .iter()
            .flatten()
            .map(|(term, _)| term)
            .filter(|term| !plan.alone.contains(*term))
            .collect();
        let mut found: HashMap<String, Matches> = HashMap::new();
        let mut positions = Vec::new();
        // The hits in index order, for each term's postings to go through
        // once, forward.
        let mut order: Vec<&Hit> = page.hits.iter().collect();
        order.sort_by_key(|hit| (hit.address.segment_ord, hit.address.doc_id));
        for slot in 0..TEXT_LANGUAGES.len() {
            for (field, is_title) in [
                (self.fields.title[slot], true),
                (self.fields.body[slot], false),
            ] {
                // Where each hit has the terms of phrases, to mark only
                // where a whole phrase stands.
                let mut held: HashMap<(DocAddress, &Term), Vec<u32>> = HashMap::new();
                for term in terms.iter().filter(|term| term.field() == field) {
                    let record = IndexRecordOption::WithFreqsAndPositions;
                    let phrase_only = in_phrases.contains(term);
                    postings_at_hits(page, &order, term, record, |hit, postings| {
                        positions.clear();
                        postings.positions(&mut positions);
                        if phrase_only {
                            held.insert((hit.address, term), positions.clone());
                        } else {
                            let matches = found.entry(hit.id.clone()).or_default();
                            mark_term(matches.field(slot, is_title), term, &positions);
                        }
                    })?;
                }
                for phrase in plan.phrases.iter().filter(|phrase| {
                    phrase
                        .first()
                        .is_some_and(|(term, _)| term.field() == field)
                }) {
                    for hit in &order {
                        let lists: Vec<(&[u32], u32)> = phrase
                            .iter()
                            .map(|(term, offset)| {
                                let list = held.get(&(hit.address, term));
                                (list.map(Vec::as_slice).unwrap_or_default(), *offset)
                            })
                            .collect();
                        let standing = phrase_starts(&lists);
                        if standing.is_empty() {
                            continue;
                        }
                        let matches = found.entry(hit.id.clone()).or_default();
                        let set = matches.field(slot, is_title);
                        for (term, offset) in phrase {
                            let marked: Vec<u32> =
                                standing.iter().map(|start| start + offset).collect();
                            mark_term(set, term, &marked);
                        }
                    }
                }
            }
        }
        // Words a typo matched in titles of any language: marked wherever
        // a title of the hit has them.
        let suggest = self.fields.title_suggest;
        for term in terms.iter().filter(|term| term.field() == suggest) {
            let value = term.value();
            let Some(word) = value.as_str() else {
                continue;
            };
            postings_at_hits(page, &order, term, IndexRecordOption::Basic, |hit, _| {
                let matches = found.entry(hit.id.clone()).or_default();
                matches.title_words.insert(word.to_owned());
            })?;
        }
        Ok(found)
    }

    /// Counts every match of `query` by each facet: (value, count) pairs,
    /// values as the index holds them (ids, wire names, tags, years).
    pub fn facet_counts(
        &self,
        query: &dyn Query,
        facets: &[Facet],
    ) -> tantivy::Result<Vec<(Facet, HashMap<String, u64>)>> {
        let searcher = self.reader.searcher();
        let matches = searcher.search(query, &DocSetCollector)?;
        let mut by_segment: HashMap<u32, Vec<u32>> = HashMap::new();
        for address in matches {
            by_segment
                .entry(address.segment_ord)
                .or_default()
                .push(address.doc_id);
        }
        let mut counts: Vec<(Facet, HashMap<String, u64>)> =
            facets.iter().map(|f| (*f, HashMap::new())).collect();
        for (segment_ord, docs) in by_segment {
            let fast = searcher.segment_reader(segment_ord).fast_fields();
            for (facet, totals) in &mut counts {
                if *facet == Facet::Year {
                    let column = fast.u64("year")?;
                    for doc in &docs {
                        for year in column.values_for_doc(*doc) {
                            *totals.entry(year.to_string()).or_default() += 1;
                        }
                    }
                    continue;
                }
                let Some(column) = fast.str(facet.as_str())? else {
                    continue;
                };
                let mut by_ord: HashMap<u64, u64> = HashMap::new();
                for doc in &docs {
                    for ord in column.term_ords(*doc) {
                        *by_ord.entry(ord).or_default() += 1;
                    }
                }
                let mut value = String::new();
                for (ord, count) in by_ord {
                    if column.ord_to_str(ord, &mut value)? {
                        *totals.entry(value.clone()).or_default() += count;
                    }
                }
            }
        }
        Ok(counts)
    }

    /// Completes a half-typed title: publications with a title (in any
    /// language or script) that has every finished word of `text` and a
    /// word starting with its last one, newest first.
    pub fn suggest(&self, text: &str, limit: usize) -> tantivy::Result<Vec<Hit>> {
        let mut analyzer = super::analyzers::suggest();
        let words = super::analyzers::terms(&mut analyzer, text);
        let Some((last, finished)) = words.split_last() else {
            return Ok(Vec::new());
        };
        let field = self.fields.title_suggest;
        let typing = !text.ends_with(char::is_whitespace);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in finished {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(field, word),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if typing {
            // Tokens are letters and digits only, so the pattern needs no escaping.
            clauses.push((
                Occur::Must,
                Box::new(RegexQuery::from_pattern(&format!("{last}.*"), field)?),
            ));
        } else {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(field, last),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        let page = self.search(
            &BooleanQuery::new(clauses),
            SearchOrder::PublishedDesc,
            limit,
            0,
        )?;
        Ok(page.hits)
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

/// A search text's phrases, as the title and body fields hold them: each
/// a list of (term, offset from its first term); and the terms of the text
/// that match on their own (words, phrases with slop).
#[derive(Default)]
struct PhrasePlan {
    phrases: Vec<Vec<(Term, u32)>>,
    alone: HashSet<Term>,
}

/// Where a phrase starts in a document, given where the document has each
/// of its terms (sorted positions) and the term's offset in the phrase.
fn phrase_starts(terms: &[(&[u32], u32)]) -> Vec<u32> {
    let Some(((first, _), rest)) = terms.split_first() else {
        return Vec::new();
    };
    first
        .iter()
        .copied()
        .filter(|start| {
            rest.iter()
                .all(|(positions, offset)| positions.binary_search(&(start + offset)).is_ok())
        })
        .collect()
}

/// Adds a term's positions to the marked ones: a common pair stands for
/// its word and the next.
fn mark_term(set: &mut std::collections::BTreeSet<u32>, term: &Term, positions: &[u32]) {
    set.extend(positions.iter().copied());
    if term.value().as_str().is_some_and(super::pairs::is_pair) {
        set.extend(positions.iter().map(|position| position + 1));
    }
}

/// The analyzer a text field is analysed with, from `analyzers`.
fn analyzer_of(
    schema: &Schema,
    field: Field,
    analyzers: &TokenizerManager,
) -> Option<TextAnalyzer> {
    match schema.get_field_entry(field).field_type() {
        tantivy::schema::FieldType::Str(options) => options
            .get_indexing_options()
            .and_then(|indexing| analyzers.get(indexing.tokenizer())),
        _ => None,
    }
}

/// The fields a query's words are looked for in.
fn text_fields(fields: &Fields) -> Vec<Field> {
    let mut text: Vec<Field> = Vec::new();
    text.extend(fields.title);
    text.extend(fields.summary);
    text.extend(fields.body);
    text.push(fields.keywords);
    text.push(fields.authors);
    text
}

/// A parser of search texts: every word required, looked for in every
/// text field, titles and summaries weighing more than bodies.
fn query_parser(index: &Index, fields: &Fields, analyzers: TokenizerManager) -> QueryParser {
    let mut parser = QueryParser::new(index.schema(), text_fields(fields), analyzers);
    parser.set_conjunction_by_default();
    for title in fields.title {
        parser.set_field_boost(title, 3.0);
    }
    for summary in fields.summary {
        parser.set_field_boost(summary, 1.5);
    }
    parser
}

/// Builds the typo-tolerant version of a parsed query.
struct Tolerant<'a> {
    index: &'a SearchIndex,
    parser: &'a QueryParser,
    searcher: tantivy::Searcher,
    /// The fields a word is looked for in: each with those whose
    /// dictionaries its walk stands for.
    groups: Vec<(Field, Vec<Field>)>,
    /// One Levenshtein automaton per distinct word form, shared by the
    /// fields (building one costs more than walking a dictionary with it).
    automata: HashMap<String, DfaWrapper>,
    /// Whether some word may take a typo.
    forgiving: bool,
}

impl Tolerant<'_> {
    /// The shortest word that may take a typo, in characters.
    const MIN_FUZZY_CHARS: usize = 5;

    /// The query of a subtree; None when it has nothing to look for.
    fn query(&mut self, ast: &UserInputAst) -> Option<Box<dyn Query>> {
        match ast {
            UserInputAst::Clause(children) => {
                let clauses: Vec<(Occur, Box<dyn Query>)> = children
                    .iter()
                    .filter_map(|(occur, child)| {
                        // Words are required unless `OR` or `-` says otherwise.
                        let occur = occur.unwrap_or(Occur::Must);
                        let query = if occur == Occur::MustNot {
                            Some(self.exact(child))
                        } else {
                            self.query(child)
                        };
                        query.map(|query| (occur, query))
                    })
                    .collect();
                (!clauses.is_empty())
                    .then(|| Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>)
            }
            UserInputAst::Boost(child, boost) => {
                let child = self.query(child)?;
                Some(Box::new(BoostQuery::new(child, boost.0 as Score)))
            }
            UserInputAst::Leaf(leaf) => match leaf.as_ref() {
                UserInputLeaf::Literal(literal) if query::is_plain(literal) => {
                    let words: Vec<(Occur, Box<dyn Query>)> = query::words(&literal.phrase)
                        .filter_map(|word| self.word(word))
                        .map(|query| (Occur::Must, query))
                        .collect();
                    (!words.is_empty())
                        .then(|| Box::new(BooleanQuery::new(words)) as Box<dyn Query>)
                }
                _ => Some(self.exact(ast)),
            },
        }
    }

    /// A subtree as typed.
    fn exact(&self, ast: &UserInputAst) -> Box<dyn Query> {
        self.parser
            .build_query_from_user_input_ast_lenient(ast.clone())
            .0
    }

    /// One word, in any of the fields: within one edit when it is long
    /// enough, as typed otherwise.
    fn word(&mut self, word: &str) -> Option<Box<dyn Query>> {
        let forgive = word.chars().count() >= Self::MIN_FUZZY_CHARS;
        let schema = self.index.index.schema();
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, also) in &self.groups {
            let (field, also) = (*field, also.as_slice());
            let Some(mut analyzer) = analyzer_of(&schema, field, self.index.index.tokenizers())
            else {
                continue;
            };
            let fields = || std::iter::once(field).chain(also.iter().copied());
            for token in analyzers::terms(&mut analyzer, word) {
                let query: Box<dyn Query> = if forgive {
                    let automaton = match self.automata.entry(token.clone()) {
                        Entry::Occupied(built) => built.into_mut(),
                        Entry::Vacant(slot) => {
                            let term = Term::from_field_text(field, &token);
                            match FuzzyTermQuery::new(term, 1, true).automaton() {
                                Ok(built) => slot.insert(built),
                                Err(_) => continue,
                            }
                        }
                    };
                    match FuzzyTerms::expand(&self.searcher, automaton, &token, fields().collect())
                    {
                        Ok(expanded) => Box::new(expanded),
                        Err(_) => continue,
                    }
                } else {
                    let exact: Vec<(Occur, Box<dyn Query>)> = fields()
                        .map(|field| {
                            let term = Box::new(TermQuery::new(
                                Term::from_field_text(field, &token),
                                IndexRecordOption::WithFreqs,
                            ));
                            (Occur::Should, term as Box<dyn Query>)
                        })
                        .collect();
                    Box::new(BooleanQuery::new(exact))
                };
                alternatives.push((Occur::Should, query));
            }
        }
        if alternatives.is_empty() {
            return None;
        }
        self.forgiving |= forgive;
        Some(Box::new(BooleanQuery::new(alternatives)))
    }
}

/// Calls `at_hit` with each of the `hits` (in index order) that has
/// `term`, and the term's postings moved to it: read once per segment and
/// moved forward, not looked up again for every hit.
fn postings_at_hits(
    page: &Page,
    hits: &[&Hit],
    term: &Term,
    record: IndexRecordOption,
    mut at_hit: impl FnMut(&Hit, &mut SegmentPostings),
) -> tantivy::Result<()> {
    let mut current: Option<(u32, Option<SegmentPostings>)> = None;
    for &hit in hits {
        let segment_ord = hit.address.segment_ord;
        if current.as_ref().map(|(ord, _)| *ord) != Some(segment_ord) {
            let postings = page
                .searcher
                .segment_reader(segment_ord)
                .inverted_index(term.field())?
                .read_postings(term, record)?;
            current = Some((segment_ord, postings));
        }
        let Some((_, Some(postings))) = current.as_mut() else {
            continue;
        };
        // `seek` only moves forward; past the end, `doc` is TERMINATED.
        let doc = hit.address.doc_id;
        if postings.doc() < doc {
            postings.seek(doc);
        }
        if postings.doc() == doc {
            at_hit(hit, postings);
        }
    }
    Ok(())
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
    fn counted_docs_are_the_documents_counted_few_or_many() {
        let max_doc = 10_000;
        // From a handful of documents to most of them, found out of order.
        for step in [9_973, 1_009, 331, 97, 31, 7, 2, 1] {
            let mut fields_with = vec![0u8; max_doc];
            let mut found = Vec::new();
            for doc in (0..max_doc).step_by(step).rev() {
                fields_with[doc] = 1 + (doc % 3) as u8;
                found.push(doc as DocId);
            }
            let expected: Vec<DocId> = (0..max_doc as DocId).step_by(step).collect();
            assert_eq!(
                counted_docs(&fields_with, found),
                expected,
                "every {step}th"
            );
        }
        assert!(counted_docs(&[0; 64], Vec::new()).is_empty());
    }

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
