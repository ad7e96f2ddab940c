//! `/v1/publications/{id_or_slug}/variants/{lang}/file`.

use actix_web::test::TestRequest;

use super::{assert_problem, bearer, TestApp, TestDb};
use crate::on_both_backends;

/// A tiny PDF and its SHA-256 (computed by the test, not trusted).
pub fn pdf() -> (Vec<u8>, String) {
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
        // Its JSON-LD lists the file of each language edition that has one.
        let ld = app
            .get("/v1/publications/with-file/citation?format=jsonld")
            .await
            .json();
        let encoding = ld["encoding"].as_array().cloned().unwrap_or_default();
        assert_eq!(encoding.len(), 1, "{ld}");
        assert_eq!(encoding[0]["@type"], "MediaObject");
        assert_eq!(encoding[0]["encodingFormat"], "application/pdf");
        assert_eq!(encoding[0]["inLanguage"], "en");
        assert_eq!(encoding[0]["contentSize"], bytes.len().to_string());
        assert!(encoding[0]["contentUrl"]
            .as_str()
            .is_some_and(|url| url.ends_with(uri)));
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

pub fn upload(uri: &str, key: &str, bytes: Vec<u8>) -> TestRequest {
    TestRequest::put()
        .uri(uri)
        .insert_header(bearer(key))
        .insert_header(("Content-Type", "application/pdf"))
        .set_payload(bytes)
}

on_both_backends!(an_uploaded_pdf_is_stored_served_and_searchable, |backend| {
    use arkiv::domain::keys::Role;
    let app = TestApp::with_search(TestDb::new(backend).expect("backend").with_demo());
    let (editor, partner) = (app.key(Role::Editor), app.key(Role::Partner));
    let made = app
        .send_json(
            actix_web::http::Method::POST,
            "/v1/publications",
            Some(&editor),
            &serde_json::json!({
                "slug": "annex-with-pdf", "kind": "report",
                "variants": {"en": {"title": "Annex"}, "sq": {"title": "Shtojca"}}
            }),
        )
        .await;
    assert_eq!(made.status, 201);
    let uri = "/v1/publications/annex-with-pdf/variants/en/file";
    let pdf = crate::api::pdfs::with_text("Quetzalcoatl hydrology appendix");

    // Who may upload, and what.
    assert_problem(
        &app.send(upload(uri, &partner, pdf.clone())).await,
        403,
        "forbidden",
    );
    // Every upload names the version it attaches to.
    let tag = made.header("etag").expect("etag");
    assert_problem(
        &app.send(upload(uri, &editor, pdf.clone())).await,
        428,
        "precondition_required",
    );
    let not_pdf = upload(uri, &editor, b"GIF89a not a pdf at all".to_vec())
        .insert_header(("If-Match", tag.clone()));
    assert_problem(&app.send(not_pdf).await, 415, "unsupported_media_type");
    let missing_variant = upload(
        "/v1/publications/annex-with-pdf/variants/sr-Cyrl/file",
        &editor,
        pdf.clone(),
    );
    assert_problem(&app.send(missing_variant).await, 404, "not_found");
    let traversal = upload(uri, &editor, pdf.clone())
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"../../etc/passwd\"",
        ))
        .insert_header(("If-Match", tag));
    let stored = app.send(traversal).await;
    assert_eq!(
        stored.status,
        200,
        "{}",
        String::from_utf8_lossy(&stored.body)
    );
    let detail = stored.json();
    assert_eq!(
        detail["file"]["name"], "passwd",
        "only the last component, as a name"
    );
    assert_eq!(detail["file"]["media_type"], "application/pdf");
    assert_eq!(detail["file"]["size"], pdf.len());
    assert_eq!(detail["file"]["text_extracted"], true);
    let sha256 = detail["file"]["sha256"]
        .as_str()
        .expect("sha256")
        .to_owned();
    let on_disk = app.files.path().join(&sha256[..2]).join(&sha256);
    assert_eq!(std::fs::read(&on_disk).expect("stored by hash"), pdf);
    assert!(
        std::fs::read_dir(app.files.path().join("tmp")).map_or(0, |d| d.count()) == 0,
        "no upload left half-way"
    );

    // A draft's file stays private (editors excepted); published, it is
    // served to all and its text found.
    assert_problem(&app.get(uri).await, 404, "not_found");
    let (name, value) = ("Authorization", format!("Bearer {editor}"));
    assert_eq!(app.get_with(uri, &[(name, &value)]).await.body, pdf);
    app.sync();
    assert_eq!(
        app.get("/v1/search?q=quetzalcoatl").await.json()["total"],
        0
    );
    let published = app
        .send(
            TestRequest::post()
                .uri("/v1/publications/annex-with-pdf/publish")
                .insert_header(bearer(&editor)),
        )
        .await;
    assert_eq!(published.status, 200);
    let served = app.get(uri).await;
    assert_eq!(served.status, 200);
    assert_eq!(served.body, pdf);
    let ranged = app.get_with(uri, &[("Range", "bytes=0-4")]).await;
    assert_eq!(ranged.status, 206);
    assert_eq!(ranged.body, b"%PDF-");
    app.sync();
    let found = app.get("/v1/search?q=quetzalcoatl").await.json();
    assert_eq!(found["total"], 1, "a word only inside the PDF: {found}");
    assert_eq!(found["items"][0]["slug"], "annex-with-pdf");

    // Replacing a file needs If-Match; a broken PDF is kept, without text.
    let replace = upload(uri, &editor, b"%PDF-1.4\ntruncated".to_vec());
    assert_problem(&app.send(replace).await, 428, "precondition_required");
    let etag = published.header("etag").expect("etag");
    let replaced = app
        .send(
            upload(uri, &editor, b"%PDF-1.4\ntruncated".to_vec()).insert_header(("If-Match", etag)),
        )
        .await;
    assert_eq!(
        replaced.status,
        200,
        "{}",
        String::from_utf8_lossy(&replaced.body)
    );
    assert_eq!(replaced.json()["file"]["text_extracted"], false);
    app.sync();
    assert_eq!(
        app.get("/v1/search?q=quetzalcoatl").await.json()["total"],
        0,
        "the old text left the index"
    );
    // Detaching the file needs If-Match too.
    let detach = |tag: Option<String>| {
        let mut request = TestRequest::delete()
            .uri(uri)
            .insert_header(bearer(&editor));
        if let Some(tag) = tag {
            request = request.insert_header(("If-Match", tag));
        }
        request
    };
    assert_problem(&app.send(detach(None)).await, 428, "precondition_required");
    let detached = app.send(detach(replaced.header("etag"))).await;
    assert_eq!(
        detached.status,
        200,
        "{}",
        String::from_utf8_lossy(&detached.body)
    );
    assert_eq!(detached.json()["file"], serde_json::Value::Null);
    assert_problem(&app.get(uri).await, 404, "not_found");
});

