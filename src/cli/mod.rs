//! The `arkiv` command line: `serve` (the default), `migrate`, `import`,
//! `export`, `openapi`. Errors here are `anyhow`, printed once by `main`.

mod serve;

use std::io::{BufReader, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{Config, LogFormat};
use crate::db::Db;

/// arkiv: the publications archive API.
#[derive(Debug, Parser)]
#[command(name = "arkiv", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default command).
    Serve(serve::ServeArgs),
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Import an NDJSON file (or `-` for standard input): all or nothing.
    Import {
        /// The file to read, or `-` for standard input.
        file: PathBuf,
    },
    /// Export the whole archive as NDJSON, in the import format.
    Export {
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Print the OpenAPI document the server serves.
    Openapi,
    /// Rebuild the search index from the database (refused while a server
    /// holds the index).
    Reindex,
    /// Make, list and revoke API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a key and print it: the only time it is shown.
    Create {
        /// partner (reads), editor (writes) or admin (everything).
        #[arg(long, value_parser = crate::auth::Role::parse)]
        role: crate::auth::Role,
        /// Who or what will hold it.
        #[arg(long)]
        name: String,
    },
    /// List every key (never the keys themselves).
    List,
    /// Revoke a key by its id or listed prefix; it stops working at once.
    Revoke {
        /// The key's id, or the prefix `arkiv keys list` shows.
        key: String,
    },
}

/// Sets up logging: text for people, JSON when `ARKIV_LOG_FORMAT=json`.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ARKIV_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Opens the configured database and applies pending migrations.
pub fn open_database(config: &Config) -> anyhow::Result<Db> {
    let url = config.database_url();
    if config.database_url.is_none() {
        config.ensure_data_dir()?;
    }
    let db = Db::connect(&url, config.db_pool_size)?;
    for migration in db.migrate()? {
        tracing::info!(%migration, "applied migration");
    }
    Ok(db)
}

/// Runs the command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    init_logging(cli.config.log_format);
    match cli
        .command
        .unwrap_or(Command::Serve(serve::ServeArgs::default_from_env()))
    {
        Command::Serve(args) => serve::serve(&cli.config, &args),
        Command::Migrate => {
            let db = open_database(&cli.config)?;
            tracing::info!(backend = ?db.backend(), "the database is up to date");
            Ok(())
        }
        Command::Import { file } => import(&cli.config, &file),
        Command::Export { output } => export(&cli.config, output.as_deref()),
        Command::Reindex => reindex(&cli.config),
        Command::Keys(command) => keys(&cli.config, command),
        Command::Openapi => {
            std::io::stdout().write_all(crate::openapi::spec_json().as_bytes())?;
            Ok(())
        }
    }
}

fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn import(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let db = open_database(config)?;
    let started = std::time::Instant::now();
    let bar = progress_bar();
    bar.set_message("reading");
    let lines = if file.as_os_str() == "-" {
        crate::import::parse(std::io::stdin().lock())
    } else {
        let opened = std::fs::File::open(file)
            .map_err(|error| anyhow::anyhow!("cannot open {}: {error}", file.display()))?;
        crate::import::parse(BufReader::with_capacity(1 << 20, opened))
    }?;
    bar.set_message("writing");
    let report = crate::import::import(&mut *db.conn()?, &lines, &bar)?;
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    eprint!("{report}");
    eprintln!(
        "imported {} records from {} in {elapsed:.1} s",
        lines.len(),
        file.display()
    );
    Ok(())
}

fn reindex(config: &Config) -> anyhow::Result<()> {
    let db = open_database(config)?;
    let index = crate::search::index::SearchIndex::open(&config.index_dir())?;
    let started = std::time::Instant::now();
    let bar = progress_bar();
    bar.set_message("indexing");
    let added = crate::search::sync::rebuild(&mut *db.conn()?, &index, &bar)?;
    bar.finish_and_clear();
    eprintln!(
        "indexed {added} published publications in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn keys(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    let db = open_database(config)?;
    let mut conn = db.conn()?;
    match command {
        KeysCommand::Create { role, name } => {
            let name = name.trim().to_owned();
            anyhow::ensure!(
                !name.is_empty() && name.chars().count() <= 200,
                "the name must be 1 to 200 characters"
            );
            let created = crate::routes::admin::store_key(&mut conn, name, role)?;
            eprintln!(
                "made the {role} key {:?} (id {}); it is shown only now:",
                created.view.name, created.view.id
            );
            println!("{}", created.key);
        }
        KeysCommand::List => {
            println!(
                "{:<38} {:<13} {:<8} {:<28} {:<28} name",
                "id", "prefix", "role", "created", "revoked"
            );
            for row in crate::db::keys::list(&mut conn)? {
                println!(
                    "{:<38} {:<13} {:<8} {:<28} {:<28} {}",
                    row.id,
                    row.prefix,
                    row.role,
                    row.created_at,
                    row.revoked_at.as_deref().unwrap_or("-"),
                    row.name
                );
            }
        }
        KeysCommand::Revoke { key } => {
            let row = crate::db::keys::find(&mut conn, &key)?
                .ok_or_else(|| anyhow::anyhow!("no key has the id or prefix {key:?}"))?;
            let now = crate::domain::now_timestamp();
            crate::db::keys::revoke(&mut conn, &row.id, &now)?;
            eprintln!("revoked the key {:?} ({})", row.name, row.id);
        }
    }
    Ok(())
}

fn export(config: &Config, output: Option<&std::path::Path>) -> anyhow::Result<()> {
    let db = open_database(config)?;
    let mut conn = db.conn()?;
    let lines = match output {
        Some(path) => {
            let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
            crate::import::export::export(&mut conn, &mut file)?
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            crate::import::export::export(&mut conn, &mut out)?
        }
    };
    tracing::info!(lines, "exported the archive");
    Ok(())
}
