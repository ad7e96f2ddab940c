//! Errors as the HTTP API reports them: RFC 9457 `application/problem+json`
//! with a stable machine `code`.
//!
//! Which error type goes where: `anyhow` in the CLI, `diesel::QueryResult`
//! in `db/`, [`ImportError`](crate::import::ImportError) for import files, and
//! [`ApiError`] in `routes/`. Every code is one row of [`ErrorCode`]'s table;
//! `GET /v1/errors` serves that table.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// Declares the table of error codes: variant, wire code, HTTP status, title.
macro_rules! error_codes {
    ($( $variant:ident = $code:literal, $status:ident, $title:literal; )+) => {
        /// A stable machine code for every error the API can answer with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $( #[doc = $title] $variant ),+
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$( ErrorCode::$variant ),+];

            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code ),+ }
            }

            pub fn status(self) -> StatusCode {
                match self { $( ErrorCode::$variant => StatusCode::$status ),+ }
            }

            pub fn title(self) -> &'static str {
                match self { $( ErrorCode::$variant => $title ),+ }
            }
        }
    };
}

error_codes! {
    InvalidQueryString = "invalid_query_string", BAD_REQUEST, "The query string is not valid percent-encoded UTF-8";
    InvalidPath = "invalid_path", BAD_REQUEST, "The path is not valid percent-encoded UTF-8";
    QueryTooLong = "query_too_long", URI_TOO_LONG, "The query string is longer than the server accepts";
    UnknownQueryParameter = "unknown_query_parameter", BAD_REQUEST, "The query string names a parameter this endpoint does not take";
    InvalidParameter = "invalid_parameter", BAD_REQUEST, "A query or path parameter has a value that is not allowed";
    InvalidCursor = "invalid_cursor", BAD_REQUEST, "The pagination cursor is not one this endpoint issued for this sort";
    InvalidBody = "invalid_body", BAD_REQUEST, "The request body is not valid JSON of the expected shape";
    JsonTooDeep = "json_too_deep", BAD_REQUEST, "The JSON body nests arrays and objects deeper than the server accepts (64 levels)";
    BadRequest = "bad_request", BAD_REQUEST, "The request is malformed at the HTTP level (a header, the framing); the detail says how";
    Unauthorized = "unauthorized", UNAUTHORIZED, "This needs a valid API key (Authorization: Bearer <key>); none was sent, or it is unknown or revoked";
    Forbidden = "forbidden", FORBIDDEN, "The API key's role does not allow this";
    CorsOriginForbidden = "cors_origin_forbidden", FORBIDDEN, "Pages on this origin may not call the API from a browser; only the configured origins may";
    CorsPreflightRefused = "cors_preflight_refused", FORBIDDEN, "The preflight asks for a method or header that cross-origin requests may not use";
    NotFound = "not_found", NOT_FOUND, "No resource has this id or slug";
    Withdrawn = "withdrawn", GONE, "The publication was withdrawn; the detail says why";
    RouteNotFound = "route_not_found", NOT_FOUND, "No endpoint has this path";
    SiteNotConfigured = "site_not_configured", NOT_FOUND, "No website URL is configured (ARKIV_SITE_URL), so there is no sitemap";
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED, "The endpoint does not take this HTTP method; the Allow header lists the ones it does";
    SlugTaken = "slug_taken", CONFLICT, "Another resource already has this slug or id";
    InvalidTransition = "invalid_transition", CONFLICT, "The publication's status cannot change this way (a draft cannot be withdrawn)";
    IdempotencyKeyInUse = "idempotency_key_in_use", CONFLICT, "A request with this Idempotency-Key is still running; Retry-After says when to ask again for its answer";
    InUse = "in_use", CONFLICT, "Other records still refer to this one; change or delete them first";
    ReindexRunning = "reindex_running", CONFLICT, "A search index rebuild is already running";
    PreconditionFailed = "precondition_failed", PRECONDITION_FAILED, "The resource changed since the version If-Match names; the ETag header has the current one";
    ValidationFailed = "validation_failed", UNPROCESSABLE_ENTITY, "Fields of the body have values that are not allowed or refer to nothing; each is listed";
    WebhookTargetForbidden = "webhook_target_forbidden", UNPROCESSABLE_ENTITY, "The webhook's host is, or resolves to, an address webhooks may not reach (loopback, private, link-local and other inside ranges); ARKIV_WEBHOOK_ALLOW lets trusted ones through";
    PreconditionRequired = "precondition_required", PRECONDITION_REQUIRED, "This change needs If-Match with the ETag of the version it was made against";
    PayloadTooLarge = "payload_too_large", PAYLOAD_TOO_LARGE, "The request body is larger than allowed";
    RateLimited = "rate_limited", TOO_MANY_REQUESTS, "Too many requests in this minute; Retry-After says when to go on (an API key has a higher limit)";
    UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "The request body has a media type the endpoint does not take";
    IdempotencyKeyReused = "idempotency_key_reused", UNPROCESSABLE_ENTITY, "This Idempotency-Key was used with a different request (method, path, query or body) in the last 24 hours";
    FieldReadOnly = "field_read_only", UNPROCESSABLE_ENTITY, "The body changes a field the server sets (a file's media type, hash or size, its extracted text); each is listed";
    ImageInvalid = "image_invalid", UNPROCESSABLE_ENTITY, "The upload starts like a PNG, JPEG or WebP image but cannot be decoded (truncated, corrupt)";
    ImageTooLarge = "image_too_large", UNPROCESSABLE_ENTITY, "The image is past the limits on pixels (40 million), sides (20,000), decoder memory or time; scale it down first";
    Busy = "busy", SERVICE_UNAVAILABLE, "The server is at its limit for this kind of work (PDF text extraction, search); Retry-After says when to try again";
    Unavailable = "unavailable", SERVICE_UNAVAILABLE, "A backing service is not available for now (no search index, a database busy with another write); try again shortly";
    DatabaseUnavailable = "database_unavailable", SERVICE_UNAVAILABLE, "The database cannot be reached, or no connection to it came free in time; Retry-After says when to try again";
    DatabaseReadOnly = "database_read_only", SERVICE_UNAVAILABLE, "The database refuses writes for now (a standby, a failover or maintenance); reads go on; Retry-After says when to try again";
    Internal = "internal", INTERNAL_SERVER_ERROR, "Something failed inside the server; it has been logged";
}

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The parameter or field at fault.
    #[schema(example = "limit")]
    pub field: String,
    /// What is wrong with it.
    #[schema(example = "must be an integer from 1 to 100")]
    pub message: String,
}

