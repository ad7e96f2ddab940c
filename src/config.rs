//! Settings: flags and `ARKIV_*` environment variables, parsed once into a
//! typed [`Config`] and passed down.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

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

    /// Maximum number of pooled database connections.
    #[arg(long, env = "ARKIV_DB_POOL_SIZE", default_value_t = 16, global = true)]
    pub db_pool_size: u32,

    /// Largest file upload accepted, in MiB.
    #[arg(long, env = "ARKIV_MAX_UPLOAD_MB", default_value_t = 50, global = true)]
    pub max_upload_mb: u64,

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

    /// Returns the proxies trusted to name the client, checked.
    pub fn proxies(&self) -> Result<crate::proxy::TrustedProxies, String> {
        if self.trust_proxy {
            crate::proxy::TrustedProxies::hops(self.trust_proxy_hops)
        } else {
            Ok(crate::proxy::TrustedProxies::NONE)
        }
    }

    /// Returns the store of variant files, `<data-dir>/files`.
    pub fn file_store(&self) -> crate::files::FileStore {
        crate::files::FileStore::new(self.data_dir.join("files"))
    }

    /// Creates the data directory when the database lives in it.
    pub fn ensure_data_dir(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.data_dir)
    }
}
