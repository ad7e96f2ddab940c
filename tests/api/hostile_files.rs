//! Hostile uploads: PDFs that recurse, loop, explode or lie. Each one may
//! fail its own text extraction, never the server: the upload answers in
//! bounded time with `text_status`/`text_error`, the file is kept, and
//! readers are served throughout. Files are typed by their bytes, served
//! with headers that keep a browser from running them, and garbage is
//! collected.

use std::time::{Duration, Instant};

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{json, Value};

use super::files::upload;
use super::{assert_problem, bearer, pdfs, TestApp, TestDb};
use crate::on_both_backends;
use arkiv::domain::keys::Role;

/// The limits the hostile tests run the extractor with: a few seconds, a
/// little memory, a little text.
fn tight_limits() -> arkiv::extract::ExtractSettings {
    arkiv::extract::ExtractSettings {
        timeout: Duration::from_secs(8),
        memory_mb: 192,
        max_text_bytes: 64 << 10,
        ..crate::api::extract_settings()
    }
}

/// What an extraction must come to.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Status(&'static str),
    Failed(&'static [&'static str]),
}

/// Every hostile file, named, with what its extraction must come to.
fn hostile_files() -> Vec<(&'static str, Vec<u8>, Expect)> {
    vec![
        (
            "self-drawing form",
            pdfs::self_drawing_form(),
            Expect::Failed(&["extract_crashed"]),
        ),
        // Unbounded recursion: a stack overflow in a debug build, an
        // endless loop once the optimiser makes the recursion a loop.
        (
            "page its own parent",
            pdfs::page_its_own_parent(),
            Expect::Failed(&["extract_crashed", "extract_timeout"]),
        ),
        (
            "cycle through kids",
            pdfs::kids_cycle(),
            Expect::Status("no_text"),
        ),
        (
            "arrays 100,000 deep",
            pdfs::deeply_nested(100_000, false),
            Expect::Status("no_text"),
        ),
        (
            "dictionaries 100,000 deep",
            pdfs::deeply_nested(100_000, true),
            Expect::Status("no_text"),
        ),
        (
            "flate inside flate, 1 GiB",
            pdfs::flate_in_flate(1 << 30),
            Expect::Failed(&["extract_memory"]),
        ),
        (
            "endless drawing",
            pdfs::endless_drawing(),
            Expect::Failed(&["extract_timeout"]),
        ),
        (
            "too much text",
            pdfs::much_text(),
            Expect::Failed(&["extract_too_large"]),
        ),
        (
            "a lying /Length",
            pdfs::lying_length(),
            Expect::Status("no_text"),
        ),
        (
            "truncated xref",
            pdfs::truncated(),
            Expect::Failed(&["extract_failed"]),
        ),
        (
            "encrypted",
            pdfs::encrypted(),
            Expect::Failed(&["encrypted"]),
        ),
    ]
}

fn check(name: &str, file: &Value, expect: Expect) {
    match expect {
        Expect::Status(status) => {
            assert_eq!(file["text_status"], status, "{name}: {file}");
            assert_eq!(file["text_error"], Value::Null, "{name}: {file}");
        }
        Expect::Failed(errors) => {
            assert_eq!(file["text_status"], "failed", "{name}: {file}");
            let error = file["text_error"].as_str().unwrap_or_default();
            assert!(
                errors.contains(&error),
                "{name}: {error:?} not in {errors:?}"
            );
            assert_eq!(file["text_extracted"], false, "{name}");
        }
    }
}

