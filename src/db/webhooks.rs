//! Webhooks as stored: subscriptions, and the delivery log the dispatcher
//! works through (see [`crate::webhooks`]).

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::{changes, publications, webhook_deliveries, webhooks};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    /// Event names between spaces.
    pub events: String,
    pub secret: String,
    pub description: String,
    /// The change-log sequence number deliveries have been made up to.
    pub enqueued_through: i64,
    pub created_at: String,
}

impl WebhookRow {
    pub fn wants(&self, event: &str) -> bool {
        self.events.split_whitespace().any(|wanted| wanted == event)
    }
}

/// A delivery: one event for one webhook, and how sending it went.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    /// Also sent as `Arkiv-Delivery`.
    pub id: i64,
    pub webhook_id: String,
    /// The change-log sequence number of the change.
    pub seq: i64,
    #[schema(example = "publication.published")]
    pub event: String,
    pub publication_id: String,
    /// The body sent (JSON).
    pub payload: String,
    /// `pending` (to be sent, or retried at `next_attempt_at`),
    /// `delivered`, or `failed` (gave up after every retry).
    #[schema(example = "delivered")]
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: String,
    /// The subscriber's HTTP status at the last attempt; null when it
    /// gave no answer (see `error_class`).
    pub last_status: Option<i32>,
    /// Why the last attempt got no answer: `refused`, `timeout`, `tls`,
    /// `forbidden_target` (the host is, or now resolves to, an address
    /// webhooks may not reach; it was not contacted), `dns` or `other`.
    /// Null when it got one.
    #[schema(value_type = Option<ErrorClass>)]
    pub error_class: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct NewDelivery {
    pub webhook_id: String,
    pub seq: i64,
    pub event: String,
    pub publication_id: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: String,
    pub created_at: String,
}

pub fn insert(conn: &mut AnyConnection, row: &WebhookRow) -> QueryResult<()> {
    diesel::insert_into(webhooks::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<WebhookRow>> {
    webhooks::table
        .order(webhooks::created_at.asc())
        .select(WebhookRow::as_select())
        .load(conn)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<WebhookRow>> {
    webhooks::table
        .filter(webhooks::id.eq(id))
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()
}

/// Deletes a webhook and its delivery log; false when there was none.
pub fn delete(conn: &mut AnyConnection, id: &str) -> QueryResult<bool> {
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id)))
        .execute(conn)?;
    Ok(diesel::delete(webhooks::table.filter(webhooks::id.eq(id))).execute(conn)? == 1)
}

/// A change that is news to subscribers.
#[derive(Debug, Clone)]
pub struct PublicChange {
    pub seq: i64,
    pub publication_id: String,
    pub event: String,
    pub changed_at: String,
    /// The slug now, when the publication is public now (a draft's new
    /// slug is nobody's business); None otherwise.
    pub slug: Option<String>,
}

/// Changes with a public event after `seq`, oldest first, and the
/// sequence number the read covers (the last change looked at, evented or
/// not), so a webhook's position moves past quiet stretches too.
pub fn public_changes_after(
    conn: &mut AnyConnection,
    seq: i64,
    limit: i64,
) -> QueryResult<(Vec<PublicChange>, i64)> {
    let rows: Vec<(i64, String, Option<String>, String)> = changes::table
        .filter(changes::seq.gt(seq))
        .order(changes::seq.asc())
        .limit(limit)
        .select((
            changes::seq,
            changes::entity_id,
            changes::event,
            changes::changed_at,
        ))
        .load(conn)?;
    let through = rows.last().map_or(seq, |row| row.0);
    let mut found = Vec::new();
    for (seq, id, event, changed_at) in rows {
        let Some(event) = event else { continue };
        let slug = publications::table
            .filter(publications::id.eq(&id))
            .filter(publications::status.eq(crate::domain::PublicationStatus::Published))
            .select(publications::slug)
            .first::<String>(conn)
            .optional()?;
        found.push(PublicChange {
            seq,
            publication_id: id,
            event,
            changed_at,
            slug,
        });
    }
    Ok((found, through))
}

/// Inserts a webhook's new deliveries and moves its position from `from`
/// to `through`, in the caller's transaction. False (and nothing written)
/// when another dispatcher moved it first.
pub fn enqueue(
    conn: &mut AnyConnection,
    webhook_id: &str,
    from: i64,
    through: i64,
    deliveries: &[NewDelivery],
) -> QueryResult<bool> {
    let moved = diesel::update(
        webhooks::table
            .filter(webhooks::id.eq(webhook_id))
            .filter(webhooks::enqueued_through.eq(from)),
    )
    .set(webhooks::enqueued_through.eq(through))
    .execute(conn)?;
    if moved == 0 {
        return Ok(false);
    }
    for delivery in deliveries {
        diesel::insert_into(webhook_deliveries::table)
            .values(delivery)
            .execute(conn)?;
    }
    Ok(true)
}

