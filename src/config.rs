//! Settings: flags and `ARKIV_*` environment variables, parsed once into a
//! typed [`Config`] and passed down.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::domain::links::{PageType, SiteLinks, SiteTemplate};

/// The largest file upload, in MiB, when `ARKIV_MAX_UPLOAD_MB` is not set.
pub const DEFAULT_MAX_UPLOAD_MB: u64 = 50;

/// Searches that may wait for a slot by default (`ARKIV_SEARCH_QUEUE`).
pub const DEFAULT_SEARCH_QUEUE: usize = 64;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Settings every command shares.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Directory of the SQLite database (`arkiv.db`) and the search index.
    #[arg(long, env = "ARKIV_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Database URL: `postgres://…` for PostgreSQL, or a SQLite file path.
    /// Defaults to `<data-dir>/arkiv.db`.
    #[arg(long, env = "ARKIV_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Log format: `text` for people, `json` for log collectors.
    #[arg(
        long,
        env = "ARKIV_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    /// Memory for cached responses, in MiB; 0 turns the response cache off.
    #[arg(long, env = "ARKIV_CACHE_MB", default_value_t = 128, global = true)]
    pub cache_mb: usize,

    /// How long HTTP caches (a CDN, a browser) may keep a public read, in
    /// seconds; 0 makes them revalidate every time.
    #[arg(long, env = "ARKIV_CACHE_MAX_AGE", default_value_t = 60, global = true)]
    pub cache_max_age: u32,

    /// Requests a minute for each address without an API key; 0 for no limit.
    #[arg(long, env = "ARKIV_RATE_LIMIT", default_value_t = 600, global = true)]
    pub rate_limit: u32,

    /// Requests a minute for each API key (partners, editors, admins); 0
    /// for no limit.
    #[arg(
        long,
        env = "ARKIV_RATE_LIMIT_KEYED",
        default_value_t = 6000,
        global = true
    )]
    pub rate_limit_keyed: u32,

    /// Count anonymous clients by the address in `Forwarded` /
    /// `X-Forwarded-For`: only behind a proxy that sets them.
    #[arg(long, env = "ARKIV_TRUST_PROXY", action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new(), global = true)]
    pub trust_proxy: bool,

    /// With `--trust-proxy`: how many proxies of the archive's own stand in
    /// front, each appending the address it saw; the client is the entry
    /// that many from the right.
    #[arg(
        long,
        env = "ARKIV_TRUST_PROXY_HOPS",
        default_value_t = 1,
        global = true
    )]
    pub trust_proxy_hops: u8,

    /// The URL clients reach the API at (`https://archive.example.org`),
    /// the base of every absolute link in answers: never taken from
    /// request headers. Defaults to `http://<bind address>`.
    #[arg(long, env = "ARKIV_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// The organisation's website page of each resource, a URL template with
    /// `{lang}`, `{type}` (`publications`, `projects`, `organisations`,
    /// `events`, `fields`), `{slug}` and `{id}`:
    /// `https://example.org/{lang}/{type}/{slug}`. When set, resources carry
    /// `links.site`, feeds, OAI-PMH and citations point at the site, and
    /// `/sitemap.xml` lists its pages.
    #[arg(long, env = "ARKIV_SITE_URL", global = true)]
    pub site_url: Option<String>,

    /// The site's publication pages, when their paths differ from `ARKIV_SITE_URL`.
    #[arg(long, env = "ARKIV_SITE_URL_PUBLICATIONS", global = true)]
    pub site_url_publications: Option<String>,

    /// The site's project pages, when their paths differ from `ARKIV_SITE_URL`.
    #[arg(long, env = "ARKIV_SITE_URL_PROJECTS", global = true)]
    pub site_url_projects: Option<String>,

    /// The site's organisation pages, when their paths differ from `ARKIV_SITE_URL`.
    #[arg(long, env = "ARKIV_SITE_URL_ORGANISATIONS", global = true)]
    pub site_url_organisations: Option<String>,

    /// The site's event pages, when their paths differ from `ARKIV_SITE_URL`.
    #[arg(long, env = "ARKIV_SITE_URL_EVENTS", global = true)]
    pub site_url_events: Option<String>,

    /// The site's field-of-work pages, when their paths differ from `ARKIV_SITE_URL`.
    #[arg(long, env = "ARKIV_SITE_URL_FIELDS", global = true)]
    pub site_url_fields: Option<String>,

    /// Maximum number of pooled database connections.
    #[arg(long, env = "ARKIV_DB_POOL_SIZE", default_value_t = 16, global = true)]
    pub db_pool_size: u32,

    /// Longest wait, in milliseconds, for a pooled database connection
    /// before a request is answered 503 `database_unavailable`.
    #[arg(long, env = "ARKIV_DB_WAIT_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=60_000), global = true)]
    pub db_wait_ms: u64,

    /// Largest file upload accepted, in MiB.
    #[arg(long, env = "ARKIV_MAX_UPLOAD_MB", default_value_t = DEFAULT_MAX_UPLOAD_MB, global = true)]
    pub max_upload_mb: u64,

    #[command(flatten)]
    pub extract: ExtractConfig,

    /// Searches and completions running at once (default: one per core).
    #[arg(long, env = "ARKIV_SEARCH_CONCURRENCY", global = true,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub search_concurrency: Option<u64>,

    /// Searches that may wait for a slot; past that, 503 with Retry-After.
    #[arg(long, env = "ARKIV_SEARCH_QUEUE", default_value_t = DEFAULT_SEARCH_QUEUE, global = true)]
    pub search_queue: usize,

    /// Browser origins allowed to call the API cross-origin, comma-separated
    /// (`https://example.org`), or `*` for any. None by default.
    #[arg(
        long = "cors-origin",
        env = "ARKIV_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_origins: Vec<String>,

    /// Let browsers send credentials on cross-origin requests (only with
    /// exact origins). Off by default: API keys go in a header, not cookies.
    #[arg(long, env = "ARKIV_CORS_CREDENTIALS", action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new(), global = true)]
    pub cors_credentials: bool,

    /// The archive's name, as OAI-PMH `Identify` gives it to harvesters.
    #[arg(
        long,
        env = "ARKIV_REPOSITORY_NAME",
        default_value = "arkiv publications archive",
        global = true
    )]
    pub repository_name: String,

    /// Whom harvesters write to about the archive (OAI-PMH `adminEmail`).
    #[arg(
        long,
        env = "ARKIV_ADMIN_EMAIL",
        default_value = "archive@example.org",
        global = true
    )]
    pub admin_email: String,

    /// The domain name in OAI-PMH identifiers (`oai:<this>:<uuid>`): the
    /// archive's own, so identifiers are unique among all repositories.
    #[arg(
        long,
        env = "ARKIV_OAI_NAMESPACE",
        default_value = "arkiv.example.org",
        global = true
    )]
    pub oai_namespace: String,

    /// Hosts webhooks may reach although they are not on the public
    /// internet, comma-separated: host names (whatever they resolve to),
    /// addresses and CIDR ranges (`hooks.intranet.example,10.1.0.0/16`).
    /// None by default.
    #[arg(
        long = "webhook-allow",
        env = "ARKIV_WEBHOOK_ALLOW",
        value_delimiter = ',',
        global = true
    )]
    pub webhook_allow: Vec<String>,

    /// Count views and downloads of publications (`ARKIV_STATS=off` turns
    /// counting off; totals already counted are still shown).
    #[arg(long, env = "ARKIV_STATS", default_value_t = true, action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new(), global = true)]
    pub stats: bool,

    /// Seconds between flushes of reader counts to the database; a crash
    /// loses at most this much counting.
    #[arg(long, env = "ARKIV_STATS_FLUSH_S", default_value_t = 5, global = true,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub stats_flush_s: u64,

    /// Keep each publication detail, once rendered, in the database and
    /// answer later readers of that edition from it (`ARKIV_DOCUMENTS=off`
    /// renders every detail: for comparisons).
    #[arg(long, env = "ARKIV_DOCUMENTS", default_value_t = true, action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new(), global = true)]
    pub documents: bool,

    /// A robots list to use instead of the shipped COUNTER list: a JSON
    /// array of `{"pattern": …}` or one regular expression a line.
    #[arg(long, env = "ARKIV_ROBOTS_FILE", global = true)]
    pub robots_file: Option<PathBuf>,
}

