//! Per-client rate limits: anonymous callers by IP address (IPv6 by /64,
//! what one host usually holds), key holders by key. Each client has a
//! fixed window of one minute; every answer says where the client stands
//! (`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`), and past
//! the limit the answer is 429 with `Retry-After`.
//!
//! Counts live in this process's memory: with several replicas, each
//! counts its own share.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::ResponseError;

use crate::http::error::{ApiError, ErrorCode};
use crate::http::is_probe;
use crate::http::proxy::TrustedProxies;

/// How long a window lasts.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Past this many tracked clients, those whose window has ended are
/// dropped (at most once a second, so a flood of new clients does not
/// make every request walk the map).
const TIDY_AT: usize = 50_000;

/// The most clients tracked at once: past it, new clients share one
/// window, so memory stays bounded whatever the number of addresses.
const MAX_CLIENTS: usize = 500_000;

/// Requests per window and client; 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// For callers without a key, per IP address.
    pub anonymous: u32,
    /// For each key (partners, editors, admins).
    pub keyed: u32,
}

impl RateLimits {
    /// No limits at all.
    pub const OFF: RateLimits = RateLimits {
        anonymous: 0,
        keyed: 0,
    };
}

/// Who is counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Client {
    /// An address; IPv6 cut to its /64. None when the server cannot tell.
    Address(Option<IpAddr>),
    Key(String),
}

struct Window {
    started: Instant,
    used: u32,
}

/// Where a client stands after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub limit: u32,
    pub remaining: u32,
    /// Whole seconds until the window starts over (at least 1).
    pub reset: u64,
    pub allowed: bool,
}

/// The counts of every client seen in the current windows.
pub struct RateLimiter {
    limits: RateLimits,
    clients: Mutex<Clients>,
}

#[derive(Default)]
struct Clients {
    windows: HashMap<Client, Window>,
    tidied: Option<Instant>,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            clients: Mutex::new(Clients::default()),
        }
    }

    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Counts one request of `client` against `limit`, at `now`.
    fn count(&self, client: Client, limit: u32, now: Instant) -> Standing {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let due = clients
            .tidied
            .is_none_or(|at| now.duration_since(at) >= Duration::from_secs(1));
        if clients.windows.len() >= TIDY_AT && due {
            clients
                .windows
                .retain(|_, window| now.duration_since(window.started) < WINDOW);
            clients.tidied = Some(now);
        }
        let crowded = clients.windows.len() >= MAX_CLIENTS;
        let client = if crowded && !clients.windows.contains_key(&client) {
            Client::Address(None)
        } else {
            client
        };
        let window = clients.windows.entry(client).or_insert(Window {
            started: now,
            used: 0,
        });
        if now.duration_since(window.started) >= WINDOW {
            *window = Window {
                started: now,
                used: 0,
            };
        }
        let left = WINDOW.saturating_sub(now.duration_since(window.started));
        let reset = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        let allowed = window.used < limit;
        if allowed {
            window.used += 1;
        }
        Standing {
            limit,
            remaining: limit - window.used,
            reset: reset.max(1),
            allowed,
        }
    }
}

/// The address a request is counted under: the client's, as the trusted
/// proxies in front name it (see [`crate::http::proxy`]).
fn address(req: &ServiceRequest, proxies: TrustedProxies) -> Option<IpAddr> {
    let ip = proxies.client(req.headers(), req.peer_addr().map(|addr| addr.ip()))?;
    Some(counted_as(ip))
}

/// The address a client is counted under: IPv4 as it is, IPv6 cut to its
/// /64 (one host usually holds a whole /64).
fn counted_as(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
        v4 => v4,
    }
}

/// Middleware (inside authentication, which names the caller's key, if
/// any): counts the request against `key` or else the client's address,
/// answers 429 past the limit, and adds the `RateLimit-*` headers.
pub async fn limit<B: MessageBody>(
    limiter: &RateLimiter,
    proxies: TrustedProxies,
    key: Option<String>,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let limits = limiter.limits();
    let (client, limit, hint) = match key {
        Some(key) => (Client::Key(key), limits.keyed, ""),
        None => (
            Client::Address(address(&req, proxies)),
            limits.anonymous,
            if limits.keyed == 0 || limits.keyed > limits.anonymous {
                " (an API key has a higher limit)"
            } else {
                ""
            },
        ),
    };
    if limit == 0 || is_probe(req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let standing = limiter.count(client, limit, Instant::now());
    let mut response = if standing.allowed {
        next.call(req).await?.map_into_left_body()
    } else {
        req.into_response(refusal(&standing, hint))
            .map_into_right_body()
    };
    add_headers(response.headers_mut(), &standing);
    Ok(response)
}

/// Counts a request whose key was refused against its address, as an
/// anonymous one, so that guessing keys is limited like everything else:
/// the 429 to send instead of the 401 once the address is past its limit.
pub fn refuse_bad_key(
    limiter: &RateLimiter,
    proxies: TrustedProxies,
    req: &ServiceRequest,
) -> Option<actix_web::HttpResponse> {
    let limits = limiter.limits();
    if limits.anonymous == 0 || is_probe(req.path()) {
        return None;
    }
    let client = Client::Address(address(req, proxies));
    let standing = limiter.count(client, limits.anonymous, Instant::now());
    if standing.allowed {
        return None;
    }
    let mut response = refusal(&standing, "");
    add_headers(response.headers_mut(), &standing);
    Some(response)
}

/// The 429 answer, with `Retry-After`.
fn refusal(standing: &Standing, hint: &str) -> actix_web::HttpResponse {
    let error = ApiError::new(
        ErrorCode::RateLimited,
        format!(
            "more than {} requests in a minute; try again in {} s{hint}",
            standing.limit, standing.reset
        ),
    );
    let mut response = error.error_response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(standing.reset));
    response
}

fn add_headers(headers: &mut actix_web::http::header::HeaderMap, standing: &Standing) {
    for (name, value) in [
        ("ratelimit-limit", u64::from(standing.limit)),
        ("ratelimit-remaining", u64::from(standing.remaining)),
        ("ratelimit-reset", standing.reset),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_its_limit_then_starts_over() {
        let limiter = RateLimiter::new(RateLimits {
            anonymous: 3,
            keyed: 10,
        });
        let start = Instant::now();
        let client = || Client::Key("k".into());
        let remaining: Vec<(bool, u32)> = (0..4)
            .map(|_| limiter.count(client(), 3, start))
            .map(|s| (s.allowed, s.remaining))
            .collect();
        assert_eq!(remaining, [(true, 2), (true, 1), (true, 0), (false, 0)]);
        let later = limiter.count(client(), 3, start + Duration::from_secs(59));
        assert_eq!((later.allowed, later.reset), (false, 1));
        // Another client has its own window.
        assert!(limiter.count(Client::Key("j".into()), 3, start).allowed);
        let next = limiter.count(client(), 3, start + WINDOW);
        assert_eq!((next.allowed, next.remaining, next.reset), (true, 2, 60));
    }

    #[test]
    fn ipv6_hosts_count_by_their_64() {
        let ip = |raw: &str| counted_as(raw.parse().unwrap());
        assert_eq!(ip("2001:db8:1:2:aaaa::1"), ip("2001:db8:1:2:bbbb::9"));
        assert_ne!(ip("2001:db8:1:2::1"), ip("2001:db8:1:3::1"));
        assert_eq!(ip("::ffff:192.0.2.7"), ip("192.0.2.7"));
        assert_ne!(ip("192.0.2.7"), ip("192.0.2.8"));
    }
}
