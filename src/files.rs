//! The file store: variant files (PDFs) by SHA-256 under the data
//! directory, `files/ab/abcdef…`. Content-addressed, so a file is written
//! once however many variants share it, and its name never comes from a user.
//! An upload is written under `files/tmp/`, synced, then renamed into
//! place, and only then named by a row; what no row names is garbage that
//! [`FileStore::collect_garbage`] removes once it is old enough.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::domain::files::is_sha256;

/// What a garbage collection removed (or would have).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GcReport {
    /// Stored files that no variant names.
    pub orphans: Vec<String>,
    /// Uploads that never finished.
    pub temporaries: Vec<String>,
    /// Bytes freed.
    pub bytes: u64,
}

#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// The store's directory. Image renditions are kept in `renditions/`
    /// inside it (see `images::ImageStore`); the store's own garbage
    /// collection leaves that alone, as it holds no file named by a hash.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Returns where the file with this SHA-256 lives. The caller checks
    /// that `sha256` is one (see [`is_sha256`]).
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        let prefix = sha256.get(..2).unwrap_or("00");
        self.root.join(prefix).join(sha256)
    }

    /// A fresh path for an upload in progress, in the store's own
    /// directory (so that moving it into place is a rename).
    pub fn temporary(&self) -> io::Result<PathBuf> {
        let dir = self.root.join("tmp");
        std::fs::create_dir_all(&dir)?;
        Ok(dir.join(uuid::Uuid::now_v7().to_string()))
    }

    /// Moves a finished, synced upload into place under its SHA-256 and
    /// makes the rename durable. Blocking: call it off the reactor.
    pub fn install(&self, temporary: &Path, sha256: &str) -> io::Result<PathBuf> {
        let target = self.path_of(sha256);
        let dir = target
            .parent()
            .ok_or_else(|| io::Error::other("a stored file has no directory"))?;
        std::fs::create_dir_all(dir)?;
        std::fs::rename(temporary, &target)?;
        std::fs::File::open(dir)?.sync_all()?;
        Ok(target)
    }

    /// Removes every stored file that `referenced` does not name and every
    /// unfinished upload, if older than `older_than` (so an upload that is
    /// about to be named by a row is left alone). Blocking.
    pub fn collect_garbage(
        &self,
        referenced: &HashSet<String>,
        older_than: Duration,
    ) -> io::Result<GcReport> {
        let mut report = GcReport::default();
        let now = SystemTime::now();
        let old = |metadata: &std::fs::Metadata| {
            metadata
                .modified()
                .ok()
                .and_then(|modified| now.duration_since(modified).ok())
                .is_some_and(|age| age >= older_than)
        };
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(report),
            Err(error) => return Err(error),
        };
        for entry in entries {
            let entry = entry?;
            if !entry.file_type()?.is_dir() {
                continue;
            }
            let is_tmp = entry.file_name() == "tmp";
            for file in std::fs::read_dir(entry.path())? {
                let file = file?;
                let name = file.file_name().to_string_lossy().into_owned();
                let metadata = file.metadata()?;
                if !metadata.is_file() || !old(&metadata) {
                    continue;
                }
                let garbage = if is_tmp {
                    true
                } else {
                    is_sha256(&name) && !referenced.contains(&name)
                };
                if !garbage {
                    continue;
                }
                match std::fs::remove_file(file.path()) {
                    Ok(()) => {}
                    Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                    Err(error) => return Err(error),
                }
                report.bytes += metadata.len();
                if is_tmp {
                    report.temporaries.push(name);
                } else {
                    report.orphans.push(name);
                }
            }
        }
        report.orphans.sort();
        report.temporaries.sort();
        Ok(report)
    }
}