/// Limits of PDF text extraction, which runs in child processes.
#[derive(Debug, Clone, Args)]
pub struct ExtractConfig {
    /// Seconds one PDF's text extraction may take (wall and CPU time).
    #[arg(long, env = "ARKIV_EXTRACT_TIMEOUT_S", default_value_t = 30, global = true,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub extract_timeout_s: u64,

    /// Address space one extraction may use, in MiB.
    #[arg(long, env = "ARKIV_EXTRACT_MEMORY_MB", default_value_t = 512, global = true,
          value_parser = clap::value_parser!(u64).range(64..=65536))]
    pub extract_memory_mb: u64,

    /// Text one extraction may return, in MiB.
    #[arg(long, env = "ARKIV_EXTRACT_MAX_TEXT_MB", default_value_t = 16, global = true,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub extract_max_text_mb: u64,

    /// Extractions running at once (default: one per core).
    #[arg(long, env = "ARKIV_EXTRACT_CONCURRENCY", global = true,
          value_parser = clap::value_parser!(u64).range(1..=256))]
    pub extract_concurrency: Option<u64>,

    /// Extractions that may wait for a free slot; past that, uploads get
    /// 503 with Retry-After.
    #[arg(long, env = "ARKIV_EXTRACT_QUEUE", default_value_t = 8, global = true)]
    pub extract_queue: usize,
}

