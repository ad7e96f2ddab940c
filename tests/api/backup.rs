//! `arkiv backup` and `arkiv restore`: a consistent copy taken while the
//! API takes writes, restored into a fresh data directory, equal to what
//! the archive held; a damaged backup is refused whole.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use actix_web::http::Method;
use actix_web::web;
use arkiv::domain::keys::Role;
use serde_json::json;

use super::{files::upload, pdfs, TestApp, TestDb};

/// Runs the command line with `env` and returns (success, stdout, stderr).
fn arkiv(env: &[(&str, &Path)], args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_arkiv"))
        .args(args)
        .env_remove("ARKIV_DATABASE_URL")
        .env("ARKIV_LOG", "warn")
        .envs(env.iter().map(|(name, value)| (*name, value.as_os_str())))
        .output()
        .expect("arkiv runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn export_lines(env: &[(&str, &Path)]) -> BTreeSet<String> {
    let (ok, out, err) = arkiv(env, &["export"]);
    assert!(ok, "{err}");
    out.lines().map(str::to_owned).collect()
}

#[actix_web::test]
async fn a_backup_taken_during_writes_restores_to_what_it_held() {
    let db = TestDb::new(super::Backend::Sqlite)
        .expect("SQLite")
        .with_demo();
    // Enough of an archive that copying it takes a moment.
    let archive: Vec<String> = (0..2000)
        .map(|i| {
            format!(
                r#"{{"type":"publication","slug":"archived-{i}","kind":"report","status":"published","published_on":"2024-01-01","variants":{{"en":{{"title":"Archived {i}","body":"{}"}}}}}}"#,
                "archived words ".repeat(150)
            )
        })
        .collect();
    db.import(&archive.join("\n"));
    let url = std::path::PathBuf::from(&db.url);
    let data = tempfile::tempdir().expect("temporary directory");
    let store = arkiv::files::FileStore::new(data.path().join("files"));
    let state = arkiv::state::AppState::new(db.db.clone(), 16 << 20, store)
        .expect("state")
        .with_extractor(super::extract_settings());
    let app = TestApp {
        db,
        state: web::Data::new(state),
        files: data,
        index_dir: None,
    };
    let data = app.files.path().to_owned();
    let editor = app.key(Role::Editor);

    // A file in the store, named by a publication.
    let made = app
        .send_json(
            Method::POST,
            "/v1/publications",
            Some(&editor),
            &json!({"slug": "with-annex", "kind": "report", "variants": {"en": {"title": "Annex"}}}),
        )
        .await;
    let uploaded = app
        .send(
            upload(
                "/v1/publications/with-annex/variants/en/file",
                &editor,
                pdfs::with_text("Backed up annex"),
            )
            .insert_header(("If-Match", made.header("etag").expect("etag"))),
        )
        .await;
    assert_eq!(uploaded.status, 200);
    let sha256 = uploaded.json()["file"]["sha256"]
        .as_str()
        .expect("sha256")
        .to_owned();

    // The backup runs in its own process while the API keeps writing.
    let backups = tempfile::tempdir().expect("temporary directory");
    let backup = backups.path().join("nightly");
    let mut running = Command::new(env!("CARGO_BIN_EXE_arkiv"))
        .args(["backup", backup.to_str().expect("path")])
        .env("ARKIV_DATA_DIR", &data)
        .env("ARKIV_DATABASE_URL", &url)
        .env("ARKIV_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("arkiv backup");
    let (written, status, stderr) =
        super::write_until_exit(&app, &editor, "during-backup", &mut running).await;
    assert!(status.success(), "{stderr}");
    assert!(written.len() >= 2, "the API wrote while the backup ran");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    assert_eq!(manifest["format"], "arkiv-backup/1");
    assert!(manifest["files"].get(&sha256).is_some(), "{manifest}");

    // Restored into a fresh data directory, it holds what it held: every
    // record as it was, and of the writes meanwhile only some.
    let fresh = tempfile::tempdir().expect("temporary directory");
    let (ok, _, err) = arkiv(
        &[("ARKIV_DATA_DIR", fresh.path())],
        &["restore", backup.to_str().expect("path")],
    );
    assert!(ok, "{err}");
    assert!(err.contains("rebuilt the search index"), "{err}");
    let original = export_lines(&[("ARKIV_DATA_DIR", &data), ("ARKIV_DATABASE_URL", &url)]);
    let restored = export_lines(&[("ARKIV_DATA_DIR", fresh.path())]);
    let missing: Vec<&String> = restored.difference(&original).collect();
    assert!(
        missing.is_empty(),
        "restored records the archive never held: {missing:?}"
    );
    for line in original.difference(&restored) {
        assert!(
            written
                .iter()
                .any(|slug| line.contains(&format!("\"slug\":\"{slug}\""))),
            "only writes made during the backup may be missing, not {line}"
        );
    }
    assert!(restored
        .iter()
        .any(|line| line.contains("\"slug\":\"with-annex\"")));
    let restored_file = fresh.path().join("files").join(&sha256[..2]).join(&sha256);
    assert_eq!(
        std::fs::read(restored_file).expect("the file came back"),
        pdfs::with_text("Backed up annex")
    );
    assert!(fresh.path().join("index").is_dir());

    // Into a data directory that holds an archive: refused.
    let (ok, _, err) = arkiv(
        &[("ARKIV_DATA_DIR", fresh.path())],
        &["restore", backup.to_str().expect("path")],
    );
    assert!(!ok);
    assert!(err.contains("fresh data directory"), "{err}");

    // A damaged backup is refused before anything is written.
    let stored = backup.join("files").join(&sha256[..2]).join(&sha256);
    let mut bytes = std::fs::read(&stored).expect("read");
    bytes[10] ^= 1;
    std::fs::write(&stored, bytes).expect("write");
    let other = tempfile::tempdir().expect("temporary directory");
    let (ok, _, err) = arkiv(
        &[("ARKIV_DATA_DIR", other.path())],
        &["restore", backup.to_str().expect("path")],
    );
    assert!(!ok);
    assert!(err.contains("does not match the manifest"), "{err}");
    assert!(!other.path().join("arkiv.db").exists());

    // A backup never overwrites: the directory must be new or empty.
    let (ok, _, err) = arkiv(
        &[("ARKIV_DATA_DIR", &data), ("ARKIV_DATABASE_URL", &url)],
        &["backup", backup.to_str().expect("path")],
    );
    assert!(!ok);
    assert!(err.contains("not empty"), "{err}");
}

#[test]
fn on_postgresql_a_backup_holds_the_files_and_names_pg_dump() {
    let Some(db) = TestDb::new(super::Backend::Postgres) else {
        return;
    };
    let db = db.with_demo();
    let data = tempfile::tempdir().expect("temporary directory");
    let backup = data.path().join("backup");
    let url = std::path::PathBuf::from(&db.url);
    let (ok, _, err) = arkiv(
        &[
            ("ARKIV_DATA_DIR", data.path()),
            ("ARKIV_DATABASE_URL", &url),
        ],
        &["backup", backup.to_str().expect("path")],
    );
    assert!(ok, "{err}");
    assert!(err.contains("pg_dump"), "{err}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    assert_eq!(manifest["backend"], "postgres");
    assert_eq!(manifest["database"], serde_json::Value::Null);
}
