//! Images: editors upload one per publication (its cover), organisation
//! (its logo), project and event; anyone reads the renditions. An upload
//! is streamed to the file store, typed by its first bytes (PNG, JPEG,
//! WebP), rendered in a confined child (see [`crate::images`]) and only
//! then named by the object; its `alt` and `credit` are edited like any
//! other field, with a `PATCH` of the object.

use actix_files::NamedFile;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{delete, get, put, web, HttpRequest, HttpResponse};

use super::body;
use super::editing::{
    check_if_match, load, log_write, parse_key, replace, respond_with, version_of, Edit,
};
use super::file_editing::{store_upload, Accepted};
use super::organisations::LangParams;
use super::vocabulary_editing::{answer, current_version, edit_vocabulary, VocabularyEdit};
use crate::domain::files::is_sha256;
use crate::domain::images::{self, ImageRecord};
use crate::domain::keys::{KeyHolder, Role};
use crate::domain::records::Entity;
use crate::extract::Busy;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ErrorCode, Problem};
use crate::http::negotiate::Requested;
use crate::http::params::Params;
use crate::images::RenderError;
use crate::state::AppState;

/// The largest image accepted (or `ARKIV_MAX_UPLOAD_MB`, if smaller).
pub const MAX_IMAGE_BYTES: u64 = 20 << 20;

/// The image upload limit of a server whose upload limit is `upload_limit`.
pub fn image_limit(upload_limit: u64) -> u64 {
    upload_limit.min(MAX_IMAGE_BYTES)
}

const IMAGE: Accepted = Accepted {
    magic_len: images::MAGIC_LEN,
    may_become: images::may_become_image,
    sniff: images::sniff,
    refused: not_an_image,
};

fn not_an_image() -> ApiError {
    ApiError::new(
        ErrorCode::UnsupportedMediaType,
        "the image must be PNG, JPEG or WebP, told by its first bytes (its Content-Type does not matter)",
    )
}

/// Takes the upload, stores its source and renders it. The image has no
/// alt text or credit yet.
async fn take_upload(state: &AppState, payload: web::Payload) -> Result<ImageRecord, ApiError> {
    let limit = image_limit(state.upload_limit);
    let ticket = state.extractor.admit().map_err(|Busy| {
        ApiError::busy(
            "every slot for processing uploads is taken; try again shortly",
            state.extractor.retry_after_seconds(),
        )
    })?;
    let (sha256, _, media_type) = store_upload(state, payload, limit, &IMAGE).await?;
    let source = state.files.path_of(&sha256);
    let rendered = state
        .images
        .render(&state.extractor, &ticket, &source, &sha256)
        .await;
    drop(ticket);
    match rendered {
        Ok(rendered) => Ok(ImageRecord {
            sha256,
            media_type: media_type.to_owned(),
            width: rendered.width,
            height: rendered.height,
            alt: Default::default(),
            credit: None,
            renditions: rendered.renditions,
        }),
        Err(error) => {
            forget_unused_source(state, sha256).await;
            Err(match error {
                RenderError::TooLarge(reason) => ApiError::new(
                    ErrorCode::ImageTooLarge,
                    format!("the image is too large to render: {reason}"),
                ),
                RenderError::Invalid(reason) => ApiError::new(
                    ErrorCode::ImageInvalid,
                    format!("the image cannot be decoded: {reason}"),
                ),
                RenderError::Failed(reason) => ApiError::internal(reason),
            })
        }
    }
}

/// The uploaded image in place of `previous`: the same source keeps its
/// alt text and credit; another one starts without (they described the
/// old picture).
fn replacing(uploaded: ImageRecord, previous: Option<&ImageRecord>) -> ImageRecord {
    match previous {
        Some(previous) if previous.sha256 == uploaded.sha256 => ImageRecord {
            alt: previous.alt.clone(),
            credit: previous.credit.clone(),
            ..uploaded
        },
        _ => uploaded,
    }
}

/// Removes an uploaded source that nothing names (after a refused
/// upload); its renditions go with the next garbage collection.
async fn forget_unused_source(state: &AppState, sha256: String) {
    let path = state.files.path_of(&sha256);
    let used = state
        .db
        .read(move |conn| -> Result<bool, ApiError> {
            Ok(crate::db::publications::referenced_files(conn)?.contains(&sha256))
        })
        .await;
    if matches!(used, Ok(false)) {
        let _ = std::fs::remove_file(path);
    }
}

fn no_image(entity: Entity, raw: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("the {} {raw:?} has no image", entity.as_str()),
    )
}

