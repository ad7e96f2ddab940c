//! `GET /v1/export.ndjson`: the public archive for everyone, all of it for
//! admins, in a form `arkiv import` takes back.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use arkiv::domain::keys::Role;
use serde_json::{json, Value};

use super::{assert_problem, bearer, python_json, Backend, TestApp, TestDb};
use crate::on_both_backends;

fn publications(ndjson: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(ndjson)
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("one JSON record a line"))
        .filter(|record| record["type"] == "publication")
        .collect()
}

on_both_backends!(
    the_export_is_public_for_readers_and_whole_for_admins,
    |backend| {
        let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
        let (editor, admin) = (app.key(Role::Editor), app.key(Role::Admin));
        let draft = app
        .send_json(
            Method::POST,
            "/v1/publications",
            Some(&editor),
            &json!({"slug": "export-draft", "kind": "report", "variants": {"en": {"title": "Secret"}}}),
        )
        .await;
        assert_eq!(draft.status, 201);

        let public = app.get("/v1/export.ndjson").await;
        assert_eq!(public.status, 200);
        assert_eq!(
            public.header("content-type").as_deref(),
            Some("application/x-ndjson")
        );
        let listed = app.get("/v1/publications?limit=100").await.json();
        let exported = publications(&public.body);
        assert_eq!(
            exported.len() as u64,
            listed["total"].as_u64().expect("total")
        );
        assert!(exported.iter().all(|p| p["status"] == "published"));
        assert!(!String::from_utf8_lossy(&public.body).contains("export-draft"));

        let whole = app
            .send(
                TestRequest::get()
                    .uri("/v1/export.ndjson")
                    .insert_header(bearer(&admin)),
            )
            .await;
        assert!(
            String::from_utf8_lossy(&whole.body).contains("export-draft"),
            "admins get drafts"
        );
        assert!(publications(&whole.body).len() > exported.len());

        // What a partner downloads imports into an empty archive.
        let mirror = TestDb::new(Backend::Sqlite).expect("sqlite");
        let report = mirror.import(&String::from_utf8_lossy(&public.body));
        let created = report
            .created
            .get(&arkiv::domain::records::Entity::Publication)
            .copied()
            .unwrap_or(0);
        assert_eq!(created, exported.len(), "{report}");
        assert_problem(
            &app.get("/v1/export.ndjson?since=1").await,
            400,
            "unknown_query_parameter",
        );
    }
);

/// Reads CSV with Python's csv module (the standard library's parser).
fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let script = "import csv, json, sys\nwith open(sys.argv[1], encoding='utf-8-sig', newline='') as f:\n    print(json.dumps(list(csv.reader(f))))";
    serde_json::from_value(python_json(script, bytes, &[])).expect("rows")
}

on_both_backends!(the_list_comes_as_csv_with_its_filters, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let editor = app.key(Role::Editor);
    // A title with a comma, quotes and Serbian letters survives.
    let made = app
        .send_json(
            Method::POST,
            "/v1/publications",
            Some(&editor),
            &json!({"slug": "csv-check", "kind": "report", "status": "published", "published_on": "2026-01-05",
                    "authors": ["Đorđe Š.", "Ana"],
                    "variants": {"sr-Latn": {"title": "Voda, struja i \"dijalog\""}}}),
        )
        .await;
    assert_eq!(made.status, 201);
    let reply = app.get("/v1/publications.csv?lang=sr-Latn").await;
    assert_eq!(reply.status, 200);
    assert!(reply
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/csv")));
    let rows = read_csv(&reply.body);
    assert_eq!(rows[0][0], "id");
    assert_eq!(rows[0].len(), 17);
    let total = app.get("/v1/publications?limit=1").await.json()["total"]
        .as_u64()
        .expect("total");
    assert_eq!(
        rows.len() as u64 - 1,
        total,
        "every publication, not one page"
    );
    let row = rows
        .iter()
        .find(|r| r[1] == "csv-check")
        .expect("the new row");
    assert_eq!(row[6], "Voda, struja i \"dijalog\"");
    assert_eq!(row[8], "Đorđe Š.; Ana");
    let reports = read_csv(&app.get("/v1/publications.csv?kind=policy_paper").await.body);
    assert!(reports[1..].iter().all(|r| r[2] == "policy_paper"));
    assert_problem(
        &app.get("/v1/publications.csv?status=draft").await,
        401,
        "unauthorized",
    );
    assert_problem(
        &app.get("/v1/publications.csv?cursor=x").await,
        400,
        "unknown_query_parameter",
    );
});

on_both_backends!(csv_cells_never_start_a_formula, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let editor = app.key(Role::Editor);
    let titles = [
        (
            "csv-equals",
            "=HYPERLINK(\"https://attacker.invalid\",\"click\")",
        ),
        ("csv-plus", "+1+2"),
        ("csv-minus", "-2+3"),
        ("csv-at", "@SUM(A1:A9)"),
        ("csv-tab", "\t=1+1"),
        ("csv-plain", "Water, 2+2=4 and -ism"),
    ];
    for (slug, title) in titles {
        let made = app
            .send_json(
                Method::POST,
                "/v1/publications",
                Some(&editor),
                &json!({"slug": slug, "kind": "report", "status": "published",
                        "published_on": "2026-03-01", "authors": ["=cmd|' /C calc'!A0"],
                        "variants": {"en": {"title": title}}}),
            )
            .await;
        assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
    }
    let rows = read_csv(&app.get("/v1/publications.csv").await.body);
    for (slug, _) in titles {
        // As the API stores and serves it.
        let title = app.get(&format!("/v1/publications/{slug}")).await.json()["title"]
            .as_str()
            .expect("title")
            .to_owned();
        let row = rows.iter().find(|r| r[1] == slug).expect("the row");
        let expected = if title.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{title}")
        } else {
            title.clone()
        };
        assert_eq!(row[6], expected, "{slug}");
        assert_eq!(row[8], "'=cmd|' /C calc'!A0", "{slug}");
    }
    let plain = rows.iter().find(|r| r[1] == "csv-plain").expect("row");
    assert_eq!(plain[6], "Water, 2+2=4 and -ism");
    for (slug, _) in &titles[..5] {
        let row = rows.iter().find(|r| r[1] == *slug).expect("row");
        assert!(row[6].starts_with('\''), "{slug}: {:?}", row[6]);
    }
});
