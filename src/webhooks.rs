//! Webhook deliveries. The dispatcher follows the change log: each change
//! a write marked with a public event (`publication.published`, `.updated`,
//! `.withdrawn`, `.deleted`) becomes one delivery per webhook that wants
//! it, enqueued in the same transaction that moves the webhook's position,
//! so no event is lost or enqueued twice across restarts. Each attempt
//! first claims its delivery for a while, so two servers never send one at
//! once; a server that dies mid-send leaves it to be sent again after the
//! claim runs out (at least once; `Arkiv-Delivery` names repeats).
//! Deliveries are POSTs of a small JSON body, signed, retried with growing
//! pauses, and logged.
//!
//! The signature (header `Arkiv-Signature: t=<unix seconds>,v1=<hex>`) is
//! HMAC-SHA256 with the webhook's secret over `<t>.<body>`: a receiver
//! recomputes it, compares in constant time, and refuses old `t`s.
//!
//! Each attempt resolves the webhook's host again and checks every address
//! ([`target`]): a target that now leads inside is not contacted. No
//! redirect is followed and no proxy is used. The delivery log keeps the
//! subscriber's HTTP status or a coarse [`ErrorClass`], never the text of an
//! OS error (which would tell an admin which inside ports are open).

pub mod target;

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::db::webhooks::{self, Attempt, Due, ErrorClass, NewDelivery};
use crate::db::{AnyConnection, Db};
use crate::domain::format_timestamp;
use crate::domain::net::AllowList;
use target::{CheckedResolver, TargetError};

/// Attempts before a delivery is given up as failed.
pub const MAX_ATTEMPTS: i32 = 8;

/// How long one attempt may take, lookup and connection included.
const TIMEOUT: Duration = Duration::from_secs(10);

/// How long making the connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Changes read per webhook per round, and deliveries sent per round.
const BATCH: i64 = 500;

/// How long an attempt holds its delivery: longer than an attempt takes.
const LEASE: Duration = Duration::from_secs(60);

/// How much of a round one webhook may take: a subscriber that hangs
/// delays the others by about one timeout a round, not by its backlog.
const BUDGET: Duration = TIMEOUT;

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    #[expect(clippy::expect_used, reason = "HMAC takes a key of any length")]
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The `Arkiv-Signature` header of a body sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    let mac = hmac_sha256(secret.as_bytes(), &signed);
    let hex: String = mac.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// The pause before attempt `attempts + 1`: 30 s, doubling, so the eighth
/// and last attempt comes about an hour after the first.
pub fn backoff(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(10);
    Duration::from_secs(30 << doublings)
}

impl ErrorClass {
    /// The class of a failed attempt; `https` says whether TLS was spoken.
    pub fn of(error: &ureq::Error, https: bool) -> Self {
        use std::io::ErrorKind;
        match error {
            ureq::Error::Other(inner) => match inner.downcast_ref::<TargetError>() {
                Some(TargetError::NotFound(_) | TargetError::LookupTimedOut(_)) => Self::Dns,
                Some(TargetError::Forbidden(_) | TargetError::Invalid(_)) => Self::ForbiddenTarget,
                None => Self::Other,
            },
            ureq::Error::HostNotFound => Self::Dns,
            ureq::Error::Timeout(_) => Self::Timeout,
            ureq::Error::ConnectionFailed => Self::Refused,
            ureq::Error::Tls(_)
            | ureq::Error::Rustls(_)
            | ureq::Error::Pem(_)
            | ureq::Error::TlsRequired => Self::Tls,
            ureq::Error::Io(io) => match io.kind() {
                ErrorKind::ConnectionRefused
                | ErrorKind::HostUnreachable
                | ErrorKind::NetworkUnreachable
                | ErrorKind::NetworkDown
                | ErrorKind::AddrNotAvailable => Self::Refused,
                ErrorKind::TimedOut | ErrorKind::WouldBlock => Self::Timeout,
                // rustls reports a failed handshake as invalid data.
                ErrorKind::InvalidData if https => Self::Tls,
                _ => Self::Other,
            },
            _ => Self::Other,
        }
    }
}

/// Sends deliveries: the HTTP client and the database.
pub struct Dispatcher {
    db: Db,
    allow: AllowList,
    agent: ureq::Agent,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub enqueued: usize,
    pub delivered: usize,
    pub failed: usize,
}

impl Dispatcher {
    /// A dispatcher that reaches public addresses, and those `allow` lets
    /// through.
    pub fn new(db: Db, allow: AllowList) -> Self {
        let agent = agent(&allow, TIMEOUT);
        Self { db, allow, agent }
    }

