//! `arkiv backup DIR` and `arkiv restore DIR`: a consistent copy of the
//! archive while the server runs, and its return into a fresh data
//! directory.
//!
//! On SQLite the database is copied with `VACUUM INTO`, which writes a
//! snapshot of one read transaction (so writers go on meanwhile and the
//! copy holds every committed write up to its start, none after). Then
//! every file the snapshot names is copied from the file store. On
//! PostgreSQL the database is `pg_dump`'s to copy; the backup holds the
//! files and says so. A manifest lists every part with its size and
//! SHA-256; restore checks all of it before it writes a byte, then
//! rebuilds the search index (derived data, never backed up).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use diesel::RunQueryDsl as _;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::config::Config;
use crate::db::{AnyConnection, BackendKind, Db};

/// What a backup holds, written last as `manifest.json`.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// `arkiv-backup/1`.
    pub format: String,
    pub created_at: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The newest change-log sequence number in the backup.
    pub seq: i64,
    /// The database file (SQLite only).
    pub database: Option<Part>,
    /// Every file of the file store the database names, by SHA-256.
    pub files: BTreeMap<String, u64>,
}

/// One file of a backup.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

const FORMAT: &str = "arkiv-backup/1";
const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "arkiv.db";

/// The SHA-256 and size of a file, read in pieces.
fn digest(path: &Path) -> anyhow::Result<(String, u64)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        size += read as u64;
        hasher.update(&buffer[..read]);
    }
    let hex = hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Ok((hex, size))
}

/// Copies a file and syncs the copy.
fn copy_synced(from: &Path, to: &Path) -> anyhow::Result<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::copy(from, to)
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    std::fs::File::open(to)?.sync_all()?;
    Ok(())
}

/// Quotes a path as an SQL string literal.
fn sql_string(path: &Path) -> anyhow::Result<String> {
    let text = path
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("{} is not UTF-8", path.display()))?;
    Ok(format!("'{}'", text.replace('\'', "''")))
}

/// `arkiv backup DIR`: writes a consistent backup into `dir`, which must
/// be empty or absent.
pub fn backup(config: &Config, dir: &Path) -> anyhow::Result<Manifest> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!(
            "{} is not empty: back up into a new directory",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir)?;
    let db = super::open_database(config)?;
    let store = config.file_store();
    let (database, seq, referenced) = match db.backend() {
        BackendKind::Sqlite => {
            let copy = dir.join(DATABASE);
            let mut conn = db.conn()?;
            diesel::sql_query(format!("VACUUM INTO {}", sql_string(&copy)?))
                .execute(&mut **conn)
                .context("cannot copy the database")?;
            drop(conn);
            // Read what the copy holds, not the live database: the copy is
            // what a restore will have.
            let snapshot = Db::connect(&copy.to_string_lossy(), 1)?;
            let mut conn = snapshot.conn()?;
            let seq = crate::db::changes::latest_seq(&mut conn)?;
            let referenced = crate::db::publications::referenced_files(&mut conn)?;
            drop(conn);
            drop(snapshot);
            std::fs::File::open(&copy)?.sync_all()?;
            let (sha256, size) = digest(&copy)?;
            let part = Part {
                name: DATABASE.into(),
                size,
                sha256,
            };
            (Some(part), seq, referenced)
        }
        BackendKind::Postgres => {
            let mut conn = db.conn()?;
            let seq = crate::db::changes::latest_seq(&mut conn)?;
            let referenced = crate::db::publications::referenced_files(&mut conn)?;
            eprintln!(
                "the database is on PostgreSQL: back it up with pg_dump (for example \
                 `pg_dump --format=custom --file {}/database.dump \"$ARKIV_DATABASE_URL\"`); \
                 this backup holds the file store and the manifest",
                dir.display()
            );
            (None, seq, referenced)
        }
    };
    let mut files = BTreeMap::new();
    for sha256 in referenced {
        if !crate::domain::files::is_sha256(&sha256) {
            continue;
        }
        let source = store.path_of(&sha256);
        if !source.is_file() {
            eprintln!("warning: the archive names {sha256}, which is not in the file store");
            continue;
        }
        let target = dir.join("files").join(&sha256[..2]).join(&sha256);
        copy_synced(&source, &target)?;
        let (actual, size) = digest(&target)?;
        if actual != sha256 {
            bail!("the stored file {sha256} does not match its name (its content is {actual})");
        }
        files.insert(sha256, size);
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        created_at: crate::domain::now_timestamp(),
        backend: match db.backend() {
            BackendKind::Sqlite => "sqlite".into(),
            BackendKind::Postgres => "postgres".into(),
        },
        seq,
        database,
        files,
    };
    // The manifest comes last: a backup without one is unfinished.
    let path = dir.join(MANIFEST);
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest)?)?;
    std::fs::File::open(&path)?.sync_all()?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(manifest)
}

