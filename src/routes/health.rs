//! Liveness, readiness and the table of error codes.

use actix_web::{get, web, HttpRequest, HttpResponse};
use diesel::connection::SimpleConnection;

use super::respond;
use super::views::Health;
use crate::db::BackendKind;
use crate::error::{ApiError, ErrorCode, ErrorCodeView, Problem};
use crate::state::AppState;

/// Liveness
///
/// Answers while the process serves HTTP; checks nothing else.
#[utoipa::path(tag = "service", responses((status = 200, description = "The process is up", body = Health)))]
#[get("/healthz")]
pub async fn healthz(req: HttpRequest) -> Result<HttpResponse, ApiError> {
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
/// Answers 200 when the database answers, 503 otherwise.
#[utoipa::path(
    tag = "service",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state
        .db
        .run(|conn| -> Result<(), ApiError> {
            conn.batch_execute("SELECT 1")
                .map_err(|_| ApiError::new(ErrorCode::Unavailable, "the database does not answer"))
        })
        .await?;
    let database = match state.db.backend() {
        BackendKind::Sqlite => "sqlite",
        BackendKind::Postgres => "postgres",
    };
    respond::json(
        &req,
        &Health {
            status: "ok".into(),
            database: Some(database.into()),
        },
        &[],
    )
}

/// List error codes
///
/// Every machine `code` an error response can carry, with its HTTP status.
/// Problem documents link here through their `type`.
#[utoipa::path(tag = "service", responses((status = 200, description = "The error codes", body = Vec<ErrorCodeView>)))]
#[get("/errors")]
pub async fn list_errors(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let table: Vec<ErrorCodeView> = ErrorCode::ALL
        .iter()
        .copied()
        .map(ErrorCodeView::from)
        .collect();
    respond::json(&req, &table, &[])
}