async fn draft(app: &TestApp, editor: &str, slug: &str) -> String {
    let made = app
        .send_json(
            Method::POST,
            "/v1/publications",
            Some(editor),
            &json!({"slug": slug, "kind": "report", "variants": {"en": {"title": "Hostile"}}}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
    made.header("etag").expect("etag")
}

on_both_backends!(hostile_pdfs_fail_only_their_own_text, |backend| {
    let mut app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    app.restart(|state| state.with_extractor(tight_limits()));
    let editor = app.key(Role::Editor);
    let mut etag = draft(&app, &editor, "hostile").await;
    let uri = "/v1/publications/hostile/variants/en/file";
    let limit = tight_limits().timeout;
    for (name, bytes, expect) in hostile_files() {
        let started = Instant::now();
        let reply = app
            .send(upload(uri, &editor, bytes.clone()).insert_header(("If-Match", etag.clone())))
            .await;
        let took = started.elapsed();
        assert_eq!(
            reply.status,
            200,
            "{name}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert!(
            took < limit + Duration::from_secs(5),
            "{name} took {took:?}"
        );
        let detail = reply.json();
        check(name, &detail["file"], expect);
        // The file is kept, whole, whatever became of its text.
        let sha256 = detail["file"]["sha256"].as_str().expect("sha256");
        let stored = app.files.path().join(&sha256[..2]).join(sha256);
        assert_eq!(std::fs::read(stored).expect("kept"), bytes, "{name}");
        etag = reply.header("etag").expect("etag");
        // Reads go on.
        assert_eq!(app.get("/healthz").await.status, 200);
        assert_eq!(
            app.get("/v1/publications/conclusions-expert-discussion-2024-10-31")
                .await
                .status,
            200
        );
    }
    // The status is stored: a later read and an export say the same.
    let stored = app
        .get_with(
            "/v1/publications/hostile",
            &[("Authorization", &format!("Bearer {editor}"))],
        )
        .await
        .json();
    assert_eq!(stored["file"]["text_status"], "failed");
    assert_eq!(stored["file"]["text_error"], "encrypted");

    // A file that failed for a limit is extracted again, without a new
    // upload, once the limit is raised.
    let reply = app
        .send(upload(uri, &editor, pdfs::much_text()).insert_header(("If-Match", etag)))
        .await;
    check(
        "too much text",
        &reply.json()["file"],
        Expect::Failed(&["extract_too_large"]),
    );
    app.restart(|state| {
        state.with_extractor(arkiv::extract::ExtractSettings {
            max_text_bytes: 1 << 20,
            ..tight_limits()
        })
    });
    let retry = TestRequest::post()
        .uri("/v1/publications/hostile/variants/en/file/extract")
        .insert_header(bearer(&editor));
    let retried = app.send(retry).await;
    assert_eq!(
        retried.status,
        200,
        "{}",
        String::from_utf8_lossy(&retried.body)
    );
    let file = &retried.json()["file"];
    check("too much text, retried", file, Expect::Status("extracted"));
    assert_eq!(file["text_extracted"], true);
    let retry_stale = TestRequest::post()
        .uri("/v1/publications/hostile/variants/en/file/extract")
        .insert_header(bearer(&editor))
        .insert_header(("If-Match", "\"not-the-version\""));
    assert_problem(&app.send(retry_stale).await, 412, "precondition_failed");
    let no_file = TestRequest::post()
        .uri("/v1/publications/conclusions-expert-discussion-2024-10-31/variants/en/file/extract")
        .insert_header(bearer(&editor));
    assert_problem(&app.send(no_file).await, 404, "not_found");
});

on_both_backends!(
    a_full_extraction_queue_answers_503_before_the_upload,
    |backend| {
        let mut app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
        app.restart(|state| {
            state.with_extractor(arkiv::extract::ExtractSettings {
                concurrency: 1,
                queue: 1,
                ..crate::api::extract_settings()
            })
        });
        let editor = app.key(Role::Editor);
        let etag = draft(&app, &editor, "queued").await;
        let uri = "/v1/publications/queued/variants/en/file";
        // Two uploads are extracting or waiting: the third is turned away.
        let held = [
            app.state.extractor.admit().expect("a slot"),
            app.state.extractor.admit().expect("a queue place"),
        ];
        let refused = app
            .send(
                upload(uri, &editor, pdfs::with_text("queued"))
                    .insert_header(("If-Match", etag.clone())),
            )
            .await;
        let problem = assert_problem(&refused, 503, "busy");
        assert!(problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("extraction"));
        let retry_after: u32 = refused
            .header("retry-after")
            .and_then(|value| value.parse().ok())
            .expect("Retry-After in seconds");
        assert!(retry_after >= 1);
        assert!(
            std::fs::read_dir(app.files.path().join("tmp")).map_or(0, |d| d.count()) == 0,
            "nothing of the refused upload was written"
        );
        drop(held);
        let accepted = app
            .send(upload(uri, &editor, pdfs::with_text("queued")).insert_header(("If-Match", etag)))
            .await;
        assert_eq!(accepted.status, 200);
        assert_eq!(accepted.json()["file"]["text_status"], "extracted");
    }
);

on_both_backends!(media_types_come_from_the_bytes_not_the_client, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let editor = app.key(Role::Editor);
    let etag = draft(&app, &editor, "typed").await;
    let uri = "/v1/publications/typed/variants/en/file";
    // A PDF sent as HTML is stored as what it is.
    let as_html = upload(uri, &editor, pdfs::with_text("typed"))
        .insert_header(("Content-Type", "text/html"))
        .insert_header(("If-Match", etag));
    let stored = app.send(as_html).await;
    assert_eq!(stored.status, 200);
    assert_eq!(stored.json()["file"]["media_type"], "application/pdf");
    // HTML sent as a PDF is refused, and nothing of it stays.
    let etag = stored.header("etag").expect("etag");
    let html = upload(
        uri,
        &editor,
        b"<html><script>alert(1)</script></html>".to_vec(),
    )
    .insert_header(("If-Match", etag.clone()));
    assert_problem(&app.send(html).await, 415, "unsupported_media_type");

    // The file's server-set fields cannot be changed through the body.
    let uri_pub = "/v1/publications/typed";
    let forged = app
        .change(
            Method::PATCH,
            uri_pub,
            &editor,
            Some(json!({"variants": {"en": {"file": {"media_type": "text/html", "size": 1}}}})),
        )
        .await;
    let problem = assert_problem(&forged, 422, "field_read_only");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|error| error["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        ["variants.en.file.size", "variants.en.file.media_type"]
    );
    let text = app
        .change(
            Method::PATCH,
            uri_pub,
            &editor,
            Some(json!({"variants": {"en": {"file_text": "<script>alert(1)</script>"}}})),
        )
        .await;
    assert_problem(&text, 422, "field_read_only");
    let smuggled = app
        .send_json(
            Method::POST,
            "/v1/publications",
            Some(&editor),
            &json!({"slug": "smuggled", "kind": "report", "variants": {"en": {"title": "S",
                "file": {"sha256": "ab".repeat(32), "size": 1, "media_type": "application/pdf", "name": "x.pdf"}}}}),
        )
        .await;
    assert_problem(&smuggled, 422, "field_read_only");
    // Renaming the file is an edit like any other; the rest stays.
    let renamed = app
        .change(
            Method::PATCH,
            uri_pub,
            &editor,
            Some(json!({"variants": {"en": {"file": {"name": "annex.pdf"}}}})),
        )
        .await;
    assert_eq!(
        renamed.status,
        200,
        "{}",
        String::from_utf8_lossy(&renamed.body)
    );
    let file = &renamed.json()["file"];
    assert_eq!(file["name"], "annex.pdf");
    assert_eq!(file["media_type"], "application/pdf");
    assert_eq!(file["text_status"], "extracted");

    // An import cannot name another media type either.
    let line = format!(
        r#"{{"type":"publication","slug":"imported-html","kind":"report","status":"published","published_on":"2024-01-01","variants":{{"en":{{"title":"T","file":{{"sha256":"{}","size":3,"media_type":"text/html","name":"x.html"}}}}}}}}"#,
        "cd".repeat(32)
    );
    let Err(arkiv::import::ImportError::Invalid(errors)) = arkiv::import::parse(line.as_bytes())
    else {
        panic!("an import naming text/html must be refused");
    };
    assert_eq!(errors[0].field, "variants.en.file.media_type");
});

on_both_backends!(served_files_cannot_run_in_a_browser, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let editor = app.key(Role::Editor);
    let etag = draft(&app, &editor, "served").await;
    let uri = "/v1/publications/served/variants/en/file";
    let stored = app
        .send(
            upload(uri, &editor, pdfs::with_text("served"))
                .insert_header((
                    "Content-Disposition",
                    "attachment; filename=\"<img onerror=x>.pdf\"",
                ))
                .insert_header(("If-Match", etag)),
        )
        .await;
    assert_eq!(stored.status, 200);
    let bearer = format!("Bearer {editor}");
    for range in [None, Some("bytes=0-3")] {
        let mut headers = vec![("Authorization", bearer.as_str())];
        if let Some(range) = range {
            headers.push(("Range", range));
        }
        let served = app.get_with(uri, &headers).await;
        assert!(served.status.is_success(), "{}", served.status);
        assert_eq!(
            served.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(
            served.header("content-security-policy").as_deref(),
            Some("default-src 'none'; sandbox")
        );
        assert_eq!(
            served.header("content-type").as_deref(),
            Some("application/pdf")
        );
        let disposition = served.header("content-disposition").expect("disposition");
        assert!(
            disposition.starts_with("inline; filename=\""),
            "{disposition}"
        );
        assert!(
            !disposition.contains('<') || disposition.contains("filename=\"<img onerror=x>.pdf\"")
        );
    }
});

/// Runs the `arkiv` command line on a data directory and returns what it
/// printed, failing the test when it fails.
fn run_cli(data: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_arkiv"))
        .args(args)
        .env("ARKIV_DATA_DIR", data)
        .env("ARKIV_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .expect("arkiv runs");
    assert!(
        output.status.success(),
        "arkiv {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Files no variant names, and uploads that never finished, are removed
/// once old enough; named files stay.
#[test]
fn garbage_collection_removes_only_unnamed_files() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path();
    let arkiv = |args: &[&str]| run_cli(data, &[], args);
    arkiv(&["migrate"]);
    let named = "ab".repeat(32);
    let orphan = "cd".repeat(32);
    let files = data.join("files");
    for sha256 in [&named, &orphan] {
        std::fs::create_dir_all(files.join(&sha256[..2])).expect("mkdir");
        std::fs::write(files.join(&sha256[..2]).join(sha256), b"%PDF-1.4").expect("write");
    }
    std::fs::create_dir_all(files.join("tmp")).expect("mkdir");
    std::fs::write(files.join("tmp").join("half-uploaded"), b"%PDF").expect("write");
    let import = data.join("named.ndjson");
    std::fs::write(
        &import,
        format!(
            r#"{{"type":"publication","slug":"named","kind":"report","status":"draft","variants":{{"en":{{"title":"T","file":{{"sha256":"{named}","size":8,"media_type":"application/pdf","name":"n.pdf"}}}}}}}}"#
        ),
    )
    .expect("write");
    arkiv(&["import", &import.to_string_lossy()]);
    // Young files are left alone: an upload may be about to be named.
    assert_eq!(arkiv(&["gc"]), "");
    let report = arkiv(&["gc", "--min-age-minutes", "0"]);
    assert!(report.contains(&orphan), "{report}");
    assert!(report.contains("tmp/half-uploaded"), "{report}");
    assert!(!report.contains(&named), "{report}");
    assert!(files.join(&named[..2]).join(&named).exists());
    assert!(!files.join(&orphan[..2]).join(&orphan).exists());
    assert!(!files.join("tmp").join("half-uploaded").exists());
}

/// `arkiv import` extracts the text of files it names that are in the
/// store and come without text, in the same isolated children; a hostile
/// one fails alone.
#[test]
fn import_extracts_the_text_of_stored_files() {
    use sha2::Digest;
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path();
    let limits = [
        ("ARKIV_EXTRACT_TIMEOUT_S", "10"),
        ("ARKIV_EXTRACT_MEMORY_MB", "192"),
    ];
    let arkiv = |args: &[&str]| run_cli(data, &limits, args);
    let mut lines = String::new();
    for (slug, bytes) in [
        ("readable", pdfs::with_text("Zanzibar irrigation annex")),
        ("recursive", pdfs::self_drawing_form()),
    ] {
        let sha256: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let folder = data.join("files").join(&sha256[..2]);
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::fs::write(folder.join(&sha256), &bytes).expect("write");
        lines.push_str(&format!(
            r#"{{"type":"publication","slug":"{slug}","kind":"report","status":"draft","variants":{{"en":{{"title":"T","file":{{"sha256":"{sha256}","size":{},"media_type":"application/pdf","name":"f.pdf"}}}}}}}}"#,
            bytes.len()
        ));
        lines.push('\n');
    }
    let import = data.join("files.ndjson");
    std::fs::write(&import, lines).expect("write");
    arkiv(&["import", &import.to_string_lossy()]);
    let exported = arkiv(&["export"]);
    let records: Vec<Value> = exported
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect();
    let variant = |slug: &str| {
        records
            .iter()
            .find(|record| record["slug"] == slug)
            .map(|record| record["variants"]["en"].clone())
            .expect("exported")
    };
    let readable = variant("readable");
    assert_eq!(readable["file"]["text_status"], "extracted", "{readable}");
    assert_eq!(readable["file_text"], "Zanzibar irrigation annex");
    let recursive = variant("recursive");
    assert_eq!(recursive["file"]["text_status"], "failed", "{recursive}");
    assert_eq!(recursive["file"]["text_error"], "extract_crashed");
    assert_eq!(recursive["file_text"], Value::Null);
}

/// A server started as `arkiv serve` in its own process, on a free port.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

impl Server {
    fn start(data: &std::path::Path, extract_timeout_s: u64) -> Server {
        let port = free_port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_arkiv"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("ARKIV_DATA_DIR", data)
            .env("ARKIV_RATE_LIMIT", "0")
            .env("ARKIV_LOG", "warn")
            .env("ARKIV_EXTRACT_TIMEOUT_S", extract_timeout_s.to_string())
            .env("ARKIV_EXTRACT_MEMORY_MB", "192")
            .env("ARKIV_EXTRACT_CONCURRENCY", "4")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("arkiv serve starts");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let agent = agent();
        let started = Instant::now();
        loop {
            if let Ok(reply) = agent.get(format!("{}/healthz", server.base)).call() {
                if reply.status() == 200 {
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the server never answered"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The resident set of the server process, in KiB.
    fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .expect("VmRSS")
    }

    /// The pids of the server's children.
    fn children(&self) -> Vec<u32> {
        let mut children = Vec::new();
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // The parent's pid is the second field after the command's ')'.
            let parent = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|ppid| ppid.parse::<u32>().ok());
            if parent == Some(self.pid()) {
                children.push(pid);
            }
        }
        children
    }
}

fn editor_key(data: &std::path::Path) -> String {
    let args = ["keys", "create", "--role", "editor", "--name", "tests"];
    run_cli(data, &[], &args).trim().to_owned()
}

/// Creates a draft with an English variant and returns its ETag.
fn create_draft(agent: &ureq::Agent, server: &Server, key: &str, slug: &str) -> String {
    let body = json!({"slug": slug, "kind": "report", "variants": {"en": {"title": slug}}});
    let reply = agent
        .post(format!("{}/v1/publications", server.base))
        .header("Authorization", format!("Bearer {key}"))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .expect("create");
    assert_eq!(reply.status(), 201);
    reply
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("etag")
        .to_owned()
}

fn put_file(
    agent: &ureq::Agent,
    server: &Server,
    key: &str,
    slug: &str,
    etag: &str,
    bytes: &[u8],
) -> (u16, Value) {
    let mut reply = agent
        .put(format!(
            "{}/v1/publications/{slug}/variants/en/file",
            server.base
        ))
        .header("Authorization", format!("Bearer {key}"))
        .header("If-Match", etag)
        .header("Content-Type", "application/pdf")
        .send(bytes)
        .expect("upload");
    let status = reply.status().as_u16();
    let text = reply.body_mut().read_to_string().unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, body)
}

/// The real server, in its own process: four hostile uploads at once
/// leave it running (same pid), answering reads throughout, with its
/// memory nearly where it was; SIGTERM during an endless extraction ends
/// it within seconds, and it starts again on the same data.
#[test]
fn the_server_process_outlives_hostile_uploads_and_stops_promptly() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path();
    let key = editor_key(data);
    let server = Server::start(data, 8);
    let agent = agent();
    let pid = server.pid();
    let hostile = [
        ("self-drawing", pdfs::self_drawing_form(), "extract_crashed"),
        ("bomb", pdfs::flate_in_flate(1 << 30), "extract_memory"),
        ("endless", pdfs::endless_drawing(), "extract_timeout"),
        ("encrypted", pdfs::encrypted(), "encrypted"),
    ];
    let etags: Vec<String> = hostile
        .iter()
        .map(|(slug, _, _)| create_draft(&agent, &server, &key, slug))
        .collect();
    let rss_before = server.rss_kib();
    let results = std::thread::scope(|scope| {
        let uploads: Vec<_> = hostile
            .iter()
            .zip(&etags)
            .map(|((slug, bytes, _), etag)| {
                let (agent, server, key) = (&agent, &server, &key);
                scope.spawn(move || {
                    let started = Instant::now();
                    let (status, body) = put_file(agent, server, key, slug, etag, bytes);
                    (status, body, started.elapsed())
                })
            })
            .collect();
        // Readers are served while the four extractions run.
        let mut reads = 0;
        while uploads.iter().any(|upload| !upload.is_finished()) {
            for path in [
                "/healthz",
                "/v1/publications/conclusions-expert-discussion-2024-10-31",
            ] {
                let started = Instant::now();
                let reply = agent
                    .get(format!("{}{path}", server.base))
                    .call()
                    .expect("read");
                assert_eq!(reply.status(), 200, "{path}");
                assert!(
                    started.elapsed() < Duration::from_secs(5),
                    "{path} took {:?}",
                    started.elapsed()
                );
                reads += 1;
            }
        }
        assert!(reads > 0);
        uploads
            .into_iter()
            .map(|upload| upload.join().expect("upload thread"))
            .collect::<Vec<_>>()
    });
    for ((slug, _, error), (status, body, took)) in hostile.iter().zip(&results) {
        assert_eq!(*status, 200, "{slug}: {body}");
        assert_eq!(body["file"]["text_status"], "failed", "{slug}: {body}");
        assert_eq!(body["file"]["text_error"], *error, "{slug}: {body}");
        assert!(*took < Duration::from_secs(8 + 10), "{slug} took {took:?}");
    }
    assert_eq!(server.pid(), pid);
    let rss_after = server.rss_kib();
    assert!(
        rss_after < rss_before + 100 * 1024,
        "the server grew from {rss_before} KiB to {rss_after} KiB"
    );
    assert!(server.children().is_empty(), "every extractor was reaped");
    drop(server);

    // SIGTERM while a child extracts for up to a minute.
    let mut server = Server::start(data, 60);
    let etag = create_draft(&agent, &server, &key, "endless-at-shutdown");
    let (pid, base) = (server.pid(), server.base.clone());
    let upload = std::thread::spawn({
        let (agent, key) = (agent.clone(), key.clone());
        move || {
            agent
                .put(format!(
                    "{base}/v1/publications/endless-at-shutdown/variants/en/file"
                ))
                .header("Authorization", format!("Bearer {key}"))
                .header("If-Match", etag)
                .send(&pdfs::endless_drawing()[..])
                .map(|reply| reply.status().as_u16())
        }
    });
    let waiting = Instant::now();
    let extractor = loop {
        if let Some(child) = server.children().first() {
            break *child;
        }
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "no extraction started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let asked = Instant::now();
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).expect("pid")).expect("pid");
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
    let exit = server.child.wait().expect("the server exits");
    let took = asked.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "the server took {took:?} to stop"
    );
    assert!(exit.success(), "{exit:?}");
    assert!(
        !std::path::Path::new(&format!("/proc/{extractor}")).exists()
            || std::fs::read_to_string(format!("/proc/{extractor}/stat"))
                .is_ok_and(|stat| stat.contains(") Z ")),
        "the extraction child was killed"
    );
    let _ = upload.join();
    // The index lock went with it: the server starts again at once.
    let again = Server::start(data, 8);
    let reply = agent
        .get(format!("{}/v1/publications?limit=1", again.base))
        .call()
        .expect("read");
    assert_eq!(reply.status(), 200);
}