impl ExtractConfig {
    /// The extractor's settings, running this executable as the child.
    pub fn settings(&self) -> crate::extract::ExtractSettings {
        let defaults = crate::extract::ExtractSettings::for_this_executable();
        crate::extract::ExtractSettings {
            timeout: std::time::Duration::from_secs(self.extract_timeout_s),
            memory_mb: self.extract_memory_mb,
            max_text_bytes: usize::try_from(self.extract_max_text_mb << 20).unwrap_or(usize::MAX),
            concurrency: self
                .extract_concurrency
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(defaults.concurrency),
            queue: self.extract_queue,
            ..defaults
        }
    }
}

/// How the archive introduces itself to OAI-PMH harvesters.
#[derive(Debug, Clone)]
pub struct OaiSettings {
    pub repository_name: String,
    pub admin_email: String,
    pub namespace: String,
    /// Records per ListRecords response; ListIdentifiers sends five times
    /// as many headers.
    pub page_size: i64,
}

impl Default for OaiSettings {
    fn default() -> Self {
        Self {
            repository_name: "arkiv publications archive".into(),
            admin_email: "archive@example.org".into(),
            namespace: "arkiv.example.org".into(),
            page_size: 100,
        }
    }
}

impl OaiSettings {
    /// Checks the settings against what the OAI-PMH schemas accept.
    pub fn new(repository_name: &str, admin_email: &str, namespace: &str) -> Result<Self, String> {
        let (user, domain) = admin_email.split_once('@').unwrap_or(("", ""));
        if user.is_empty() || !domain.contains('.') || admin_email.contains(char::is_whitespace) {
            return Err(format!(
                "ARKIV_ADMIN_EMAIL {admin_email:?} is not an email address"
            ));
        }
        // oai-identifier.xsd: labels that start with a letter, joined by dots.
        let labels: Vec<&str> = namespace.split('.').collect();
        let label_ok = |label: &&str| {
            label.starts_with(|c: char| c.is_ascii_alphabetic())
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(format!(
                "ARKIV_OAI_NAMESPACE {namespace:?} must be a domain name such as archive.example.org"
            ));
        }
        if repository_name.trim().is_empty() {
            return Err("ARKIV_REPOSITORY_NAME must not be empty".into());
        }
        Ok(Self {
            repository_name: repository_name.to_owned(),
            admin_email: admin_email.to_owned(),
            namespace: namespace.to_owned(),
            ..Self::default()
        })
    }
}

