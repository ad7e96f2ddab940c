//! `arkiv serve`: migrations, the demo archive when the database is empty,
//! then the HTTP server.

use actix_web::{web, HttpServer};
use clap::Args;

use crate::config::Config;
use std::sync::Arc;

use crate::search::index::SearchIndex;
use crate::state::AppState;

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ARKIV_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// Do not load the demo archive into an empty database
    /// (`ARKIV_NO_DEMO=1`, `true`, `yes` or `on`).
    #[arg(long, env = "ARKIV_NO_DEMO", action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub no_demo: bool,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "ARKIV_WORKERS")]
    pub workers: Option<usize>,

    /// Also listen here, for `/metrics` alone and without a key (an
    /// address only the Prometheus scraper reaches).
    #[arg(long, env = "ARKIV_METRICS_BIND")]
    pub metrics_bind: Option<String>,
}

impl ServeArgs {
    /// The settings `arkiv` with no subcommand serves with, read from the
    /// process environment.
    pub fn default_from_env() -> Self {
        Self::default_from(|name| std::env::var_os(name))
    }

    /// The settings `arkiv` with no subcommand serves with, each variable
    /// (`ARKIV_BIND`, `ARKIV_NO_DEMO`, …) looked up with `env` and parsed as
    /// `arkiv serve` parses it.
    pub fn default_from(env: impl Fn(&str) -> Option<std::ffi::OsString>) -> Self {
        use clap::FromArgMatches;
        let mut command = <Self as Args>::augment_args(clap::Command::new("serve"));
        let named: Vec<(clap::Id, String)> = command
            .get_arguments()
            .filter_map(|arg| {
                let name = arg.get_env()?.to_str()?.to_owned();
                Some((arg.get_id().clone(), name))
            })
            .collect();
        for (id, name) in named {
            // The variable's value becomes the argument's default, and the
            // argument stops reading the process environment itself.
            let value = env(&name);
            command = command.mut_arg(id, |arg| match value {
                Some(value) => arg.env(None).default_value(value),
                None => arg.env(None),
            });
        }
        let matches = command.get_matches_from(["serve"]);
        Self::from_arg_matches(&matches).unwrap_or(Self {
            bind: "127.0.0.1:8080".into(),
            no_demo: false,
            workers: None,
            metrics_bind: None,
        })
    }
}

