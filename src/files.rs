//! The file store: variant files (PDFs) by SHA-256 under the data
//! directory, `files/ab/abcdef…`. Content-addressed, so a file is written
//! once however many variants share it, and its name never comes from a user.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// Returns where the file with this SHA-256 lives. The caller checks
    /// that `sha256` is one (see [`crate::routes::files::is_sha256`]).
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        let prefix = sha256.get(..2).unwrap_or("00");
        self.root.join(prefix).join(sha256)
    }

    /// A fresh path for an upload in progress, in the store's own
    /// directory (so that moving it into place is a rename).
    pub fn temporary(&self) -> std::io::Result<PathBuf> {
        let dir = self.root.join("tmp");
        std::fs::create_dir_all(&dir)?;
        Ok(dir.join(uuid::Uuid::now_v7().to_string()))
    }
}