/// An RFC 9457 problem: the body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "/v1/errors#invalid_parameter",
    "title": "A query or path parameter has a value that is not allowed",
    "status": 400,
    "code": "invalid_parameter",
    "detail": "limit: must be an integer from 1 to 100",
    "errors": [{"field": "limit", "message": "must be an integer from 1 to 100"}]
}))]
pub struct Problem {
    /// A reference to this code's row in `GET /v1/errors`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The code's fixed, human title.
    pub title: String,
    /// The HTTP status, repeated.
    pub status: u16,
    /// The stable machine code; switch on this.
    pub code: String,
    /// What went wrong in this request.
    pub detail: String,
    /// For validation errors: each field at fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For unknown query parameters: the parameters the endpoint takes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
    /// For a withdrawn publication (410): what stays public of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publication: Option<Tombstone>,
}

/// What stays public of a withdrawn publication: no body, no files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Tombstone {
    pub id: String,
    #[schema(example = "media-monitoring-report-2023")]
    pub slug: String,
    /// Its title in each stored language.
    #[schema(example = json!({"en": "Media monitoring report 2023", "sq": "Raporti i monitorimit të mediave 2023"}))]
    pub titles: std::collections::BTreeMap<String, String>,
    /// When it was withdrawn (its last change; RFC 3339, UTC).
    pub withdrawn_at: String,
    #[schema(example = "Superseded by the 2024 edition")]
    pub reason: String,
}

