//! What every request handler shares: the database, the catalog snapshot,
//! the newest change-log sequence number, and the response cache.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::db::{changes, vocabulary, Db};
use crate::domain::catalog::Catalog;
use crate::files::FileStore;
use crate::http::cache::ResponseCache;
use crate::http::error::ApiError;
use crate::search::index::SearchIndex;

/// How long a request may trust the last look at the change log. A write by
/// another process (`arkiv import`, another replica) shows within this.
const CHANGE_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// What the archive looked like at the last look at the change log.
#[derive(Clone)]
pub struct Snapshot {
    /// The newest change-log sequence number; responses built at it stay valid
    /// until it moves.
    pub seq: i64,
    pub catalog: Arc<Catalog>,
    /// A fingerprint of the catalog, part of the render key of stored
    /// publication documents (see [`crate::documents`]).
    pub catalog_key: u64,
}

/// A fingerprint of everything in `catalog`: equal catalogs give equal keys
/// in every process (the tables are filled in the same order).
fn catalog_key(catalog: &Catalog) -> u64 {
    xxhash_rust::xxh3::xxh3_64(format!("{catalog:?}").as_bytes())
}

pub struct AppState {
    pub db: Db,
    pub cache: ResponseCache,
    pub files: FileStore,
    /// Image renditions, beside the files.
    pub images: crate::images::ImageStore,
    /// The search index, when this process serves search.
    pub search: Option<Arc<SearchIndex>>,
    /// Which browser origins may call the API.
    pub cors: crate::http::cors::CorsSettings,
    /// The largest file upload accepted, in bytes.
    pub upload_limit: u64,
    /// How `/oai` introduces the archive.
    pub oai: crate::config::OaiSettings,
    /// Per-client request counts.
    pub rate_limiter: crate::http::ratelimit::RateLimiter,
    /// The proxies in front trusted to name the client (`ARKIV_TRUST_PROXY`).
    pub proxies: crate::http::proxy::TrustedProxies,
    /// Where clients reach the API: the base of every absolute link.
    pub public_url: crate::config::PublicUrl,
    /// The organisation's website pages of each resource (`ARKIV_SITE_URL`).
    pub site: crate::domain::links::SiteLinks,
    /// URLs per sitemap file before `/sitemap.xml` becomes an index.
    pub sitemap_urls: usize,
    /// Seconds HTTP caches may keep a public read.
    pub cache_max_age: u32,
    /// Request counts and latencies for `/metrics`.
    pub metrics: crate::http::metrics::Metrics,
    /// Runs PDF text extraction in child processes.
    pub extractor: Arc<crate::extract::Extractor>,
    /// Bounds the searches and completions running and waiting at once.
    pub search_queue: Arc<crate::bounded::BoundedQueue>,
    /// What webhooks may reach beyond the public internet.
    pub webhook_allow: crate::domain::net::AllowList,
    snapshot: RwLock<Snapshot>,
    checked_at: Mutex<Instant>,
    /// Rebuilds of the search index started through the admin API.
    pub rebuilds: crate::search::sync::Rebuilds,
    /// Reader statistics: counts waiting for their flush, totals to show.
    pub stats: Arc<crate::stats::Stats>,
    /// Rendered publication details kept in the database.
    pub documents: Arc<crate::documents::Documents>,
    /// What list filters look at, to give lists their `total` (D92).
    pub totals: Arc<crate::db::totals::Totals>,
    /// The fingerprint of `public_url` and `site` in stored documents'
    /// render key: set with them, not worked out on each request.
    links_key: u64,
}

/// The fingerprint of the settings a rendered detail's links come from.
fn links_key(public_url: &crate::config::PublicUrl, site: &crate::domain::links::SiteLinks) -> u64 {
    crate::documents::Documents::links_key(&format!("{public_url:?}|{site:?}"))
}

