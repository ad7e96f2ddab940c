//! The response cache: encoded bodies of database-backed GETs, keyed by
//! what the response depends on (path, query, requested languages) and
//! valid only for the change-log sequence number they were built at. Any
//! write anywhere advances the sequence number and so retires every entry;
//! the archive is read far more than it is written. An entry also retires
//! after [`MAX_AGE`], so that what changes without a write (the reader
//! counts in a detail, the most-read lists) is at most that old.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse};

use crate::http::error::ApiError;
use crate::http::negotiate::Requested;
use crate::http::respond::{send, Encoded};

/// How many responses the cache holds before it starts over.
const MAX_ENTRIES: usize = 20_000;

/// How long an entry is served, writes or not.
pub const MAX_AGE: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Entries {
    map: HashMap<String, (i64, Instant, Arc<Encoded>)>,
    bytes: usize,
}

pub struct ResponseCache {
    entries: Mutex<Entries>,
    /// How many body bytes it holds before it starts over; 0 turns it off.
    max_bytes: usize,
}

impl ResponseCache {
    /// Answers from the response cache when it holds this request's response at
    /// `seq`; otherwise awaits `build`, keeps its result and answers with it.
    /// The key is what a response depends on: path, query, requested languages.
    pub async fn respond(
        &self,
        req: &HttpRequest,
        requested: &Requested,
        seq: i64,
        build: impl Future<Output = Result<Encoded, ApiError>>,
    ) -> Result<HttpResponse, ApiError> {
        let encoded = self.encoded(req, requested, seq, build).await?;
        Ok(send(req, &encoded))
    }

    /// [`respond`](Self::respond)'s body before it is sent.
    pub async fn encoded(
        &self,
        req: &HttpRequest,
        requested: &Requested,
        seq: i64,
        build: impl Future<Output = Result<Encoded, ApiError>>,
    ) -> Result<Arc<Encoded>, ApiError> {
        let key = format!(
            "{}?{}|{}",
            req.path(),
            req.query_string(),
            requested.tags().join(",")
        );
        if let Some(hit) = self.get(&key, seq) {
            return Ok(hit);
        }
        let encoded = Arc::new(build.await?);
        self.put(key, seq, Arc::clone(&encoded));
        Ok(encoded)
    }

    /// A cache of at most `max_bytes` of bodies; 0 caches nothing.
    pub fn new(max_bytes: usize) -> Self {
        Self {
            entries: Mutex::new(Entries::default()),
            max_bytes,
        }
    }

    /// Returns the response cached under `key` if it was built at `seq`.
    pub fn get(&self, key: &str, seq: i64) -> Option<Arc<Encoded>> {
        self.get_at(key, seq, Instant::now())
    }

    /// [`get`](Self::get) as of `now`.
    fn get_at(&self, key: &str, seq: i64, now: Instant) -> Option<Arc<Encoded>> {
        let entries = self.entries.lock().ok()?;
        match entries.map.get(key) {
            Some((built_at, made, encoded))
                if *built_at == seq && now.saturating_duration_since(*made) < MAX_AGE =>
            {
                Some(Arc::clone(encoded))
            }
            _ => None,
        }
    }

    /// Keeps a response built at `seq`.
    pub fn put(&self, key: String, seq: i64, encoded: Arc<Encoded>) {
        if encoded.body.len() > self.max_bytes {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.map.len() >= MAX_ENTRIES || entries.bytes + encoded.body.len() > self.max_bytes {
            entries.map.clear();
            entries.bytes = 0;
        }
        entries.bytes += encoded.body.len();
        if let Some((_, _, old)) = entries.map.insert(key, (seq, Instant::now(), encoded)) {
            entries.bytes = entries.bytes.saturating_sub(old.body.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn encoded(body: &'static str) -> Arc<Encoded> {
        Arc::new(Encoded {
            body: body.into(),
            etag: HeaderValue::from_static("\"x\""),
            content_language: None,
            link: None,
            content_type: None,
            subject: None,
        })
    }

    #[test]
    fn entries_expire_with_the_sequence_number() {
        let cache = ResponseCache::new(1 << 20);
        cache.put("a".into(), 7, encoded("{}"));
        assert!(cache.get("a", 7).is_some());
        assert!(
            cache.get("a", 8).is_none(),
            "a later write retires the entry"
        );
        assert!(cache.get("b", 7).is_none());
        let off = ResponseCache::new(0);
        off.put("a".into(), 7, encoded("{}"));
        assert!(off.get("a", 7).is_none(), "a zero-byte cache keeps nothing");
    }

    #[test]
    fn entries_expire_with_age() {
        let cache = ResponseCache::new(1 << 20);
        cache.put("a".into(), 7, encoded("{}"));
        let now = Instant::now();
        assert!(cache.get_at("a", 7, now).is_some());
        assert!(cache.get_at("a", 7, now + MAX_AGE).is_none());
    }
}
