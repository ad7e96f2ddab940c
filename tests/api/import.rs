//! Import and export: idempotent by slug, all or nothing, errors by line and
//! field, export → import round trips, make-corpus output imports as it is.

use std::path::Path;
use std::process::Command;

use arkiv::domain::records::Entity;
use arkiv::import::{ImportError, ImportReport};
use diesel::prelude::*;

use super::publications::fixture;
use super::{TestApp, TestDb};
use crate::on_both_backends;

fn count(map: &std::collections::HashMap<Entity, usize>, entity: Entity) -> usize {
    map.get(&entity).copied().unwrap_or(0)
}

fn change_log_length(db: &TestDb) -> i64 {
    use arkiv::db::schema::changes;
    changes::table
        .count()
        .get_result(&mut **db.db.conn().expect("connection"))
        .expect("count")
}

fn export(db: &TestDb) -> String {
    let mut out = Vec::new();
    arkiv::import::export::export(&mut db.db.conn().expect("connection"), &mut out)
        .expect("export");
    String::from_utf8(out).expect("UTF-8")
}

on_both_backends!(reimport_updates_by_slug_and_never_duplicates, |backend| {
    let db = TestDb::new(backend).expect("backend");
    let first = db.import(&fixture(10));
    assert_eq!(count(&first.created, Entity::Publication), 12);
    assert_eq!(count(&first.created, Entity::Project), 2);
    let log = change_log_length(&db);
    assert_eq!(
        log,
        12 + 2 + 2 + 1,
        "one change-log entry per created entity"
    );

    let again = db.import(&fixture(10));
    assert_eq!(ImportReport::total(&again.created), 0);
    assert_eq!(ImportReport::total(&again.updated), 0);
    assert_eq!(count(&again.unchanged, Entity::Publication), 12);
    assert_eq!(
        change_log_length(&db),
        log,
        "an unchanged re-import writes nothing"
    );

    let edited = fixture(10).replace("\"Title 003\"", "\"Title three\"");
    let third = db.import(&edited);
    assert_eq!(count(&third.updated, Entity::Publication), 1);
    assert_eq!(change_log_length(&db), log + 1);
    let app = TestApp::new(db);
    assert_eq!(
        app.get("/v1/publications/pub-003").await.json()["title"],
        "Title three"
    );
    assert_eq!(app.get("/v1/publications").await.json()["total"], 10);
});

on_both_backends!(
    a_bad_file_writes_nothing_and_names_line_and_field,
    |backend| {
        let db = TestDb::new(backend).expect("backend");
        let mut file = fixture(5);
        file.push_str("\n{\"type\":\"publication\",\"slug\":\"orphan\",\"kind\":\"report\",\"status\":\"published\",\"published_on\":\"2024-01-01\",\"project\":\"missing-project\",\"variants\":{\"en\":{\"title\":\"Orphan\"}}}");
        file.push_str("\n{\"type\":\"publication\",\"slug\":\"pub-001\",\"kind\":\"report\",\"status\":\"draft\",\"variants\":{\"en\":{\"title\":\"Twice\"}}}");
        let lines = arkiv::import::parse(file.as_bytes()).expect("every line parses alone");
        let error = arkiv::import::import(
            &mut db.db.conn().expect("connection"),
            &lines,
            &arkiv::progress::Silent,
        )
        .expect_err("the file must be refused");
        let ImportError::Invalid(errors) = error else {
            panic!("expected line errors, got {error}")
        };
        let located: Vec<(usize, &str)> =
            errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(located, vec![(13, "project"), (14, "slug")], "{errors:?}");
        assert!(errors[0].message.contains("missing-project"));
        assert!(
            errors[1].message.contains("line 7"),
            "{}",
            errors[1].message
        );
        assert_eq!(change_log_length(&db), 0, "nothing of the file was written");
        let app = TestApp::new(db);
        assert_eq!(app.get("/v1/publications").await.json()["total"], 0);
    }
);

