//! The search as a service: a typed request in, a typed result out, with
//! no HTTP in between. [`perform`] runs one search on the calling thread
//! (the query, the typo-tolerant retry, the facet counts, the listings and
//! the highlights); [`Searcher`] runs searches and completions the way the
//! server does, each taking a place in the bounded queue and a slot, on a
//! blocking thread with a pooled connection. What the service needs of the
//! database goes through [`Store`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::facets::Facet;
use super::highlight::{self, Marked, Matches, VariantText};
use super::index::{Hit, SearchIndex, SearchOrder};
use super::schema::slot;
use crate::bounded::BoundedQueue;
use crate::db::models::VariantHeadRow;
use crate::db::publications::{self, Filter, Listed, Listing};
use crate::db::{changes, AnyConnection, Conn, Db, Fault, Unavailable};
use crate::domain::lang::{negotiate, LanguageRange, Served};
use crate::domain::translit::cyrillic_to_latin;
use crate::domain::{Lang, PublicationStatus};

/// The changes a hit's stored listing may be behind by before every hit is
/// read from the database instead (the indexer is catching up).
const MAX_PENDING_CHANGES: i64 = 1_000;

/// One search, as the endpoint takes it, parsed and checked.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The query text, control characters dropped. Empty (or blank): every
    /// publication the filter allows.
    pub text: String,
    pub filter: Filter,
    pub order: SearchOrder,
    pub limit: usize,
    pub offset: usize,
    /// What to count the matches by, each once.
    pub facets: Vec<Facet>,
    /// Whether to mark what matched (never without a text).
    pub highlight: bool,
    /// The languages the client asked for, in order: a hit is highlighted
    /// in the variant it will be served in when that one matched.
    pub languages: Vec<LanguageRange>,
}

/// What a search found.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    /// The page asked for, best first (or by date); publications that are
    /// no longer public are left out.
    pub hits: Vec<FoundHit>,
    /// How many publications match, over all pages.
    pub total: usize,
    /// True when nothing matched as typed and the hits come from the
    /// typo-tolerant query.
    pub fuzzy: bool,
    /// For each facet asked for, the matches counted by value as the index
    /// holds it (ids, wire names, tags, years).
    pub facets: Vec<(Facet, HashMap<String, u64>)>,
}

/// One hit: the publication as lists show it, its score, and what matched.
#[derive(Debug, Clone)]
pub struct FoundHit {
    pub listing: Listing,
    /// BM25 over every language's fields; 0 when ordered by date.
    pub score: f32,
    pub highlight: Highlight,
}

/// What matched in a hit, marked with `<mark>` (the rest HTML-escaped):
/// from the variant it is served in when that matched, otherwise from the
/// first variant that did; Latin derived from Cyrillic is marked in Latin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Highlight {
    pub title: Option<String>,
    pub body: Vec<String>,
}

/// One completion request: what was typed so far, and how many to return.
#[derive(Debug, Clone)]
pub struct SuggestRequest {
    pub text: String,
    pub limit: usize,
}

/// Why a search failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Every slot and queue place is taken.
    #[error("every search slot and queue place is taken")]
    Busy,
    #[error("the search index failed: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("the database failed: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("no database connection: {0}")]
    Pool(#[from] Unavailable),
    /// The blocking thread running the search panicked or was cancelled.
    #[error("the search thread failed: {0}")]
    Thread(String),
}

impl crate::db::MayFault for SearchError {
    fn fault(&self) -> Option<Fault> {
        match self {
            SearchError::Database(error) => Fault::of(error),
            _ => None,
        }
    }
}

/// What a search reads from the database: which hits changed since the
/// index took them in, those hits' current listings, and the texts to
/// highlight.
pub trait Store {
    /// The publications changed after change-log entry `seq`, or None when
    /// more than `limit` changes came after it.
    fn changed_after(
        &mut self,
        seq: u64,
        limit: i64,
    ) -> Result<Option<HashSet<String>>, SearchError>;
    /// Publications (any status) as lists show them.
    fn listed(&mut self, ids: &[String]) -> Result<Listed, SearchError>;
    /// The titles and bodies of some variants, given as (id, language).
    fn variant_texts(&mut self, wanted: &[(String, Lang)])
        -> Result<Vec<VariantText>, SearchError>;
}

impl Store for AnyConnection {
    fn changed_after(
        &mut self,
        seq: u64,
        limit: i64,
    ) -> Result<Option<HashSet<String>>, SearchError> {
        Ok(changes::publications_changed_after(
            self, seq as i64, limit,
        )?)
    }

