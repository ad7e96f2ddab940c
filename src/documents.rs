//! Rendered publication details kept in the database (D88).
//!
//! Rendering a detail reads four queries' worth of rows, renders Markdown
//! and serializes some kilobytes of JSON: most of a detail request's time.
//! The first time a publication is shown in a language, its rendered JSON
//! (without the two parts that vary by request: the languages asked for and
//! the reader counts) is queued here and written, compressed, to
//! `publication_documents` by a background flush; later readers of that
//! edition get it in one row read, with the two parts appended. A row is
//! read only while it matches the publication row and the server's
//! [render key](Documents::render_key), so stale rows are never served,
//! whoever wrote them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::db::documents::{self as stored, Rendered};
use crate::db::AnyConnection;

/// Bump when what a detail shows, or how, changes: every stored document
/// is then rendered afresh (its render key no longer matches).
pub const FORMAT: u32 = 1;

/// Queued documents beyond this many bytes are not kept (they will be
/// rendered again and queued by a later reader).
const MAX_QUEUED_BYTES: usize = 32 << 20;

/// A stored document larger than this is taken for damaged and ignored.
const MAX_DOCUMENT_BYTES: usize = 64 << 20;

/// The read model's switch, queue and counters.
#[derive(Debug)]
pub struct Documents {
    enabled: bool,
    queue: Mutex<Vec<Rendered>>,
    tally: Tally,
}

#[derive(Debug, Default)]
struct Tally {
    hits: AtomicU64,
    misses: AtomicU64,
    kept: AtomicU64,
    dropped: AtomicU64,
    flush_failures: AtomicU64,
}

impl Documents {
    /// `enabled` false (`ARKIV_DOCUMENTS=off`) renders every detail.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            queue: Mutex::new(Vec::new()),
            tally: Tally::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// What a stored document must have been rendered with to be served:
    /// the format, the version of arkiv, the vocabulary (`catalog_key`,
    /// a fingerprint of the snapshot's catalog) and the links settings
    /// (`links_key`, from [`links_key`](Self::links_key)).
    pub fn render_key(catalog_key: u64, links_key: u64) -> String {
        format!(
            "{FORMAT}.{}.{catalog_key:016x}.{links_key:016x}",
            env!("CARGO_PKG_VERSION"),
        )
    }

    /// A fingerprint of the links settings, as written out.
    pub fn links_key(links: &str) -> u64 {
        xxhash_rust::xxh3::xxh3_64(links.as_bytes())
    }

    /// Counts a detail answered from a stored document.
    pub fn hit(&self) {
        self.tally.hits.fetch_add(1, Ordering::Relaxed);
    }

    /// Queues a freshly rendered document (its JSON uncompressed) for the
    /// next flush; dropped when the queue is full.
    pub fn queue(&self, mut rendered: Rendered) {
        self.tally.misses.fetch_add(1, Ordering::Relaxed);
        rendered.document = compress(&rendered.document);
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let bytes: usize = queue.iter().map(|doc| doc.document.len()).sum();
        if bytes + rendered.document.len() > MAX_QUEUED_BYTES {
            self.tally.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        queue.push(rendered);
    }

    /// Documents waiting for the next flush.
    pub fn pending(&self) -> usize {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Writes the queued documents in one transaction. On failure they
    /// are dropped (they are derived data: a later reader renders again).
    pub fn flush(&self, conn: &mut AnyConnection) -> diesel::QueryResult<usize> {
        let batch = std::mem::take(&mut *self.queue.lock().unwrap_or_else(PoisonError::into_inner));
        match stored::keep(conn, &batch) {
            Ok(kept) => {
                self.tally.kept.fetch_add(kept as u64, Ordering::Relaxed);
                Ok(kept)
            }
            Err(error) => {
                self.tally.flush_failures.fetch_add(1, Ordering::Relaxed);
                Err(error)
            }
        }
    }

    /// Prometheus text for `/metrics`.
    pub fn render_metrics(&self, out: &mut String) {
        use std::fmt::Write;
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let tally = &self.tally;
        let _ = writeln!(
            out,
            "# HELP arkiv_documents_total Publication details by where they came from: a stored rendered document (hit) or rendered afresh (miss).\n\
             # TYPE arkiv_documents_total counter\n\
             arkiv_documents_total{{source=\"stored\"}} {}\n\
             arkiv_documents_total{{source=\"rendered\"}} {}\n\
             # HELP arkiv_documents_kept_total Rendered documents written to the database, or dropped from a full queue.\n\
             # TYPE arkiv_documents_kept_total counter\n\
             arkiv_documents_kept_total{{result=\"kept\"}} {}\n\
             arkiv_documents_kept_total{{result=\"dropped\"}} {}\n\
             arkiv_documents_kept_total{{result=\"failed\"}} {}\n\
             # HELP arkiv_documents_pending Rendered documents waiting to be written.\n\
             # TYPE arkiv_documents_pending gauge\n\
             arkiv_documents_pending {}",
            get(&tally.hits),
            get(&tally.misses),
            get(&tally.kept),
            get(&tally.dropped),
            get(&tally.flush_failures),
            self.pending(),
        );
    }
}

/// A document as stored: LZ4 with its length in front.
pub fn compress(json: &[u8]) -> Vec<u8> {
    lz4_flex::compress_prepend_size(json)
}

/// The JSON of a stored document; None when it cannot be read (damaged, or
/// claiming an implausible size), which the caller treats as no document.
pub fn decompress(stored: &[u8]) -> Option<Vec<u8>> {
    let size = u32::from_le_bytes(stored.get(..4)?.try_into().ok()?) as usize;
    if size > MAX_DOCUMENT_BYTES {
        return None;
    }
    lz4_flex::decompress(&stored[4..], size).ok()
}

/// Writes queued documents to `db` every `interval` on a thread of its own.
pub fn spawn_flusher(
    db: crate::db::Db,
    documents: std::sync::Arc<Documents>,
    interval: std::time::Duration,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("documents-flush".into())
        .spawn(move || loop {
            std::thread::sleep(interval);
            if documents.pending() == 0 {
                continue;
            }
            let result = db
                .conn()
                .map_err(|error| error.to_string())
                .and_then(|mut conn| {
                    documents
                        .flush(&mut conn)
                        .map_err(|error| error.to_string())
                });
            if let Err(error) = result {
                tracing::warn!(%error, "rendered documents not kept; later readers render them again");
            }
        })
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_survives_compression_and_damage_is_no_document() {
        let json = br#"{"title":"Raporti vjetor","body":"Raporti vjetor i Iniciativ\xc3\xabs"}"#
            .repeat(50);
        let packed = compress(&json);
        assert!(
            packed.len() < json.len() / 4,
            "{} of {}",
            packed.len(),
            json.len()
        );
        assert_eq!(decompress(&packed).as_deref(), Some(&json[..]));
        assert_eq!(decompress(&packed[..packed.len() / 2]), None);
        assert_eq!(decompress(&[1, 2]), None);
        let mut huge = packed.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decompress(&huge), None);
    }

    #[test]
    fn the_render_key_changes_with_the_vocabulary_and_the_links() {
        let key = |catalog, links| Documents::render_key(catalog, Documents::links_key(links));
        let base = key(1, "https://api.example/");
        assert_eq!(base, key(1, "https://api.example/"));
        assert_ne!(base, key(2, "https://api.example/"));
        assert_ne!(base, key(1, "https://other.example/"));
    }
}