on_both_backends!(
    uploads_over_the_limit_are_refused_and_leave_nothing,
    |backend| {
        use arkiv::domain::keys::Role;
        let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
        let state = arkiv::state::AppState::new(
            app.db.db.clone(),
            16 << 20,
            arkiv::files::FileStore::new(app.files.path().to_owned()),
        )
        .expect("state")
        .with_upload_limit(1024);
        let app = TestApp {
            state: actix_web::web::Data::new(state),
            ..app
        };
        let editor = app.key(Role::Editor);
        let uri = "/v1/publications/conclusions-expert-discussion-2024-10-31/variants/en/file";
        let mut big = b"%PDF-1.4\n".to_vec();
        big.resize(4096, b' ');
        assert_problem(
            &app.send(upload(uri, &editor, big)).await,
            413,
            "payload_too_large",
        );
        let stored: usize = std::fs::read_dir(app.files.path())
            .map(|dirs| dirs.count())
            .unwrap_or(0);
        let leftovers = std::fs::read_dir(app.files.path().join("tmp")).map_or(0, |d| d.count());
        assert_eq!(
            leftovers, 0,
            "nothing half-written ({stored} entries in the store)"
        );
        let detail = app
            .get("/v1/publications/conclusions-expert-discussion-2024-10-31")
            .await
            .json();
        assert_eq!(
            detail["file"],
            serde_json::Value::Null,
            "the publication is unchanged"
        );
    }
);
