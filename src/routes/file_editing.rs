//! Editors attach, re-extract and remove a variant's file. An upload is
//! streamed to the file store (never whole in memory), typed by its magic
//! bytes against the store's allow-list (the client's `Content-Type` is
//! not taken for it), synced and renamed into place, and only then named
//! by the variant; its text is extracted in a child process (see
//! [`crate::extract`]) with the outcome in `file.text_status`.

use actix_web::http::header;
use actix_web::{delete, post, put, web, HttpRequest, HttpResponse};

use super::body;
use super::editing::{
    check_if_match, load, log_write, parse_key, replace, respond_with, version_of, Edit,
};
use crate::domain::keys::Role;
use crate::domain::records::FileRecord;
use crate::domain::Lang;
use crate::extract::{Busy, Outcome, Ticket};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::negotiate::Requested;
use crate::http::params::Params;
use crate::state::AppState;

/// What an upload may be, told by its first bytes.
pub(super) struct Accepted {
    /// How many first bytes decide.
    pub magic_len: usize,
    /// Whether the first bytes so far can still become an accepted file.
    pub may_become: fn(&[u8]) -> bool,
    /// The media type the first bytes show, if accepted.
    pub sniff: fn(&[u8]) -> Option<&'static str>,
    /// The answer to anything else.
    pub refused: fn() -> ApiError,
}

/// Variant files: PDFs.
const PDF: Accepted = Accepted {
    magic_len: crate::domain::files::MAGIC_LEN,
    may_become: crate::domain::files::may_become_allowed,
    sniff: crate::domain::files::sniff,
    refused: not_allowed,
};

/// Streams an upload into the file store: at most `limit` bytes, hashed
/// on the way, accepted only if its first bytes show a media type that
/// `accepted` allows. Returns its SHA-256, size and media type. A rejected
/// or broken-off upload leaves nothing behind.
pub(super) async fn store_upload(
    state: &AppState,
    mut payload: web::Payload,
    limit: u64,
    accepted: &Accepted,
) -> Result<(String, i64, &'static str), ApiError> {
    use futures_util::StreamExt as _;
    use sha2::Digest as _;
    use std::io::Write as _;

    let temporary = state.files.temporary().map_err(ApiError::internal)?;
    let result = async {
        let mut file = std::fs::File::create(&temporary).map_err(ApiError::internal)?;
        let mut hasher = sha2::Sha256::new();
        let mut size = 0u64;
        let mut head = Vec::with_capacity(accepted.magic_len);
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(body::broke_off)?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(body::too_large(limit));
            }
            if head.len() < accepted.magic_len {
                let missing = accepted.magic_len - head.len();
                head.extend_from_slice(&chunk[..chunk.len().min(missing)]);
                if !(accepted.may_become)(&head) {
                    return Err((accepted.refused)());
                }
            }
            hasher.update(&chunk);
            file.write_all(&chunk).map_err(ApiError::internal)?;
        }
        let media_type = (accepted.sniff)(&head).ok_or_else(accepted.refused)?;
        let sha256: String = hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let (files, from, name) = (state.files.clone(), temporary.clone(), sha256.clone());
        web::block(move || {
            file.sync_all()?;
            drop(file);
            files.install(&from, &name)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        Ok((sha256, size as i64, media_type))
    }
    .await;
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// Removes a stored file that no variant names (after a refused upload).
async fn forget_unused_blob(state: &AppState, sha256: String) {
    use diesel::prelude::*;
    let path = state.files.path_of(&sha256);
    let used = state
        .db
        .run(move |conn| -> Result<i64, ApiError> {
            use crate::db::schema::variants;
            Ok(variants::table
                .filter(variants::file_sha256.eq(sha256))
                .count()
                .get_result(conn)?)
        })
        .await;
    if matches!(used, Ok(0)) {
        let _ = std::fs::remove_file(path);
    }
}

fn not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::UnsupportedMediaType,
        "the file is not a PDF (it must start with %PDF-); its Content-Type does not matter",
    )
}

fn busy(state: &AppState) -> impl Fn(Busy) -> ApiError + '_ {
    |Busy| {
        ApiError::busy(
            "every PDF text extraction slot and queue place is taken; try again shortly",
            state.extractor.retry_after_seconds(),
        )
    }
}

/// The file name an upload declares (`Content-Disposition: …;
/// filename=…`), made safe; only ever shown, never a path.
fn declared_name(req: &HttpRequest, fallback: &str) -> String {
    let declared = req
        .headers()
        .get(header::CONTENT_DISPOSITION)
        .and_then(|value| header::ContentDisposition::from_raw(value).ok())
        .and_then(|disposition| disposition.get_filename().map(str::to_owned))
        .unwrap_or_default();
    super::files::safe_file_name(&declared, fallback)
}

/// Extracts a stored file's text in a child process.
async fn extract(state: &AppState, ticket: &Ticket, sha256: &str) -> Outcome {
    state
        .extractor
        .extract(ticket, &state.files.path_of(sha256))
        .await
}