/// Reads a backup's manifest and checks every part against it.
pub fn verify(dir: &Path) -> anyhow::Result<Manifest> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read(&path).with_context(|| {
        format!(
            "{} has no manifest: not a backup, or an unfinished one",
            dir.display()
        )
    })?;
    let manifest: Manifest =
        serde_json::from_slice(&text).context("the manifest is not an arkiv backup manifest")?;
    if manifest.format != FORMAT {
        bail!(
            "the manifest's format is {:?}, not {FORMAT}",
            manifest.format
        );
    }
    if let Some(part) = &manifest.database {
        if part.name != DATABASE {
            bail!("the manifest names the database {:?}", part.name);
        }
        let (sha256, size) = digest(&dir.join(DATABASE))?;
        if (sha256.as_str(), size) != (part.sha256.as_str(), part.size) {
            bail!("the database in the backup does not match the manifest (changed or damaged)");
        }
    }
    for (sha256, size) in &manifest.files {
        if !crate::domain::files::is_sha256(sha256) {
            bail!("the manifest names a file {sha256:?} that is not a SHA-256");
        }
        let path = dir.join("files").join(&sha256[..2]).join(sha256);
        let (actual, actual_size) = digest(&path)?;
        if &actual != sha256 || actual_size != *size {
            bail!("the file {sha256} in the backup does not match the manifest");
        }
    }
    Ok(manifest)
}

/// `arkiv restore DIR`: checks the backup in `dir`, puts it into the data
/// directory (which must not hold an archive yet), then rebuilds the
/// search index.
pub fn restore(config: &Config, dir: &Path) -> anyhow::Result<Manifest> {
    let manifest = verify(dir)?;
    let backend = BackendKind::of_url(&config.database_url());
    match (&manifest.database, backend) {
        (Some(part), BackendKind::Sqlite) => {
            let target = PathBuf::from(config.database_url());
            if target.exists() {
                bail!(
                    "{} exists: restore into a fresh data directory (or move it away first)",
                    target.display()
                );
            }
            config.ensure_data_dir()?;
            let partial = target.with_extension("db.restoring");
            copy_synced(&dir.join(&part.name), &partial)?;
            std::fs::rename(&partial, &target)?;
        }
        (None, BackendKind::Postgres) => {
            eprintln!(
                "the database is on PostgreSQL: restore it with pg_restore first; \
                 restoring the file store and rebuilding the search index"
            );
        }
        (Some(_), BackendKind::Postgres) => {
            bail!("this backup holds a SQLite database; the configured database is PostgreSQL")
        }
        (None, BackendKind::Sqlite) => {
            bail!("this backup was made on PostgreSQL and holds no database; restore it with pg_restore")
        }
    }
    let store = config.file_store();
    for sha256 in manifest.files.keys() {
        let target = store.path_of(sha256);
        if !target.exists() {
            copy_synced(&dir.join("files").join(&sha256[..2]).join(sha256), &target)?;
        }
    }
    let db = super::open_database(config)?;
    let mut conn = db.conn()?;
    check_restored(&mut conn, &manifest)?;
    let index_dir = config.index_dir();
    if index_dir.exists() {
        std::fs::remove_dir_all(&index_dir)?;
    }
    let index = crate::search::index::SearchIndex::open(&index_dir)?;
    let indexed = crate::search::sync::rebuild(&mut conn, &index, &crate::progress::Silent)?;
    eprintln!("rebuilt the search index: {indexed} published publications");
    Ok(manifest)
}

/// The restored database is the one the manifest describes.
fn check_restored(conn: &mut AnyConnection, manifest: &Manifest) -> anyhow::Result<()> {
    let seq = crate::db::changes::latest_seq(conn)?;
    if manifest.database.is_some() && seq != manifest.seq {
        bail!(
            "the restored database ends at change {seq}, the manifest at {}",
            manifest.seq
        );
    }
    Ok(())
}
