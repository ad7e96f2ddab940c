//! `/v1/admin/webhooks`: admins register the URLs that hear of
//! publications being published, updated, withdrawn and deleted, and read
//! each webhook's delivery log. Sending is [`crate::webhooks`]'s job.
//!
//! A URL is accepted only when its host, in whatever spelling, is and
//! resolves to public addresses alone (or ones `ARKIV_WEBHOOK_ALLOW` lets
//! through): 422 `webhook_target_forbidden` otherwise. A name that does not
//! resolve now is a 422 `validation_failed`: a typo is likelier than a
//! subscriber whose name comes later.

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::body;
use crate::db::audit;
use crate::db::harvest::PublicEvent;
use crate::db::webhooks::{self, DeliveryRow, WebhookRow};
use crate::db::{changes, write};
use crate::domain::keys::Role;
use crate::domain::net::{check_addresses, AllowList, Host};
use crate::domain::{new_id, now_timestamp};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ErrorCode, FieldError, Problem};
use crate::http::params::{self, Params};
use crate::http::respond;
use crate::state::AppState;
use crate::webhooks::target::{self, Target, TargetError};

/// A webhook as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    /// Where deliveries are POSTed.
    #[schema(example = "https://partner.example.org/arkiv-hook")]
    pub url: String,
    /// The events it hears of.
    #[schema(example = json!(["publication.published", "publication.withdrawn"]))]
    pub events: Vec<String>,
    pub description: String,
    pub created_at: String,
}

impl From<WebhookRow> for Webhook {
    fn from(row: WebhookRow) -> Self {
        Self {
            events: row.events.split_whitespace().map(str::to_owned).collect(),
            id: row.id,
            url: row.url,
            description: row.description,
            created_at: row.created_at,
        }
    }
}

/// A webhook just registered: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// The HMAC-SHA256 key of the `Arkiv-Signature` header. Keep it: it
    /// cannot be shown again.
    #[schema(example = "whsec_3q2+7w…")]
    pub secret: String,
    #[serde(flatten)]
    pub webhook: Webhook,
}

/// A webhook to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// An absolute `http` or `https` URL whose host is (and resolves only
    /// to) public internet addresses, unless the server's
    /// `ARKIV_WEBHOOK_ALLOW` names it.
    #[schema(example = "https://partner.example.org/arkiv-hook")]
    pub url: String,
    /// Events to deliver: `publication.published`, `publication.updated`,
    /// `publication.withdrawn` (no longer public: withdrawn or back to
    /// draft), `publication.deleted`. All four when left out.
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// What it is for (up to 500 characters).
    #[serde(default)]
    pub description: String,
}

/// Every webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<Webhook>,
}

/// A page of a webhook's deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryRow>,
    /// How many deliveries the webhook has, over all pages.
    pub total: i64,
    /// Pass as `cursor` for older deliveries (or follow `Link`); null on
    /// the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// The same position as `next_cursor`, for `before` (kept for older
    /// clients).
    #[schema(required = true)]
    pub next_before: Option<i64>,
}

/// Query parameters of the delivery log.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<String>)]
    #[serde(deserialize_with = "delivery_id")]
    cursor: Option<i64>,
    /// Deliveries older than this one (its id); the older spelling of
    /// `cursor`.
    #[param(value_type = Option<i64>)]
    #[serde(deserialize_with = "delivery_id")]
    before: Option<i64>,
    /// 1 to 100 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    #[serde(deserialize_with = "params::limit")]
    limit: Option<i64>,
}

fn delivery_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    params::one(deserializer, |raw| {
        raw.parse::<i64>()
            .map_err(|_| "must be a delivery id".to_owned())
    })
}

/// List webhooks
#[utoipa::path(
    tag = "admin",
    security(("bearer" = ["admin"])),
    responses(
        (status = 200, description = "Every webhook", body = WebhookList),
    )
)]
#[get("/admin/webhooks")]
pub async fn list_webhooks(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    caller.require(Role::Admin)?;
    let rows = state
        .db
        .run(|conn| -> Result<_, ApiError> { Ok(webhooks::list(conn)?) })
        .await?;
    let list = WebhookList {
        items: rows.into_iter().map(Webhook::from).collect(),
    };
    respond::json(&req, &list, &[])
}

