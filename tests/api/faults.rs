//! Database faults as a public website meets them: connections killed
//! under the server, a database that stops taking connections, one that
//! turns read-only. Each is made on the test's own PostgreSQL database
//! (the cluster is shared), so these run on PostgreSQL only.

use std::time::{Duration, Instant};

use actix_web::http::Method;
use arkiv::db::Db;
use arkiv::domain::keys::Role;
use diesel::connection::SimpleConnection;
use serde_json::json;

use super::{assert_problem, demo_app, postgres_url, Backend, TestApp, TestDb};

/// The test database's name and a connection to the cluster from outside
/// the app's pool, to do to it what an operator (or an outage) would.
struct Operator {
    name: String,
    admin: Db,
}

impl Operator {
    fn of(app: &TestApp) -> Option<Self> {
        let admin = Db::connect(&postgres_url()?, 1).expect("admin connection");
        let name = app
            .db
            .url
            .rsplit('/')
            .next()
            .expect("database name")
            .to_owned();
        Some(Self { name, admin })
    }

    fn sql(&self, sql: &str) {
        let sql = sql.replace("DB", &self.name);
        self.admin
            .conn()
            .expect("admin connection")
            .batch_execute(&sql)
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
    }

    /// Ends every session the app has open on its database.
    fn terminate(&self) {
        self.sql(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
             WHERE datname = 'DB' AND pid <> pg_backend_pid()",
        );
    }
}

fn draft(slug: &str) -> serde_json::Value {
    json!({
        "slug": slug,
        "kind": "report",
        "project": "dialogue-solutions-future",
        "variants": {"en": {"title": "Written through a fault"}}
    })
}

/// A demo publication's detail URL.
async fn some_detail(app: &TestApp) -> String {
    let page = app.get("/v1/publications?limit=1").await.json();
    let slug = page["items"][0]["slug"].as_str().expect("a slug");
    format!("/v1/publications/{slug}")
}

#[actix_web::test]
async fn killed_connections_cost_no_later_request() {
    let Some(_) = postgres_url() else { return };
    let app = demo_app(Backend::Postgres);
    let operator = Operator::of(&app).expect("PostgreSQL");
    let editor = app.key(Role::Editor);
    let detail = some_detail(&app).await;
    // Fill the pool: every connection is used, then idles.
    for _ in 0..4 {
        assert_eq!(app.get(&detail).await.status, 200);
    }
    for round in 0..3 {
        operator.terminate();
        // The first request after is a write: writes are not retried, so
        // it must not be handed a dead connection.
        let written = app
            .send_json(
                Method::POST,
                "/v1/publications",
                Some(&editor),
                &draft(&format!("kill-{round}")),
            )
            .await;
        assert_eq!(
            written.status,
            201,
            "{}",
            String::from_utf8_lossy(&written.body)
        );
        operator.terminate();
        for _ in 0..8 {
            let read = app.get(&detail).await;
            assert_eq!(read.status, 200, "{}", String::from_utf8_lossy(&read.body));
            let list = app.get("/v1/publications?kind=report&limit=5").await;
            assert_eq!(list.status, 200, "{}", String::from_utf8_lossy(&list.body));
        }
    }
    assert_eq!(app.get("/readyz").await.status, 200);
}

