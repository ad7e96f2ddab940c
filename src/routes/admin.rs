//! What only admins do: manage API keys, rebuild the search index.

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body;
use crate::db::audit::{self, AuditEntry};
use crate::db::keys::{self, CreatedKey, KeyView};
use crate::db::write;
use crate::domain::keys::Role;
use crate::domain::now_timestamp;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ErrorCode, Problem};
use crate::http::params::{self, Params};
use crate::http::respond;
use crate::search::index::SearchIndex;
use crate::search::sync::{RebuildError, RebuildStatus};
use crate::state::AppState;

/// Every key, revoked ones included.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub items: Vec<KeyView>,
    pub total: i64,
    /// Always null: the list comes whole.
    pub next_cursor: Option<String>,
}

/// A key to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    /// Who or what will hold it (1 to 200 characters).
    #[schema(example = "website editors")]
    pub name: String,
    pub role: Role,
}

/// List API keys
///
/// Every key with its name, role and state; never the keys themselves.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = ["admin"])),
    responses(
        (status = 200, description = "Every key", body = KeyList),
    )
)]
#[get("/admin/keys")]
pub async fn list_keys(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    caller.require(Role::Admin)?;
    let rows = state
        .db
        .run(|conn| -> Result<_, ApiError> { Ok(keys::list(conn)?) })
        .await?;
    let items: Vec<KeyView> = rows.into_iter().map(KeyView::from).collect();
    let list = KeyList {
        total: items.len() as i64,
        items,
        next_cursor: None,
    };
    respond::json(&req, &list, &[])
}

/// Make an API key
///
/// Answers with the new key, once: only its hash is kept.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = ["admin"])),
    request_body(content = NewKeyRequest, description = "The new key's name and role",
        extensions(("x-max-body-bytes" = json!(body::SMALL_BODY_LIMIT)))),
    responses(
        (status = 201, description = "The key, shown this once", body = CreatedKey, headers(("Location" = String))),
        (status = 400, description = "A bad name or role", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/keys")]
pub async fn create_key(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    let admin = caller.require(Role::Admin)?.clone();
    let request: NewKeyRequest = body::json(&req, payload, body::SMALL_BODY_LIMIT).await?;
    let name = request.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid_field(
            "name",
            "must be 1 to 200 characters",
        ));
    }
    let role = request.role;
    let created = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            write::write_transaction(conn, |conn| {
                let created = keys::create(conn, name, role).map_err(ApiError::internal)?;
                audit::record(
                    conn,
                    &admin,
                    "api_key",
                    &created.view.id,
                    "create",
                    &now_timestamp(),
                )?;
                Ok(created)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/v1/admin/keys/{}", created.view.id),
        ))
        .json(created))
}

/// Revoke an API key
///
/// The key stops working at once; it stays listed, with `revoked_at`.
/// Revoking a revoked key changes nothing.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = ["admin"])),
    params(("id" = String, Path, description = "The key's id or its listed prefix")),
    responses(
        (status = 200, description = "The key, revoked", body = KeyView),
        (status = 404, description = "No key has this id or prefix", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/admin/keys/{id}")]
pub async fn revoke_key(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    let admin = caller.require(Role::Admin)?.clone();
    let key = path.into_inner();
    let revoked = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            write::write_transaction(conn, |conn| {
                let Some(row) = keys::find(conn, &key)? else {
                    return Err(ApiError::new(
                        ErrorCode::NotFound,
                        format!("no key has the id or prefix {key:?}"),
                    ));
                };
                let now = now_timestamp();
                if row.revoked_at.is_none() {
                    audit::record(conn, &admin, "api_key", &row.id, "revoke", &now)?;
                }
                Ok(keys::revoke(conn, &row.id, &now)?)
            })
        })
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "the key is gone"))?;
    Ok(HttpResponse::Ok().json(KeyView::from(revoked)))
}