/// Sets a file's text and its status from an extraction's outcome.
fn apply(file: &mut FileRecord, file_text: &mut Option<String>, outcome: Outcome) {
    let (status, error, text) = outcome.into_parts();
    file.text_status = Some(status);
    file.text_error = error;
    *file_text = text;
}

fn parse_lang(raw: &str) -> Result<Lang, ApiError> {
    raw.parse()
        .map_err(|message: String| ApiError::invalid("lang", message))
}

/// The file's bytes.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[expect(dead_code, reason = "only documents the request body")]
struct FileBytes(Vec<u8>);

/// Upload a variant's PDF
///
/// The body is the PDF itself. Its media type comes from its first bytes
/// (only PDFs are accepted; `Content-Type` is ignored for it). It is
/// streamed to disk, stored by its SHA-256, and its text is extracted in
/// an isolated child process, with time and memory limits, and made
/// searchable in the variant's language. The file is kept whatever the
/// extraction came to: `file.text_status` is `extracted`, `no_text` (a
/// scan) or `failed`, with `file.text_error` saying why (`extract_timeout`,
/// `extract_crashed`, `extract_memory`, `extract_too_large`, `encrypted`,
/// `extract_failed`). The name shown for it comes from
/// `Content-Disposition: attachment; filename=…` when sent, made safe.
/// Needs `If-Match` with the publication's ETag (428/412 before the upload
/// is read). When every extraction slot and queue place is taken the
/// answer is 503 `busy` with `Retry-After`, before the body is read.
#[utoipa::path(
    tag = "editing",
    security(("bearer" = ["editor"])),
    params(
        ("id_or_slug" = String, Path, description = "The publication's UUID or slug"),
        ("lang" = String, Path, description = "A stored language tag: en, sq, sr-Latn, sr-Cyrl"),
        crate::http::params::IfMatch,
        crate::routes::organisations::LangParams,
    ),
    request_body(content = inline(FileBytes), content_type = "application/pdf",
        description = "The PDF; the server's `ARKIV_MAX_UPLOAD_MB` sets its limit",
        extensions(("x-max-body-bytes" = json!(crate::config::DEFAULT_MAX_UPLOAD_MB << 20)))),
    responses(
        (status = 200, description = "Stored; the publication as it now is", body = crate::routes::views::PublicationDetail, headers(("ETag" = String))),
        (status = 400, description = "The id, slug or language is malformed", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such publication or language variant", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The publication changed since the ETag sent", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a PDF", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Every extraction slot and queue place is taken; Retry-After says when to try again", body = crate::http::error::Problem, content_type = "application/problem+json", headers(("Retry-After" = u32))),
    )
)]
#[put("/publications/{id_or_slug}/variants/{lang}/file")]
pub async fn upload_variant_file(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of::<crate::routes::organisations::LangParams>(&req)?;
    let holder = caller.require(Role::Editor)?.clone();
    let requested = Requested::from_request(&req, &params, true)?;
    let (raw, raw_lang) = path.into_inner();
    let key = parse_key(&raw)?;
    let lang = parse_lang(&raw_lang)?;
    let limit = state.upload_limit;
    body::check_declared(&req, limit)?;
    // Refuse before reading the body when there is nothing to attach it to.
    let (lookup, lookup_raw) = (key.clone(), raw.clone());
    let current = state
        .db
        .run(move |conn| load(conn, &lookup, &lookup_raw))
        .await?;
    if !current.variants.iter().any(|v| v.lang == lang.as_str()) {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("{raw:?} has no {lang} variant"),
        ));
    }
    // Refused before a byte is read when the version is missing or stale;
    // checked again, under the lock, when the file is attached.
    check_if_match(
        req.headers().get(header::IF_MATCH),
        version_of(&current),
        true,
    )?;
    let ticket = state.extractor.admit().map_err(busy(&state))?;
    let name = declared_name(&req, &format!("{}-{}.pdf", current.row.slug, lang.as_str()));
    let (sha256, size, media_type) = store_upload(&state, payload, limit, &PDF).await?;
    let outcome = extract(&state, &ticket, &sha256).await;
    drop(ticket);
    let blob = sha256.clone();
    let attached = replace(
        &state,
        &req,
        raw,
        Edit {
            holder: holder.clone(),
            operation: "upload_file",
            if_match_required: true,
        },
        move |_, mut record| {
            let variant = record
                .variants
                .get_mut(&lang)
                .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no {lang} variant")))?;
            let mut file = FileRecord {
                sha256,
                size,
                media_type: media_type.to_owned(),
                name,
                text_status: None,
                text_error: None,
            };
            apply(&mut file, &mut variant.file_text, outcome);
            variant.file = Some(file);
            Ok(record)
        },
    )
    .await;
    let id = match attached {
        Ok(id) => id,
        Err(error) => {
            forget_unused_blob(&state, blob).await;
            return Err(error);
        }
    };
    log_write(&state, &holder, "upload_file", &id);
    respond_with(&state, &requested, id, false).await
}

