//! The `arkiv` command line: `serve` (the default), `migrate`, `import`,
//! `export`, `openapi`, `analyze`, …. Errors here are `anyhow`, printed
//! once by `main`.

mod analyze;
mod backup;
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
    /// Write a consistent backup of the archive into a new directory, while
    /// the server runs: the database (SQLite; on PostgreSQL use pg_dump),
    /// the files it names, and a manifest with their checksums.
    Backup {
        /// An empty or new directory.
        dir: PathBuf,
    },
    /// Restore a backup into a data directory that holds no archive yet,
    /// after checking it against its manifest; rebuilds the search index.
    Restore {
        /// A directory `arkiv backup` wrote.
        dir: PathBuf,
    },
    /// Print the terms the search index makes of text: each line of
    /// standard input as the bodies of LANG are analysed, one line of
    /// terms per line (a pair of common words, indexed as one term too, in
    /// quotes). Lines are read one at a time, up to 1 MiB each.
    Analyze {
        /// en, sq or sr (Serbian in either script; sr-Latn and sr-Cyrl too).
        #[arg(long, value_parser = analyze::parse_lang)]
        lang: crate::domain::Lang,
    },
    /// Remove stored files that no publication names, and uploads that
    /// never finished (`serve` does this at start too).
    Gc {
        /// Leave files younger than this alone (an upload may be about to
        /// be named by a row).
        #[arg(long, default_value_t = 60)]
        min_age_minutes: u64,
    },
    /// Extract the text of one PDF to standard output under limits: the
    /// server's child process, not a command for people.
    #[command(hide = true)]
    ExtractText {
        /// Address space the extractor may use, in MiB.
        #[arg(long, default_value_t = 512)]
        memory_mb: u64,
        /// CPU seconds the extractor may use.
        #[arg(long, default_value_t = 30)]
        cpu_seconds: u64,
        /// Bytes of text it may write.
        #[arg(long, default_value_t = 16 << 20)]
        max_text_bytes: usize,
        /// The PDF.
        file: PathBuf,
    },
    /// Make the WebP renditions of one image under limits: the server's
    /// child process, not a command for people.
    #[command(hide = true)]
    RenderImage {
        /// Address space the renderer may use, in MiB.
        #[arg(long, default_value_t = 512)]
        memory_mb: u64,
        /// CPU seconds the renderer may use.
        #[arg(long, default_value_t = 30)]
        cpu_seconds: u64,
        /// The source image.
        source: PathBuf,
        /// The directory to write `<width>.webp` files into.
        out_dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a key and print it: the only time it is shown.
    Create {
        /// partner (reads), editor (writes) or admin (everything).
        #[arg(long, value_parser = crate::domain::keys::Role::parse)]
        role: crate::domain::keys::Role,
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
    let asked = std::env::var("ARKIV_LOG").unwrap_or_default();
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("ARKIV_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // tantivy warns when a merge finishes after a commit dropped one of its
    // segments (every document deleted by later edits): harmless, and
    // frequent under bursts of edits (D91). Shown when asked for by name.
    if !asked.contains("segment_manager") {
        if let Ok(quiet) = "tantivy::indexer::segment_manager=error".parse() {
            filter = filter.add_directive(quiet);
        }
    }
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
    let db = Db::open(
        &url,
        config.db_pool_size,
        std::time::Duration::from_millis(config.db_wait_ms),
    )?;
    for migration in db.migrate()? {
        tracing::info!(%migration, "applied migration");
    }
    Ok(db)
}

/// Runs the command line and says how it ended. The PDF extractor's child
/// goes straight to its work: no logging, no database, no configuration.
pub fn main(cli: Cli) -> std::process::ExitCode {
    if let Some(Command::ExtractText {
        memory_mb,
        cpu_seconds,
        max_text_bytes,
        file,
    }) = &cli.command
    {
        let limits = crate::extract::child::ChildLimits {
            memory_bytes: memory_mb.saturating_mul(1 << 20),
            cpu_seconds: *cpu_seconds,
            max_text_bytes: *max_text_bytes,
        };
        return crate::extract::child::run(file, limits);
    }
    if let Some(Command::RenderImage {
        memory_mb,
        cpu_seconds,
        source,
        out_dir,
    }) = &cli.command
    {
        return crate::images::child::run(
            source,
            out_dir,
            memory_mb.saturating_mul(1 << 20),
            *cpu_seconds,
        );
    }
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs the command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    // Before any thread starts (D93).
    crate::memory::limit_arenas(crate::memory::arena_limit());
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
        Command::Backup { dir } => {
            let manifest = backup::backup(&cli.config, &dir)?;
            eprintln!(
                "backed up the archive up to change {} ({} files) into {}",
                manifest.seq,
                manifest.files.len(),
                dir.display()
            );
            Ok(())
        }
        Command::Restore { dir } => {
            let manifest = backup::restore(&cli.config, &dir)?;
            eprintln!(
                "restored the archive up to change {} ({} files) from {}",
                manifest.seq,
                manifest.files.len(),
                dir.display()
            );
            Ok(())
        }
        Command::Gc { min_age_minutes } => {
            let db = open_database(&cli.config)?;
            let min_age = std::time::Duration::from_secs(min_age_minutes.saturating_mul(60));
            let report = collect_garbage(&db, &cli.config.file_store(), min_age)?;
            for sha256 in &report.orphans {
                println!("removed {sha256} (no publication names it)");
            }
            for name in &report.temporaries {
                println!("removed tmp/{name} (an upload that never finished)");
            }
            eprintln!(
                "removed {} unreferenced files and {} unfinished uploads ({} bytes)",
                report.orphans.len(),
                report.temporaries.len(),
                report.bytes
            );
            Ok(())
        }
        Command::Openapi => {
            std::io::stdout().write_all(crate::openapi::spec_json().as_bytes())?;
            Ok(())
        }
        Command::Analyze { lang } => analyze::analyze(lang, std::io::stdin(), std::io::stdout()),
        Command::ExtractText { .. } | Command::RenderImage { .. } => {
            anyhow::bail!("this command runs only as the server's child (see cli::main)")
        }
    }
}

/// How old an unreferenced file must be before `serve` removes it at start.
pub const GC_MIN_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes the file store's garbage older than `min_age` and logs it.
pub fn collect_garbage(
    db: &Db,
    files: &crate::files::FileStore,
    min_age: std::time::Duration,
) -> anyhow::Result<crate::files::GcReport> {
    let referenced = crate::db::publications::referenced_files(&mut *db.conn()?)?;
    let report = files.collect_garbage(&referenced, min_age)?;
    let sources = crate::db::images::referenced_sources(&mut *db.conn()?)?;
    let renditions = crate::images::ImageStore::of(files).collect_garbage(&sources, min_age)?;
    if renditions > 0 {
        tracing::info!(
            images = renditions,
            "removed the renditions of images no object names"
        );
    }
    if !report.orphans.is_empty() || !report.temporaries.is_empty() {
        tracing::info!(
            orphans = report.orphans.len(),
            unfinished_uploads = report.temporaries.len(),
            bytes = report.bytes,
            "removed files that no publication names"
        );
    }
    Ok(report)
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

/// The command line shows the library's progress on a bar.
impl crate::progress::Progress for ProgressBar {
    fn set_total(&self, total: u64) {
        self.set_length(total);
    }

    fn advance(&self, steps: u64) {
        self.inc(steps);
    }
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
    let mut lines = lines;
    let extracted = extract_imported_files(config, &mut lines)?;
    if extracted > 0 {
        eprintln!("extracted the text of {extracted} files in the file store");
    }
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

/// Extracts the text of every file an import names that is in the file
/// store but comes without text or status, in isolated children as the
/// server does (several at once). Returns how many were extracted.
fn extract_imported_files(
    config: &Config,
    lines: &mut [crate::import::Line],
) -> anyhow::Result<usize> {
    use crate::domain::records::Record;
    let store = config.file_store();
    let mut pending = Vec::new();
    for line in lines.iter_mut() {
        let Record::Publication(publication) = &mut line.record else {
            continue;
        };
        for variant in publication.variants.values_mut() {
            let Some(file) = &variant.file else { continue };
            if file.text_status.is_none()
                && variant.file_text.is_none()
                && crate::domain::files::is_sha256(&file.sha256)
                && store.path_of(&file.sha256).is_file()
            {
                pending.push(variant);
            }
        }
    }
    if pending.is_empty() {
        return Ok(0);
    }
    let extractor = crate::extract::Extractor::new(config.extract.settings());
    let workers = extractor.settings().concurrency.max(1);
    let count = pending.len();
    let chunk = count.div_ceil(workers);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let tasks: Vec<_> = pending
            .chunks_mut(chunk)
            .map(|variants| {
                let (extractor, store) = (&extractor, &store);
                scope.spawn(move || -> std::io::Result<()> {
                    for variant in variants.iter_mut() {
                        let Some(file) = variant.file.as_mut() else {
                            continue;
                        };
                        let outcome = extractor.extract_blocking(&store.path_of(&file.sha256))?;
                        let (status, error, text) = outcome.into_parts();
                        file.text_status = Some(status);
                        file.text_error = error;
                        variant.file_text = text;
                    }
                    Ok(())
                })
            })
            .collect();
        for task in tasks {
            task.join()
                .map_err(|_| anyhow::anyhow!("a text extraction thread panicked"))??;
        }
        Ok(())
    })?;
    Ok(count)
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
            let created = crate::db::write::write_transaction(&mut conn, |conn| {
                crate::db::keys::create(conn, name, role)
            })?;
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
            let row = crate::db::write::write_transaction(&mut conn, |conn| {
                let row = crate::db::keys::find(conn, &key)?
                    .ok_or_else(|| anyhow::anyhow!("no key has the id or prefix {key:?}"))?;
                let now = crate::domain::now_timestamp();
                crate::db::keys::revoke(conn, &row.id, &now)?;
                anyhow::Ok(row)
            })?;
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
