//! The database: one diesel connection type over SQLite and PostgreSQL, an
//! r2d2 pool, the embedded migrations, and [`Db::run`], the one way handlers
//! reach the database without blocking the actix reactor.

/// Inserts many rows in one statement. diesel's multi-backend connection
/// has no multi-row INSERT, so this dispatches to the connection inside:
/// the statement is the same on both backends.
macro_rules! insert_many {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            AnyConnection::Postgres(conn) => {
                diesel::insert_into($table).values($rows).execute(conn)?
            }
            AnyConnection::Sqlite(conn) => {
                diesel::insert_into($table).values($rows).execute(conn)?
            }
        }
    };
}

pub mod audit;
pub mod changes;
pub mod documents;
pub mod harvest;
pub mod health;
pub mod idempotency;
pub mod images;
pub mod keys;
pub mod models;
pub mod publications;
pub mod records;
pub mod schema;
pub mod stats;
pub mod totals;
pub mod types;
pub mod vocabulary;
pub mod webhooks;
pub mod write;

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{CustomizeConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// A connection to either backend. PostgreSQL comes first: SQLite accepts
/// any string as a file name, so it must be tried last.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// The backend type the derive generates; queries are written against it.
pub type Backend = <AnyConnection as diesel::Connection>::Backend;

pub use health::{Fault, MayFault, Unavailable};
pub type Conn = PooledConnection<health::Manager>;

/// How long a request waits for a pooled connection by default before it
/// is answered `503 database_unavailable`.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(1);

/// The slices that wait is taken in (see [`Db::conn`]).
const WAIT_SLICE: Duration = Duration::from_millis(100);

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Which backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    pub fn of_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres
        } else {
            Self::Sqlite
        }
    }
}