    fn listed(&mut self, ids: &[String]) -> Result<Listed, SearchError> {
        Ok(publications::by_ids(self, ids)?)
    }

    fn variant_texts(
        &mut self,
        wanted: &[(String, Lang)],
    ) -> Result<Vec<VariantText>, SearchError> {
        let wanted: Vec<(&str, &str)> = wanted
            .iter()
            .map(|(id, lang)| (id.as_str(), lang.as_str()))
            .collect();
        Ok(publications::variant_texts(self, &wanted)?)
    }
}

/// A pooled connection, taken when the search first needs the database:
/// a search whose page is empty never takes one.
struct PooledStore {
    db: Db,
    conn: Option<Conn>,
}

impl PooledStore {
    /// Runs `read` on the store's connection ([`Db::read_on`]: a broken
    /// one is replaced and the read tried once more).
    fn read<T>(
        &mut self,
        read: impl Fn(&mut AnyConnection) -> Result<T, SearchError>,
    ) -> Result<T, SearchError> {
        self.db.read_on(&mut self.conn, read)
    }
}

impl Store for PooledStore {
    fn changed_after(
        &mut self,
        seq: u64,
        limit: i64,
    ) -> Result<Option<HashSet<String>>, SearchError> {
        self.read(|conn| conn.changed_after(seq, limit))
    }

    fn listed(&mut self, ids: &[String]) -> Result<Listed, SearchError> {
        self.read(|conn| conn.listed(ids))
    }

    fn variant_texts(
        &mut self,
        wanted: &[(String, Lang)],
    ) -> Result<Vec<VariantText>, SearchError> {
        self.read(|conn| conn.variant_texts(wanted))
    }
}

/// Runs searches and completions as the server does: each takes a place
/// among those running or waiting (past that, [`SearchError::Busy`] at
/// once), waits for a slot, and runs on a blocking thread, so that a burst
/// never piles up on the thread pool.
#[derive(Clone)]
pub struct Searcher {
    index: Arc<SearchIndex>,
    queue: Arc<BoundedQueue>,
    db: Db,
}

impl Searcher {
    pub fn new(index: Arc<SearchIndex>, queue: Arc<BoundedQueue>, db: Db) -> Self {
        Self { index, queue, db }
    }

    /// The change-log position the index has applied: results found now
    /// stay valid while it stays there.
    pub fn applied_seq(&self) -> u64 {
        self.index.applied_seq()
    }

    /// Runs a search (see [`perform`]).
    pub async fn search(&self, request: SearchRequest) -> Result<SearchOutcome, SearchError> {
        self.run(move |index, store| perform(index, &request, store))
            .await
    }

    /// Completes a half-typed title (see [`complete`]).
    pub async fn suggest(&self, request: SuggestRequest) -> Result<Vec<Listing>, SearchError> {
        self.run(move |index, store| complete(index, &request, store))
            .await
    }

    /// One trip to a blocking thread for the index, the database and the
    /// highlights: each hop to the thread pool and back is a context
    /// switch, and on two cores those add up.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&SearchIndex, &mut dyn Store) -> Result<T, SearchError> + Send + 'static,
    ) -> Result<T, SearchError> {
        let ticket = self.queue.admit().map_err(|_| SearchError::Busy)?;
        let _slot = ticket.slot().await.ok_or(SearchError::Busy)?;
        let index = Arc::clone(&self.index);
        let mut store = PooledStore {
            db: self.db.clone(),
            conn: None,
        };
        tokio::task::spawn_blocking(move || work(&index, &mut store))
            .await
            .map_err(|error| SearchError::Thread(error.to_string()))?
    }
}