impl Config {
    /// Returns the database URL, defaulting to the SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.is_empty() => url.clone(),
            _ => self
                .data_dir
                .join("arkiv.db")
                .to_string_lossy()
                .into_owned(),
        }
    }

    /// Returns the directory of the search index, `<data-dir>/index`.
    pub fn index_dir(&self) -> std::path::PathBuf {
        self.data_dir.join("index")
    }

    /// Returns the OAI-PMH settings, checked.
    pub fn oai(&self) -> Result<OaiSettings, String> {
        OaiSettings::new(
            &self.repository_name,
            &self.admin_email,
            &self.oai_namespace,
        )
    }

    /// Returns the site's page templates, checked; empty ones are unset.
    pub fn site_links(&self) -> Result<SiteLinks, String> {
        let parse = |name: String, raw: &Option<String>| match raw.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => SiteTemplate::parse(raw)
                .map(Some)
                .map_err(|error| format!("{name} {raw:?} {error}")),
            _ => Ok(None),
        };
        let shared = parse("ARKIV_SITE_URL".into(), &self.site_url)?;
        let mut overrides = Vec::new();
        for (page, raw) in [
            (PageType::Publications, &self.site_url_publications),
            (PageType::Projects, &self.site_url_projects),
            (PageType::Organisations, &self.site_url_organisations),
            (PageType::Events, &self.site_url_events),
            (PageType::Fields, &self.site_url_fields),
        ] {
            let name = format!("ARKIV_SITE_URL_{}", page.env_suffix());
            if let Some(template) = parse(name, raw)? {
                overrides.push((page, template));
            }
        }
        Ok(SiteLinks::new(shared, overrides))
    }

    /// Returns what webhooks may reach beyond the public internet, checked.
    pub fn webhook_allow(&self) -> Result<crate::domain::net::AllowList, String> {
        crate::domain::net::AllowList::parse(&self.webhook_allow)
            .map_err(|error| format!("ARKIV_WEBHOOK_ALLOW: {error}"))
    }

    /// Returns how reads are counted: the robots list read and checked.
    pub fn stats(&self) -> Result<crate::stats::StatsSettings, String> {
        let robots = match &self.robots_file {
            Some(path) => crate::stats::robots::Robots::load(path)
                .map_err(|error| format!("ARKIV_ROBOTS_FILE: {error}"))?,
            None => crate::stats::robots::Robots::counter(),
        };
        Ok(crate::stats::StatsSettings {
            enabled: self.stats,
            robots: std::sync::Arc::new(robots),
        })
    }

    /// Returns the proxies trusted to name the client, checked.
    pub fn proxies(&self) -> Result<crate::http::proxy::TrustedProxies, String> {
        if self.trust_proxy {
            crate::http::proxy::TrustedProxies::hops(self.trust_proxy_hops)
        } else {
            Ok(crate::http::proxy::TrustedProxies::NONE)
        }
    }

    /// Returns the API's public URL: `ARKIV_PUBLIC_URL`, checked, or one
    /// made from the address the server listens on.
    pub fn public_url(&self, bind: &str) -> Result<PublicUrl, String> {
        match self.public_url.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => PublicUrl::parse(raw),
            _ => Ok(PublicUrl::from_bind(bind)),
        }
    }

    /// Returns the store of variant files, `<data-dir>/files`.
    pub fn file_store(&self) -> crate::files::FileStore {
        crate::files::FileStore::new(self.data_dir.join("files"))
    }

    /// (running, waiting): the bounds of the search queue.
    pub fn search_limits(&self) -> (usize, usize) {
        let running = self
            .search_concurrency
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        (running, self.search_queue)
    }

    /// Creates the data directory when the database lives in it.
    pub fn ensure_data_dir(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.data_dir)
    }
}

/// The URL clients reach the API at: scheme, host, port and an optional
/// path prefix, without a trailing slash. Every absolute link in an answer
/// starts with it; none is built from `Host` or `X-Forwarded-*`, which any
/// client can set and a shared cache would then hand to everyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    url: String,
    /// The length of `scheme://host[:port]`, the origin.
    origin_len: usize,
}

impl Default for PublicUrl {
    fn default() -> Self {
        Self::from_bind("127.0.0.1:8080")
    }
}

