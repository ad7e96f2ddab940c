//! Image renditions: made once, at upload, by a confined child
//! (`arkiv render-image`, see [`child`]) that runs under the same slots,
//! time and memory limits as PDF text extraction, so a decompression bomb
//! or a decoder bug costs one child, never the server. The renditions
//! live under the data directory as `images/ab/<sha256>/<width>.webp`,
//! named by the source's SHA-256 (the source itself is in the file store),
//! so they are immutable and served with a year's `Cache-Control`.

pub mod child;

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::domain::files::is_sha256;
use crate::domain::images::Size;
use crate::extract::{Extractor, Ticket};
use child::{ExitKind, Rendered};

/// Makes the renditions that are missing while their source is in the
/// file store: after a restore (a backup holds sources, not renditions)
/// or an import of records whose files were copied over. Returns how
/// many images were rendered again. Runs in the background at start.
pub async fn restore_missing(
    db: crate::db::Db,
    files: crate::files::FileStore,
    extractor: std::sync::Arc<Extractor>,
) -> usize {
    let store = ImageStore::of(&files);
    let listed = db.run(|conn| -> anyhow::Result<_> { Ok(crate::db::images::all(conn)?) });
    let images = match listed.await {
        Ok(images) => images,
        Err(error) => {
            tracing::warn!(%error, "cannot list the images to check their renditions");
            return 0;
        }
    };
    let mut seen = HashSet::new();
    let mut restored = 0;
    for (owner, image) in images {
        if !seen.insert(image.sha256.clone()) || store.has(&image.sha256, &image.renditions) {
            continue;
        }
        let source = files.path_of(&image.sha256);
        if !source.is_file() {
            tracing::warn!(
                owner,
                sha256 = image.sha256,
                "an image's source is missing from the file store"
            );
            continue;
        }
        let Ok(ticket) = extractor.admit() else {
            continue;
        };
        match store
            .render(&extractor, &ticket, &source, &image.sha256)
            .await
        {
            Ok(_) => restored += 1,
            Err(error) => tracing::warn!(owner, ?error, "cannot make an image's renditions again"),
        }
    }
    if restored > 0 {
        tracing::info!(restored, "made the missing renditions of images");
    }
    restored
}

/// Where renditions are kept.
#[derive(Debug, Clone)]
pub struct ImageStore {
    root: PathBuf,
}

/// Why a source got no renditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// Past the pixel, side, memory or time budget: a 422.
    TooLarge(String),
    /// Not an image the decoder can read: a 422.
    Invalid(String),
    /// The renderer itself could not work (a 500).
    Failed(String),
}

impl ImageStore {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// The renditions of the images whose sources are in `files`: its
    /// `renditions/` directory.
    pub fn of(files: &crate::files::FileStore) -> Self {
        Self::new(files.root().join("renditions"))
    }

    /// The directory of a source's renditions. The caller checks that
    /// `sha256` is one.
    pub fn dir_of(&self, sha256: &str) -> PathBuf {
        let prefix = sha256.get(..2).unwrap_or("00");
        self.root.join(prefix).join(sha256)
    }

    /// The file of one rendition.
    pub fn rendition(&self, sha256: &str, width: u32) -> PathBuf {
        self.dir_of(sha256).join(format!("{width}.webp"))
    }

    /// Whether every rendition of these sizes exists.
    pub fn has(&self, sha256: &str, renditions: &[Size]) -> bool {
        is_sha256(sha256)
            && renditions
                .iter()
                .all(|size| self.rendition(sha256, size.width).is_file())
    }

    /// Renders the source stored at `source` (whose SHA-256 is `sha256`)
    /// in a child, waiting for a slot on `ticket`, and puts the
    /// renditions in place. What the child makes is checked: each
    /// rendition it names must exist and be WebP.
    pub async fn render(
        &self,
        extractor: &Extractor,
        ticket: &Ticket,
        source: &Path,
        sha256: &str,
    ) -> Result<Rendered, RenderError> {
        let failed = |error: std::io::Error| RenderError::Failed(error.to_string());
        let Some(_slot) = ticket.slot().await else {
            return Err(RenderError::Failed("the server is stopping".into()));
        };
        let work = self.root.join("tmp").join(uuid::Uuid::now_v7().to_string());
        std::fs::create_dir_all(&work).map_err(failed)?;
        let started = std::time::Instant::now();
        let result = self.render_into(extractor, source, &work).await;
        tracing::info!(
            outcome = match &result {
                Ok(_) => "rendered",
                Err(RenderError::TooLarge(_)) => "too_large",
                Err(RenderError::Invalid(_)) => "invalid",
                Err(RenderError::Failed(_)) => "failed",
            },
            millis = started.elapsed().as_millis() as u64,
            "rendered an image"
        );
        let installed = match result {
            Ok(rendered) => self
                .install(&work, sha256)
                .map(|()| rendered)
                .map_err(failed),
            Err(error) => Err(error),
        };
        let _ = std::fs::remove_dir_all(&work);
        installed
    }

