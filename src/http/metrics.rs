//! Request metrics in Prometheus text: every request is counted and timed
//! by method, route (the matched pattern, so ids do not multiply series)
//! and status; `routes::metrics` serves them at `GET /metrics` with the
//! archive's own gauges.
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
use actix_web::middleware::Next;

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
    pub fn render(&self, out: &mut String) {
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
    metrics: &Metrics,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let started = Instant::now();
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
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    metrics.observe(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    Ok(response)
}

/// Marks the app of the metrics listener (`ARKIV_METRICS_BIND`), which
/// serves `/metrics` without a key.
pub struct OwnListener;
