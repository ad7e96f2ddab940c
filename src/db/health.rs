//! Living with a database that goes away: the pool's connections, what a
//! failed query says about its connection, and the breaker that answers
//! "unavailable" at once while the database cannot be reached.
//!
//! - A connection whose query failed at the connection level (closed,
//!   terminated, unable to send) is dropped when it goes back to the pool,
//!   and every other pooled connection is pinged once before its next use:
//!   a `pg_terminate_backend` or a restart leaves no dead connection to be
//!   handed out later. Reads ([`super::Db::read`]) are tried once more on a
//!   fresh connection.
//! - A write refused because the database is read-only drops the
//!   connections opened before it (their sessions may keep the setting), at
//!   most once a second, so writes succeed again soon after the database
//!   is writable, without a restart.
//! - When a connection cannot be opened, the breaker opens: requests are
//!   answered `503 database_unavailable` without waiting for the pool, and
//!   one thread tries to connect every [`PROBE_INTERVAL`] until it can.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::r2d2::ManageConnection;
use diesel::result::{ConnectionError, DatabaseErrorKind, Error as QueryError};
use diesel::{Connection, PgConnection, SqliteConnection};

use super::{AnyConnection, BackendKind};

/// How often the breaker tries the database while it is away.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(250);

/// The shortest time between two recyclings of the pool after a write was
/// refused as read-only.
const RECYCLE_SPACING: Duration = Duration::from_secs(1);

/// What a failed query says about the database, beyond the query itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The connection is gone: closed, terminated, or unable to send.
    Unavailable,
    /// The database refuses writes (a hot standby, a maintenance switch).
    ReadOnly,
}

impl Fault {
    /// The fault a diesel error reports, if it is one.
    pub fn of(error: &QueryError) -> Option<Self> {
        match error {
            QueryError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            )
            | QueryError::BrokenTransactionManager => Some(Self::Unavailable),
            QueryError::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, _) => {
                Some(Self::ReadOnly)
            }
            // SQLite names a read-only file (or `PRAGMA query_only`) in
            // its message only.
            QueryError::DatabaseError(_, info)
                if info.message().contains("readonly database")
                    || info.message().contains("read-only") =>
            {
                Some(Self::ReadOnly)
            }
            QueryError::DatabaseError(_, info) if is_disconnect(info.message()) => {
                Some(Self::Unavailable)
            }
            _ => None,
        }
    }
}

/// PostgreSQL's words for a session it ended or lost.
fn is_disconnect(message: &str) -> bool {
    message.contains("terminating connection")
        || message.contains("server closed the connection")
        || message.contains("connection to server")
        || message.contains("no connection to the server")
}

/// Errors that may carry a [`Fault`]: what [`super::Db::run`] looks at to
/// decide whether the connection it lent is still good.
pub trait MayFault {
    fn fault(&self) -> Option<Fault>;
}

impl MayFault for QueryError {
    fn fault(&self) -> Option<Fault> {
        Fault::of(self)
    }
}

impl MayFault for anyhow::Error {
    fn fault(&self) -> Option<Fault> {
        self.downcast_ref::<QueryError>().and_then(Fault::of)
    }
}

/// No connection could be had: the database is away, or every pooled
/// connection stayed busy for the whole wait.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the database is unavailable: {cause}")]
pub struct Unavailable {
    /// Why, in a few words ("connection refused", "every connection busy").
    pub cause: String,
}

/// The short name of why a connection could not be opened, for the logs.
pub fn cause_of(message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    let cause = if lower.contains("connection refused") {
        "connection refused"
    } else if lower.contains("timeout") || lower.contains("timed out") {
        "connection timed out"
    } else if lower.contains("shutting down") {
        "the database is shutting down"
    } else if lower.contains("starting up") || lower.contains("recovery mode") {
        "the database is starting up"
    } else if lower.contains("too many clients") || lower.contains("remaining connection slots") {
        "the database has no connection slots left"
    } else if lower.contains("password") || lower.contains("authentication") {
        "authentication failed"
    } else if lower.contains("does not exist") {
        "the database does not exist"
    } else {
        return message.trim().chars().take(200).collect();
    };
    cause.to_owned()
}

