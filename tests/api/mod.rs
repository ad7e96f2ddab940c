//! Test harness: builds the very application `arkiv serve` builds, in
//! process, on a fresh database per test — SQLite in a temporary directory,
//! or a new PostgreSQL database when `ARKIV_TEST_POSTGRES_URL` is set.

mod analyze;
mod backup;
mod changes;
mod citations;
mod cors;
mod documents;
mod editing;
mod errors;
mod export;
mod faults;
mod feeds;
mod files;
mod headers;
mod hostile_files;
mod http;
mod idempotency;
mod images;
mod import;
mod keys;
mod labels;
mod languages;
mod markup;
mod metrics;
mod oai;
mod openapi;
mod pdfs;
mod properties;
mod publications;
mod relevance;
mod search;
mod site;
mod stats;
mod totals;
mod vocabulary;
mod vocabulary_editing;
mod webhooks;
mod writes;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;
use actix_web::web;
use arkiv::db::Db;
use arkiv::state::AppState;
use diesel::connection::SimpleConnection;
use serde_json::Value;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database made for one test; dropped (PostgreSQL) or deleted (SQLite) after.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    drop_sql: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.drop_sql.take() {
            if let Ok(admin) = Db::connect(&admin_url, 1) {
                if let Ok(mut conn) = admin.conn() {
                    let _ =
                        conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

/// Returns the PostgreSQL admin URL, or None when the PostgreSQL half of
/// the suite is skipped. With `ARKIV_REQUIRE_POSTGRES=1` (set by CI) a
/// missing URL fails the test instead.
pub fn postgres_url() -> Option<String> {
    match std::env::var("ARKIV_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("ARKIV_REQUIRE_POSTGRES").is_err(),
                "ARKIV_REQUIRE_POSTGRES is set but ARKIV_TEST_POSTGRES_URL is not"
            );
            // Written past the test harness's capture, once, so it shows.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "note: the PostgreSQL half of the suite is skipped; set ARKIV_TEST_POSTGRES_URL=postgres://… to run it"
                );
            });
            None
        }
    }
}