/// Runs one search on the calling thread: the query (with the text parsed,
/// or as plain words when the parser rejects it), then, when nothing
/// matched as typed, the typo-tolerant query; the facet counts; each hit's
/// listing (as the index stored it, or from `store` when it changed since);
/// and the highlights.
pub fn perform(
    index: &SearchIndex,
    request: &SearchRequest,
    store: &mut dyn Store,
) -> Result<SearchOutcome, SearchError> {
    // Read before searching: a commit after it makes listings look older
    // than they are (read again from the store), never newer.
    let applied = index.applied_seq();
    let (mut query, parsed) = index.search_query(&request.text, &request.filter);
    let (order, limit, offset) = (request.order, request.limit, request.offset);
    let mut page = index.search(&*query, order, limit, offset)?;
    // Nothing found as typed: allow one typo in each longer word.
    let mut fuzzy = false;
    if page.total == 0 {
        let tolerant = parsed
            .as_ref()
            .and_then(|parsed| index.fuzzy_query(parsed, &request.filter));
        if let Some(tolerant) = tolerant {
            page = index.search(&*tolerant, order, limit, offset)?;
            query = tolerant;
            fuzzy = true;
        }
    }
    let facets = if request.facets.is_empty() {
        Vec::new()
    } else {
        index.facet_counts(&*query, &request.facets)?
    };
    let matches = if request.highlight && !request.text.trim().is_empty() {
        index.matches(&page, &*query, parsed.as_ref())?
    } else {
        HashMap::new()
    };
    let mut listed = listings(store, &mut page.hits, applied)?;
    // The variant each hit will be served in, to highlight first.
    let preferred: HashMap<String, Lang> = listed
        .heads
        .iter()
        .filter_map(|(id, heads)| {
            negotiate(&request.languages, &stored_languages(heads))
                .map(|served| (id.clone(), served.source()))
        })
        .collect();
    let marked = mark_hits(store, &matches, &listed, &preferred)?;

    let published = PublicationStatus::Published;
    let rows: HashMap<String, _> = std::mem::take(&mut listed.rows)
        .into_iter()
        .map(|row| (row.id.clone(), row))
        .collect();
    let hits = page
        .hits
        .iter()
        .filter_map(|hit| {
            // The index may lag the database by a moment: skip what is no longer public.
            let row = rows.get(&hit.id).filter(|row| row.status == published)?;
            let heads = listed.heads.get(&hit.id).cloned().unwrap_or_default();
            let served = serve(&request.languages, &heads);
            Some(FoundHit {
                highlight: choose_highlight(&marked, &hit.id, served),
                listing: Listing {
                    row: row.clone(),
                    heads,
                    field_ids: listed.field_ids.get(&hit.id).cloned().unwrap_or_default(),
                },
                score: hit.score,
            })
        })
        .collect();
    Ok(SearchOutcome {
        hits,
        total: page.total,
        fuzzy,
        facets,
    })
}

/// Completes a half-typed title: the publications (still public) whose
/// title has every finished word and a word starting with the last one,
/// newest first.
pub fn complete(
    index: &SearchIndex,
    request: &SuggestRequest,
    store: &mut dyn Store,
) -> Result<Vec<Listing>, SearchError> {
    let applied = index.applied_seq();
    let mut hits = index.suggest(&request.text, request.limit)?;
    let mut listed = listings(store, &mut hits, applied)?;
    let published = PublicationStatus::Published;
    Ok(hits
        .iter()
        .filter_map(|hit| {
            let row = listed
                .rows
                .iter()
                .find(|row| row.id == hit.id && row.status == published)?
                .clone();
            Some(Listing {
                row,
                heads: listed.heads.remove(&hit.id).unwrap_or_default(),
                field_ids: listed.field_ids.remove(&hit.id).unwrap_or_default(),
            })
        })
        .collect())
}

/// The language a publication is served in for these ranges (English when
/// it has no variant), as the listing will be rendered.
fn serve(ranges: &[LanguageRange], heads: &[VariantHeadRow]) -> Served {
    negotiate(ranges, &stored_languages(heads)).unwrap_or(Served {
        lang: Lang::En,
        derived_from: None,
    })
}

fn stored_languages(heads: &[VariantHeadRow]) -> Vec<Lang> {
    heads
        .iter()
        .filter_map(|head| Lang::from_stored(&head.lang))
        .collect()
}

/// The publications of some hits as lists show them: as the index stored
/// them (taken out of the hits), except those changed since the index
/// applied change `applied` (or with a listing it can't read), which come
/// from the store.
fn listings(store: &mut dyn Store, hits: &mut [Hit], applied: u64) -> Result<Listed, SearchError> {
    let mut listed = Listed::default();
    if hits.is_empty() {
        return Ok(listed);
    }
    let changed = store.changed_after(applied, MAX_PENDING_CHANGES)?;
    let mut stale = Vec::new();
    for hit in hits {
        match (hit.listing.take(), &changed) {
            (Some(listing), Some(changed)) if !changed.contains(&hit.id) => listed.push(listing),
            _ => stale.push(hit.id.clone()),
        }
    }
    if !stale.is_empty() {
        listed.extend(store.listed(&stale)?);
    }
    Ok(listed)
}