impl AppState {
    /// Builds the state and loads the first catalog snapshot; the response
    /// cache holds at most `cache_bytes` (0 turns it off); variant files are
    /// read from `files`.
    pub fn new(db: Db, cache_bytes: usize, files: FileStore) -> anyhow::Result<Self> {
        let mut conn = db.conn()?;
        let seq = changes::latest_seq(&mut conn)?;
        let catalog = Arc::new(vocabulary::load_catalog(&mut conn)?);
        let stats = crate::stats::Stats::new(crate::stats::StatsSettings::default());
        stats.refresh(&mut conn)?;
        drop(conn);
        Ok(Self {
            db,
            cache: ResponseCache::new(cache_bytes),
            images: crate::images::ImageStore::of(&files),
            files,
            search: None,
            cors: crate::http::cors::CorsSettings::default(),
            upload_limit: crate::config::DEFAULT_MAX_UPLOAD_MB << 20,
            oai: crate::config::OaiSettings::default(),
            rate_limiter: crate::http::ratelimit::RateLimiter::new(
                crate::http::ratelimit::RateLimits::OFF,
            ),
            proxies: crate::http::proxy::TrustedProxies::NONE,
            public_url: crate::config::PublicUrl::default(),
            site: crate::domain::links::SiteLinks::default(),
            sitemap_urls: crate::domain::links::MAX_SITEMAP_URLS,
            cache_max_age: 0,
            metrics: crate::http::metrics::Metrics::default(),
            extractor: crate::extract::Extractor::new(
                crate::extract::ExtractSettings::for_this_executable(),
            ),
            search_queue: crate::bounded::BoundedQueue::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
                crate::config::DEFAULT_SEARCH_QUEUE,
            ),
            webhook_allow: crate::domain::net::AllowList::default(),
            snapshot: RwLock::new(Snapshot {
                seq,
                catalog_key: catalog_key(&catalog),
                catalog,
            }),
            checked_at: Mutex::new(Instant::now()),
            rebuilds: crate::search::sync::Rebuilds::default(),
            stats: Arc::new(stats),
            totals: Arc::default(),
            documents: Arc::new(crate::documents::Documents::new(true)),
            links_key: links_key(
                &crate::config::PublicUrl::default(),
                &crate::domain::links::SiteLinks::default(),
            ),
        })
    }

    /// Keeps rendered publication details in the database, or not
    /// (`ARKIV_DOCUMENTS=off`: every detail is rendered).
    pub fn with_documents(mut self, enabled: bool) -> Self {
        self.documents = Arc::new(crate::documents::Documents::new(enabled));
        self
    }

    /// The render key stored documents must carry to be served now.
    pub fn render_key(&self, snapshot: &Snapshot) -> String {
        crate::documents::Documents::render_key(snapshot.catalog_key, self.links_key)
    }

    /// Counts reads as `settings` say; the totals are read again.
    pub fn with_stats(mut self, settings: crate::stats::StatsSettings) -> anyhow::Result<Self> {
        let stats = crate::stats::Stats::new(settings);
        stats.refresh(&mut *self.db.conn()?)?;
        self.stats = Arc::new(stats);
        Ok(self)
    }

    /// Answers cross-origin requests from these origins.
    pub fn with_cors(mut self, cors: crate::http::cors::CorsSettings) -> Self {
        self.cors = cors;
        self
    }

    /// Runs at most `running` searches at once, with `waiting` more
    /// waiting; past that a search is 503 `busy`.
    pub fn with_search_limits(mut self, running: usize, waiting: usize) -> Self {
        self.search_queue = crate::bounded::BoundedQueue::new(running, waiting);
        self
    }

    /// Extracts PDF text with these limits.
    pub fn with_extractor(mut self, settings: crate::extract::ExtractSettings) -> Self {
        self.extractor = crate::extract::Extractor::new(settings);
        self
    }

    /// Accepts file uploads up to this many bytes.
    pub fn with_upload_limit(mut self, bytes: u64) -> Self {
        self.upload_limit = bytes;
        self
    }

    /// Limits each client's requests a minute.
    pub fn with_rate_limits(mut self, limits: crate::http::ratelimit::RateLimits) -> Self {
        self.rate_limiter = crate::http::ratelimit::RateLimiter::new(limits);
        self
    }

    /// Believes what these proxies in front say of the client's address.
    pub fn with_proxies(mut self, proxies: crate::http::proxy::TrustedProxies) -> Self {
        self.proxies = proxies;
        self
    }

    /// Builds absolute links in answers on this URL.
    pub fn with_public_url(mut self, public_url: crate::config::PublicUrl) -> Self {
        self.public_url = public_url;
        self.links_key = links_key(&self.public_url, &self.site);
        self
    }

    /// Splits the sitemap into an index past `urls` URLs (the protocol's
    /// 50,000 unless a test wants a small one).
    pub fn with_sitemap_urls(mut self, urls: usize) -> Self {
        self.sitemap_urls = urls;
        self
    }

    /// Links resources to the organisation's website pages.
    pub fn with_site(mut self, site: crate::domain::links::SiteLinks) -> Self {
        self.site = site;
        self.links_key = links_key(&self.public_url, &self.site);
        self
    }

    /// Lets HTTP caches keep public reads this many seconds.
    pub fn with_cache_max_age(mut self, seconds: u32) -> Self {
        self.cache_max_age = seconds;
        self
    }

    /// Introduces the archive to harvesters this way.
    pub fn with_oai(mut self, oai: crate::config::OaiSettings) -> Self {
        self.oai = oai;
        self
    }

    /// Lets webhooks be registered for these inside targets.
    pub fn with_webhook_allow(mut self, allow: crate::domain::net::AllowList) -> Self {
        self.webhook_allow = allow;
        self
    }

    /// Serves search from this index.
    pub fn with_search(mut self, index: Arc<SearchIndex>) -> Self {
        self.search = Some(index);
        self
    }

    /// Says this process just wrote: the next request looks at the change
    /// log instead of trusting the last look, so a writer (and everyone
    /// after) reads its own write at once.
    pub fn wrote(&self) {
        let mut checked_at = lock(&self.checked_at);
        if let Some(long_ago) = Instant::now().checked_sub(CHANGE_CHECK_INTERVAL) {
            *checked_at = long_ago;
        }
    }

    fn current(&self) -> Snapshot {
        match self.snapshot.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Returns the current snapshot. At most every
    /// [`CHANGE_CHECK_INTERVAL`] one request looks at the change log; when
    /// something changed it moves the sequence number, and reloads the
    /// catalog when a vocabulary entity was among the changes.
    pub async fn snapshot(&self) -> Result<Snapshot, ApiError> {
        let due = {
            let mut checked_at = self
                .checked_at
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let due = checked_at.elapsed() >= CHANGE_CHECK_INTERVAL;
            if due {
                *checked_at = Instant::now();
            }
            due
        };
        let current = self.current();
        if !due {
            return Ok(current);
        }
        let known = current.seq;
        let fresh = self
            .db
            .run(
                move |conn| -> Result<Option<(i64, Option<Catalog>)>, ApiError> {
                    let seq = changes::latest_seq(conn)?;
                    if seq == known {
                        return Ok(None);
                    }
                    let catalog = if changes::vocabulary_changed_since(conn, known)? {
                        Some(vocabulary::load_catalog(conn)?)
                    } else {
                        None
                    };
                    Ok(Some((seq, catalog)))
                },
            )
            .await?;
        let Some((seq, catalog)) = fresh else {
            return Ok(current);
        };
        let mut guard = self
            .snapshot
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Another request may have moved it further meanwhile.
        if guard.seq < seq {
            guard.seq = seq;
            if let Some(catalog) = catalog {
                guard.catalog_key = catalog_key(&catalog);
                guard.catalog = Arc::new(catalog);
            }
        }
        Ok(guard.clone())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