impl TestDb {
    /// Makes a fresh, migrated database, or None when the backend is skipped.
    pub fn new(backend: Backend) -> Option<Self> {
        let test_db = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = dir.path().join("arkiv.db").to_string_lossy().into_owned();
                let db = Db::connect(&url, 4).expect("open SQLite");
                TestDb {
                    db,
                    url,
                    _dir: Some(dir),
                    drop_sql: None,
                }
            }
            Backend::Postgres => {
                let admin_url = postgres_url()?;
                let name = format!("arkiv_test_{}", uuid::Uuid::now_v7().simple());
                let admin = Db::connect(&admin_url, 1).expect("connect to PostgreSQL");
                admin
                    .conn()
                    .expect("connection")
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create database");
                let (base, _) = admin_url
                    .rsplit_once('/')
                    .expect("URL with a database name");
                let url = format!("{base}/{name}");
                let db = Db::connect(&url, 4).expect("open PostgreSQL");
                TestDb {
                    db,
                    url,
                    _dir: None,
                    drop_sql: Some((admin_url, name)),
                }
            }
        };
        test_db.db.migrate().expect("migrations");
        Some(test_db)
    }

    /// Opens the same database through a pool of its own, as another
    /// process (`arkiv import` beside a server) would.
    pub fn another_writer(&self) -> TestDb {
        let db = Db::connect(&self.url, 2).expect("open the database again");
        TestDb {
            db,
            url: self.url.clone(),
            _dir: None,
            drop_sql: None,
        }
    }

    /// Imports NDJSON text, panicking on failure.
    pub fn import(&self, ndjson: &str) -> arkiv::import::ImportReport {
        let lines = arkiv::import::parse(ndjson.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        arkiv::import::import(
            &mut self.db.conn().expect("connection"),
            &lines,
            &arkiv::progress::Silent,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn with_demo(self) -> Self {
        arkiv::demo::load(&mut self.db.conn().expect("connection"), None)
            .unwrap_or_else(|e| panic!("{e}"));
        self
    }
}

/// The application under test with its database.
pub struct TestApp {
    #[allow(dead_code, reason = "keeps the database alive as long as the app")]
    pub db: TestDb,
    pub state: web::Data<AppState>,
    /// The file store's directory.
    pub files: tempfile::TempDir,
    /// The search index's directory, when the app has one.
    pub index_dir: Option<tempfile::TempDir>,
}

/// A server started by [`TestApp::listen`].
pub struct Listening {
    pub base: String,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        // `stop` sends the command at once; its future only waits for it.
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

impl TestApp {
    pub fn new(db: TestDb) -> Self {
        let files = tempfile::tempdir().expect("temporary directory");
        let store = arkiv::files::FileStore::new(files.path().to_owned());
        let state = web::Data::new(
            AppState::new(db.db.clone(), 16 << 20, store)
                .expect("state")
                .with_extractor(extract_settings()),
        );
        Self {
            db,
            state,
            files,
            index_dir: None,
        }
    }

    /// Starts the app over again on the same database and files, as a
    /// restarted server would be, with its state set up by `configure`.
    pub fn restart(&mut self, configure: impl FnOnce(AppState) -> AppState) {
        let store = arkiv::files::FileStore::new(self.files.path().to_owned());
        let state = AppState::new(self.db.db.clone(), 16 << 20, store)
            .expect("state")
            .with_extractor(extract_settings());
        self.state = web::Data::new(configure(state));
    }

    /// Reads `uri` with `key`, then sends `method` to it (a merge patch, a
    /// PUT, a DELETE) against the version read, as an editor's tool does:
    /// with `If-Match` and the ETag it got.
    pub async fn change(
        &self,
        method: actix_web::http::Method,
        uri: &str,
        key: &str,
        body: Option<Value>,
    ) -> Reply {
        let read = self
            .send(test::TestRequest::get().uri(uri).insert_header(bearer(key)))
            .await;
        let tag = read
            .header("etag")
            .unwrap_or_else(|| panic!("no ETag on {uri}: {}", read.status));
        let mut request = test::TestRequest::default()
            .method(method)
            .uri(uri)
            .insert_header(bearer(key))
            .insert_header(("If-Match", tag));
        if let Some(body) = body {
            request = request.set_json(body);
        }
        self.send(request).await
    }

    /// POSTs to an action (`…/publish`, `…/withdraw`) with `key`.
    pub async fn act(&self, uri: &str, key: &str, body: Option<Value>) -> Reply {
        let mut request = test::TestRequest::post()
            .uri(uri)
            .insert_header(bearer(key));
        if let Some(body) = body {
            request = request.set_json(body);
        }
        self.send(request).await
    }

    /// Serves the app over HTTP on 127.0.0.1 (a free port), for clients
    /// that cannot call it in process; it stops when the handle is dropped.
    pub fn listen(&self) -> Listening {
        let state = self.state.clone();
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = actix_web::HttpServer::new(move || arkiv::app::app(state.clone()))
                    .workers(1)
                    .bind(("127.0.0.1", 0))
                    .expect("bind");
                let port = server.addrs()[0].port();
                let server = server.run();
                sender.send((port, server.handle())).expect("send");
                server.await
            })
        });
        let (port, handle) = receiver.recv().expect("the server started");
        Listening {
            base: format!("http://127.0.0.1:{port}"),
            handle,
            thread: Some(thread),
        }
    }

    /// The same app with a search index, brought up to date with the database.
    pub fn with_search(db: TestDb) -> Self {
        let index_dir = tempfile::tempdir().expect("temporary directory");
        let index = std::sync::Arc::new(
            arkiv::search::index::SearchIndex::open(index_dir.path()).expect("index"),
        );
        let app = Self::new(db);
        let state = AppState::new(
            app.db.db.clone(),
            16 << 20,
            arkiv::files::FileStore::new(app.files.path().to_owned()),
        )
        .expect("state")
        .with_extractor(extract_settings())
        .with_search(index);
        let app = TestApp {
            state: web::Data::new(state),
            index_dir: Some(index_dir),
            ..app
        };
        app.sync();
        app
    }

    /// Applies every pending change to the search index, as the indexer would.
    pub fn sync(&self) -> usize {
        let index = self.state.search.as_ref().expect("an app with search");
        arkiv::search::sync::catch_up(&mut self.db.db.conn().expect("connection"), index)
            .expect("catch up")
    }

    /// Sends a GET with extra headers and reads the whole response.
    pub async fn get_with(&self, uri: &str, headers: &[(&str, &str)]) -> Reply {
        let service = test::init_service(arkiv::app::app(self.state.clone())).await;
        let mut request = test::TestRequest::get().uri(uri);
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        let response: ServiceResponse<_> =
            service.call(request.to_request()).await.expect("response");
        read(response).await
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.get_with(uri, &[]).await
    }

    /// Makes an API key with this role, as `arkiv keys create` does.
    pub fn key(&self, role: arkiv::domain::keys::Role) -> String {
        let mut conn = self.db.db.conn().expect("connection");
        arkiv::db::keys::create(&mut conn, format!("test {role}"), role)
            .expect("key")
            .key
    }

    /// Sends a request with a JSON body and, when given, a bearer key.
    pub async fn send_json(
        &self,
        method: actix_web::http::Method,
        uri: &str,
        key: Option<&str>,
        body: &Value,
    ) -> Reply {
        let mut request = test::TestRequest::default()
            .method(method)
            .uri(uri)
            .set_json(body);
        if let Some(key) = key {
            request = request.insert_header(bearer(key));
        }
        self.send(request).await
    }

    /// Sends any request built by the caller.
    pub async fn send(&self, request: test::TestRequest) -> Reply {
        let service = test::init_service(arkiv::app::app(self.state.clone())).await;
        let response = service.call(request.to_request()).await.expect("response");
        read(response).await
    }

    /// Sends a request with its body as a stream of chunks and no
    /// `Content-Length`, as a chunked request comes.
    pub async fn send_chunked(
        &self,
        request: test::TestRequest,
        chunks: impl futures_util::Stream<Item = web::Bytes> + 'static,
    ) -> Reply {
        use futures_util::StreamExt as _;
        let service = test::init_service(arkiv::app::app(self.state.clone())).await;
        let mut request = request.to_request();
        request
            .headers_mut()
            .remove(actix_web::http::header::CONTENT_LENGTH);
        let stream: actix_http::BoxedPayloadStream = Box::pin(chunks.map(Ok));
        let (request, _) = request.replace_payload(actix_http::Payload::from(stream));
        let response = service.call(request).await.expect("response");
        read(response).await
    }
}

