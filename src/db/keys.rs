//! API keys as stored: a hash of each key, its name, role and state.

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::api_keys;
use super::AnyConnection;
use crate::domain::keys::{generate, Role};
use crate::domain::{new_id, now_timestamp};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub prefix: String,
    pub hash: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A key as listings show it: never the key itself, nor its hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyView {
    #[schema(example = "0193a1e2-7c4d-7a10-9b2e-4f5a6b7c8d9e")]
    pub id: String,
    /// Who or what holds it.
    #[schema(example = "website editors")]
    pub name: String,
    pub role: Role,
    /// The key's first characters, to tell keys apart.
    #[schema(example = "arkiv_Xq3v9Z")]
    pub prefix: String,
    pub created_at: String,
    /// When it was revoked; null while it works.
    pub revoked_at: Option<String>,
}

impl From<KeyRow> for KeyView {
    fn from(row: KeyRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            role: row.role,
            prefix: row.prefix,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        }
    }
}

/// A key just made: the only time the key itself is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    /// The key: send it as `Authorization: Bearer <key>`. It cannot be shown again.
    #[schema(example = "arkiv_Xq3v9ZsQ0c1kq2bV7u4yT8pN5mW6rE3aD0fG9hJ2kL1")]
    pub key: String,
    #[serde(flatten)]
    pub view: KeyView,
}

/// Makes and stores a key; shared by the API and `arkiv keys create`.
pub fn create(conn: &mut AnyConnection, name: String, role: Role) -> anyhow::Result<CreatedKey> {
    let new = generate()?;
    let row = KeyRow {
        id: new_id(),
        name,
        role,
        prefix: new.prefix,
        hash: new.hash,
        created_at: now_timestamp(),
        revoked_at: None,
    };
    insert(conn, &row)?;
    Ok(CreatedKey {
        key: new.secret,
        view: row.into(),
    })
}

pub fn insert(conn: &mut AnyConnection, row: &KeyRow) -> QueryResult<()> {
    diesel::insert_into(api_keys::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Every key, oldest first.
pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<KeyRow>> {
    api_keys::table
        .order((api_keys::created_at.asc(), api_keys::id.asc()))
        .select(KeyRow::as_select())
        .load(conn)
}

/// The key with this id, or with this prefix when exactly one has it.
pub fn find(conn: &mut AnyConnection, id_or_prefix: &str) -> QueryResult<Option<KeyRow>> {
    if let Some(row) = api_keys::table
        .filter(api_keys::id.eq(id_or_prefix))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()?
    {
        return Ok(Some(row));
    }
    let mut rows: Vec<KeyRow> = api_keys::table
        .filter(api_keys::prefix.eq(id_or_prefix))
        .select(KeyRow::as_select())
        .limit(2)
        .load(conn)?;
    Ok((rows.len() == 1).then(|| rows.remove(0)))
}

/// The unrevoked key with this hash.
pub fn find_active(conn: &mut AnyConnection, hash: &str) -> QueryResult<Option<KeyRow>> {
    api_keys::table
        .filter(api_keys::hash.eq(hash))
        .filter(api_keys::revoked_at.is_null())
        .select(KeyRow::as_select())
        .first(conn)
        .optional()
}

/// Revokes a key (once; revoking again keeps the first time). Returns the
/// key as it now is.
pub fn revoke(conn: &mut AnyConnection, id: &str, now: &str) -> QueryResult<Option<KeyRow>> {
    diesel::update(api_keys::table)
        .filter(api_keys::id.eq(id))
        .filter(api_keys::revoked_at.is_null())
        .set(api_keys::revoked_at.eq(now))
        .execute(conn)?;
    api_keys::table
        .filter(api_keys::id.eq(id))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()
}
