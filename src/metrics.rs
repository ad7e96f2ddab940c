//! `GET /metrics`: Prometheus text. Every request is counted and timed by
//! method, route (the matched pattern, so ids do not multiply series) and
//! status; at scrape time the archive adds how far the search index lags
//! behind the change log, the webhook backlog and the database pool's use.
//!
//! Route counts and pool use are the archive's own business: on the API's
//! listener `/metrics` needs an admin key (Prometheus sends it as a bearer
//! token). A listener of its own (`ARKIV_METRICS_BIND`, on an address only
//! the scraper reaches) serves it without one.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{get, web, HttpResponse};

use crate::auth::{Caller, Role};
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// One series: a latency histogram, whose count is the request count.
#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// (method, route, status).
type Labels = (String, String, u16);

/// The request series since the process started.
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<Labels, Histogram>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut series = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let histogram = series
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        histogram.count += 1;
        histogram.sum += seconds;
        for (bucket, bound) in histogram.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    /// The request series in the text format.
    fn render(&self, out: &mut String) {
        let series = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        out.push_str(
            "# HELP arkiv_http_requests_total Requests answered, by method, route and status.\n\
             # TYPE arkiv_http_requests_total counter\n",
        );
        for ((method, route, status), histogram) in &series {
            let _ = writeln!(
                out,
                "arkiv_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                histogram.count
            );
        }
        out.push_str(
            "# HELP arkiv_http_request_duration_seconds Time to answer, by method, route and status.\n\
             # TYPE arkiv_http_request_duration_seconds histogram\n",
        );
        for ((method, route, status), histogram) in &series {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape(route)
            );
            for (bound, count) in BUCKETS.iter().zip(histogram.buckets) {
                let _ = writeln!(
                    out,
                    "arkiv_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "arkiv_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n\
                 arkiv_http_request_duration_seconds_sum{{{labels}}} {}\n\
                 arkiv_http_request_duration_seconds_count{{{labels}}} {}",
                histogram.count, histogram.sum, histogram.count
            );
        }
    }
}

/// Label values escape backslashes, quotes and line breaks.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: times each request and counts it under its route.
pub async fn observe<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    // Methods a client makes up would each start a series of their own.
    let method: &'static str = match req.method().as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    };
    let response = next.call(req).await?;
    if let Some(state) = state {
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        state.metrics.observe(
            method,
            &route,
            response.status().as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    Ok(response)
}

/// Marks the app of the metrics listener (`ARKIV_METRICS_BIND`), which
/// serves `/metrics` without a key.
pub struct OwnListener;

/// Prometheus metrics
///
/// Requests and latency histograms by method, route and status
/// (`arkiv_http_requests_total`, `arkiv_http_request_duration_seconds`);
/// `arkiv_index_lag` (change-log entries the search index has yet to
/// apply); `arkiv_webhook_backlog` (deliveries waiting to be sent);
/// `arkiv_db_pool_connections` by state and `arkiv_db_pool_max`.
///
/// Needs an admin key (Prometheus: `authorization: {credentials: …}`),
/// except on the metrics listener of its own (`ARKIV_METRICS_BIND`),
/// which serves this path alone, without one.
#[utoipa::path(
    tag = "service",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String),
        (status = 401, description = "No valid key was sent", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key is not an admin's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/metrics")]
pub async fn metrics(
    req: actix_web::HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if req.app_data::<web::Data<OwnListener>>().is_none() {
        caller.require(Role::Admin)?;
    }
    crate::routes::params::Params::parse(&req, &[])?;
    let (latest, backlog) = state
        .db
        .run(|conn| -> Result<_, ApiError> {
            Ok((
                crate::db::changes::latest_seq(conn)?,
                crate::db::webhooks::backlog(conn)?,
            ))
        })
        .await?;
    let mut out = String::with_capacity(16 * 1024);
    state.metrics.render(&mut out);
    if let Some(index) = &state.search {
        let applied = i64::try_from(index.applied_seq()).unwrap_or(i64::MAX);
        let _ = writeln!(
            out,
            "# HELP arkiv_index_lag Change-log entries the search index has not applied yet.\n\
             # TYPE arkiv_index_lag gauge\n\
             arkiv_index_lag {}",
            (latest - applied).max(0)
        );
    }
    let (open, idle, max) = state.db.pool_use();
    let _ = writeln!(
        out,
        "# HELP arkiv_change_seq The newest change-log sequence number.\n\
         # TYPE arkiv_change_seq gauge\n\
         arkiv_change_seq {latest}\n\
         # HELP arkiv_webhook_backlog Webhook deliveries waiting to be sent (retries included).\n\
         # TYPE arkiv_webhook_backlog gauge\n\
         arkiv_webhook_backlog {backlog}\n\
         # HELP arkiv_db_pool_connections Pooled database connections, by state.\n\
         # TYPE arkiv_db_pool_connections gauge\n\
         arkiv_db_pool_connections{{state=\"in_use\"}} {}\n\
         arkiv_db_pool_connections{{state=\"idle\"}} {idle}\n\
         # HELP arkiv_db_pool_max The most connections the pool opens.\n\
         # TYPE arkiv_db_pool_max gauge\n\
         arkiv_db_pool_max {max}",
        open.saturating_sub(idle)
    );
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(out))
}
