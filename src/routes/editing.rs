//! Editors write publications: create, replace, merge-patch, publish,
//! withdraw; admins delete. Bodies are the import format's publication
//! records (without `"type"`), so what `arkiv import` accepts the API
//! accepts. Every change to an existing publication names the version it
//! was made against (`If-Match` with the ETag of a GET), so two editors
//! never silently overwrite each other.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{delete, patch, post, put, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::body;
use super::organisations::LangParams;
use super::render::Render;
use crate::db::publications::{self, Full};
use crate::db::{audit, write, AnyConnection};
use crate::domain::keys::{KeyHolder, Role};
use crate::domain::records::{self, Entity, PublicationRecord, Record};
use crate::domain::{now_timestamp, IdOrSlug, PublicationStatus};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ErrorCode, FieldError};
use crate::http::negotiate::Requested;
use crate::http::params::Params;
use crate::state::AppState;

/// The version part of a publication's ETag: its content hash.
pub fn version_of(full: &Full) -> &str {
    &full.row.content_hash
}

/// The ETag of a publication's stored version, as write responses and 412
/// answers carry it. GET responses carry `"<version>.<representation>"`;
/// `If-Match` accepts either.
pub fn version_etag(version: &str) -> String {
    format!("\"{version}\"")
}

/// Checks `If-Match` against the current version: 428 without one, 412
/// (with the current ETag) when it names another version.
pub(super) fn check_if_match(
    if_match: Option<&HeaderValue>,
    current: &str,
    required: bool,
) -> Result<(), ApiError> {
    let Some(raw) = if_match else {
        return if required {
            Err(ApiError::new(
                ErrorCode::PreconditionRequired,
                "send If-Match with the ETag of the version you edited (GET it first)",
            ))
        } else {
            Ok(())
        };
    };
    let raw = raw.to_str().unwrap_or_default();
    let matched = raw.split(',').map(str::trim).any(|tag| {
        if tag == "*" {
            return true;
        }
        // If-Match compares strongly: a weak tag never matches.
        if tag.starts_with("W/") {
            return false;
        }
        let tag = tag.trim_matches('"');
        let version = tag.split('.').next().unwrap_or_default();
        crate::domain::keys::constant_time_eq(version, current)
    });
    if matched {
        Ok(())
    } else {
        Err(stale(current))
    }
}

/// Refuses status changes the workflow does not have: a draft cannot be
/// withdrawn (its tombstone would make public what never was).
fn check_transition(current: &Full, next: &PublicationRecord) -> Result<(), ApiError> {
    let was = current.row.status;
    if was == PublicationStatus::Draft && next.status == PublicationStatus::Withdrawn {
        return Err(ApiError::new(
            ErrorCode::InvalidTransition,
            "a draft cannot be withdrawn: it was never public; delete it or keep it as a draft",
        ));
    }
    Ok(())
}

/// Checks `If-Match` against the stored `version`, then takes the entity's
/// row at that version for the rest of the transaction: 412 (with the
/// current ETag) when another writer changed it in between, 404 when one
/// deleted it.
pub(crate) fn claim_version(
    conn: &mut AnyConnection,
    (entity, id, raw): (Entity, &str, &str),
    version: &str,
    if_match: Option<&HeaderValue>,
    required: bool,
) -> Result<(), ApiError> {
    check_if_match(if_match, version, required)?;
    if write::lock_version(conn, entity, id, version)? {
        return Ok(());
    }
    Err(match write::version_of(conn, entity, id)? {
        Some(now) => stale(&now),
        None => ApiError::not_found(entity.as_str(), raw),
    })
}

fn stale(current: &str) -> ApiError {
    let mut error = ApiError::new(
        ErrorCode::PreconditionFailed,
        format!(
            "the publication has changed since that version; its current ETag is {}",
            version_etag(current)
        ),
    );
    error.etag = Some(version_etag(current));
    error
}

