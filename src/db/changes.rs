//! The change log: one row per write, in the writer's transaction. The
//! search indexer, the change feed and OAI-PMH read it by sequence number.

use diesel::prelude::*;

use super::models::NewChange;
use super::schema::changes;
use super::AnyConnection;

/// What happened to an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Upsert,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Upsert => "upsert",
            Operation::Delete => "delete",
        }
    }
}

/// Makes change-log entries commit in sequence order. On PostgreSQL a
/// `BIGSERIAL` number is taken at insert time, so a transaction that took
/// N could commit after one that took N+1; a reader that had already moved
/// past N+1 would never see N. A transaction-scoped advisory lock taken
/// before each insert makes writers append (and commit) one at a time.
/// SQLite has one writer at a time already.
pub fn serialize(conn: &mut AnyConnection) -> QueryResult<()> {
    if let AnyConnection::Postgres(pg) = conn {
        use diesel::connection::SimpleConnection;
        pg.batch_execute("SELECT pg_advisory_xact_lock(7400201)")?;
    }
    Ok(())
}

/// Appends one entry; call it inside the transaction that made the change.
pub fn record(
    conn: &mut AnyConnection,
    entity: &str,
    entity_id: &str,
    operation: Operation,
    at: &str,
) -> QueryResult<()> {
    record_event(conn, entity, entity_id, operation, None, at)
}

/// [`record`] with the public event the change makes, for webhooks.
pub fn record_event(
    conn: &mut AnyConnection,
    entity: &str,
    entity_id: &str,
    operation: Operation,
    event: Option<&str>,
    at: &str,
) -> QueryResult<()> {
    serialize(conn)?;
    diesel::insert_into(changes::table)
        .values(NewChange {
            entity,
            entity_id,
            operation: operation.as_str(),
            changed_at: at,
            event,
        })
        .execute(conn)?;
    Ok(())
}

/// Returns the newest sequence number, 0 for an empty log.
pub fn latest_seq(conn: &mut AnyConnection) -> QueryResult<i64> {
    changes::table
        .select(diesel::dsl::max(changes::seq))
        .first::<Option<i64>>(conn)
        .map(|seq| seq.unwrap_or(0))
}

/// Returns true when a change after `seq` touched anything but a
/// publication: what the in-memory catalog of vocabulary depends on.
pub fn vocabulary_changed_since(conn: &mut AnyConnection, seq: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        changes::table
            .filter(changes::seq.gt(seq))
            .filter(changes::entity.ne("publication")),
    ))
    .get_result(conn)
}

/// The publications changed after `seq`, or None when more than `limit`
/// changes of any kind came after it (a reader that far behind should
/// trust nothing it holds).
pub fn publications_changed_after(
    conn: &mut AnyConnection,
    seq: i64,
    limit: i64,
) -> QueryResult<Option<std::collections::HashSet<String>>> {
    let changed: Vec<(String, String)> = changes::table
        .filter(changes::seq.gt(seq))
        .order(changes::seq.asc())
        .limit(limit + 1)
        .select((changes::entity, changes::entity_id))
        .load(conn)?;
    if changed.len() as i64 > limit {
        return Ok(None);
    }
    Ok(Some(
        changed
            .into_iter()
            .filter(|(entity, _)| entity == "publication")
            .map(|(_, id)| id)
            .collect(),
    ))
}

/// The entries after `since`, oldest first, at most `limit`.
/// How many changes come after `since`.
pub fn count_after(conn: &mut AnyConnection, since: i64) -> QueryResult<i64> {
    changes::table
        .filter(changes::seq.gt(since))
        .count()
        .get_result(conn)
}

pub fn after(
    conn: &mut AnyConnection,
    since: i64,
    limit: i64,
) -> QueryResult<Vec<super::models::ChangeRow>> {
    changes::table
        .filter(changes::seq.gt(since))
        .order(changes::seq.asc())
        .limit(limit)
        .select(super::models::ChangeRow::as_select())
        .load(conn)
}