/// The database's state as the server sees it, shared by the pool's
/// manager, its error handler and [`super::Db`].
#[derive(Debug)]
pub struct Health {
    url: String,
    backend: BackendKind,
    started: Instant,
    /// Set while no connection can be opened.
    down: AtomicBool,
    /// Why it is down.
    cause: Mutex<String>,
    /// Whether the probing thread runs.
    probing: AtomicBool,
    /// Bumped by every connection-level fault: a connection last checked
    /// under an older epoch is pinged before its next use.
    epoch: AtomicU64,
    /// Milliseconds since `started`: connections opened before this are
    /// replaced at their next use (after a read-only refusal).
    recycle_before: AtomicU64,
}

impl Health {
    pub fn new(url: &str, backend: BackendKind) -> Self {
        Self {
            url: url.to_owned(),
            backend,
            started: Instant::now(),
            down: AtomicBool::new(false),
            cause: Mutex::new(String::new()),
            probing: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
            recycle_before: AtomicU64::new(0),
        }
    }

    /// Err while the breaker is open: no connection should be waited for.
    pub fn admit(&self) -> Result<(), Unavailable> {
        if self.down.load(Ordering::Acquire) {
            Err(Unavailable {
                cause: self.cause(),
            })
        } else {
            Ok(())
        }
    }