/// Parses a request body as a publication record: a JSON object in the
/// import format, `"type": "publication"` optional, `status` defaulting
/// to `draft` when `default_status` says so, the file fields the server
/// sets kept from `stored` (see [`keep_server_fields`]). Every problem the
/// checks find is listed at once (422).
fn record_of(
    mut value: Value,
    default_draft: bool,
    stored: Option<&PublicationRecord>,
) -> Result<PublicationRecord, ApiError> {
    let Value::Object(object) = &mut value else {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            "the body must be a JSON object: a publication in the import format",
        ));
    };
    match object.remove("type") {
        None => {}
        Some(Value::String(kind)) if kind == "publication" => {}
        Some(_) => {
            return Err(ApiError::invalid_field(
                "type",
                "must be \"publication\" or left out",
            ))
        }
    }
    if default_draft && !object.contains_key("status") {
        object.insert("status".into(), Value::String("draft".into()));
    }
    let mut record: PublicationRecord =
        records::typed_all(value).map_err(ApiError::invalid_fields)?;
    keep_server_fields(stored, &mut record)?;
    let problems = records::check(&Record::Publication(record.clone()));
    if !problems.is_empty() {
        return Err(validation_failed(problems));
    }
    Ok(record)
}

pub(crate) fn validation_failed(problems: Vec<(String, String)>) -> ApiError {
    let detail = problems
        .iter()
        .map(|(field, message)| format!("{field}: {message}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut error = ApiError::new(ErrorCode::ValidationFailed, detail);
    error.errors = problems
        .into_iter()
        .map(|(field, message)| FieldError { field, message })
        .collect();
    error
}

/// Keeps what the server sets about a variant's file: its hash, size,
/// media type and extracted text come from the upload, never from a body.
/// A body may repeat them as stored (what a GET-edit-PUT round trip
/// sends), rename the file, or drop it (which detaches it); any other
/// value is a 422 `field_read_only` listing each field.
fn keep_server_fields(
    stored: Option<&PublicationRecord>,
    next: &mut PublicationRecord,
) -> Result<(), ApiError> {
    let mut problems = Vec::new();
    for (lang, variant) in &mut next.variants {
        let stored_variant = stored.and_then(|record| record.variants.get(lang));
        let stored_file = stored_variant.and_then(|v| v.file.as_ref());
        let stored_text = stored_variant.and_then(|v| v.file_text.as_ref());
        let Some(file) = &mut variant.file else {
            if variant.file_text.is_some() {
                problems.push((
                    format!("variants.{lang}.file_text"),
                    "is extracted from the variant's file; it cannot be set".to_owned(),
                ));
            }
            continue;
        };
        let Some(stored_file) = stored_file else {
            problems.push((
                format!("variants.{lang}.file"),
                "is attached by uploading it (PUT …/variants/{lang}/file), not in the body"
                    .to_owned(),
            ));
            continue;
        };
        let mut differs = |field: &str, same: bool| {
            if !same {
                problems.push((
                    format!("variants.{lang}.file.{field}"),
                    "is set by the server from the uploaded file; send it as stored or leave the file out"
                        .to_owned(),
                ));
            }
        };
        differs("sha256", file.sha256 == stored_file.sha256);
        differs("size", file.size == stored_file.size);
        differs("media_type", file.media_type == stored_file.media_type);
        differs(
            "text_status",
            file.text_status.is_none() || file.text_status == stored_file.text_status,
        );
        differs(
            "text_error",
            file.text_error.is_none() || file.text_error == stored_file.text_error,
        );
        if variant.file_text.is_some() && variant.file_text.as_ref() != stored_text {
            problems.push((
                format!("variants.{lang}.file_text"),
                "is extracted from the variant's file; it cannot be set".to_owned(),
            ));
        }
        file.text_status = stored_file.text_status;
        file.text_error = stored_file.text_error;
        variant.file_text = stored_text.cloned();
    }
    problems.extend(crate::domain::images::read_only_problems(
        stored.and_then(|record| record.image.as_ref()),
        next.image.as_ref(),
    ));
    read_only(problems)
}

/// A 422 `field_read_only` listing each field a body may not set; Ok when
/// there is none.
pub(crate) fn read_only(problems: Vec<(String, String)>) -> Result<(), ApiError> {
    if problems.is_empty() {
        return Ok(());
    }
    let mut error = validation_failed(problems);
    error.code = ErrorCode::FieldReadOnly;
    Err(error)
}

/// The import-format record of a publication as stored, for an edit to
/// start from (the slugs it names read inside the caller's transaction).
fn stored_record(conn: &mut AnyConnection, current: &Full) -> Result<PublicationRecord, ApiError> {
    crate::write::stored_publication(conn, current).map_err(|error| match error {
        crate::write::StoredError::Database(error) => error.into(),
        other => ApiError::internal(other),
    })
}

/// Writes one publication through the write service, in the caller's
/// transaction.
fn save(conn: &mut AnyConnection, record: PublicationRecord) -> Result<(), ApiError> {
    save_record(conn, &Record::Publication(record))
}

/// Writes one record of any kind through the write service, in the
/// caller's transaction: 422 with every problem, or the database's error.
pub(crate) fn save_record(conn: &mut AnyConnection, record: &Record) -> Result<(), ApiError> {
    match crate::write::save(conn, record) {
        Ok(_) => Ok(()),
        Err(crate::write::Rejected::Invalid(problems)) => Err(validation_failed(problems)),
        Err(crate::write::Rejected::Database(error)) => Err(error.into()),
    }
}

fn uuid_of(id: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(id).map_err(ApiError::internal)
}

/// Loads a publication by id or slug, whatever its status.
pub(super) fn load(conn: &mut AnyConnection, key: &IdOrSlug, raw: &str) -> Result<Full, ApiError> {
    let (id, slug) = key.key();
    publications::find(conn, id.as_deref(), slug)?
        .ok_or_else(|| ApiError::not_found("publication", raw))
}

pub(crate) fn parse_key(raw: &str) -> Result<IdOrSlug, ApiError> {
    IdOrSlug::parse(raw).map_err(|message| ApiError::invalid("id_or_slug", message))
}

/// Answers a write with the publication as it now is (in the negotiated
/// language, every status shown), its version ETag and Location.
pub(super) async fn respond_with(
    state: &AppState,
    requested: &Requested,
    id: String,
    created: bool,
) -> Result<HttpResponse, ApiError> {
    let full = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            publications::find(conn, Some(&id), None)?
                .ok_or_else(|| ApiError::internal("a publication just written is gone"))
        })
        .await?;
    let snapshot = state.snapshot().await?;
    let render = Render::new(state, &snapshot.catalog, &requested.ranges);
    let detail = render.publication_detail(
        &full.row,
        &full.variants,
        &full.field_ids,
        requested.tags(),
        requested.all,
    );
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((
            header::LOCATION,
            format!("/v1/publications/{}", full.row.id),
        ))
        .insert_header((header::ETAG, version_etag(version_of(&full))));
    if let Ok(language) = HeaderValue::from_str(detail.summary.language.as_str()) {
        response.insert_header((header::CONTENT_LANGUAGE, language));
    }
    Ok(response.json(detail))
}