/// A delivery due now, with where and how to send it.
pub struct Due {
    pub delivery: DeliveryRow,
    pub url: String,
    pub secret: String,
}

/// Pending deliveries whose time has come, oldest first.
pub fn due(conn: &mut AnyConnection, now: &str, limit: i64) -> QueryResult<Vec<Due>> {
    let rows: Vec<(DeliveryRow, String, String)> = webhook_deliveries::table
        .inner_join(webhooks::table)
        .filter(webhook_deliveries::status.eq("pending"))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .order(webhook_deliveries::id.asc())
        .limit(limit)
        .select((DeliveryRow::as_select(), webhooks::url, webhooks::secret))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(delivery, url, secret)| Due {
            delivery,
            url,
            secret,
        })
        .collect())
}

/// Takes a due delivery for one attempt: moves its time to `lease_until`,
/// if no one else took it since it was read. Should the server die while
/// sending, the delivery is tried again after the lease: deliveries come
/// at least once, and `Arkiv-Delivery` lets a subscriber drop a repeat.
pub fn claim(
    conn: &mut AnyConnection,
    id: i64,
    due_at: &str,
    lease_until: &str,
) -> QueryResult<bool> {
    let taken = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::status.eq("pending"))
            .filter(webhook_deliveries::next_attempt_at.eq(due_at)),
    )
    .set(webhook_deliveries::next_attempt_at.eq(lease_until))
    .execute(conn)?;
    Ok(taken == 1)
}

/// How one attempt went.
pub struct Attempt<'a> {
    pub status: &'a str,
    pub attempts: i32,
    pub next_attempt_at: &'a str,
    pub last_status: Option<i32>,
    pub error_class: Option<&'a str>,
    pub delivered_at: Option<&'a str>,
}

pub fn record_attempt(conn: &mut AnyConnection, id: i64, attempt: &Attempt<'_>) -> QueryResult<()> {
    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq(id)))
        .set((
            webhook_deliveries::status.eq(attempt.status),
            webhook_deliveries::attempts.eq(attempt.attempts),
            webhook_deliveries::next_attempt_at.eq(attempt.next_attempt_at),
            webhook_deliveries::last_status.eq(attempt.last_status),
            webhook_deliveries::error_class.eq(attempt.error_class),
            webhook_deliveries::delivered_at.eq(attempt.delivered_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sends a delivery again from the start of its schedule (a `failed` one
/// once the subscriber is back, or a delivered one a subscriber lost);
/// None when the webhook has no such delivery.
pub fn resend(
    conn: &mut AnyConnection,
    webhook_id: &str,
    id: i64,
    now: &str,
) -> QueryResult<Option<DeliveryRow>> {
    let changed = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::webhook_id.eq(webhook_id)),
    )
    .set((
        webhook_deliveries::status.eq("pending"),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::next_attempt_at.eq(now),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Ok(None);
    }
    webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(id))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()
}

/// How many deliveries a webhook has.
pub fn count_deliveries(conn: &mut AnyConnection, webhook_id: &str) -> QueryResult<i64> {
    webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .count()
        .get_result(conn)
}

/// A webhook's deliveries, newest first, before the delivery `before`.
pub fn deliveries(
    conn: &mut AnyConnection,
    webhook_id: &str,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .into_boxed::<super::Backend>();
    if let Some(before) = before {
        query = query.filter(webhook_deliveries::id.lt(before));
    }
    query
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)
}

/// Deliveries still to be sent, over every webhook.
pub fn backlog(conn: &mut AnyConnection) -> QueryResult<i64> {
    webhook_deliveries::table
        .filter(webhook_deliveries::status.eq("pending"))
        .count()
        .get_result(conn)
}

/// Why an attempt got no HTTP answer, as the delivery log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DeliveryErrorClass)]
pub enum ErrorClass {
    /// No connection could be made: refused, or no route to the host.
    Refused,
    /// The connection or the answer took too long.
    Timeout,
    /// The TLS handshake failed (a bad certificate, or no TLS).
    Tls,
    /// The host is, or now resolves to, an address webhooks may not
    /// reach: it was not contacted.
    ForbiddenTarget,
    /// The host name does not resolve (now).
    Dns,
    /// The connection broke, or the answer was not HTTP.
    Other,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Refused => "refused",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Tls => "tls",
            ErrorClass::ForbiddenTarget => "forbidden_target",
            ErrorClass::Dns => "dns",
            ErrorClass::Other => "other",
        }
    }
}
