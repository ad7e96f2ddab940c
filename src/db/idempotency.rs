//! Idempotency keys (D90): the first answer to a keyed POST, kept for 24
//! hours per API key.

use diesel::prelude::*;

use super::schema::idempotency_keys as keys;
use super::write::write_transaction;
use super::AnyConnection;

/// How long an answer is kept, in seconds.
pub const KEPT_S: i64 = 24 * 60 * 60;

/// How long a request may run before its key is taken as abandoned (the
/// server stopped under it) and another request may take it over.
pub const ABANDONED_S: i64 = 5 * 60;

/// A kept answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// `[name, value]` pairs, as JSON.
    pub headers: String,
    pub body: Vec<u8>,
}

/// A stored key: request hash, status, headers, body, when claimed.
type KeyRow = (String, Option<i32>, Option<String>, Option<Vec<u8>>, i64);

/// What a request with a key finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or its last use expired or was abandoned): this
    /// request runs, and its answer is kept.
    Claimed,
    /// The same request was answered before: here is that answer.
    Answered(Answer),
    /// The same request is running now.
    Running,
    /// The key was used for a different request.
    Reused,
}

/// Claims `key` of `holder` for a request whose hash is `request_hash`, at
/// `now_s` (Unix seconds).
pub fn claim(
    conn: &mut AnyConnection,
    holder: &str,
    key: &str,
    request_hash: &str,
    now_s: i64,
) -> QueryResult<Claim> {
    write_transaction(conn, |conn| {
        diesel::delete(keys::table.filter(keys::created_s.lt(now_s - KEPT_S))).execute(conn)?;
        let found: Option<KeyRow> = keys::table
            .filter(keys::holder.eq(holder))
            .filter(keys::idempotency_key.eq(key))
            .select((
                keys::request_hash,
                keys::status,
                keys::headers,
                keys::body,
                keys::created_s,
            ))
            .first(conn)
            .optional()?;
        match found {
            None => {
                diesel::insert_into(keys::table)
                    .values((
                        keys::holder.eq(holder),
                        keys::idempotency_key.eq(key),
                        keys::request_hash.eq(request_hash),
                        keys::created_s.eq(now_s),
                    ))
                    .execute(conn)?;
                Ok(Claim::Claimed)
            }
            Some((hash, _, _, _, _)) if hash != request_hash => Ok(Claim::Reused),
            Some((_, Some(status), headers, body, _)) => Ok(Claim::Answered(Answer {
                status: u16::try_from(status).unwrap_or(500),
                headers: headers.unwrap_or_default(),
                body: body.unwrap_or_default(),
            })),
            Some((_, None, _, _, created_s)) if now_s - created_s >= ABANDONED_S => {
                diesel::update(
                    keys::table
                        .filter(keys::holder.eq(holder))
                        .filter(keys::idempotency_key.eq(key)),
                )
                .set(keys::created_s.eq(now_s))
                .execute(conn)?;
                Ok(Claim::Claimed)
            }
            Some(_) => Ok(Claim::Running),
        }
    })
}

/// Keeps the answer of a claimed key.
pub fn answer(
    conn: &mut AnyConnection,
    holder: &str,
    key: &str,
    answer: &Answer,
) -> QueryResult<()> {
    diesel::update(
        keys::table
            .filter(keys::holder.eq(holder))
            .filter(keys::idempotency_key.eq(key)),
    )
    .set((
        keys::status.eq(Some(i32::from(answer.status))),
        keys::headers.eq(Some(&answer.headers)),
        keys::body.eq(Some(&answer.body)),
    ))
    .execute(conn)?;
    Ok(())
}

/// Lets a claimed key go unanswered: the request failed in a way a retry
/// may mend (the database was unavailable or read-only).
pub fn release(conn: &mut AnyConnection, holder: &str, key: &str) -> QueryResult<()> {
    diesel::delete(
        keys::table
            .filter(keys::holder.eq(holder))
            .filter(keys::idempotency_key.eq(key))
            .filter(keys::status.is_null()),
    )
    .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_claimed_once_answered_reused_abandoned_and_expires() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = dir.path().join("arkiv.db").to_string_lossy().into_owned();
        let db = crate::db::Db::connect(&url, 1).expect("open SQLite");
        db.migrate().expect("migrations");
        let mut conn = db.conn().expect("connection");
        let conn = &mut **conn;
        let t = 1_800_000_000;

        assert_eq!(claim(conn, "k1", "a", "h1", t), Ok(Claim::Claimed));
        // While it runs: in use, whatever the request.
        assert_eq!(claim(conn, "k1", "a", "h1", t + 1), Ok(Claim::Running));
        assert_eq!(claim(conn, "k1", "a", "h2", t + 1), Ok(Claim::Reused));
        // Another API key's "a" is its own.
        assert_eq!(claim(conn, "k2", "a", "h2", t + 1), Ok(Claim::Claimed));

        let kept = Answer {
            status: 201,
            headers: r#"[["location","/v1/publications/x"]]"#.to_owned(),
            body: b"{}".to_vec(),
        };
        answer(conn, "k1", "a", &kept).expect("answer");
        assert_eq!(
            claim(conn, "k1", "a", "h1", t + 2),
            Ok(Claim::Answered(kept))
        );
        assert_eq!(claim(conn, "k1", "a", "h2", t + 2), Ok(Claim::Reused));

        // A claim let go (a 5xx) can be made again at once.
        assert_eq!(claim(conn, "k1", "b", "h1", t), Ok(Claim::Claimed));
        release(conn, "k1", "b").expect("release");
        assert_eq!(claim(conn, "k1", "b", "h1", t + 1), Ok(Claim::Claimed));

        // A claim never answered is taken over after the abandonment time.
        assert_eq!(
            claim(conn, "k2", "a", "h2", t + ABANDONED_S),
            Ok(Claim::Running)
        );
        assert_eq!(
            claim(conn, "k2", "a", "h2", t + 1 + ABANDONED_S),
            Ok(Claim::Claimed)
        );
        // An answer is forgotten after a day: the key is new again.
        assert_eq!(
            claim(conn, "k1", "a", "h2", t + KEPT_S + 1),
            Ok(Claim::Claimed)
        );
    }
}