/// After a write has committed: says so in the log, and makes the next
/// request read the change log (see [`AppState::wrote`]).
pub(crate) fn log_write(state: &AppState, holder: &KeyHolder, operation: &str, id: &str) {
    state.wrote();
    tracing::info!(key = %holder.name, key_id = %holder.id, operation, id = %id, "written");
}

/// Create a publication
///
/// The body is a publication in the import format (see the README), without
/// `"type"`; `status` defaults to `draft`. Every field problem is listed at
/// once (422); a slug or id already in use is a 409.
#[utoipa::path(
    tag = "editing",
    security(("bearer" = ["editor"])),
    params(LangParams),
    request_body(content = crate::domain::records::PublicationRecord, description = "A publication in the import format",
        extensions(("x-max-body-bytes" = json!(body::PUBLICATION_BODY_LIMIT))),
        example = json!({
        "slug": "policy-brief-2026-dialogue",
        "kind": "policy_paper",
        "published_on": "2026-11-20",
        "project": "dialogue-solutions-future",
        "fields": ["dialogue"],
        "variants": {
            "en": {"title": "Dialogue after the elections", "summary": "What comes next.", "body": "…"},
            "sq": {"title": "Dialogu pas zgjedhjeve", "summary": "Çka vjen më pas.", "body": "…"}
        }
    })),
    responses(
        (status = 201, description = "Created; Location and ETag name it", body = crate::routes::views::PublicationDetail, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Not JSON of the expected shape, or an unknown field", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug or id is taken", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields with bad values or unknown references, all listed", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/publications")]