/// Register a webhook
///
/// From now on, each change of the chosen kinds is POSTed to `url` as
/// JSON (`event`, `seq`, `occurred_at`, `publication` with `id`, `slug`
/// and `path`), with the headers `Arkiv-Event`, `Arkiv-Delivery` and
/// `Arkiv-Signature: t=<unix seconds>,v1=<hex>`, the HMAC-SHA256 of
/// `<t>.<body>` under the secret this answer shows once. Any 2xx answer
/// counts as received; otherwise the delivery is retried after 30 s,
/// 1, 2, 4 … minutes, eight attempts in all (about an hour). Redirects are
/// not followed.
///
/// The URL's host is resolved now and before every delivery, and every
/// address it stands for must be a public one: loopback, private, shared,
/// link-local, unique-local, multicast, documentation, benchmarking and
/// reserved ranges are refused in every spelling (`2130706433`,
/// `0x7f.1`, `[::ffff:127.0.0.1]`, …), as is `localhost`. The server's
/// `ARKIV_WEBHOOK_ALLOW` setting lets named hosts, addresses and ranges
/// through.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = ["admin"])),
    request_body(content = NewWebhook, description = "Where to send which events",
        extensions(("x-max-body-bytes" = json!(body::SMALL_BODY_LIMIT)))),
    responses(
        (status = 201, description = "The webhook, with its secret shown this once", body = CreatedWebhook, headers(("Location" = String))),
        (status = 400, description = "A bad URL or event", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The URL's host is, or resolves to, an address webhooks may not reach (`webhook_target_forbidden`), or its name does not resolve (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/webhooks")]
pub async fn create_webhook(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    let admin = caller.require(Role::Admin)?.clone();
    let request: NewWebhook = body::json(&req, payload, body::SMALL_BODY_LIMIT).await?;
    let (url, target) = checked_url(&request.url, &state.webhook_allow)?;
    let events = match request.events {
        None => PublicEvent::ALL.map(PublicEvent::as_str).to_vec(),
        Some(events) if events.is_empty() => {
            return Err(ApiError::invalid_field(
                "events",
                "must name at least one event (or be left out for all)",
            ))
        }
        Some(events) => {
            let mut known = Vec::new();
            for event in &events {
                let parsed = PublicEvent::parse(event).ok_or_else(|| {
                    ApiError::invalid_field(
                        "events",
                        format!(
                            "{event:?} is not one of {}",
                            PublicEvent::ALL.map(PublicEvent::as_str).join(", ")
                        ),
                    )
                })?;
                if !known.contains(&parsed.as_str()) {
                    known.push(parsed.as_str());
                }
            }
            known
        }
    };
    if request.description.chars().count() > 500 {
        return Err(ApiError::invalid_field(
            "description",
            "must be at most 500 characters",
        ));
    }
    let allow = state.webhook_allow.clone();
    web::block(move || target::resolve(&target, &allow, target::LOOKUP_TIMEOUT))
        .await
        .map_err(ApiError::internal)?
        .map_err(unreachable_target)?;
    let secret = crate::domain::keys::random_secret("whsec_").map_err(ApiError::internal)?;
    let row = WebhookRow {
        id: new_id(),
        url,
        events: events.join(" "),
        secret: secret.clone(),
        description: request.description,
        enqueued_through: 0,
        created_at: now_timestamp(),
    };
    let stored = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            write::write_transaction(conn, |conn| {
                // It hears of what happens from now on, not of the past.
                let row = WebhookRow {
                    enqueued_through: changes::latest_seq(conn)?,
                    ..row
                };
                webhooks::insert(conn, &row)?;
                audit::record(conn, &admin, "webhook", &row.id, "create", &row.created_at)?;
                Ok(row)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/v1/admin/webhooks/{}", stored.id),
        ))
        .json(CreatedWebhook {
            secret,
            webhook: stored.into(),
        }))
}

/// An absolute http(s) URL with a well-formed host, as given, and where
/// it leads. It is read as the HTTP client reads it, so the host checked
/// is the host contacted. A host written with %-escapes is no URL to the
/// client (400), unless it decodes to an inside address (422).
fn checked_url(raw: &str, allow: &AllowList) -> Result<(String, Target), ApiError> {
    if raw.len() > 2000 {
        return Err(ApiError::invalid_field(
            "url",
            "must be at most 2,000 characters",
        ));
    }
    let target = Target::parse(raw).map_err(|why| match target::escaped_host(raw) {
        Some(host) => escaped_host(&host, allow),
        None => ApiError::invalid_field("url", why),
    })?;
    Ok((raw.to_owned(), target))
}

/// The answer to a host written with %-escapes, which the HTTP client
/// cannot use: 422 when it decodes to an inside address or name (as a
/// decoding reader would), 400 otherwise.
fn escaped_host(host: &Host, allow: &AllowList) -> ApiError {
    let addresses = match host {
        Host::Address(address) => vec![*address],
        Host::Name(_) => Vec::new(),
    };
    match check_addresses(host, &addresses, allow) {
        Err(refused) => unreachable_target(TargetError::Forbidden(refused)),
        Ok(()) => ApiError::invalid_field(
            "url",
            format!("writes its host with %-escapes: write it as {host}"),
        ),
    }
}

/// The answer to a URL whose host may not, or cannot, be reached.
fn unreachable_target(error: TargetError) -> ApiError {
    let code = match error {
        TargetError::Forbidden(_) => ErrorCode::WebhookTargetForbidden,
        TargetError::NotFound(_) | TargetError::LookupTimedOut(_) => ErrorCode::ValidationFailed,
        TargetError::Invalid(why) => return ApiError::invalid_field("url", why),
    };
    let message = match &error {
        TargetError::Forbidden(refused) => format!(
            "{refused}: webhooks may not reach inside addresses (unless ARKIV_WEBHOOK_ALLOW lets this one through)"
        ),
        other => other.to_string(),
    };
    let mut problem = ApiError::new(code, format!("url: {message}"));
    problem.errors.push(FieldError {
        field: "url".into(),
        message,
    });
    problem
}

fn no_webhook(id: &str) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("no webhook has the id {id:?}"))
}