    async fn render_into(
        &self,
        extractor: &Extractor,
        source: &Path,
        work: &Path,
    ) -> Result<Rendered, RenderError> {
        use std::os::unix::process::ExitStatusExt;
        let args: [OsString; 8] = [
            "render-image".into(),
            "--memory-mb".into(),
            extractor.settings().memory_mb.to_string().into(),
            "--cpu-seconds".into(),
            extractor.cpu_seconds().to_string().into(),
            "--".into(),
            source.as_os_str().to_owned(),
            work.as_os_str().to_owned(),
        ];
        let finished = extractor
            .run_confined(&args, 64 << 10)
            .await
            .map_err(|error| RenderError::Failed(format!("cannot start the renderer: {error}")))?;
        let stderr = String::from_utf8_lossy(&finished.stderr).trim().to_owned();
        if finished.timed_out {
            return Err(RenderError::TooLarge(format!(
                "rendering took longer than {} s",
                extractor.settings().timeout.as_secs()
            )));
        }
        let Some(status) = finished.status else {
            return Err(RenderError::Failed("the renderer was lost".into()));
        };
        if let Some(signal) = status.signal() {
            let cpu = rustix::process::Signal::XCPU.as_raw();
            let kill = rustix::process::Signal::KILL.as_raw();
            let memory = stderr.contains("memory allocation of");
            return Err(if signal == cpu || signal == kill || memory {
                RenderError::TooLarge("the image needs more time or memory than allowed".into())
            } else {
                tracing::warn!(signal, stderr, "the image renderer crashed");
                RenderError::Invalid("the image could not be decoded".into())
            });
        }
        match status.code().and_then(ExitKind::of_code) {
            Some(ExitKind::Done) => {
                let rendered: Rendered =
                    serde_json::from_slice(&finished.stdout).map_err(|error| {
                        RenderError::Failed(format!("the renderer's report: {error}"))
                    })?;
                let all_there = rendered.renditions.iter().all(|size| {
                    std::fs::read(work.join(format!("{}.webp", size.width))).is_ok_and(|bytes| {
                        crate::domain::images::sniff(&bytes) == Some("image/webp")
                    })
                });
                if rendered.renditions.is_empty() || !all_there {
                    return Err(RenderError::Failed(
                        "the renderer left renditions out".into(),
                    ));
                }
                Ok(rendered)
            }
            Some(ExitKind::TooLarge) => Err(RenderError::TooLarge(stderr)),
            Some(ExitKind::Refused) => Err(RenderError::Invalid(stderr)),
            Some(ExitKind::NoLimits | ExitKind::Unreadable) => Err(RenderError::Failed(stderr)),
            None if stderr.contains("memory allocation of") => Err(RenderError::TooLarge(
                "the image needs more memory than allowed".into(),
            )),
            // A panic (101) or any other end: the decoder broke on it.
            None => {
                tracing::warn!(status = %status, stderr, "the image renderer failed");
                Err(RenderError::Invalid(
                    "the image could not be decoded".into(),
                ))
            }
        }
    }

    /// Renders an image this program made itself (the demo archive's) in
    /// this process, and puts the renditions in place. Never for uploads:
    /// those go through [`ImageStore::render`]'s child.
    pub fn render_own(&self, bytes: &[u8], sha256: &str) -> std::io::Result<Rendered> {
        let work = self.root.join("tmp").join(uuid::Uuid::now_v7().to_string());
        std::fs::create_dir_all(&work)?;
        let rendered = child::render(bytes, 256 << 20, |size, webp| {
            std::fs::write(work.join(format!("{}.webp", size.width)), webp)
        })
        .map_err(|failure| std::io::Error::other(failure.reason));
        let installed =
            rendered.and_then(|rendered| self.install(&work, sha256).map(|()| rendered));
        let _ = std::fs::remove_dir_all(&work);
        installed
    }

    /// Moves a finished set of renditions into place. The same source
    /// always renders the same, so one already in place is kept.
    fn install(&self, work: &Path, sha256: &str) -> std::io::Result<()> {
        let target = self.dir_of(sha256);
        if target.is_dir() {
            return Ok(());
        }
        let parent = target
            .parent()
            .ok_or_else(|| std::io::Error::other("a rendition directory has no parent"))?;
        std::fs::create_dir_all(parent)?;
        for entry in std::fs::read_dir(work)? {
            std::fs::File::open(entry?.path())?.sync_all()?;
        }
        match std::fs::rename(work, &target) {
            Ok(()) => {}
            // Another upload of the same source got there first.
            Err(_) if target.is_dir() => return Ok(()),
            Err(error) => return Err(error),
        }
        std::fs::File::open(parent)?.sync_all()
    }

    /// Removes the renditions of every source `referenced` does not name,
    /// and unfinished work, if older than `older_than`. Returns how many
    /// sources' renditions were removed. Blocking.
    pub fn collect_garbage(
        &self,
        referenced: &HashSet<String>,
        older_than: Duration,
    ) -> std::io::Result<usize> {
        let now = SystemTime::now();
        let old = |path: &Path| {
            std::fs::metadata(path)
                .and_then(|metadata| metadata.modified())
                .ok()
                .and_then(|modified| now.duration_since(modified).ok())
                .is_some_and(|age| age >= older_than)
        };
        let Ok(prefixes) = std::fs::read_dir(&self.root) else {
            return Ok(0);
        };
        let mut removed = 0;
        for prefix in prefixes {
            let prefix = prefix?.path();
            let is_tmp = prefix.file_name().is_some_and(|name| name == "tmp");
            for entry in std::fs::read_dir(&prefix)? {
                let dir = entry?.path();
                let name = dir
                    .file_name()
                    .and_then(|name| name.to_str())
                    .unwrap_or_default()
                    .to_owned();
                let orphan = is_tmp || (is_sha256(&name) && !referenced.contains(&name));
                if orphan && old(&dir) {
                    std::fs::remove_dir_all(&dir)?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}