pub async fn create_publication(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of::<LangParams>(&req)?;
    let holder = caller.require(Role::Editor)?.clone();
    let requested = Requested::from_request(&req, &params, true)?;
    let value: Value = body::json(&req, payload, body::PUBLICATION_BODY_LIMIT).await?;
    let mut record = record_of(value, true, None)?;
    if record.status == PublicationStatus::Withdrawn {
        return Err(ApiError::new(
            ErrorCode::InvalidTransition,
            "a new publication cannot start withdrawn: it was never public",
        ));
    }
    let id = record.id.unwrap_or_else(uuid::Uuid::now_v7);
    record.id = Some(id);
    let id = id.hyphenated().to_string();
    let written = id.clone();
    let auditor = holder.clone();
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            write::write_transaction(conn, |conn| {
                audit::record(
                    conn,
                    &auditor,
                    "publication",
                    &written,
                    "create",
                    &now_timestamp(),
                )?;
                let slug = record.slug.as_str().to_owned();
                if write::id_by_slug(conn, Entity::Publication, &slug)?.is_some() {
                    return Err(ApiError::new(
                        ErrorCode::SlugTaken,
                        format!("a publication already has the slug {slug:?}"),
                    ));
                }
                if write::version_of(conn, Entity::Publication, &written)?.is_some() {
                    return Err(ApiError::new(
                        ErrorCode::SlugTaken,
                        format!("a publication already has the id {written}"),
                    ));
                }
                save(conn, record)
            })
        })
        .await?;
    log_write(&state, &holder, "create", &id);
    respond_with(&state, &requested, id, true).await
}

/// Replaces an existing publication with `record` if it is still at the
/// version `If-Match` names; the record keeps the publication's id.
pub(super) async fn replace(
    state: &AppState,
    req: &HttpRequest,
    raw: String,
    edit: Edit,
    make: impl FnOnce(&Full, PublicationRecord) -> Result<PublicationRecord, ApiError> + Send + 'static,
) -> Result<String, ApiError> {
    let key = parse_key(&raw)?;
    let if_match = req.headers().get(header::IF_MATCH).cloned();
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            write::write_transaction(conn, |conn| {
                let current = load(conn, &key, &raw)?;
                let id = current.row.id.clone();
                // From here on the row is ours until the commit.
                claim_version(
                    conn,
                    (Entity::Publication, &id, &raw),
                    version_of(&current),
                    if_match.as_ref(),
                    edit.if_match_required,
                )?;
                // The vocabulary as it is now, not as a snapshot taken
                // before the transaction: slugs are resolved against it.
                let stored = stored_record(conn, &current)?;
                let mut record = make(&current, stored)?;
                record.id = Some(uuid_of(&id)?);
                check_transition(&current, &record)?;
                let owner = write::id_by_slug(conn, Entity::Publication, record.slug.as_str())?;
                if let Some(other) = owner {
                    if other != id {
                        return Err(ApiError::new(
                            ErrorCode::SlugTaken,
                            format!(
                                "another publication has the slug {:?}",
                                record.slug.as_str()
                            ),
                        ));
                    }
                }
                save(conn, record)?;
                audit::record(
                    conn,
                    &edit.holder,
                    "publication",
                    &id,
                    edit.operation,
                    &now_timestamp(),
                )?;
                Ok(id)
            })
        })
        .await
}

/// Who edits, how, and whether the edit must name a version.
pub(super) struct Edit {
    pub holder: KeyHolder,
    pub operation: &'static str,
    pub if_match_required: bool,
}