pub fn serve(config: &Config, args: &ServeArgs) -> anyhow::Result<()> {
    // Settings are checked before anything is opened or written.
    let cors =
        crate::http::cors::CorsSettings::new(config.cors_origins.clone(), config.cors_credentials)
            .map_err(|error| anyhow::anyhow!(error))?;
    let oai = config.oai().map_err(|error| anyhow::anyhow!(error))?;
    let proxies = config.proxies().map_err(|error| anyhow::anyhow!(error))?;
    let public_url = config
        .public_url(&args.bind)
        .map_err(|error| anyhow::anyhow!(error))?;
    if config.public_url.is_none() {
        tracing::info!(%public_url, "links in answers start with this; set ARKIV_PUBLIC_URL to the address clients use");
    }
    let site = config
        .site_links()
        .map_err(|error| anyhow::anyhow!(error))?;
    let webhook_allow = config
        .webhook_allow()
        .map_err(|error| anyhow::anyhow!(error))?;
    let stats = config.stats().map_err(|error| anyhow::anyhow!(error))?;
    let db = super::open_database(config)?;
    if !args.no_demo && crate::demo::database_is_empty(&mut *db.conn()?)? {
        let report = crate::demo::load(&mut *db.conn()?, Some(&config.file_store()))?;
        tracing::info!(
            publications = report
                .created
                .get(&crate::domain::records::Entity::Publication)
                .copied()
                .unwrap_or(0),
            "the database was empty: loaded the demo archive"
        );
    }
    let index = Arc::new(SearchIndex::open(&config.index_dir())?);
    crate::search::sync::spawn_indexer(db.clone(), Arc::clone(&index))?;
    crate::webhooks::spawn(db.clone(), webhook_allow.clone())?;
    super::collect_garbage(&db, &config.file_store(), super::GC_MIN_AGE)?;
    let state = AppState::new(db, config.cache_mb * 1024 * 1024, config.file_store())?
        .with_extractor(config.extract.settings())
        .with_search_limits(config.search_limits().0, config.search_limits().1)
        .with_search(index)
        .with_cors(cors)
        .with_upload_limit(config.max_upload_mb << 20)
        .with_oai(oai)
        .with_webhook_allow(webhook_allow)
        .with_cache_max_age(config.cache_max_age)
        .with_rate_limits(crate::http::ratelimit::RateLimits {
            anonymous: config.rate_limit,
            keyed: config.rate_limit_keyed,
        })
        .with_proxies(proxies)
        .with_public_url(public_url)
        .with_site(site)
        .with_stats(stats)?
        .with_documents(config.documents);
    if state.documents.enabled() {
        crate::documents::spawn_flusher(
            state.db.clone(),
            Arc::clone(&state.documents),
            std::time::Duration::from_secs(1),
        )?;
    }
    if state.stats.enabled() {
        crate::stats::spawn_flusher(
            state.db.clone(),
            Arc::clone(&state.stats),
            std::time::Duration::from_secs(config.stats_flush_s),
        )?;
    }
    let last_flush = (state.db.clone(), Arc::clone(&state.stats));
    let state = web::Data::new(state);
    let bind = args.bind.clone();
    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let extractor = Arc::clone(&state.extractor);
    let restore = (
        state.db.clone(),
        state.files.clone(),
        Arc::clone(&extractor),
    );
    let metrics_bind = args.metrics_bind.clone().filter(|bind| !bind.is_empty());
    actix_web::rt::System::new().block_on(async move {
        let metrics_server = match metrics_bind {
            Some(metrics_bind) => {
                let metrics_state = state.clone();
                let server =
                    HttpServer::new(move || crate::app::metrics_app(metrics_state.clone()))
                        .workers(1)
                        .disable_signals()
                        .shutdown_timeout(SHUTDOWN_GRACE_SECONDS)
                        .bind(&metrics_bind)
                        .map_err(|error| {
                            anyhow::anyhow!("cannot listen on {metrics_bind}: {error}")
                        })?;
                tracing::info!(address = %metrics_bind, "serving /metrics without a key");
                Some(server.run())
            }
            None => None,
        };
        let server = HttpServer::new(move || crate::app::app(state.clone()))
            .workers(workers)
            // Signals are ours: a stop first kills the PDF extractions, so
            // that no request waits on one.
            .disable_signals()
            .shutdown_timeout(SHUTDOWN_GRACE_SECONDS)
            .bind(&bind)
            .map_err(|error| anyhow::anyhow!("cannot listen on {bind}: {error}"))?
            .run();
        let handles: Vec<_> = std::iter::once(server.handle())
            .chain(metrics_server.as_ref().map(|server| server.handle()))
            .collect();
        actix_web::rt::spawn(async move {
            let signal = stop_signal().await;
            tracing::info!(
                signal,
                "stopping: PDF extractions are killed, requests in flight get {SHUTDOWN_GRACE_SECONDS} s"
            );
            extractor.stop();
            for handle in handles {
                handle.stop(true).await;
            }
        });
        actix_web::rt::spawn(async move {
            let (db, files, extractor) = restore;
            crate::images::restore_missing(db, files, extractor).await;
        });
        tracing::info!(address = %bind, "serving; API docs at /docs/");
        match metrics_server {
            Some(metrics_server) => {
                tokio::try_join!(server, metrics_server)?;
            }
            None => server.await?,
        }
        Ok::<_, anyhow::Error>(())
    })?;
    // What was counted since the last flush goes in before the process ends.
    let (db, stats) = last_flush;
    if stats.enabled() {
        let flushed = db
            .conn()
            .map_err(anyhow::Error::from)
            .and_then(|mut conn| Ok(stats.flush(&mut conn)?));
        if let Err(error) = flushed {
            tracing::error!(%error, "the last reader counts could not be written");
        }
    }
    Ok(())
}

/// How long requests in flight may take to finish once the server stops.
const SHUTDOWN_GRACE_SECONDS: u64 = 5;

/// Waits for SIGTERM or SIGINT and names it.
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for stop signals; stop the server with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_demo_takes_the_usual_spellings_of_yes() {
        for (value, expected) in [
            ("1", true),
            ("yes", true),
            ("on", true),
            ("true", true),
            ("0", false),
            ("off", false),
        ] {
            let env = |name: &str| (name == "ARKIV_NO_DEMO").then(|| value.into());
            assert_eq!(
                ServeArgs::default_from(env).no_demo,
                expected,
                "ARKIV_NO_DEMO={value}"
            );
        }
        assert!(!ServeArgs::default_from(|_| None).no_demo);
        let env = |name: &str| (name == "ARKIV_BIND").then(|| "0.0.0.0:9000".into());
        assert_eq!(ServeArgs::default_from(env).bind, "0.0.0.0:9000");
    }
}