    pub fn cause(&self) -> String {
        self.cause
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Opens one connection of the right backend. (diesel's multi-backend
    /// `establish` tries each in turn and reports only "invalid connection
    /// url" when PostgreSQL refuses.)
    pub fn establish(&self) -> Result<AnyConnection, ConnectionError> {
        match self.backend {
            BackendKind::Postgres => {
                PgConnection::establish(&self.url).map(AnyConnection::Postgres)
            }
            BackendKind::Sqlite => {
                SqliteConnection::establish(&self.url).map(AnyConnection::Sqlite)
            }
        }
    }

    /// A connection could not be opened: open the breaker and start
    /// probing.
    fn went_away(self: &Arc<Self>, cause: String) {
        *self
            .cause
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = cause.clone();
        if !self.down.swap(true, Ordering::AcqRel) {
            tracing::error!(%cause, "the database cannot be reached; answering 503 until it can");
        }
        if !self.probing.swap(true, Ordering::AcqRel) {
            let health = Arc::clone(self);
            let spawned = std::thread::Builder::new()
                .name("arkiv-db-probe".into())
                .spawn(move || health.probe());
            if spawned.is_err() {
                self.probing.store(false, Ordering::Release);
            }
        }
    }

    /// Tries to connect until it can, then closes the breaker. Connections
    /// pooled before the outage are pinged before their next use.
    fn probe(&self) {
        loop {
            std::thread::sleep(PROBE_INTERVAL);
            match self.establish() {
                Ok(_) => {
                    self.epoch.fetch_add(1, Ordering::AcqRel);
                    self.down.store(false, Ordering::Release);
                    self.probing.store(false, Ordering::Release);
                    tracing::info!("the database answers again");
                    return;
                }
                Err(error) => {
                    let cause = cause_of(&error.to_string());
                    *self
                        .cause
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = cause;
                }
            }
        }
    }

    /// A query on `conn` failed with `fault`.
    pub fn saw(&self, fault: Fault, conn: &mut Pooled) {
        conn.broken = true;
        match fault {
            Fault::Unavailable => {
                self.epoch.fetch_add(1, Ordering::AcqRel);
                tracing::warn!("a database connection broke; checking the others before use");
            }
            Fault::ReadOnly => {
                let now = self.millis();
                let last = self.recycle_before.load(Ordering::Acquire);
                if now.saturating_sub(last) >= RECYCLE_SPACING.as_millis() as u64
                    && self
                        .recycle_before
                        .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                {
                    tracing::warn!(
                        "the database refused a write as read-only; replacing pooled connections"
                    );
                }
            }
        }
    }
}

/// A pooled connection, with what the pool needs to know about it.
pub struct Pooled {
    conn: AnyConnection,
    /// The [`Health`] epoch it was last known good in.
    checked: u64,
    /// When it was opened (milliseconds since the pool's start).
    opened: u64,
    /// A query on it failed at the connection level.
    broken: bool,
}

impl Deref for Pooled {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

/// The pool's manager: opens connections of the configured backend and
/// checks a connection only when a fault since its last check makes it
/// suspect (no round trip per request otherwise).
#[derive(Debug)]
pub struct Manager {
    pub health: Arc<Health>,
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        let epoch = self.health.epoch.load(Ordering::Acquire);
        let conn = self
            .health
            .establish()
            .map_err(diesel::r2d2::Error::ConnectionError)?;
        Ok(Pooled {
            conn,
            checked: epoch,
            opened: self.health.millis(),
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), Self::Error> {
        if conn.opened < self.health.recycle_before.load(Ordering::Acquire) {
            return Err(diesel::r2d2::Error::QueryError(
                QueryError::BrokenTransactionManager,
            ));
        }
        let epoch = self.health.epoch.load(Ordering::Acquire);
        if conn.checked != epoch {
            diesel::r2d2::R2D2Connection::ping(&mut conn.conn)
                .map_err(diesel::r2d2::Error::QueryError)?;
            conn.checked = epoch;
        }
        Ok(())
    }

    fn has_broken(&self, conn: &mut Pooled) -> bool {
        conn.broken
            || std::thread::panicking()
            || diesel::r2d2::R2D2Connection::is_broken(&mut conn.conn)
    }
}

/// The pool's error handler: a connection that could not be opened opens
/// the breaker; a failed check only drops that connection.
#[derive(Debug)]
pub struct OnError {
    pub health: Arc<Health>,
}

impl diesel::r2d2::HandleError<diesel::r2d2::Error> for OnError {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        match error {
            diesel::r2d2::Error::ConnectionError(error) => {
                self.health.went_away(cause_of(&error.to_string()));
            }
            diesel::r2d2::Error::QueryError(error) => {
                tracing::debug!(%error, "a pooled connection failed its check and was dropped");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_named_in_a_few_words() {
        assert_eq!(
            cause_of("connection to server at \"127.0.0.1\", port 5 failed: Connection refused\n\tIs the server running"),
            "connection refused"
        );
        assert_eq!(
            cause_of("FATAL:  the database system is shutting down"),
            "the database is shutting down"
        );
        assert_eq!(
            cause_of("FATAL: sorry, too many clients already"),
            "the database has no connection slots left"
        );
        assert_eq!(cause_of("  something else \n"), "something else");
    }

    #[test]
    fn connection_level_errors_are_faults_and_others_are_not() {
        struct Info(&'static str);
        impl diesel::result::DatabaseErrorInformation for Info {
            fn message(&self) -> &str {
                self.0
            }
            fn details(&self) -> Option<&str> {
                None
            }
            fn hint(&self) -> Option<&str> {
                None
            }
            fn table_name(&self) -> Option<&str> {
                None
            }
            fn column_name(&self) -> Option<&str> {
                None
            }
            fn constraint_name(&self) -> Option<&str> {
                None
            }
            fn statement_position(&self) -> Option<i32> {
                None
            }
        }
        let error = |kind, message| QueryError::DatabaseError(kind, Box::new(Info(message)));
        assert_eq!(
            Fault::of(&error(DatabaseErrorKind::ClosedConnection, "x")),
            Some(Fault::Unavailable)
        );
        assert_eq!(
            Fault::of(&error(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command"
            )),
            Some(Fault::Unavailable)
        );
        assert_eq!(
            Fault::of(&error(
                DatabaseErrorKind::ReadOnlyTransaction,
                "cannot execute INSERT in a read-only transaction"
            )),
            Some(Fault::ReadOnly)
        );
        assert_eq!(
            Fault::of(&error(
                DatabaseErrorKind::Unknown,
                "attempt to write a readonly database"
            )),
            Some(Fault::ReadOnly)
        );
        assert_eq!(
            Fault::of(&error(DatabaseErrorKind::UniqueViolation, "duplicate key")),
            None
        );
        assert_eq!(Fault::of(&QueryError::NotFound), None);
    }
}
