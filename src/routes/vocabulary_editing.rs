//! Editors write the vocabulary: organisations, fields of work, projects
//! and events. As for publications, bodies are import-format records
//! (without `"type"`), answers are the record as stored (with its id), and
//! changes name the version they were made against with `If-Match`.
//! Deleting is for admins, and refused (409) while anything refers to the
//! entity.

use actix_web::http::header;
use actix_web::{delete, patch, post, put, web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::body;
use super::editing::{
    claim_version, log_write, merge_patch, parse_key, read_only, save_record, validation_failed,
};
use crate::db::{audit, vocabulary, write, AnyConnection};
use crate::domain::keys::Role;
use crate::domain::records::{self, Entity, Record};
use crate::domain::{now_timestamp, IdOrSlug};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ErrorCode, Problem};
use crate::http::params::Params;
use crate::state::AppState;

/// The collection path of an entity under `/v1`.
pub(super) fn collection(entity: Entity) -> &'static str {
    match entity {
        Entity::Organisation => "organisations",
        Entity::Field => "fields",
        Entity::Project => "projects",
        Entity::Event => "events",
        Entity::Publication => "publications",
    }
}

/// Parses a body as a record of `entity`: `"type"` may be left out, every
/// problem the checks find is listed (422).
fn record_of(mut value: Value, entity: Entity) -> Result<Record, ApiError> {
    let Value::Object(object) = &mut value else {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            format!(
                "the body must be a JSON object: the {} in the import format",
                entity.as_str()
            ),
        ));
    };
    match object.remove("type") {
        None => {}
        Some(Value::String(kind)) if kind == entity.as_str() => {}
        Some(_) => {
            return Err(ApiError::invalid_field(
                "type",
                format!("must be {:?} or left out", entity.as_str()),
            ))
        }
    }
    object.remove("id");
    object.insert("type".into(), Value::String(entity.as_str().into()));
    let record = Record::from_json_all(value).map_err(ApiError::invalid_fields)?;
    let problems = records::check(&record);
    if !problems.is_empty() {
        return Err(validation_failed(problems));
    }
    Ok(record)
}

/// The stored record of an entity, read from a fresh catalog.
fn current_record(conn: &mut AnyConnection, entity: Entity, id: &str) -> Result<Record, ApiError> {
    let catalog = vocabulary::load_catalog(conn)?;
    let records = crate::db::records::catalog_records(&catalog).map_err(ApiError::internal)?;
    let uuid = uuid::Uuid::parse_str(id).map_err(ApiError::internal)?;
    records
        .into_iter()
        .find(|record| record.entity() == entity && record.id() == Some(uuid))
        .ok_or_else(|| ApiError::internal("an entity is missing from the catalog"))
}

/// The id of the entity an id-or-slug names, 404 when none.
fn resolve(
    conn: &mut AnyConnection,
    entity: Entity,
    key: &IdOrSlug,
    raw: &str,
) -> Result<String, ApiError> {
    let (id, slug) = key.key();
    let found = match (id, slug) {
        (Some(id), _) => write::version_of(conn, entity, &id)?.map(|_| id),
        (None, Some(slug)) => write::id_by_slug(conn, entity, slug)?,
        (None, None) => None,
    };
    found.ok_or_else(|| ApiError::not_found(entity.as_str(), raw))
}

/// Answers with the stored record, its version ETag and Location.
pub(super) fn answer(
    entity: Entity,
    mut record: Record,
    id: &str,
    version: &str,
    created: bool,
) -> Result<HttpResponse, ApiError> {
    record.set_id(uuid::Uuid::parse_str(id).map_err(ApiError::internal)?);
    let mut value = serde_json::to_value(&record).map_err(ApiError::internal)?;
    if let Value::Object(object) = &mut value {
        object.remove("type");
    }
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response
        .insert_header((header::LOCATION, format!("/v1/{}/{id}", collection(entity))))
        .insert_header((header::ETAG, format!("\"{version}\"")))
        .json(value))
}