/// Extract a variant file's text again
///
/// Runs the text extraction of the variant's stored file again, for
/// example after its limits were raised (`ARKIV_EXTRACT_TIMEOUT_S`,
/// `ARKIV_EXTRACT_MEMORY_MB`), without uploading it again. Answers as an
/// upload does, with the new `file.text_status`. `If-Match` is checked
/// when sent.
#[utoipa::path(
    tag = "editing",
    security(("bearer" = ["editor"])),
    params(
        ("id_or_slug" = String, Path, description = "The publication's UUID or slug"),
        ("lang" = String, Path, description = "A stored language tag: en, sq, sr-Latn, sr-Cyrl"),
        crate::routes::organisations::LangParams,
    ),
    responses(
        (status = 200, description = "Extracted again; the publication as it now is", body = crate::routes::views::PublicationDetail, headers(("ETag" = String))),
        (status = 400, description = "The id, slug or language is malformed", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such publication, variant or file, or the file is missing from the store", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The publication (or its file) changed since the ETag sent or during the extraction", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Every extraction slot and queue place is taken; Retry-After says when to try again", body = crate::http::error::Problem, content_type = "application/problem+json", headers(("Retry-After" = u32))),
    )
)]
#[post("/publications/{id_or_slug}/variants/{lang}/file/extract")]
pub async fn extract_variant_file(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of::<crate::routes::organisations::LangParams>(&req)?;
    let holder = caller.require(Role::Editor)?.clone();
    let requested = Requested::from_request(&req, &params, true)?;
    let (raw, raw_lang) = path.into_inner();
    let key = parse_key(&raw)?;
    let lang = parse_lang(&raw_lang)?;
    let (lookup, lookup_raw) = (key.clone(), raw.clone());
    let current = state
        .db
        .run(move |conn| load(conn, &lookup, &lookup_raw))
        .await?;
    check_if_match(
        req.headers().get(header::IF_MATCH),
        version_of(&current),
        false,
    )?;
    let no_file = || {
        ApiError::new(
            ErrorCode::NotFound,
            format!("the {lang} variant of {raw:?} has no file"),
        )
    };
    let sha256 = current
        .variants
        .iter()
        .find(|v| v.lang == lang.as_str())
        .and_then(|v| v.file_sha256.clone())
        .ok_or_else(no_file)?;
    if !crate::domain::files::is_sha256(&sha256) || !state.files.path_of(&sha256).is_file() {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("the file of the {lang} variant of {raw:?} is not in the file store"),
        ));
    }
    let ticket = state.extractor.admit().map_err(busy(&state))?;
    let outcome = extract(&state, &ticket, &sha256).await;
    drop(ticket);
    let id = replace(
        &state,
        &req,
        raw,
        Edit {
            holder: holder.clone(),
            operation: "extract_file",
            if_match_required: false,
        },
        move |_, mut record| {
            let variant = record
                .variants
                .get_mut(&lang)
                .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no {lang} variant")))?;
            let mut file = variant
                .file
                .take()
                .filter(|file| file.sha256 == sha256)
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::PreconditionFailed,
                        "the variant's file changed while its text was extracted; try again",
                    )
                })?;
            apply(&mut file, &mut variant.file_text, outcome);
            variant.file = Some(file);
            Ok(record)
        },
    )
    .await?;
    log_write(&state, &holder, "extract_file", &id);
    respond_with(&state, &requested, id, false).await
}

/// Remove a variant's file
///
/// Detaches the file from the variant (its text leaves the search index).
/// Needs `If-Match`.
#[utoipa::path(
    tag = "editing",
    security(("bearer" = ["editor"])),
    params(
        ("id_or_slug" = String, Path, description = "The publication's UUID or slug"),
        ("lang" = String, Path, description = "A stored language tag: en, sq, sr-Latn, sr-Cyrl"),
        crate::http::params::IfMatch,
        crate::routes::organisations::LangParams,
    ),
    responses(
        (status = 200, description = "Removed; the publication as it now is", body = crate::routes::views::PublicationDetail, headers(("ETag" = String))),
        (status = 400, description = "The id, slug or language is malformed", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such publication, variant or file", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The publication changed since the ETag sent", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/publications/{id_or_slug}/variants/{lang}/file")]
pub async fn delete_variant_file(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of::<crate::routes::organisations::LangParams>(&req)?;
    let holder = caller.require(Role::Editor)?.clone();
    let requested = Requested::from_request(&req, &params, true)?;
    let (raw, raw_lang) = path.into_inner();
    let lang = parse_lang(&raw_lang)?;
    let id = replace(
        &state,
        &req,
        raw.clone(),
        Edit {
            holder: holder.clone(),
            operation: "delete_file",
            if_match_required: true,
        },
        move |_, mut record| {
            let variant = record
                .variants
                .get_mut(&lang)
                .filter(|variant| variant.file.is_some())
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::NotFound,
                        format!("the {lang} variant of {raw:?} has no file"),
                    )
                })?;
            variant.file = None;
            variant.file_text = None;
            Ok(record)
        },
    )
    .await?;
    log_write(&state, &holder, "delete_file", &id);
    respond_with(&state, &requested, id, false).await
}
