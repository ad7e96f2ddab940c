//! Liveness, readiness and the table of error codes.

use actix_web::{get, web, HttpRequest, HttpResponse};
use diesel::connection::SimpleConnection;

use super::views::Health;
use crate::db::BackendKind;
use crate::http::error::{ApiError, ErrorCode, ErrorCodeList, ErrorCodeView, Problem};
use crate::http::params::Params;
use crate::http::respond;
use crate::state::AppState;

/// How long readiness waits for the database before it says not ready.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

/// Liveness
///
/// Answers while the process serves HTTP; checks nothing else.
#[utoipa::path(
    tag = "service",
    responses(
        (status = 200, description = "The process is up", body = Health, headers(("ETag" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
    )
)]
#[get("/healthz")]
pub async fn healthz(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    respond::json(
        &req,
        &Health {
            status: "ok".into(),
            database: None,
        },
        &[],
    )
}

/// Readiness
///
/// Answers 200 when the database answers, 503 `database_unavailable`
/// otherwise, within about a second either way.
#[utoipa::path(
    tag = "service",
    responses(
        (status = 200, description = "Ready to serve", body = Health, headers(("ETag" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 503, description = "The database does not answer (`database_unavailable`, with Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    let probe = state.db.read(|conn| -> Result<(), ApiError> {
        conn.batch_execute("SELECT 1").map_err(|error| {
            tracing::warn!(%error, "readiness: the database does not answer");
            ApiError::database_unavailable("the database does not answer")
        })
    });
    actix_web::rt::time::timeout(READY_WITHIN, probe)
        .await
        .map_err(|_| {
            ApiError::database_unavailable("the database did not answer within a second")
        })??;
    let database = match state.db.backend() {
        BackendKind::Sqlite => "sqlite",
        BackendKind::Postgres => "postgres",
    };
    let health = Health {
        status: "ok".into(),
        database: Some(database.into()),
    };
    respond::json(&req, &health, &[])
}

/// List error codes
///
/// Every machine `code` an error response can carry, with its HTTP status.
/// Problem documents link here through their `type`.
#[utoipa::path(
    tag = "service",
    responses(
        (status = 200, description = "The error codes", body = ErrorCodeList, headers(("ETag" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
    )
)]
#[get("/errors")]
pub async fn list_errors(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    let items: Vec<ErrorCodeView> = ErrorCode::ALL
        .iter()
        .copied()
        .map(ErrorCodeView::from)
        .collect();
    let list = ErrorCodeList {
        total: items.len() as i64,
        items,
        next_cursor: None,
    };
    respond::json(&req, &list, &[])
}