impl PublicUrl {
    /// Checks a configured URL: `http` or `https`, a host, no user name,
    /// query or fragment; a trailing slash is dropped.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let invalid = |why: &str| format!("ARKIV_PUBLIC_URL {raw:?} {why}");
        let trimmed = raw.trim().trim_end_matches('/');
        if trimmed.contains(['?', '#']) {
            return Err(invalid("must have no query or fragment"));
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain spaces"));
        }
        let uri: actix_web::http::Uri = trimmed
            .parse()
            .map_err(|_| invalid("is not a URL such as https://archive.example.org"))?;
        let scheme = uri.scheme_str().map(str::to_ascii_lowercase);
        if !matches!(scheme.as_deref(), Some("http" | "https")) {
            return Err(invalid("must start with http:// or https://"));
        }
        let authority = uri
            .authority()
            .map(|authority| authority.as_str())
            .unwrap_or_default();
        if authority.contains('@') {
            return Err(invalid("must not carry a user name or password"));
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(invalid("must name a host"));
        }
        let origin = format!(
            "{}://{}",
            scheme.unwrap_or_default(),
            authority.to_ascii_lowercase()
        );
        let path = uri.path().trim_end_matches('/');
        Ok(Self {
            origin_len: origin.len(),
            url: format!("{origin}{path}"),
        })
    }

    /// The URL of a server that listens on `bind` and has no other name:
    /// `http://<bind>`, with `localhost` for the any-address.
    pub fn from_bind(bind: &str) -> Self {
        let host = match bind.parse::<std::net::SocketAddr>() {
            Ok(address) if address.ip().is_unspecified() => {
                format!("localhost:{}", address.port())
            }
            Ok(address) => address.to_string(),
            Err(_) => bind.to_owned(),
        };
        Self::parse(&format!("http://{host}")).unwrap_or_else(|_| Self {
            url: "http://localhost".into(),
            origin_len: "http://localhost".len(),
        })
    }

    /// The whole URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// `scheme://host[:port]`: what browsers send as `Origin` from pages
    /// the API itself serves (the API docs).
    pub fn origin(&self) -> &str {
        &self.url[..self.origin_len]
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::{Config, PublicUrl};
    use crate::domain::links::PageType;
    use crate::domain::Lang;

    #[derive(clap::Parser)]
    struct Flags {
        #[command(flatten)]
        config: Config,
    }

    fn config(args: &[&str]) -> Config {
        use clap::Parser;
        let mut argv = vec!["arkiv"];
        argv.extend_from_slice(args);
        Flags::try_parse_from(argv).expect("flags").config
    }

    #[test]
    fn site_urls_are_checked_and_overridden_per_type() {
        let site = config(&[
            "--site-url",
            "https://nsi.example/{lang}/{type}/{slug}",
            "--site-url-events",
            "https://nsi.example/{lang}/ngjarje/{id}",
            "--site-url-fields",
            " ",
        ])
        .site_links()
        .expect("valid");
        let id = "0193a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b";
        assert_eq!(
            site.page(PageType::Events, Lang::Sq, "summit", id)
                .as_deref(),
            Some("https://nsi.example/sq/ngjarje/0193a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b")
        );
        assert_eq!(
            site.page(PageType::Fields, Lang::En, "media", id)
                .as_deref(),
            Some("https://nsi.example/en/fields/media"),
            "an empty override leaves the shared template"
        );
        let error = config(&["--site-url-projects", "https://nsi.example/{name}"])
            .site_links()
            .expect_err("an unknown placeholder");
        assert!(error.starts_with("ARKIV_SITE_URL_PROJECTS"), "{error}");
        assert!(!config(&[]).site_links().expect("unset").is_configured());
    }

    #[test]
    fn public_urls_are_checked_and_trimmed() {
        let url = PublicUrl::parse("https://Archive.Example.org/").unwrap();
        assert_eq!(url.as_str(), "https://archive.example.org");
        assert_eq!(url.origin(), "https://archive.example.org");
        let url = PublicUrl::parse("http://127.0.0.1:8080/arkiv/").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8080/arkiv");
        assert_eq!(url.origin(), "http://127.0.0.1:8080");
        for bad in [
            "archive.example.org",
            "ftp://archive.example.org",
            "https://archive.example.org/?x=1",
            "https://archive.example.org/#top",
            "https://user:secret@archive.example.org",
            "https://",
            "https://archive example.org",
            "",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_comes_from_the_bind_address() {
        assert_eq!(
            PublicUrl::from_bind("127.0.0.1:8080").as_str(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            PublicUrl::from_bind("0.0.0.0:8080").as_str(),
            "http://localhost:8080"
        );
        assert_eq!(
            PublicUrl::from_bind("[::]:9000").as_str(),
            "http://localhost:9000"
        );
        assert_eq!(
            PublicUrl::from_bind("[::1]:9000").as_str(),
            "http://[::1]:9000"
        );
        assert_eq!(PublicUrl::default().as_str(), "http://127.0.0.1:8080");
    }
}
