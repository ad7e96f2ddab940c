//! `GET /metrics`: the request counters of [`crate::http::metrics`], and at
//! scrape time how far the search index lags behind the change log, the
//! webhook backlog and the database pool's use.

use std::fmt::Write as _;

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

use crate::domain::keys::Role;
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::metrics::OwnListener;
use crate::state::AppState;

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
    security(("bearer" = ["admin"])),
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String),
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
    crate::http::params::Params::parse(&req, &[])?;
    let (latest, backlog) = state
        .db
        .read(|conn| -> Result<_, ApiError> {
            Ok((
                crate::db::changes::latest_seq(conn)?,
                crate::db::webhooks::backlog(conn)?,
            ))
        })
        .await?;
    let mut out = String::with_capacity(16 * 1024);
    state.metrics.render(&mut out);
    state.stats.render_metrics(&mut out);
    state.documents.render_metrics(&mut out);
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
