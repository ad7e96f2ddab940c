//! `/v1/publications/{id_or_slug}/variants/{lang}/file`.

use actix_web::test::TestRequest;

use super::{assert_problem, TestApp, TestDb};
use crate::on_both_backends;

/// A tiny PDF and its SHA-256 (computed by the test, not trusted).
fn pdf() -> (Vec<u8>, String) {
    let bytes = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let output = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(&bytes)?;
            child.wait_with_output()
        })
        .expect("sha256sum");
    let hex = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    (bytes, hex)
}

on_both_backends!(
    files_are_served_with_ranges_etags_and_safe_names,
    |backend| {
        let (bytes, sha256) = pdf();
        let db = TestDb::new(backend).expect("backend");
        db.import(&format!(
        concat!(
            r#"{{"type":"publication","slug":"with-file","kind":"report","status":"published","published_on":"2024-01-01","#,
            r#""variants":{{"en":{{"title":"T","file":{{"sha256":"{sha}","size":{size},"media_type":"application/pdf","name":"../Përfundimet \"final\".pdf"}}}},"#,
            r#""sq":{{"title":"T"}}}}}}"#, "\n",
            r#"{{"type":"publication","slug":"draft-with-file","kind":"report","status":"draft","#,
            r#""variants":{{"en":{{"title":"T","file":{{"sha256":"{sha}","size":{size},"media_type":"application/pdf","name":"d.pdf"}}}}}}}}"#
        ),
        sha = sha256,
        size = bytes.len()
    ));
        let app = TestApp::new(db);
        let uri = "/v1/publications/with-file/variants/en/file";
        // Named in the archive but not yet in the store: a 404 that says so.
        assert_problem(&app.get(uri).await, 404, "not_found");

        let dir = app.files.path().join(&sha256[..2]);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(&sha256), &bytes).expect("write");
        let reply = app.get(uri).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, bytes);
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("application/pdf")
        );
        let disposition = reply
            .header("content-disposition")
            .expect("Content-Disposition");
        assert!(
            disposition.starts_with("inline; filename=\"P_rfundimet final.pdf\""),
            "{disposition}"
        );
        assert!(
            disposition.contains("filename*=UTF-8''P%C3%ABrfundimet%20final.pdf"),
            "{disposition}"
        );
        let etag = reply.header("etag").expect("ETag");
        assert_eq!(
            app.get_with(uri, &[("If-None-Match", &etag)]).await.status,
            304
        );
        let partial = app
            .send(
                TestRequest::get()
                    .uri(uri)
                    .insert_header(("Range", "bytes=0-7")),
            )
            .await;
        assert_eq!(partial.status, 206);
        assert_eq!(partial.body, b"%PDF-1.4");

        assert_problem(
            &app.get("/v1/publications/with-file/variants/sq/file").await,
            404,
            "not_found",
        );
        assert_problem(
            &app.get("/v1/publications/with-file/variants/de/file").await,
            400,
            "invalid_parameter",
        );
        assert_problem(
            &app.get("/v1/publications/draft-with-file/variants/en/file")
                .await,
            404,
            "not_found",
        );
        assert_problem(
            &app.get("/v1/publications/nothing/variants/en/file").await,
            404,
            "not_found",
        );
    }
);

#[test]
fn file_metadata_is_checked_on_import() {
    let line = r#"{"type":"publication","slug":"p","kind":"report","status":"draft","variants":{"en":{"title":"T","file":{"sha256":"../../etc/passwd","size":-1,"media_type":"pdf","name":""}}}}"#;
    let Err(arkiv::import::ImportError::Invalid(errors)) = arkiv::import::parse(line.as_bytes())
    else {
        panic!("bad file metadata must be refused");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "variants.en.file.sha256",
            "variants.en.file.size",
            "variants.en.file.media_type",
            "variants.en.file.name"
        ]
    );
}