async fn load(state: &AppState, id: String) -> Result<WebhookRow, ApiError> {
    let missing = no_webhook(&id);
    state
        .db
        .run(move |conn| -> Result<_, ApiError> { Ok(webhooks::find(conn, &id)?) })
        .await?
        .ok_or(missing)
}

/// One webhook
#[utoipa::path(
    tag = "admin",
    security(("bearer" = ["admin"])),
    params(("id" = String, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The webhook", body = Webhook),
        (status = 404, description = "No webhook has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/webhooks/{id}")]
pub async fn find_webhook(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    caller.require(Role::Admin)?;
    let row = load(&state, path.into_inner()).await?;
    respond::json(&req, &Webhook::from(row), &[])
}

/// Delete a webhook
///
/// Nothing more is sent to it; its delivery log goes too.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = ["admin"])),
    params(("id" = String, Path, description = "The webhook's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No webhook has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/admin/webhooks/{id}")]
pub async fn delete_webhook(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    let admin = caller.require(Role::Admin)?.clone();
    let id = path.into_inner();
    let missing = no_webhook(&id);
    let deleted = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            write::write_transaction(conn, |conn| {
                let deleted = webhooks::delete(conn, &id)?;
                if deleted {
                    audit::record(conn, &admin, "webhook", &id, "delete", &now_timestamp())?;
                }
                Ok(deleted)
            })
        })
        .await?;
    if !deleted {
        return Err(missing);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// A webhook's deliveries
///
/// The delivery log, newest first: what was sent, how often, what the
/// subscriber answered, and whether it is still pending, delivered or
/// given up as failed.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = ["admin"])),
    params(("id" = String, Path, description = "The webhook's id"), DeliveryParams),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryPage, headers(("Link" = String, description = "rel=\"next\": older deliveries, when there are"))),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No webhook has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // Unknown parameters are refused before the key is checked, the
    // values after.
    let params = Params::of::<DeliveryParams>(&req)?;
    caller.require(Role::Admin)?;
    let query: DeliveryParams = params.read()?;
    if query.before.is_some() && query.cursor.is_some() {
        return Err(ApiError::invalid(
            "cursor",
            "give before or cursor, not both (they name the same position)",
        ));
    }
    let before = query.before.or(query.cursor);
    let limit = query.limit.unwrap_or(50);
    let webhook = load(&state, path.into_inner()).await?;
    let (mut items, total) = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            Ok((
                webhooks::deliveries(conn, &webhook.id, before, limit + 1)?,
                webhooks::count_deliveries(conn, &webhook.id)?,
            ))
        })
        .await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_before = more.then(|| items.last().map(|d| d.id)).flatten();
    let next_cursor = next_before.map(|id| id.to_string());
    let page = DeliveryPage {
        items,
        total,
        next_cursor: next_cursor.clone(),
        next_before,
    };
    let mut response = respond::json(&req, &page, &[])?;
    if let Some(link) = next_cursor
        .as_deref()
        .and_then(|cursor| respond::next_link(&req, cursor, &["before"]))
    {
        response
            .headers_mut()
            .insert(actix_web::http::header::LINK, link);
    }
    Ok(response)
}

/// Send a delivery again
///
/// Puts a delivery back at the start of its schedule: a `failed` one once
/// the subscriber is back, or a delivered one the subscriber lost. It
/// goes out within a second, with eight attempts again.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = ["admin"])),
    params(
        ("id" = String, Path, description = "The webhook's id"),
        ("delivery" = i64, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, description = "The delivery, pending again", body = DeliveryRow),
        (status = 400, description = "A malformed delivery id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The webhook has no such delivery", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/webhooks/{id}/deliveries/{delivery}/resend")]
pub async fn resend_delivery(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(&req, &[])?;
    let admin = caller.require(Role::Admin)?.clone();
    let (webhook, delivery) = path.into_inner();
    let delivery: i64 = delivery
        .parse()
        .map_err(|_| ApiError::invalid("delivery", "must be a delivery id (a number)"))?;
    let missing = ApiError::new(
        ErrorCode::NotFound,
        format!("webhook {webhook:?} has no delivery {delivery}"),
    );
    let resent = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            write::write_transaction(conn, |conn| {
                let now = now_timestamp();
                let resent = webhooks::resend(conn, &webhook, delivery, &now)?;
                if resent.is_some() {
                    audit::record(
                        conn,
                        &admin,
                        "webhook_delivery",
                        &delivery.to_string(),
                        "resend",
                        &now,
                    )?;
                }
                Ok(resent)
            })
        })
        .await?
        .ok_or(missing)?;
    Ok(HttpResponse::Accepted().json(resent))
}