/// Search index rebuild status
///
/// Whether a rebuild runs, and how the last one ended.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = ["admin"])),
    responses(
        (status = 200, description = "The rebuild's state", body = RebuildStatus),
        (status = 503, description = "This server has no search index", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/reindex")]
pub async fn reindex_status(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    caller.require(Role::Admin)?;
    search_enabled(&state)?;
    Ok(HttpResponse::Ok().json(state.rebuilds.status()))
}

/// Rebuild the search index
///
/// Rebuilds the index from the database in the background, as
/// `arkiv reindex` does, while search keeps answering from the old index
/// until the new one is committed. Poll `GET /v1/admin/reindex`.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = ["admin"])),
    responses(
        (status = 202, description = "The rebuild started", body = RebuildStatus, headers(("Location" = String))),
        (status = 409, description = "A rebuild is already running", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This server has no search index", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/reindex")]
pub async fn start_reindex(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    let admin = caller.require(Role::Admin)?.clone();
    let index = search_enabled(&state)?;
    tracing::info!(key = %admin.name, "search index rebuild requested");
    let status = state
        .rebuilds
        .start(state.db.clone(), index)
        .map_err(|error| match error {
            RebuildError::Running(_) => ApiError::new(ErrorCode::ReindexRunning, error.to_string()),
            RebuildError::Spawn(error) => ApiError::internal(error),
        })?;
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            Ok(audit::record(
                conn,
                &admin,
                "search_index",
                "search_index",
                "rebuild",
                &now_timestamp(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, "/v1/admin/reindex"))
        .json(status))
}

/// The server's search index, or 503 on a server without one.
fn search_enabled(state: &AppState) -> Result<std::sync::Arc<SearchIndex>, ApiError> {
    match &state.search {
        Some(index) => Ok(std::sync::Arc::clone(index)),
        None => Err(ApiError::new(
            ErrorCode::Unavailable,
            "this server runs without a search index",
        )),
    }
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// How many entries there are, over all pages.
    pub total: i64,
    /// Pass as `cursor` for the next page (or follow `Link`); null on the
    /// last one.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// Query parameters of `GET /v1/admin/audit`.
#[derive(Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<String>)]
    #[serde(deserialize_with = "audit_cursor")]
    cursor: Option<i64>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    #[serde(deserialize_with = "params::limit")]
    limit: Option<i64>,
    /// Only the writes to this entity (a publication's or key's id).
    #[serde(deserialize_with = "params::text")]
    entity_id: Option<String>,
}

/// Reads an audit cursor: the sequence number of the last entry seen.
fn audit_cursor<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    params::one(deserializer, |raw| {
        raw.parse::<i64>()
            .ok()
            .filter(|seq| *seq >= 0)
            .ok_or_else(|| "is not a cursor this API issued".to_owned())
    })
}

/// Read the audit log
///
/// Every write made through the API, oldest first: which key (by id and
/// its name at the time), when, what entity and which operation.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = ["admin"])),
    params(AuditParams),
    responses(
        (status = 200, description = "A page of writes", body = AuditPage, headers(("Link" = String, description = "rel=\"next\": the next page, when there is one"))),
        (status = 400, description = "A malformed cursor or limit", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/audit")]
pub async fn read_audit(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // Unknown parameters are refused before the key is checked, the
    // values after.
    let params = Params::of::<AuditParams>(&req)?;
    caller.require(Role::Admin)?;
    let query: AuditParams = params.read()?;
    let after = query.cursor.unwrap_or(0);
    let limit = query.limit.unwrap_or(20);
    let entity_id = query.entity_id;
    let (mut items, total) = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            Ok((
                audit::page(conn, after, limit + 1, entity_id.as_deref())?,
                audit::count(conn, entity_id.as_deref())?,
            ))
        })
        .await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|entry| entry.seq.to_string())
    } else {
        None
    };
    let link = next_cursor
        .as_deref()
        .and_then(|cursor| crate::http::respond::next_link(&req, cursor, &[]));
    let page = AuditPage {
        total,
        items,
        next_cursor,
    };
    let mut response = HttpResponse::Ok();
    if let Some(link) = link {
        response.insert_header((actix_web::http::header::LINK, link));
    }
    Ok(response.json(page))
}