/// Marks what matched in each hit, reading as few texts as it can: first
/// the variant each hit is served in (with the variants before it in the
/// same field, which number their words first), then, for the hits where
/// that one matched nothing, the other variants of the fields that matched.
fn mark_hits(
    store: &mut dyn Store,
    matches: &HashMap<String, Matches>,
    listed: &Listed,
    preferred: &HashMap<String, Lang>,
) -> Result<HashMap<(String, Lang), Marked>, SearchError> {
    if matches.is_empty() {
        return Ok(HashMap::new());
    }
    let stored = |id: &str| -> Vec<Lang> {
        listed
            .heads
            .get(id)
            .map(|heads| stored_languages(heads))
            .unwrap_or_default()
    };
    let mut first: Vec<(String, Lang)> = Vec::new();
    for (id, found) in matches {
        let Some(&served) = preferred.get(id) else {
            continue;
        };
        let field = slot(served);
        if found.in_slot(field) {
            first.extend(
                stored(id)
                    .into_iter()
                    .filter(|lang| slot(*lang) == field && lang.as_str() <= served.as_str())
                    .map(|lang| (id.clone(), lang)),
            );
        }
    }
    let mut texts = variant_texts(store, &first)?;
    let mut marked = highlight::mark(&texts, matches, preferred);
    let done: HashSet<&str> = marked.keys().map(|(id, _)| id.as_str()).collect();
    let unmarked: HashMap<String, Matches> = matches
        .iter()
        .filter(|(id, _)| !done.contains(id.as_str()))
        .map(|(id, found)| (id.clone(), found.clone()))
        .collect();
    let rest: Vec<(String, Lang)> = unmarked
        .iter()
        .flat_map(|(id, found)| {
            stored(id)
                .into_iter()
                .filter(|lang| found.in_slot(slot(*lang)))
                .map(|lang| (id.clone(), lang))
        })
        .filter(|pair| !first.contains(pair))
        .collect();
    if !rest.is_empty() {
        texts.extend(variant_texts(store, &rest)?);
        marked.extend(highlight::mark(&texts, &unmarked, preferred));
    }
    Ok(marked)
}

/// The titles and bodies of some variants (none asked, nothing read).
fn variant_texts(
    store: &mut dyn Store,
    wanted: &[(String, Lang)],
) -> Result<Vec<VariantText>, SearchError> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    store.variant_texts(wanted)
}