/// Replace a publication
///
/// The body is the whole publication in the import format, as for create
/// (`status` keeps its value when left out). Needs `If-Match` with the
/// ETag of the version edited: 428 without it, 412 when someone else
/// changed the publication since.
#[utoipa::path(
    tag = "editing",
    security(("bearer" = ["editor"])),
    params(("id_or_slug" = String, Path, description = "The publication's UUID or slug"), LangParams, crate::http::params::IfMatch),
    request_body(content = crate::domain::records::PublicationRecord, description = "The whole publication in the import format",
        extensions(("x-max-body-bytes" = json!(body::PUBLICATION_BODY_LIMIT)))),
    responses(
        (status = 200, description = "Replaced", body = crate::routes::views::PublicationDetail, headers(("ETag" = String))),
        (status = 400, description = "Not JSON of the expected shape", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No publication has this id or slug", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new slug is another publication's", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The publication changed since the ETag sent", body = crate::http::error::Problem, content_type = "application/problem+json", headers(("ETag" = String))),
        (status = 422, description = "Fields with bad values, all listed", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[put("/publications/{id_or_slug}")]
pub async fn replace_publication(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of::<LangParams>(&req)?;
    let holder = caller.require(Role::Editor)?.clone();
    let requested = Requested::from_request(&req, &params, true)?;
    let mut value: Value = body::json(&req, payload, body::PUBLICATION_BODY_LIMIT).await?;
    let id = replace(
        &state,
        &req,
        path.into_inner(),
        Edit {
            holder: holder.clone(),
            operation: "replace",
            if_match_required: true,
        },
        move |current, stored| {
            if let Value::Object(object) = &mut value {
                object
                    .entry("status")
                    .or_insert_with(|| Value::from(current.row.status.as_str()));
                object.remove("id");
            }
            record_of(value, false, Some(&stored))
        },
    )
    .await?;
    log_write(&state, &holder, "replace", &id);
    respond_with(&state, &requested, id, false).await
}

/// Applies an RFC 7396 JSON merge patch.
pub(crate) fn merge_patch(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(changes) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            if let Value::Object(object) = target {
                for (key, change) in changes {
                    if change.is_null() {
                        object.remove(&key);
                    } else {
                        merge_patch(object.entry(key).or_insert(Value::Null), change);
                    }
                }
            }
        }
        other => *target = other,
    }
}

/// Change part of a publication
///
/// A JSON merge patch (RFC 7396) over the publication's import-format
/// record: fields sent replace, `null` removes, objects (such as
/// `variants`) merge. Needs `If-Match`, as replace does.
#[utoipa::path(
    tag = "editing",
    security(("bearer" = ["editor"])),
    params(("id_or_slug" = String, Path, description = "The publication's UUID or slug"), LangParams, crate::http::params::IfMatch),
    request_body(content = Object, content_type = "application/merge-patch+json",
        description = "A merge patch of the import-format record",
        extensions(("x-max-body-bytes" = json!(body::PUBLICATION_BODY_LIMIT))),
        example = json!({"variants": {"sq": {"title": "Titulli i ri"}}, "keywords": ["dialogue"]})),
    responses(
        (status = 200, description = "Changed", body = crate::routes::views::PublicationDetail, headers(("ETag" = String))),
        (status = 400, description = "Not a JSON object, or the result has the wrong shape", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No publication has this id or slug", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The publication changed since the ETag sent", body = crate::http::error::Problem, content_type = "application/problem+json", headers(("ETag" = String))),
        (status = 422, description = "Fields with bad values, all listed", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/publications/{id_or_slug}")]
pub async fn patch_publication(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of::<LangParams>(&req)?;
    let holder = caller.require(Role::Editor)?.clone();
    let requested = Requested::from_request(&req, &params, true)?;
    let patch: Value = body::json(&req, payload, body::PUBLICATION_BODY_LIMIT).await?;
    if !patch.is_object() {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            "a merge patch must be a JSON object",
        ));
    }
    let id = replace(
        &state,
        &req,
        path.into_inner(),
        Edit {
            holder: holder.clone(),
            operation: "patch",
            if_match_required: true,
        },
        move |_, stored| {
            let mut value = serde_json::to_value(&stored).map_err(ApiError::internal)?;
            merge_patch(&mut value, patch);
            if let Value::Object(object) = &mut value {
                object.remove("id");
            }
            record_of(value, false, Some(&stored))
        },
    )
    .await?;
    log_write(&state, &holder, "patch", &id);
    respond_with(&state, &requested, id, false).await
}

/// Publish a publication
///
/// Makes a draft (or a withdrawn publication) public, dated today unless it
/// has a date. `If-Match` is checked when sent.
#[utoipa::path(
    tag = "editing",
    security(("bearer" = ["editor"])),
    params(("id_or_slug" = String, Path, description = "The publication's UUID or slug"), LangParams),
    responses(
        (status = 200, description = "Published", body = crate::routes::views::PublicationDetail, headers(("ETag" = String))),
        (status = 400, description = "The id or slug is malformed", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No publication has this id or slug", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The publication changed since the ETag sent", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/publications/{id_or_slug}/publish")]
pub async fn publish_publication(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of::<LangParams>(&req)?;
    let holder = caller.require(Role::Editor)?.clone();
    let requested = Requested::from_request(&req, &params, true)?;
    let id = replace(
        &state,
        &req,
        path.into_inner(),
        Edit {
            holder: holder.clone(),
            operation: "publish",
            if_match_required: false,
        },
        move |_, mut record| {
            record.status = PublicationStatus::Published;
            record.withdrawn_reason = None;
            record
                .published_on
                .get_or_insert_with(|| chrono::Utc::now().date_naive());
            Ok(record)
        },
    )
    .await?;
    log_write(&state, &holder, "publish", &id);
    respond_with(&state, &requested, id, false).await
}

/// Why a publication is withdrawn.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    /// Shown to readers in place of the publication (1 to 2,000 characters).
    #[schema(example = "Superseded by the 2026 edition")]
    pub reason: String,
}

/// Withdraw a publication
///
/// Takes a publication out of lists, search and feeds; its id, title and
/// the reason stay public (readers get 410 with the reason). `If-Match` is
/// checked when sent.
#[utoipa::path(
    tag = "editing",
    security(("bearer" = ["editor"])),
    params(("id_or_slug" = String, Path, description = "The publication's UUID or slug"), LangParams),
    request_body(content = WithdrawRequest, description = "Why the publication is withdrawn",
        extensions(("x-max-body-bytes" = json!(body::SMALL_BODY_LIMIT)))),
    responses(
        (status = 200, description = "Withdrawn", body = crate::routes::views::PublicationDetail, headers(("ETag" = String))),
        (status = 400, description = "No reason, or not JSON", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No publication has this id or slug", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The publication changed since the ETag sent", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/publications/{id_or_slug}/withdraw")]
pub async fn withdraw_publication(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of::<LangParams>(&req)?;
    let holder = caller.require(Role::Editor)?.clone();
    let requested = Requested::from_request(&req, &params, true)?;
    let request: WithdrawRequest = body::json(&req, payload, body::SMALL_BODY_LIMIT).await?;
    let reason = request.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 2_000 {
        return Err(ApiError::invalid_field(
            "reason",
            "must be 1 to 2,000 characters",
        ));
    }
    let id = replace(
        &state,
        &req,
        path.into_inner(),
        Edit {
            holder: holder.clone(),
            operation: "withdraw",
            if_match_required: false,
        },
        move |_, mut record| {
            record.status = PublicationStatus::Withdrawn;
            record.withdrawn_reason = Some(reason);
            Ok(record)
        },
    )
    .await?;
    log_write(&state, &holder, "withdraw", &id);
    respond_with(&state, &requested, id, false).await
}

/// Delete a publication
///
/// For admins. Removes the publication; the change log keeps a tombstone
/// (its id and the time), so search, feeds and harvesters drop it too.
/// Needs `If-Match`.
#[utoipa::path(
    tag = "editing",
    security(("bearer" = ["admin"])),
    params(("id_or_slug" = String, Path, description = "The publication's UUID or slug"), crate::http::params::IfMatch),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id or slug is malformed", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No publication has this id or slug", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The publication changed since the ETag sent", body = crate::http::error::Problem, content_type = "application/problem+json", headers(("ETag" = String))),
    )
)]
#[delete("/publications/{id_or_slug}")]
pub async fn delete_publication(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    let holder = caller.require(Role::Admin)?.clone();
    let raw = path.into_inner();
    let key = parse_key(&raw)?;
    let if_match = req.headers().get(header::IF_MATCH).cloned();
    let auditor = holder.clone();
    let id = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            write::write_transaction(conn, |conn| {
                let current = load(conn, &key, &raw)?;
                let id = current.row.id.clone();
                claim_version(
                    conn,
                    (Entity::Publication, &id, &raw),
                    version_of(&current),
                    if_match.as_ref(),
                    true,
                )?;
                let now = now_timestamp();
                write::delete_publication(conn, &id, &now)?;
                audit::record(conn, &auditor, "publication", &id, "delete", &now)?;
                Ok(id)
            })
        })
        .await?;
    log_write(&state, &holder, "delete", &id);
    Ok(HttpResponse::NoContent().finish())
}