async fn create(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
    entity: Entity,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    let holder = caller.require(Role::Editor)?.clone();
    let value: Value = body::json(&req, payload, body::VOCABULARY_BODY_LIMIT).await?;
    // An id may be given, as in the import format; otherwise one is made.
    let given = match value.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(raw)) => Some(
            uuid::Uuid::parse_str(raw)
                .map_err(|_| ApiError::invalid_field("id", "must be a UUID"))?,
        ),
        Some(_) => return Err(ApiError::invalid_field("id", "must be a UUID")),
    };
    let mut record = record_of(value, entity)?;
    read_only(crate::domain::images::read_only_problems(
        None,
        record.image(),
    ))?;
    let id = given.unwrap_or_else(uuid::Uuid::now_v7);
    record.set_id(id);
    let id = id.hyphenated().to_string();
    let auditor = holder.clone();
    let (stored, version) = state
        .db
        .run({
            let id = id.clone();
            move |conn| -> Result<_, ApiError> {
                write::write_transaction(conn, |conn| {
                    let slug = record.slug().as_str().to_owned();
                    if write::version_of(conn, entity, &id)?.is_some() {
                        return Err(ApiError::new(
                            ErrorCode::SlugTaken,
                            format!("another {} already has the id {id}", entity.as_str()),
                        ));
                    }
                    if write::id_by_slug(conn, entity, &slug)?.is_some() {
                        return Err(ApiError::new(
                            ErrorCode::SlugTaken,
                            format!("another {} already has the slug {slug:?}", entity.as_str()),
                        ));
                    }
                    save_record(conn, &record)?;
                    audit::record(
                        conn,
                        &auditor,
                        entity.as_str(),
                        &id,
                        "create",
                        &now_timestamp(),
                    )?;
                    let version = write::version_of(conn, entity, &id)?
                        .ok_or_else(|| ApiError::internal("an entity just written is gone"))?;
                    Ok((record, version))
                })
            }
        })
        .await?;
    log_write(&state, &holder, "create", &id);
    answer(entity, stored, &id, &version, true)
}

async fn change(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    raw: String,
    payload: web::Payload,
    entity: Entity,
    merge: bool,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    let holder = caller.require(Role::Editor)?.clone();
    let value: Value = body::json(&req, payload, body::VOCABULARY_BODY_LIMIT).await?;
    if merge && !value.is_object() {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            "a merge patch must be a JSON object",
        ));
    }
    let operation = if merge { "patch" } else { "replace" };
    let edit = VocabularyEdit {
        entity,
        holder: holder.clone(),
        operation,
    };
    let (id, stored, version) = edit_vocabulary(&state, &req, raw, edit, move |stored| {
        let value = if merge {
            let mut base = serde_json::to_value(stored).map_err(ApiError::internal)?;
            merge_patch(&mut base, value);
            base
        } else {
            value
        };
        let record = record_of(value, entity)?;
        read_only(crate::domain::images::read_only_problems(
            stored.image(),
            record.image(),
        ))?;
        Ok(record)
    })
    .await?;
    log_write(&state, &holder, operation, &id);
    answer(entity, stored, &id, &version, false)
}

/// Who changes which kind of entity, and how (for the audit log).
pub(super) struct VocabularyEdit {
    pub entity: Entity,
    pub holder: crate::domain::keys::KeyHolder,
    pub operation: &'static str,
}