on_both_backends!(export_then_import_reproduces_the_archive, |backend| {
    let source = TestDb::new(backend).expect("backend").with_demo();
    source.import(&fixture(12));
    let exported = export(&source);
    assert!(
        exported.contains("\"status\":\"draft\"") && exported.contains("\"status\":\"withdrawn\""),
        "every status is exported"
    );
    let target = TestDb::new(backend).expect("backend");
    let report = target.import(&exported);
    assert_eq!(count(&report.created, Entity::Publication), 8 + 12 + 2);
    assert_eq!(
        export(&target),
        exported,
        "a second export is byte for byte the first"
    );
    // Ids survive, so links to /v1/publications/{id} keep working.
    let (source_app, target_app) = (TestApp::new(source), TestApp::new(target));
    let uri = "/v1/publications/conclusions-expert-discussion-2024-10-31?lang=all";
    let (before, after) = (
        source_app.get(uri).await.json(),
        target_app.get(uri).await.json(),
    );
    assert_eq!(before["id"], after["id"]);
    assert_eq!(before["variants"], after["variants"]);
});

/// Path of the shared corpus generator, beside the project.
fn make_corpus() -> Option<std::path::PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/make-corpus");
    if path.exists() {
        Some(path)
    } else {
        assert!(
            std::env::var("CI").is_err(),
            "CI runs with ../shared beside the project"
        );
        eprintln!("skipped: ../shared/tools/make-corpus is not beside the project");
        None
    }
}

on_both_backends!(make_corpus_output_imports_as_it_is, |backend| {
    let Some(tool) = make_corpus() else { return };
    let output = Command::new("python3")
        .arg(&tool)
        .args(["--publications", "300", "--seed", "7"])
        .output()
        .expect("run make-corpus");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let corpus = String::from_utf8(output.stdout).expect("UTF-8");
    let drafts = corpus
        .lines()
        .filter(|l| l.contains("\"status\": \"draft\""))
        .count();
    let db = TestDb::new(backend).expect("backend");
    let report = db.import(&corpus);
    assert_eq!(count(&report.created, Entity::Publication), 300);
    let again = db.import(&corpus);
    assert_eq!(count(&again.unchanged, Entity::Publication), 300);
    let app = TestApp::new(db);
    let total = app.get("/v1/publications").await.json()["total"]
        .as_i64()
        .unwrap_or(-1);
    assert_eq!(total, 300 - drafts as i64);
});

#[test]
fn the_command_line_imports_exports_and_reports_bad_lines() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let arkiv = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_arkiv"))
            .env("ARKIV_DATA_DIR", dir.path())
            .env_remove("ARKIV_DATABASE_URL")
            .args(args)
            .output()
            .expect("run arkiv")
    };
    let good = dir.path().join("good.ndjson");
    std::fs::write(&good, fixture(3)).expect("write");
    let imported = arkiv(&["import", good.to_str().expect("path")]);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    assert!(String::from_utf8_lossy(&imported.stderr).contains("publication"));

    let bad = dir.path().join("bad.ndjson");
    std::fs::write(&bad, "{\"type\":\"field\",\"slug\":\"ok\",\"label\":{\"en\":\"OK\"}}\n{\"type\":\"field\",\"slug\":\"Bad Slug\",\"label\":{\"en\":\"x\"}}\n").expect("write");
    let refused = arkiv(&["import", bad.to_str().expect("path")]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("line 2: slug:"), "{stderr}");

    let exported = arkiv(&["export"]);
    assert!(exported.status.success());
    let text = String::from_utf8_lossy(&exported.stdout);
    assert_eq!(text.lines().count(), 5 + 3 + 2);
    assert!(
        !text.contains("\"slug\":\"ok\""),
        "the refused file left nothing behind"
    );
}