/// Sets (Some) or removes (None) a publication's image and answers with
/// the publication.
async fn set_publication_image(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    raw: String,
    payload: Option<web::Payload>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of::<LangParams>(&req)?;
    let holder = caller.require(Role::Editor)?.clone();
    let requested = Requested::from_request(&req, &params, true)?;
    let key = parse_key(&raw)?;
    // Refused before a byte is read when the version is missing or stale;
    // checked again, under the lock, when the image is set.
    let (lookup, lookup_raw) = (key.clone(), raw.clone());
    let current = state
        .db
        .read(move |conn| load(conn, &lookup, &lookup_raw))
        .await?;
    check_if_match(
        req.headers().get(header::IF_MATCH),
        version_of(&current),
        true,
    )?;
    let uploaded = match payload {
        Some(payload) => Some(take_upload(&state, payload).await?),
        None => None,
    };
    let operation = if uploaded.is_some() {
        "upload_image"
    } else {
        "delete_image"
    };
    let source = uploaded.as_ref().map(|image| image.sha256.clone());
    let missing = raw.clone();
    let edit = Edit {
        holder: holder.clone(),
        operation,
        if_match_required: true,
    };
    let written = replace(&state, &req, raw, edit, move |_, mut record| {
        record.image = match uploaded {
            Some(uploaded) => Some(replacing(uploaded, record.image.as_ref())),
            None if record.image.is_none() => return Err(no_image(Entity::Publication, &missing)),
            None => None,
        };
        Ok(record)
    })
    .await;
    let id = match written {
        Ok(id) => id,
        Err(error) => {
            if let Some(source) = source {
                forget_unused_source(&state, source).await;
            }
            return Err(error);
        }
    };
    log_write(&state, &holder, operation, &id);
    respond_with(&state, &requested, id, false).await
}

/// Sets (Some) or removes (None) an organisation's, project's or event's
/// image and answers with its record.
async fn set_vocabulary_image(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    raw: String,
    payload: Option<web::Payload>,
    entity: Entity,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    let holder: KeyHolder = caller.require(Role::Editor)?.clone();
    let version = current_version(&state, entity, &raw).await?;
    check_if_match(req.headers().get(header::IF_MATCH), &version, true)?;
    let uploaded = match payload {
        Some(payload) => Some(take_upload(&state, payload).await?),
        None => None,
    };
    let operation = if uploaded.is_some() {
        "upload_image"
    } else {
        "delete_image"
    };
    let source = uploaded.as_ref().map(|image| image.sha256.clone());
    let missing = raw.clone();
    let edit = VocabularyEdit {
        entity,
        holder: holder.clone(),
        operation,
    };
    let written = edit_vocabulary(&state, &req, raw, edit, move |stored| {
        let mut record = stored.clone();
        let image = match uploaded {
            Some(uploaded) => Some(replacing(uploaded, stored.image())),
            None if stored.image().is_none() => return Err(no_image(entity, &missing)),
            None => None,
        };
        record.set_image(image);
        Ok(record)
    })
    .await;
    let (id, record, version) = match written {
        Ok(written) => written,
        Err(error) => {
            if let Some(source) = source {
                forget_unused_source(&state, source).await;
            }
            return Err(error);
        }
    };
    log_write(&state, &holder, operation, &id);
    answer(entity, record, &id, &version, false)
}

/// Sets (Some) or removes (None) the image of the `entity` `raw` names.
async fn set_image(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    raw: String,
    payload: Option<web::Payload>,
    entity: Entity,
) -> Result<HttpResponse, ApiError> {
    if payload.is_some() {
        // Refused before anything is looked up, as every body is.
        body::check_declared(&req, image_limit(state.upload_limit))?;
    }
    match entity {
        Entity::Publication => set_publication_image(req, caller, state, raw, payload).await,
        _ => set_vocabulary_image(req, caller, state, raw, payload, entity).await,
    }
}

/// The image's bytes.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[expect(dead_code, reason = "only documents the request body")]
struct ImageBytes(Vec<u8>);

