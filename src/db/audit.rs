//! The audit log: who (which key) changed what through the API, and when.

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::audit_log;
use super::AnyConnection;
use crate::domain::keys::KeyHolder;

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_log)]
struct NewEntry<'a> {
    at: &'a str,
    key_id: &'a str,
    key_name: &'a str,
    role: &'a str,
    entity: &'a str,
    entity_id: &'a str,
    operation: &'a str,
}

/// One write, as `GET /v1/admin/audit` lists it.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    /// Order of the writes; page with `after`.
    pub seq: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The key that wrote, by id and by its name at the time.
    pub key_id: String,
    #[schema(example = "website editors")]
    pub key_name: String,
    #[schema(example = "editor")]
    pub role: String,
    /// What was written: `publication`, `api_key`, `search_index`.
    #[schema(example = "publication")]
    pub entity: String,
    pub entity_id: String,
    /// `create`, `replace`, `patch`, `publish`, `withdraw`, `delete`,
    /// `revoke`, `rebuild`.
    #[schema(example = "publish")]
    pub operation: String,
}

/// Records a write; call it inside the write's transaction.
pub fn record(
    conn: &mut AnyConnection,
    holder: &KeyHolder,
    entity: &str,
    entity_id: &str,
    operation: &str,
    at: &str,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values(NewEntry {
            at,
            key_id: &holder.id,
            key_name: &holder.name,
            role: holder.role.as_str(),
            entity,
            entity_id,
            operation,
        })
        .execute(conn)
        .map(drop)
}

/// Entries after `after` (oldest first), at most `limit`; filtered by
/// entity id when given.
pub fn page(
    conn: &mut AnyConnection,
    after: i64,
    limit: i64,
    entity_id: Option<&str>,
) -> QueryResult<Vec<AuditEntry>> {
    let mut query = audit_log::table
        .filter(audit_log::seq.gt(after))
        .into_boxed::<super::Backend>();
    if let Some(id) = entity_id {
        query = query.filter(audit_log::entity_id.eq(id.to_owned()));
    }
    query
        .order(audit_log::seq.asc())
        .limit(limit)
        .select(AuditEntry::as_select())
        .load(conn)
}

/// How many entries there are (for one entity id, when given).
pub fn count(conn: &mut AnyConnection, entity_id: Option<&str>) -> QueryResult<i64> {
    let mut query = audit_log::table.into_boxed::<super::Backend>();
    if let Some(id) = entity_id {
        query = query.filter(audit_log::entity_id.eq(id.to_owned()));
    }
    query.count().get_result(conn)
}