/// `arkiv import` in its own process while the API takes writes on the
/// same SQLite file: every import succeeds, every acknowledged write is
/// there after. Each import reads the archive first and writes after, so
/// it only succeeds beside a writer when it takes the write lock first.
#[actix_web::test]
async fn imports_succeed_beside_api_writes() {
    use arkiv::domain::keys::Role;
    let db = TestDb::new(super::Backend::Sqlite).expect("SQLite");
    db.import(&fixture(1));
    let url = db.url.clone();
    let app = TestApp::new(db);
    let editor = app.key(Role::Editor);
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut written = Vec::new();
    let rounds = 4;
    const PER_ROUND: usize = 3000;
    for round in 0..rounds {
        // A file large enough that the import takes a moment.
        let file = dir.path().join(format!("round-{round}.ndjson"));
        let lines: Vec<String> = (0..PER_ROUND)
            .map(|i| {
                format!(
                    r#"{{"type":"publication","slug":"imported-{round}-{i}","kind":"report","status":"published","published_on":"2024-01-01","project":"project-p","variants":{{"en":{{"title":"Imported {round} {i}","body":"{body}"}}}}}}"#,
                    body = "word ".repeat(200)
                )
            })
            .collect();
        std::fs::write(&file, lines.join("\n")).expect("write");
        let mut import = Command::new(env!("CARGO_BIN_EXE_arkiv"))
            .args(["import", file.to_str().expect("path")])
            .env("ARKIV_DATABASE_URL", &url)
            .env("ARKIV_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("arkiv import");
        let (slugs, status, stderr) =
            super::write_until_exit(&app, &editor, &format!("written-{round}"), &mut import).await;
        let writes = slugs.len();
        written.extend(slugs);
        assert!(
            status.success(),
            "import {round} failed beside {writes} writes: {stderr}"
        );
        assert!(writes > 1, "writes ran while import {round} did");
    }
    // Everything acknowledged is there.
    let editor_header = format!("Bearer {editor}");
    for slug in &written {
        let reply = app
            .get_with(
                &format!("/v1/publications/{slug}"),
                &[("Authorization", &editor_header)],
            )
            .await;
        assert_eq!(reply.status, 200, "{slug} was acknowledged, then lost");
    }
    let total = app.get("/v1/publications?limit=1").await.json()["total"].clone();
    assert_eq!(
        total,
        1 + rounds * PER_ROUND,
        "every imported publication is there"
    );
}

on_both_backends!(
    ids_are_unique_across_kinds_and_dates_say_what_is_wrong,
    |backend| {
        let db = TestDb::new(backend).expect("backend");
        let id = "01900000-0000-7000-8000-000000000001";
        let file = format!(
        "\u{feff}{{\"type\":\"field\",\"id\":\"{id}\",\"slug\":\"f\",\"label\":{{\"en\":\"F\"}}}}\n\
         {{\"type\":\"project\",\"id\":\"{id}\",\"slug\":\"p\",\"title\":{{\"en\":\"P\"}}}}\n"
    );
        let lines =
            arkiv::import::parse(file.as_bytes()).expect("a byte-order mark is not an error");
        let Err(ImportError::Invalid(errors)) = arkiv::import::import(
            &mut db.db.conn().expect("connection"),
            &lines,
            &arkiv::progress::Silent,
        ) else {
            panic!("the same id on a field and a project must be refused")
        };
        assert_eq!(
            (errors[0].line, errors[0].field.as_str()),
            (2, "id"),
            "{errors:?}"
        );

        // Stored ids count too.
        db.import(
            &file
                .lines()
                .next()
                .unwrap_or_default()
                .replace('\u{feff}', ""),
        );
        let project = format!("{{\"type\":\"event\",\"id\":\"{id}\",\"slug\":\"e\",\"kind\":\"summit\",\"title\":{{\"en\":\"E\"}},\"starts_on\":\"2024-01-01\"}}");
        let lines = arkiv::import::parse(project.as_bytes()).expect("parses");
        let refused = arkiv::import::import(
            &mut db.db.conn().expect("connection"),
            &lines,
            &arkiv::progress::Silent,
        );
        assert!(
            matches!(refused, Err(ImportError::Invalid(_))),
            "an id stored on a field can't name an event"
        );

        let bad_date = r#"{"type":"event","slug":"e","kind":"summit","title":{"en":"E"},"starts_on":"2024-02-30"}"#;
        let Err(ImportError::Invalid(errors)) = arkiv::import::parse(bad_date.as_bytes()) else {
            panic!("30 February must be refused")
        };
        assert_eq!(errors[0].field, "starts_on");
        assert!(
            errors[0].message.contains("YYYY-MM-DD"),
            "{}",
            errors[0].message
        );
    }
);

// PostgreSQL cannot store U+0000: such a line failed the whole import
// there with the database's own message, and SQLite stored it (so its
// export could not move to PostgreSQL). Now it is a bad line on both.
on_both_backends!(nul_characters_are_bad_lines, |backend| {
    let db = TestDb::new(backend).expect("backend");
    let file = concat!(
        r#"{"type":"field","slug":"water","label":{"en":"Water"}}"#,
        "\n",
        r#"{"type":"publication","slug":"p","kind":"report","status":"draft","authors":["A","B\u0000"],"variants":{"en":{"title":"T"}}}"#,
        "\n",
        r#"{"type":"field","slug":"air","label":{"en":"Air","sq":"Aj\u0000r"}}"#,
        "\n",
    );
    let Err(ImportError::Invalid(errors)) = arkiv::import::parse(file.as_bytes()) else {
        panic!("a NUL character must be refused")
    };
    let found: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(found, [(2, "authors[1]"), (3, "label.sq")], "{errors:?}");
    assert!(errors[0].message.contains("NUL"), "{}", errors[0].message);
    // The good line alone goes in: the refusal was the line's, not the database's.
    db.import(file.lines().next().unwrap_or_default());
});

/// Sends `GET path` over HTTP/1.0 and returns the status line and body.
fn http_get(port: u16, path: &str) -> std::io::Result<(String, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    Ok((
        head.lines().next().unwrap_or_default().to_owned(),
        body.to_owned(),
    ))
}

/// Kills the child process when the test ends, however it ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_migrates_loads_the_demo_once_and_answers() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let migrated = Command::new(env!("CARGO_BIN_EXE_arkiv"))
        .env("ARKIV_DATA_DIR", dir.path())
        .env_remove("ARKIV_DATABASE_URL")
        .arg("migrate")
        .output()
        .expect("run arkiv migrate");
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );

    let serve = |no_demo: &str| {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_arkiv"))
            .env("ARKIV_DATA_DIR", dir.path())
            .env("ARKIV_NO_DEMO", no_demo)
            .env_remove("ARKIV_DATABASE_URL")
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--workers",
                "1",
            ])
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start arkiv serve");
        let running = Running(child);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !http_get(port, "/readyz").is_ok_and(|(status, _)| status.contains(" 200 ")) {
            assert!(
                std::time::Instant::now() < deadline,
                "arkiv serve did not become ready"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        (running, port)
    };

    // With ARKIV_NO_DEMO=1 the empty archive stays empty.
    let (server, port) = serve("1");
    let (_, body) = http_get(port, "/v1/publications").expect("list");
    assert!(body.contains("\"total\":0"), "{body}");
    drop(server);

    // Without it, the demo archive is loaded into the empty database…
    let (server, port) = serve("0");
    let (status, body) = http_get(port, "/v1/publications?limit=100").expect("list");
    assert!(status.contains(" 200 "), "{status}");
    assert!(body.contains("\"total\":8"), "{body}");
    let (_, docs) = http_get(port, "/docs/").expect("docs");
    assert!(
        docs.contains("swagger"),
        "Swagger UI is served by the binary"
    );
    drop(server);

    // …and only once: a restart finds it there and adds nothing.
    let (_server, port) = serve("0");
    let (_, body) = http_get(port, "/v1/publications?limit=100").expect("list");
    assert!(body.contains("\"total\":8"), "{body}");
}