/// The error type of every HTTP handler.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub allowed: Option<Vec<String>>,
    /// The resource's current ETag, sent with a 412.
    pub etag: Option<String>,
    /// A withdrawn publication's tombstone, sent with a 410.
    pub tombstone: Option<Box<Tombstone>>,
    /// Seconds to wait before trying again, sent as `Retry-After`.
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            allowed: None,
            etag: None,
            tombstone: None,
            retry_after: None,
        }
    }

    /// A parameter with a bad value; the detail names the parameter.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::of_field(ErrorCode::InvalidParameter, field, message.into())
    }

    /// A request body field with a bad value.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::of_field(ErrorCode::InvalidBody, field, message.into())
    }

    /// A 400 `invalid_body` naming several fields, each in `errors`.
    pub fn invalid_fields(problems: Vec<(String, String)>) -> Self {
        let detail = problems
            .iter()
            .map(|(field, message)| format!("{field}: {message}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut error = Self::new(ErrorCode::InvalidBody, detail);
        error.errors = problems
            .into_iter()
            .map(|(field, message)| FieldError { field, message })
            .collect();
        error
    }

    /// One field's error: the detail names the field, `errors` lists it.
    fn of_field(code: ErrorCode, field: &str, message: String) -> Self {
        let mut error = Self::new(code, format!("{field}: {message}"));
        error.errors = vec![FieldError {
            field: field.to_owned(),
            message,
        }];
        error
    }

    /// A 503 `busy`: the work is bounded and its queue is full.
    pub fn busy(detail: impl Into<String>, retry_after_seconds: u32) -> Self {
        let mut error = Self::new(ErrorCode::Busy, detail);
        error.retry_after = Some(retry_after_seconds);
        error
    }

    pub fn not_found(what: &str, key: &str) -> Self {
        Self::new(
            ErrorCode::NotFound,
            format!("no {what} has the id or slug {key:?}"),
        )
    }

    pub fn internal(error: impl fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Self::new(
            ErrorCode::Internal,
            "the server failed to answer this request",
        )
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_: format!("/v1/errors#{}", self.code.as_str()),
            title: self.code.title().to_owned(),
            status: self.code.status().as_u16(),
            code: self.code.as_str().to_owned(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
            allowed: self.allowed.clone(),
            publication: self.tombstone.as_deref().cloned(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = HttpResponse::build(self.status_code());
        if let Some(etag) = &self.etag {
            response.insert_header((actix_web::http::header::ETAG, etag.as_str()));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((actix_web::http::header::RETRY_AFTER, seconds));
        }
        if self.code == ErrorCode::Unauthorized {
            response.insert_header((
                actix_web::http::header::WWW_AUTHENTICATE,
                "Bearer realm=\"arkiv\"",
            ));
        }
        response.content_type("application/problem+json").body(body)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match crate::db::Fault::of(&error) {
            Some(crate::db::Fault::Unavailable) => {
                tracing::warn!(%error, "a database connection broke under a request");
                return Self::database_unavailable("the connection to the database broke");
            }
            Some(crate::db::Fault::ReadOnly) => {
                tracing::warn!(%error, "the database refused a write as read-only");
                let mut refused = Self::new(
                    ErrorCode::DatabaseReadOnly,
                    "the database accepts no writes for now; reads go on",
                );
                refused.retry_after = Some(READ_ONLY_RETRY_S);
                return refused;
            }
            None => {}
        }
        match error {
            Error::NotFound => Self::new(ErrorCode::NotFound, "no such resource"),
            // Two writers raced for the same slug or id; the loser hears it.
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::info!(
                    message = info.message(),
                    "a write lost a race for a unique value"
                );
                Self::new(
                    ErrorCode::SlugTaken,
                    "another write took this slug or id a moment ago",
                )
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => Self::new(
                ErrorCode::Unavailable,
                "the database was busy with another write; try again",
            ),
            Error::DatabaseError(_, info)
                if info.message().contains("database is locked")
                    || info.message().contains("database is busy") =>
            {
                Self::new(
                    ErrorCode::Unavailable,
                    "the database was busy with another write; try again",
                )
            }
            other => Self::internal(other),
        }
    }
}

/// Seconds a client is asked to wait after the database was unreachable:
/// the breaker probes it four times a second.
pub const UNAVAILABLE_RETRY_S: u32 = 1;

/// Seconds a client is asked to wait after a write was refused as
/// read-only: a failover or a maintenance switch takes a while.
pub const READ_ONLY_RETRY_S: u32 = 5;

impl ApiError {
    /// 503 `database_unavailable`, with Retry-After.
    pub fn database_unavailable(detail: impl Into<String>) -> Self {
        let mut error = Self::new(ErrorCode::DatabaseUnavailable, detail);
        error.retry_after = Some(UNAVAILABLE_RETRY_S);
        error
    }
}

impl From<crate::db::Unavailable> for ApiError {
    fn from(error: crate::db::Unavailable) -> Self {
        Self::database_unavailable(format!(
            "the database is not available ({}); try again shortly",
            error.cause
        ))
    }
}

impl crate::db::MayFault for ApiError {
    fn fault(&self) -> Option<crate::db::Fault> {
        match self.code {
            ErrorCode::DatabaseUnavailable => Some(crate::db::Fault::Unavailable),
            ErrorCode::DatabaseReadOnly => Some(crate::db::Fault::ReadOnly),
            _ => None,
        }
    }
}

/// One row of the error table, as `GET /v1/errors` serves it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorCodeView {
    #[schema(example = "invalid_parameter")]
    pub code: &'static str,
    #[schema(example = 400)]
    pub status: u16,
    pub title: &'static str,
}

/// The table of error codes, in the list envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorCodeList {
    pub items: Vec<ErrorCodeView>,
    pub total: i64,
    /// Always null: the table comes whole.
    pub next_cursor: Option<String>,
}

impl From<ErrorCode> for ErrorCodeView {
    fn from(code: ErrorCode) -> Self {
        Self {
            code: code.as_str(),
            status: code.status().as_u16(),
            title: code.title(),
        }
    }
}