/// Replaces the entity `raw` names with what `make` makes of its stored
/// record, if it is still at the version `If-Match` names (required).
/// Returns its id, the record as stored, and its new version.
pub(super) async fn edit_vocabulary(
    state: &AppState,
    req: &HttpRequest,
    raw: String,
    edit: VocabularyEdit,
    make: impl FnOnce(&Record) -> Result<Record, ApiError> + Send + 'static,
) -> Result<(String, Record, String), ApiError> {
    let key = parse_key(&raw)?;
    let if_match = req.headers().get(header::IF_MATCH).cloned();
    let entity = edit.entity;
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            write::write_transaction(conn, |conn| {
                let id = resolve(conn, entity, &key, &raw)?;
                let current = write::version_of(conn, entity, &id)?
                    .ok_or_else(|| ApiError::not_found(entity.as_str(), &raw))?;
                claim_version(conn, (entity, &id, &raw), &current, if_match.as_ref(), true)?;
                let stored = current_record(conn, entity, &id)?;
                let mut record = make(&stored)?;
                record.set_id(uuid::Uuid::parse_str(&id).map_err(ApiError::internal)?);
                if let Some(other) = write::id_by_slug(conn, entity, record.slug().as_str())? {
                    if other != id {
                        return Err(ApiError::new(
                            ErrorCode::SlugTaken,
                            format!(
                                "another {} has the slug {:?}",
                                entity.as_str(),
                                record.slug().as_str()
                            ),
                        ));
                    }
                }
                save_record(conn, &record)?;
                audit::record(
                    conn,
                    &edit.holder,
                    entity.as_str(),
                    &id,
                    edit.operation,
                    &now_timestamp(),
                )?;
                let version = write::version_of(conn, entity, &id)?.unwrap_or_default();
                Ok((id, record, version))
            })
        })
        .await
}

/// The id of the entity `raw` names, and its current version, outside
/// any transaction (to refuse an upload before reading it).
pub(super) async fn current_version(
    state: &AppState,
    entity: Entity,
    raw: &str,
) -> Result<String, ApiError> {
    let key = parse_key(raw)?;
    let raw = raw.to_owned();
    state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let id = resolve(conn, entity, &key, &raw)?;
            write::version_of(conn, entity, &id)?
                .ok_or_else(|| ApiError::not_found(entity.as_str(), &raw))
        })
        .await
}

async fn remove(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    raw: String,
    entity: Entity,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    let holder = caller.require(Role::Admin)?.clone();
    let key = parse_key(&raw)?;
    let if_match = req.headers().get(header::IF_MATCH).cloned();
    let auditor = holder.clone();
    let id = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            write::write_transaction(conn, |conn| {
                let id = resolve(conn, entity, &key, &raw)?;
                let current = write::version_of(conn, entity, &id)?
                    .ok_or_else(|| ApiError::not_found(entity.as_str(), &raw))?;
                claim_version(conn, (entity, &id, &raw), &current, if_match.as_ref(), true)?;
                let now = now_timestamp();
                match write::delete_vocabulary(conn, entity, &id, &now) {
                    Ok(_) => {}
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                        _,
                    )) => {
                        return Err(ApiError::new(
                            ErrorCode::InUse,
                            format!(
                                "the {} {raw:?} is still referred to (by publications, projects or events)",
                                entity.as_str()
                            ),
                        ))
                    }
                    Err(other) => return Err(other.into()),
                }
                audit::record(conn, &auditor, entity.as_str(), &id, "delete", &now)?;
                Ok(id)
            })
        })
        .await?;
    log_write(&state, &holder, "delete", &id);
    Ok(HttpResponse::NoContent().finish())
}