    /// Gives each attempt `timeout` instead of 10 s.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self {
            agent: agent(&self.allow, timeout),
            ..self
        }
    }

    /// Enqueues what the change log holds for every webhook, then sends
    /// every delivery due at `now` (the round's start; each attempt is
    /// signed and timed at its own moment).
    pub fn run_once(&self, now: DateTime<Utc>) -> anyhow::Result<Round> {
        let started = std::time::Instant::now();
        let mut conn = self.db.conn()?;
        let enqueued = enqueue_all(&mut conn, now)?;
        let due = webhooks::due(&mut conn, &format_timestamp(now), BATCH)?;
        drop(conn);
        let mut round = Round {
            enqueued,
            ..Round::default()
        };
        let mut spent: std::collections::HashMap<String, Duration> = Default::default();
        for due in due {
            let used = spent.entry(due.delivery.webhook_id.clone()).or_default();
            if *used >= BUDGET {
                continue;
            }
            let before = std::time::Instant::now();
            let at = now + started.elapsed();
            match self.send(due, at)? {
                Some(true) => round.delivered += 1,
                Some(false) => round.failed += 1,
                None => {}
            }
            *used += before.elapsed();
        }
        Ok(round)
    }

    /// One attempt at one delivery; records how it went. Some(true) when
    /// the subscriber took it (any 2xx), None when another dispatcher had
    /// claimed it.
    fn send(&self, due: Due, now: DateTime<Utc>) -> anyhow::Result<Option<bool>> {
        let delivery = &due.delivery;
        let claimed = webhooks::claim(
            &mut *self.db.conn()?,
            delivery.id,
            &delivery.next_attempt_at,
            &format_timestamp(now + LEASE),
        )?;
        if !claimed {
            return Ok(None);
        }
        let body = delivery.payload.as_bytes();
        let https = due
            .url
            .get(..6)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https:"));
        let result = self
            .agent
            .post(&due.url)
            .header("Content-Type", "application/json")
            .header(
                "User-Agent",
                concat!("arkiv-webhooks/", env!("CARGO_PKG_VERSION")),
            )
            .header("Arkiv-Event", &delivery.event)
            .header("Arkiv-Delivery", delivery.id.to_string())
            .header(
                "Arkiv-Signature",
                signature(&due.secret, now.timestamp(), body),
            )
            .send(body);
        let (status, class) = match &result {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(error) => (None, Some(ErrorClass::of(error, https))),
        };
        let attempts = delivery.attempts + 1;
        let at = format_timestamp(now);
        let ok = status.is_some_and(|status| (200..300).contains(&status));
        let next = if ok || attempts >= MAX_ATTEMPTS {
            at.clone()
        } else {
            format_timestamp(now + backoff(attempts))
        };
        let state = match (ok, attempts >= MAX_ATTEMPTS) {
            (true, _) => "delivered",
            (false, true) => "failed",
            (false, false) => "pending",
        };
        if !ok {
            // The operator's log may say more than the delivery log.
            tracing::warn!(
                delivery = delivery.id,
                url = %due.url,
                attempts,
                status,
                class = class.map(ErrorClass::as_str),
                error = result.as_ref().err().map(ToString::to_string).as_deref(),
                "webhook delivery failed"
            );
        }
        let mut conn = self.db.conn()?;
        webhooks::record_attempt(
            &mut conn,
            delivery.id,
            &Attempt {
                status: state,
                attempts,
                next_attempt_at: &next,
                last_status: status.map(i32::from),
                error_class: class.map(ErrorClass::as_str),
                delivered_at: ok.then_some(at.as_str()),
            },
        )?;
        Ok(Some(ok))
    }
}

/// The HTTP client of deliveries: addresses only from [`CheckedResolver`],
/// no proxy (it would resolve the host itself), no redirects (a 3xx is the
/// subscriber's answer), and every stage timed.
fn agent(allow: &AllowList, timeout: Duration) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .timeout_resolve(Some(target::LOOKUP_TIMEOUT.min(timeout)))
        .timeout_connect(Some(CONNECT_TIMEOUT.min(timeout)))
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .proxy(None)
        .build();
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::new(),
        CheckedResolver::new(allow.clone()),
    )
}

/// Turns new change-log events into deliveries for every webhook.
fn enqueue_all(conn: &mut AnyConnection, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut enqueued = 0;
    for webhook in webhooks::list(conn)? {
        let mut from = webhook.enqueued_through;
        loop {
            let (changes, through) = webhooks::public_changes_after(conn, from, BATCH)?;
            if through == from {
                break;
            }
            let created_at = format_timestamp(now);
            let deliveries: Vec<NewDelivery> = changes
                .into_iter()
                .filter(|change| webhook.wants(&change.event))
                .map(|change| NewDelivery {
                    payload: json!({
                        "event": change.event,
                        "seq": change.seq,
                        "occurred_at": change.changed_at,
                        "publication": {
                            "id": change.publication_id,
                            "slug": change.slug,
                            "path": format!("/v1/publications/{}", change.publication_id),
                        },
                    })
                    .to_string(),
                    webhook_id: webhook.id.clone(),
                    seq: change.seq,
                    event: change.event,
                    publication_id: change.publication_id,
                    status: "pending".into(),
                    attempts: 0,
                    next_attempt_at: created_at.clone(),
                    created_at: created_at.clone(),
                })
                .collect();
            let count = deliveries.len();
            let moved = crate::db::write::write_transaction(conn, |conn| {
                webhooks::enqueue(conn, &webhook.id, from, through, &deliveries)
            })?;
            if !moved {
                break;
            }
            enqueued += count;
            from = through;
        }
    }
    Ok(enqueued)
}

/// Runs the dispatcher on a thread of its own for as long as the process
/// lives: a round every second.
pub fn spawn(db: Db, allow: AllowList) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("webhooks".into())
        .spawn(move || {
            let dispatcher = Dispatcher::new(db, allow);
            loop {
                if let Err(error) = dispatcher.run_once(Utc::now()) {
                    tracing::error!(%error, "webhook round failed");
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 4231, test cases 2 and 6 (a key longer than the block).
    #[test]
    fn hmac_matches_rfc_4231() {
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn retries_pause_longer_each_time() {
        let pauses: Vec<u64> = (1..MAX_ATTEMPTS).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(pauses, [30, 60, 120, 240, 480, 960, 1920]);
    }
}