/// Sets SQLite up the way arkiv relies on for every pooled connection: WAL
/// (readers never wait for the writer), a busy timeout (writers from other
/// processes, such as `arkiv import`, queue instead of failing), foreign keys.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<health::Pooled, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut health::Pooled) -> Result<(), diesel::r2d2::Error> {
        if let AnyConnection::Sqlite(conn) = &mut **conn {
            conn.batch_execute(
                // WAL is set once in `Db::connect` (it persists in the file).
                // No memory map: each pooled connection would map the file
                // on its own, and the server's resident set counted every
                // page once per connection (1.4 GB over a 557 MB database
                // under the search benchmark). Reads come from the OS page
                // cache instead, through a small page cache per connection
                // (512 KiB: the B-tree's inner pages; the rows a request
                // reads are seldom read again soon).
                "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                 PRAGMA cache_size = -512;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// The pool, shared by the server's handlers and the CLI commands.
#[derive(Clone)]
pub struct Db {
    pool: Pool<health::Manager>,
    backend: BackendKind,
    health: Arc<health::Health>,
    wait: Duration,
}

impl Db {
    /// Opens a pool on `url` (a `postgres://` URL or a SQLite file path),
    /// whose requests wait at most [`DEFAULT_WAIT`] for a connection.
    pub fn connect(url: &str, max_size: u32) -> anyhow::Result<Self> {
        Self::open(url, max_size, DEFAULT_WAIT)
    }

    /// Opens a pool on `url` whose requests wait at most `wait` for a
    /// connection before they are answered unavailable.
    pub fn open(url: &str, max_size: u32, wait: Duration) -> anyhow::Result<Self> {
        let backend = BackendKind::of_url(url);
        // One plain connection first: it reports why a database can't be
        // reached (the pool would only retry and time out), and switches a
        // SQLite file to WAL once, before the pool opens connections in parallel.
        match backend {
            BackendKind::Postgres => {
                PgConnection::establish(url).map_err(|error| {
                    anyhow::anyhow!("cannot connect to {}: {error}", redact(url))
                })?;
            }
            BackendKind::Sqlite => {
                let mut conn = SqliteConnection::establish(url).map_err(|error| {
                    anyhow::anyhow!("cannot open the SQLite database {url}: {error}")
                })?;
                conn.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
                    .map_err(|error| anyhow::anyhow!("cannot switch {url} to WAL: {error}"))?;
            }
        }
        let health = Arc::new(health::Health::new(url, backend));
        let manager = health::Manager {
            health: Arc::clone(&health),
        };
        let pool = Pool::builder()
            .max_size(max_size)
            .connection_timeout(wait)
            // The check on checkout is free unless a fault since the
            // connection's last check makes it suspect (see `health`): no
            // `SELECT 1` round trip per request.
            .test_on_check_out(true)
            .connection_customizer(Box::new(SqlitePragmas))
            .error_handler(Box::new(health::OnError {
                health: Arc::clone(&health),
            }))
            .build(manager)
            .map_err(|error| {
                anyhow::anyhow!("cannot open the database {}: {error}", redact(url))
            })?;
        Ok(Self {
            pool,
            backend,
            health,
            wait,
        })
    }

    /// Whether the breaker is open (no connection can be opened), and why.
    pub fn unavailable(&self) -> Option<Unavailable> {
        self.health.admit().err()
    }

    /// (connections open, of them idle, most allowed): the pool's use.
    pub fn pool_use(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (
            state.connections,
            state.idle_connections,
            self.pool.max_size(),
        )
    }

    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// Takes a connection for blocking work (CLI commands, tests, search):
    /// at once unavailable while the breaker is open, else after waiting at
    /// most the pool's wait.
    pub fn conn(&self) -> Result<Conn, Unavailable> {
        self.health.admit()?;
        // The wait is taken in slices, so that a request waiting when the
        // breaker opens is answered then, not at the end of its wait.
        let deadline = std::time::Instant::now() + self.wait;
        let error = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.pool.get_timeout(left.min(WAIT_SLICE)) {
                Ok(conn) => return Ok(conn),
                Err(error) => {
                    if let Some(down) = self.unavailable() {
                        return Err(down);
                    }
                    if std::time::Instant::now() >= deadline {
                        break error;
                    }
                }
            }
        };
        Err({
            // r2d2 appends the last connection error to its timeout, if any.
            let message = error.to_string();
            let cause = match message.split_once(": ") {
                Some((_, last)) => health::cause_of(last),
                None => "every connection stayed busy for the whole wait".to_owned(),
            };
            tracing::warn!(%cause, "no database connection for a request");
            Unavailable { cause }
        })
    }

    /// Runs `work` on `conn`, and marks the connection for replacement when
    /// the work failed at the connection level or was refused as read-only.
    fn lend<T, E: MayFault>(
        &self,
        conn: &mut Conn,
        work: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let result = work(conn);
        if let Err(error) = &result {
            if let Some(fault) = error.fault() {
                self.health.saw(fault, conn);
            }
        }
        result
    }

    /// Runs `job` on the blocking thread pool, so the reactor never waits
    /// on the database; while the database cannot be reached, answers
    /// unavailable at once, without a thread.
    async fn blocking<T, E>(
        &self,
        job: impl FnOnce(Db) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<Unavailable> + Send + 'static,
    {
        self.health.admit()?;
        let db = self.clone();
        match actix_web::rt::task::spawn_blocking(move || job(db)).await {
            Ok(result) => result,
            // A panic is a bug, not a database answer: it goes on as the
            // panic it was (the request fails and the panic is logged), so
            // it never passes for a rolled-back transaction.
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => panic!("the blocking database task was cancelled: {error}"),
        }
    }

    /// Runs `work` — a write, or anything not safe to run twice — with a
    /// pooled connection, off the reactor (see [`Db::blocking`]).
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Unavailable> + From<diesel::result::Error> + MayFault + Send + 'static,
    {
        self.blocking(move |db| {
            let mut conn = db.live_conn()?;
            db.lend(&mut conn, work)
        })
        .await
    }

    /// A connection known to answer: on PostgreSQL it is pinged first (one
    /// round trip, paid by writes, which [`Db::run`] serves and which must
    /// not fail on a connection that died while idle: they are not retried).
    fn live_conn(&self) -> Result<Conn, Unavailable> {
        let mut conn = self.conn()?;
        if self.backend == BackendKind::Postgres {
            if let Err(error) = diesel::r2d2::R2D2Connection::ping(&mut **conn) {
                tracing::warn!(%error, "a pooled database connection was dead; taking another");
                self.health.saw(Fault::Unavailable, &mut conn);
                drop(conn);
                conn = self.conn()?;
            }
        }
        Ok(conn)
    }

    /// [`Db::run`] for work that only reads: when its connection turns out
    /// to be broken, it is tried once more on another.
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: Fn(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Unavailable> + From<diesel::result::Error> + MayFault + Send + 'static,
    {
        self.blocking(move |db| db.read_on(&mut None, work)).await
    }

    /// Runs the read `work` on the connection in `slot` (taken from the
    /// pool when empty, and left there for the next read). A connection
    /// that faulted under it is dropped from the slot, and after a broken
    /// one the read is tried once more on another.
    pub fn read_on<T, E>(
        &self,
        slot: &mut Option<Conn>,
        work: impl Fn(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<Unavailable> + MayFault,
    {
        // The outer Err: no connection could be had (not retried; the
        // wait for one is already spent). The inner result: the read's.
        let attempt = |slot: &mut Option<Conn>| -> Result<Result<T, E>, E> {
            let conn = match slot.take() {
                Some(conn) => slot.insert(conn),
                None => slot.insert(self.conn()?),
            };
            let result = self.lend(conn, &work);
            if result.as_ref().err().and_then(MayFault::fault).is_some() {
                *slot = None;
            }
            Ok(result)
        };
        match attempt(slot)? {
            Err(error) if error.fault() == Some(Fault::Unavailable) => attempt(slot)?,
            result => result,
        }
    }

    /// Applies the pending migrations of this backend.
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.conn()?;
        let applied = match &mut **conn {
            AnyConnection::Postgres(conn) => conn.run_pending_migrations(POSTGRES_MIGRATIONS),
            AnyConnection::Sqlite(conn) => conn.run_pending_migrations(SQLITE_MIGRATIONS),
        }
        .map_err(|error| anyhow::anyhow!("migrations failed: {error}"))?;
        let applied: Vec<String> = applied.iter().map(ToString::to_string).collect();
        // The harvest table arrived empty (or an earlier fill was cut
        // short): fill it from what is stored.
        if harvest::needs_backfill(&mut conn)? {
            write::write_transaction(&mut conn, harvest::backfill)?;
        }
        Ok(applied)
    }
}

/// Hides the password of a database URL in messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://arkiv:secret@db/arkiv"),
            "postgres://arkiv:***@db/arkiv"
        );
        assert_eq!(redact("data/arkiv.db"), "data/arkiv.db");
    }

    #[actix_web::test]
    async fn a_panic_in_blocking_work_stays_a_panic() {
        use futures_util::FutureExt;
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = dir.path().join("arkiv.db").to_string_lossy().into_owned();
        let db = Db::connect(&url, 1).expect("open SQLite");
        let work = db.run(|_| -> Result<(), crate::http::error::ApiError> { panic!("a bug") });
        let outcome = std::panic::AssertUnwindSafe(work).catch_unwind().await;
        let panic = outcome.expect_err("the panic goes on, not an error value");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"a bug"));
    }
}