/// Picks the highlights of a hit served as `served`: from the variant it
/// is served in when that matched, otherwise from the first variant that
/// did. Latin derived from Cyrillic is highlighted in Latin too.
fn choose_highlight(
    marked: &HashMap<(String, Lang), Marked>,
    id: &str,
    served: Served,
) -> Highlight {
    let source = served.source();
    let key = |lang: Lang| (id.to_owned(), lang);
    let (lang, found) = match marked.get(&key(source)) {
        Some(found) => (source, found),
        None => match Lang::ALL
            .into_iter()
            .find_map(|lang| marked.get(&key(lang)).map(|found| (lang, found)))
        {
            Some(pair) => pair,
            None => return Highlight::default(),
        },
    };
    let convert = |text: &String| {
        if lang == Lang::SrCyrl && served.lang == Lang::SrLatn {
            cyrillic_to_latin(text)
        } else {
            text.clone()
        }
    };
    Highlight {
        title: found.title.as_ref().map(convert),
        body: found.body.iter().map(convert).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Conn;

    /// The demo archive in a fresh SQLite database, and its index.
    struct Demo {
        _dir: tempfile::TempDir,
        conn: Conn,
        index: SearchIndex,
    }

    fn demo() -> Demo {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = dir.path().join("arkiv.db").display().to_string();
        let db = Db::connect(&url, 2).expect("database");
        db.migrate().expect("migrations");
        let mut conn = db.conn().expect("connection");
        crate::demo::load(&mut conn, None).expect("demo archive");
        let index = SearchIndex::open(&dir.path().join("index")).expect("index");
        super::super::sync::catch_up(&mut conn, &index).expect("indexed");
        Demo {
            _dir: dir,
            conn,
            index,
        }
    }

    fn request(text: &str) -> SearchRequest {
        SearchRequest {
            text: text.to_owned(),
            filter: Filter {
                statuses: vec![PublicationStatus::Published],
                ..Filter::default()
            },
            order: SearchOrder::Relevance,
            limit: 10,
            offset: 0,
            facets: vec![Facet::Kind],
            highlight: true,
            languages: vec![LanguageRange::Exact(Lang::En)],
        }
    }

    fn slugs(outcome: &SearchOutcome) -> Vec<&str> {
        outcome
            .hits
            .iter()
            .map(|hit| hit.listing.row.slug.as_str())
            .collect()
    }

    /// A store that says every publication changed since the index took it
    /// in, and serves `status` for each: the listings must come from it.
    struct Changed<'a> {
        conn: &'a mut AnyConnection,
        status: PublicationStatus,
        listed: Vec<String>,
    }

    impl Store for Changed<'_> {
        fn changed_after(
            &mut self,
            _: u64,
            _: i64,
        ) -> Result<Option<HashSet<String>>, SearchError> {
            Ok(None)
        }

        fn listed(&mut self, ids: &[String]) -> Result<Listed, SearchError> {
            self.listed.extend_from_slice(ids);
            let mut listed = self.conn.listed(ids)?;
            for row in &mut listed.rows {
                row.status = self.status;
            }
            Ok(listed)
        }

        fn variant_texts(
            &mut self,
            wanted: &[(String, Lang)],
        ) -> Result<Vec<VariantText>, SearchError> {
            self.conn.variant_texts(wanted)
        }
    }

    #[test]
    fn a_search_runs_without_http() {
        let mut demo = demo();
        let outcome =
            perform(&demo.index, &request("monitoring"), &mut **demo.conn).expect("search");
        assert!(!outcome.fuzzy);
        assert_eq!(outcome.total, outcome.hits.len());
        let found = slugs(&outcome);
        assert!(
            found.contains(&"media-monitoring-report-2024-q3"),
            "{found:?}"
        );
        let first = &outcome.hits[0];
        assert!(first.score > 0.0);
        assert!(
            first
                .highlight
                .title
                .as_deref()
                .is_some_and(|title| title.contains("<mark>Monitoring</mark>")),
            "{:?}",
            first.highlight
        );
        let kinds = &outcome.facets[0];
        assert_eq!(kinds.0, Facet::Kind);
        assert_eq!(kinds.1.values().sum::<u64>(), outcome.total as u64);
    }

    #[test]
    fn nothing_found_as_typed_is_found_with_a_typo_allowed() {
        let mut demo = demo();
        let outcome =
            perform(&demo.index, &request("monitorng"), &mut **demo.conn).expect("search");
        assert!(outcome.fuzzy);
        assert!(outcome.total > 0);
        // A word too short to take a typo: the exact result stands.
        let outcome = perform(&demo.index, &request("zqx"), &mut **demo.conn).expect("search");
        assert!(!outcome.fuzzy);
        assert_eq!(outcome.total, 0);
    }

    #[test]
    fn without_a_text_nothing_is_highlighted_and_dates_order() {
        let mut demo = demo();
        let mut newest = request("");
        newest.order = SearchOrder::PublishedDesc;
        let outcome = perform(&demo.index, &newest, &mut **demo.conn).expect("search");
        assert!(outcome.total >= outcome.hits.len() && !outcome.hits.is_empty());
        assert!(outcome
            .hits
            .iter()
            .all(|hit| hit.score == 0.0 && hit.highlight == Highlight::default()));
        let dates: Vec<_> = outcome
            .hits
            .iter()
            .map(|hit| hit.listing.row.published_on.clone())
            .collect();
        let mut sorted = dates.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(dates, sorted);
    }

    #[test]
    fn listings_changed_since_the_index_come_from_the_store() {
        let mut demo = demo();
        let mut store = Changed {
            conn: &mut demo.conn,
            status: PublicationStatus::Published,
            listed: Vec::new(),
        };
        let outcome = perform(&demo.index, &request("monitoring"), &mut store).expect("search");
        let ids: Vec<&str> = outcome
            .hits
            .iter()
            .map(|hit| hit.listing.row.id.as_str())
            .collect();
        assert!(!ids.is_empty());
        assert_eq!(store.listed, ids, "every hit read again");

        // Withdrawn since: left out of the page, still counted by the index.
        let mut store = Changed {
            conn: &mut demo.conn,
            status: PublicationStatus::Withdrawn,
            listed: Vec::new(),
        };
        let outcome = perform(&demo.index, &request("monitoring"), &mut store).expect("search");
        assert!(outcome.hits.is_empty());
        assert!(outcome.total > 0);
        let completions = complete(
            &demo.index,
            &SuggestRequest {
                text: "media mon".into(),
                limit: 8,
            },
            &mut store,
        )
        .expect("completions");
        assert!(completions.is_empty());
    }

    #[test]
    fn completions_are_the_titles_typed_so_far() {
        let mut demo = demo();
        let typed = SuggestRequest {
            text: "media monitor".into(),
            limit: 8,
        };
        let found = complete(&demo.index, &typed, &mut **demo.conn).expect("completions");
        let slugs: Vec<&str> = found
            .iter()
            .map(|listing| listing.row.slug.as_str())
            .collect();
        assert_eq!(
            slugs,
            [
                "media-monitoring-report-2024-q4",
                "media-monitoring-report-2024-q3"
            ]
        );
    }
}