#[actix_web::test]
async fn an_unreachable_database_is_503_at_once_and_back_by_itself() {
    let Some(_) = postgres_url() else { return };
    // A long wait for a connection, so that an answer that waited for the
    // pool rather than the breaker cannot pass for a fast one.
    let mut test_db = TestDb::new(Backend::Postgres)
        .expect("PostgreSQL")
        .with_demo();
    test_db.db = Db::open(&test_db.url, 4, Duration::from_secs(5)).expect("open PostgreSQL");
    let app = TestApp::new(test_db);
    let operator = Operator::of(&app).expect("PostgreSQL");
    let editor = app.key(Role::Editor);
    let detail = some_detail(&app).await;
    assert_eq!(app.get(&detail).await.status, 200);

    // The database takes no connections and those open are gone: as a
    // stopped server looks from here.
    operator.sql("ALTER DATABASE DB WITH ALLOW_CONNECTIONS false");
    operator.terminate();

    // (Addresses read before might come from the response cache, which
    // goes on answering: these were not read.)
    let started = Instant::now();
    let first = app.get(&format!("{detail}?lang=sq")).await;
    let problem = assert_problem(&first, 503, "database_unavailable");
    assert!(first.header("retry-after").is_some(), "{problem}");
    assert!(
        started.elapsed() < Duration::from_millis(2000),
        "the first answer took {:?}",
        started.elapsed()
    );
    // The breaker is open now: no request waits for the pool.
    for uri in [
        format!("{detail}?lang=sr-Latn"),
        "/v1/publications?kind=report".to_owned(),
        "/readyz".to_owned(),
    ] {
        let uri = uri.as_str();
        let started = Instant::now();
        let reply = app.get(uri).await;
        let elapsed = started.elapsed();
        assert_problem(&reply, 503, "database_unavailable");
        assert_eq!(reply.header("retry-after").as_deref(), Some("1"));
        assert!(
            elapsed < Duration::from_millis(1000),
            "{uri} took {elapsed:?}"
        );
    }
    let refused = app
        .send_json(
            Method::POST,
            "/v1/publications",
            Some(&editor),
            &draft("while-away"),
        )
        .await;
    assert_problem(&refused, 503, "database_unavailable");

    operator.sql("ALTER DATABASE DB WITH ALLOW_CONNECTIONS true");
    let back = Instant::now();
    loop {
        let ready = app.get("/readyz").await;
        if ready.status == 200 {
            break;
        }
        assert_problem(&ready, 503, "database_unavailable");
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "not ready again after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.get(&detail).await.status, 200);
    let written = app
        .send_json(
            Method::POST,
            "/v1/publications",
            Some(&editor),
            &draft("after-away"),
        )
        .await;
    assert_eq!(
        written.status,
        201,
        "{}",
        String::from_utf8_lossy(&written.body)
    );
    // Nothing was written while it was away.
    assert_eq!(app.get("/v1/publications/while-away").await.status, 404);
}

#[actix_web::test]
async fn a_read_only_database_refuses_writes_and_takes_them_again() {
    let Some(_) = postgres_url() else { return };
    let app = demo_app(Backend::Postgres);
    let operator = Operator::of(&app).expect("PostgreSQL");
    let editor = app.key(Role::Editor);
    let detail = some_detail(&app).await;

    // New sessions start read-only, as on a standby or under a
    // maintenance switch; the open ones are made to reconnect into it.
    operator.sql("ALTER DATABASE DB SET default_transaction_read_only = on");
    operator.terminate();
    for _ in 0..4 {
        assert_eq!(app.get(&detail).await.status, 200, "reads go on");
    }
    let refused = app
        .send_json(
            Method::POST,
            "/v1/publications",
            Some(&editor),
            &draft("read-only"),
        )
        .await;
    assert_problem(&refused, 503, "database_read_only");
    assert_eq!(refused.header("retry-after").as_deref(), Some("5"));
    let publish = app
        .act(
            &format!("{detail}/withdraw"),
            &editor,
            Some(json!({"reason": "test"})),
        )
        .await;
    assert_problem(&publish, 503, "database_read_only");
    assert_eq!(app.get(&detail).await.status, 200, "nothing was withdrawn");

    // Writable again for new sessions only: the pooled ones keep the
    // setting, so the server must replace them by itself.
    operator.sql("ALTER DATABASE DB RESET default_transaction_read_only");
    // The client retries with one Idempotency-Key: refusals (5xx) are not
    // kept, so the retry that finds the database writable writes, once.
    let writable = Instant::now();
    let retry = || {
        app.send(
            actix_web::test::TestRequest::post()
                .uri("/v1/publications")
                .insert_header(super::bearer(&editor))
                .insert_header(("Idempotency-Key", "write-when-writable"))
                .set_json(draft("writable")),
        )
    };
    let first = loop {
        let written = retry().await;
        if written.status == 201 {
            break written;
        }
        assert_problem(&written, 503, "database_read_only");
        assert!(
            writable.elapsed() < Duration::from_secs(5),
            "writes still refused 5 s after the database became writable"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let again = retry().await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.body, first.body);
}