async fn read<B: MessageBody>(response: ServiceResponse<B>) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

/// Runs a test body on SQLite and on PostgreSQL (when configured): the
/// body sees the backend as `$backend`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, |$backend:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[actix_web::test]
            async fn sqlite() {
                let $backend = $crate::api::Backend::Sqlite;
                $body
            }

            #[actix_web::test]
            async fn postgres() {
                if $crate::api::postgres_url().is_none() {
                    return;
                }
                let $backend = $crate::api::Backend::Postgres;
                $body
            }
        }
    };
}

/// PDF text extraction as tests run it: the `arkiv` binary Cargo built
/// for this test run as the child, with limits generous enough for a
/// loaded machine (tests of the limits set their own).
pub fn extract_settings() -> arkiv::extract::ExtractSettings {
    arkiv::extract::ExtractSettings {
        program: env!("CARGO_BIN_EXE_arkiv").into(),
        timeout: std::time::Duration::from_secs(30),
        memory_mb: 256,
        max_text_bytes: 1 << 20,
        concurrency: 2,
        queue: 8,
    }
}

/// Creates drafts through the API (slugs `<prefix>-0`, `<prefix>-1`, …),
/// one after another, until `child` exits, as an editor keeps working
/// beside a command-line job. Every write must be acknowledged. Returns the
/// slugs written, how the child ended and what it wrote to standard error.
pub async fn write_until_exit(
    app: &TestApp,
    key: &str,
    prefix: &str,
    child: &mut std::process::Child,
) -> (Vec<String>, std::process::ExitStatus, String) {
    let mut written = Vec::new();
    let status = loop {
        let slug = format!("{prefix}-{}", written.len());
        let reply = app
            .send_json(
                actix_web::http::Method::POST,
                "/v1/publications",
                Some(key),
                &serde_json::json!({"slug": slug, "kind": "report", "variants": {"en": {"title": slug}}}),
            )
            .await;
        assert_eq!(
            reply.status,
            201,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        written.push(slug);
        if let Some(status) = child.try_wait().expect("the child runs") {
            break status;
        }
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read;
        pipe.read_to_string(&mut stderr).expect("standard error");
    }
    (written, status, stderr)
}

/// A fresh app with the demo archive, on a backend.
pub fn demo_app(backend: Backend) -> TestApp {
    TestApp::new(TestDb::new(backend).expect("backend available").with_demo())
}

/// Runs a Python script with a file holding `input` as `sys.argv[1]` (and
/// `args` after it) and parses what it prints as JSON.
pub fn python_json(script: &str, input: &[u8], args: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("input");
    std::fs::write(&path, input).expect("write");
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .args(args)
        .output()
        .expect("python3");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON from the script")
}

/// [`python_json`] for a script that uses a third-party parser and prints
/// `null` when it cannot import it: None then, unless
/// `ARKIV_REQUIRE_PARSERS` is set (CI installs the parsers and sets it).
pub fn python_parser(script: &str, input: &[u8], args: &[&str], what: &str) -> Option<Value> {
    let parsed = python_json(script, input, args);
    if parsed.is_null() {
        assert!(
            std::env::var("ARKIV_REQUIRE_PARSERS").is_err(),
            "{what} must be installed (see the README, Development)"
        );
        eprintln!("skipped: {what} is not installed");
        return None;
    }
    Some(parsed)
}

/// The `Authorization` header that sends `key`.
pub fn bearer(key: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {key}"))
}

/// The slugs of a list or search page's items, in order.
pub fn slugs(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|item| item["slug"].as_str().map(str::to_owned))
        .collect()
}

/// Asserts a response is a problem+json with this status and code.
pub fn assert_problem(reply: &Reply, status: u16, code: &str) -> Value {
    assert_eq!(
        reply.status.as_u16(),
        status,
        "expected {status} {code}, got {}: {}",
        reply.status,
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    let problem = reply.json();
    assert_eq!(problem["code"], code, "{problem}");
    assert_eq!(problem["status"], status);
    problem
}