/// Declares the four write endpoints of one vocabulary entity.
macro_rules! vocabulary_writes {
    (
        $entity:expr, $record:ty, $tag:tt, $collection:tt, $item:tt,
        $create:ident $create_summary:tt, $replace:ident $replace_summary:tt,
        $patch:ident $patch_summary:tt, $delete:ident $delete_summary:tt
    ) => {
        #[utoipa::path(
            tag = $tag,
            summary = $create_summary,
            description = "The body is the import format's record, without `\"type\"` (editor key).",
            security(("bearer" = ["editor"])),
            request_body(content = $record, description = "A record in the import format",
                extensions(("x-max-body-bytes" = json!(body::VOCABULARY_BODY_LIMIT)))),
            responses(
                (status = 201, description = "Created: the record as stored, with its id", body = $record, headers(("Location" = String), ("ETag" = String))),
                (status = 400, description = "Not JSON of the expected shape, or an unknown field", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Bad values or unknown references, all listed", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[post($collection)]
        pub async fn $create(
            req: HttpRequest,
            caller: Caller,
            state: web::Data<AppState>,
            payload: web::Payload,
        ) -> Result<HttpResponse, ApiError> {
            create(req, caller, state, payload, $entity).await
        }

        #[utoipa::path(
            tag = $tag,
            summary = $replace_summary,
            description = "The whole record; needs `If-Match` with the ETag of the version edited (412 when stale, 428 without).",
            security(("bearer" = ["editor"])),
            params(("id_or_slug" = String, Path, description = "UUID or slug"), crate::http::params::IfMatch),
            request_body(content = $record, description = "The whole record in the import format",
                extensions(("x-max-body-bytes" = json!(body::VOCABULARY_BODY_LIMIT)))),
            responses(
                (status = 200, description = "Replaced: the record as stored", body = $record, headers(("ETag" = String))),
                (status = 400, description = "Not JSON of the expected shape", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such entity", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "The new slug is taken", body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "Changed since the ETag sent", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Bad values or unknown references, all listed", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[put($item)]
        pub async fn $replace(
            req: HttpRequest,
            caller: Caller,
            state: web::Data<AppState>,
            path: web::Path<String>,
            payload: web::Payload,
        ) -> Result<HttpResponse, ApiError> {
            change(req, caller, state, path.into_inner(), payload, $entity, false).await
        }

        #[utoipa::path(
            tag = $tag,
            summary = $patch_summary,
            description = "A JSON merge patch (RFC 7396) over the import-format record; needs `If-Match`.",
            security(("bearer" = ["editor"])),
            params(("id_or_slug" = String, Path, description = "UUID or slug"), crate::http::params::IfMatch),
            request_body(content = Object, content_type = "application/merge-patch+json", description = "A merge patch of the record",
                extensions(("x-max-body-bytes" = json!(body::VOCABULARY_BODY_LIMIT)))),
            responses(
                (status = 200, description = "Changed: the record as stored", body = $record, headers(("ETag" = String))),
                (status = 400, description = "Not a JSON object", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such entity", body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "Changed since the ETag sent", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Bad values or unknown references, all listed", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[patch($item)]
        pub async fn $patch(
            req: HttpRequest,
            caller: Caller,
            state: web::Data<AppState>,
            path: web::Path<String>,
            payload: web::Payload,
        ) -> Result<HttpResponse, ApiError> {
            change(req, caller, state, path.into_inner(), payload, $entity, true).await
        }

        #[utoipa::path(
            tag = $tag,
            summary = $delete_summary,
            description = "For admins, with `If-Match`; refused (409) while anything refers to it.",
            security(("bearer" = ["admin"])),
            params(("id_or_slug" = String, Path, description = "UUID or slug"), crate::http::params::IfMatch),
            responses(
                (status = 204, description = "Deleted"),
                (status = 400, description = "The id or slug is malformed", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such entity", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "Still referred to", body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "Changed since the ETag sent", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[delete($item)]
        pub async fn $delete(
            req: HttpRequest,
            caller: Caller,
            state: web::Data<AppState>,
            path: web::Path<String>,
        ) -> Result<HttpResponse, ApiError> {
            remove(req, caller, state, path.into_inner(), $entity).await
        }
    };
}

vocabulary_writes!(
    Entity::Organisation, crate::domain::records::OrganisationRecord, "organisations", "/organisations", "/organisations/{id_or_slug}",
    create_organisation "Create an organisation", replace_organisation "Replace an organisation",
    patch_organisation "Change part of an organisation", delete_organisation "Delete an organisation"
);
vocabulary_writes!(
    Entity::Field, crate::domain::records::FieldRecord, "fields", "/fields", "/fields/{id_or_slug}",
    create_field "Create a field of work", replace_field "Replace a field of work",
    patch_field "Change part of a field of work", delete_field "Delete a field of work"
);
vocabulary_writes!(
    Entity::Project, crate::domain::records::ProjectRecord, "projects", "/projects", "/projects/{id_or_slug}",
    create_project "Create a project", replace_project "Replace a project",
    patch_project "Change part of a project", delete_project "Delete a project"
);
vocabulary_writes!(
    Entity::Event, crate::domain::records::EventRecord, "events", "/events", "/events/{id_or_slug}",
    create_event "Create an event", replace_event "Replace an event",
    patch_event "Change part of an event", delete_event "Delete an event"
);