/// Declares the upload and removal endpoints of one collection's images.
macro_rules! image_writes {
    (
        $path:literal, $tag:literal, $what:literal, $answer:ty, [$($params:path),*],
        $put:ident, $delete:ident, $entity:expr
    ) => {
        #[doc = concat!("Upload ", $what)]
        ///
        /// The body is the image itself: PNG, JPEG or WebP, told by its
        /// first bytes (`Content-Type` is ignored), at most 20 MiB. It is
        /// decoded in an isolated child process under limits (40 million
        /// pixels, 20,000 pixels a side, the extractor's memory and time),
        /// so an image past them is a 422 `image_too_large`, and one that
        /// cannot be decoded a 422 `image_invalid`. WebP renditions are made
        /// at 320, 800 and 1,600 pixels wide (never wider than the source)
        /// and served, immutable, from `GET /v1/images/{sha256}/{width}.webp`.
        /// A new image starts without alt text and credit: set them with a
        /// `PATCH` of the object (`{"image": {"alt": {"sq": "…"}, "credit":
        /// "…"}}`); uploading the same image again keeps them. Needs
        /// `If-Match` (428/412 before the upload is read).
        #[utoipa::path(
            tag = $tag,
            security(("bearer" = ["editor"])),
            params(
                ("id_or_slug" = String, Path, description = "UUID or slug"),
                crate::http::params::IfMatch,
                $($params,)*
            ),
            request_body(content = inline(ImageBytes), content_type = "image/*",
                description = "The image: PNG, JPEG or WebP",
                extensions(("x-max-body-bytes" = json!(MAX_IMAGE_BYTES)))),
            responses(
                (status = 200, description = "Stored and rendered; the object as it now is", body = $answer, headers(("ETag" = String))),
                (status = 400, description = "The id or slug is malformed", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such object", body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "Changed since the ETag sent", body = Problem, content_type = "application/problem+json"),
                (status = 413, description = "Larger than 20 MiB", body = Problem, content_type = "application/problem+json"),
                (status = 415, description = "Not PNG, JPEG or WebP", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Cannot be decoded (`image_invalid`), or past the pixel, memory or time limits (`image_too_large`)", body = Problem, content_type = "application/problem+json"),
                (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
                (status = 503, description = "Every processing slot and queue place is taken; Retry-After says when to try again", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u32))),
            )
        )]
        #[put($path)]
        pub async fn $put(
            req: HttpRequest,
            caller: Caller,
            state: web::Data<AppState>,
            path: web::Path<String>,
            payload: web::Payload,
        ) -> Result<HttpResponse, ApiError> {
            set_image(req, caller, state, path.into_inner(), Some(payload), $entity).await
        }

        #[doc = concat!("Remove ", $what)]
        ///
        /// The object no longer has an image (its renditions stay until no
        /// object names them). Needs `If-Match`.
        #[utoipa::path(
            tag = $tag,
            security(("bearer" = ["editor"])),
            params(
                ("id_or_slug" = String, Path, description = "UUID or slug"),
                crate::http::params::IfMatch,
                $($params,)*
            ),
            responses(
                (status = 200, description = "Removed; the object as it now is", body = $answer, headers(("ETag" = String))),
                (status = 400, description = "The id or slug is malformed", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such object, or it has no image", body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "Changed since the ETag sent", body = Problem, content_type = "application/problem+json"),
                (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[delete($path)]
        pub async fn $delete(
            req: HttpRequest,
            caller: Caller,
            state: web::Data<AppState>,
            path: web::Path<String>,
        ) -> Result<HttpResponse, ApiError> {
            set_image(req, caller, state, path.into_inner(), None, $entity).await
        }
    };
}

image_writes!(
    "/publications/{id_or_slug}/image",
    "editing",
    "a publication's cover",
    crate::routes::views::PublicationDetail,
    [LangParams],
    put_publication_image,
    delete_publication_image,
    Entity::Publication
);
image_writes!(
    "/organisations/{id_or_slug}/image",
    "organisations",
    "an organisation's logo",
    crate::domain::records::OrganisationRecord,
    [],
    put_organisation_image,
    delete_organisation_image,
    Entity::Organisation
);
image_writes!(
    "/projects/{id_or_slug}/image",
    "projects",
    "a project's image",
    crate::domain::records::ProjectRecord,
    [],
    put_project_image,
    delete_project_image,
    Entity::Project
);
image_writes!(
    "/events/{id_or_slug}/image",
    "events",
    "an event's image",
    crate::domain::records::EventRecord,
    [],
    put_event_image,
    delete_event_image,
    Entity::Event
);

/// Get an image rendition
///
/// One WebP rendition of an uploaded image, at a width its object's
/// `image.renditions` lists. Its address names the source's SHA-256, so
/// it never changes: `Cache-Control: public, max-age=31536000, immutable`.
#[utoipa::path(
    tag = "publications",
    params(
        ("sha256" = String, Path, description = "The source image's SHA-256 (lowercase hex)"),
        ("file" = String, Path, description = "`<width>.webp`, a width the object's renditions list", example = "800.webp"),
    ),
    responses(
        (status = 200, description = "The rendition", content_type = "image/webp", headers(("ETag" = String), ("Cache-Control" = String), ("X-Content-Type-Options" = String), ("Content-Security-Policy" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "Not a SHA-256, or not `<width>.webp`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rendition", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/images/{sha256}/{file}")]
pub async fn get_rendition(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    let (sha256, file) = path.into_inner();
    if !is_sha256(&sha256) {
        return Err(ApiError::invalid(
            "sha256",
            "must be 64 lowercase hex digits",
        ));
    }
    let width = file
        .strip_suffix(".webp")
        .filter(|digits| {
            (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        })
        .and_then(|digits| digits.parse::<u32>().ok())
        .ok_or_else(|| ApiError::invalid("file", "must be <width>.webp"))?;
    let file = match NamedFile::open_async(state.images.rendition(&sha256, width)).await {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no rendition {width} pixels wide of image {sha256}"),
            ))
        }
        Err(error) => return Err(ApiError::internal(error)),
    };
    let file = file
        .set_content_type(
            "image/webp"
                .parse()
                .unwrap_or(actix_web::mime::APPLICATION_OCTET_STREAM),
        )
        .disable_content_disposition()
        .use_last_modified(false)
        // WebP is compressed already.
        .set_content_encoding(header::ContentEncoding::Identity);
    let mut response = file.into_response(&req);
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(super::files::FILE_CSP),
    );
    Ok(response)
}
