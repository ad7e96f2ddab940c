//! HTTP plumbing shared by every endpoint: the problem format of errors,
//! strict query parsing, response encoding and the response cache, API
//! keys, rate limits, CORS, caching headers, request metrics and the path
//! checks at the edge. Nothing here knows an endpoint; `routes/` builds on
//! it, and `middleware` puts it around them.

pub mod auth;
pub mod cache;
pub mod caching;
pub mod cors;
pub mod edge;
pub mod error;
pub mod idempotency;
pub mod metrics;
pub mod middleware;
pub mod negotiate;
pub mod params;
pub mod proxy;
pub mod ratelimit;
pub mod respond;

/// Marks a request that came as HEAD: the app answers it as GET (the HTTP
/// layer drops the body), and this lets a handler tell, so that a HEAD is
/// never counted as a reader's view or download.
#[derive(Debug, Clone, Copy)]
pub struct HeadRequest;

/// Whether a path is one that orchestrators poll (liveness, readiness):
/// never rate-limited, never cached. (`/metrics` takes a key, and counts
/// against it like any keyed request.)
pub fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}
