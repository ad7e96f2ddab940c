//! Reader statistics: what counts as a view or a download, the beacon, the
//! flush into daily rows, and the reads (`/v1/publications/{id}/stats`,
//! `/v1/stats/top`, `/v1/stats/report.csv`).

use std::net::SocketAddr;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use arkiv::domain::keys::Role;
use serde_json::{json, Value};

use super::{assert_problem, bearer, demo_app, Reply, TestApp, TestDb};
use crate::on_both_backends;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// A GET by reader number `reader` (its own address) with a browser's
/// user agent.
fn read_as(uri: &str, reader: u8) -> TestRequest {
    TestRequest::get()
        .uri(uri)
        .insert_header(("User-Agent", FIREFOX))
        .peer_addr(SocketAddr::from(([192, 0, 2, reader], 40_000)))
}

/// Writes what the app counted into the database, as its flush thread does.
fn flush(app: &TestApp) -> usize {
    let mut conn = app.db.db.conn().expect("connection");
    app.state.stats.flush(&mut conn).expect("flush")
}

/// A publication's readers as its stats endpoint tells them (read with an
/// editor key, which is never counted).
async fn stats_of(app: &TestApp, slug: &str, query: &str) -> Value {
    let editor = app.key(Role::Editor);
    let reply = app
        .send(
            TestRequest::get()
                .uri(&format!("/v1/publications/{slug}/stats{query}"))
                .insert_header(bearer(&editor)),
        )
        .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

async fn ok(app: &TestApp, request: TestRequest) -> Reply {
    let reply = app.send(request).await;
    assert!(
        reply.status.is_success(),
        "{}: {}",
        reply.status,
        String::from_utf8_lossy(&reply.body)
    );
    reply
}

on_both_backends!(views_are_counted_as_counter_says, |backend| {
    let app = demo_app(backend);
    let (editor, partner, admin) = (
        app.key(Role::Editor),
        app.key(Role::Partner),
        app.key(Role::Admin),
    );
    let slug = "media-monitoring-report-2024-q4";
    let sq = format!("/v1/publications/{slug}?lang=sq");

    // One reader, one view; the same reader again within 30 s is the
    // same view (COUNTER's double-click rule).
    ok(&app, read_as(&sq, 1)).await;
    ok(&app, read_as(&sq, 1)).await;
    // Robots, keys and HEAD are not readers.
    for agent in [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "curl/8.5.0",
        "python-requests/2.31.0",
    ] {
        ok(&app, read_as(&sq, 2).insert_header(("User-Agent", agent))).await;
    }
    ok(
        &app,
        TestRequest::get()
            .uri(&sq)
            .peer_addr(SocketAddr::from(([192, 0, 2, 3], 1))),
    )
    .await;
    for key in [&editor, &partner, &admin] {
        ok(&app, read_as(&sq, 4).insert_header(bearer(key))).await;
    }
    ok(&app, read_as(&sq, 5).method(Method::HEAD)).await;
    // A conditional read that is answered 304 is the reader seeing the
    // page again: counted, once.
    let first = ok(&app, read_as(&sq, 6)).await;
    let etag = first.header("etag").expect("ETag");
    let again = app
        .send(read_as(&sq, 7).insert_header(("If-None-Match", etag)))
        .await;
    assert_eq!(again.status, 304);
    // The same reader in another language is another view.
    ok(
        &app,
        read_as(&format!("/v1/publications/{slug}?lang=en"), 1),
    )
    .await;

    assert!(flush(&app) > 0);
    let stats = stats_of(&app, slug, "?interval=day").await;
    assert_eq!(
        stats["total"],
        json!({"views": 4, "downloads": 0}),
        "{stats}"
    );
    assert_eq!(stats["languages"]["sq"]["views"], 3, "{stats}");
    assert_eq!(stats["languages"]["en"]["views"], 1, "{stats}");
    assert_eq!(stats["all_time"]["views"], 4, "{stats}");

    // 30 s later the same reader counts again.
    app.state.stats.clock.advance(chrono::Duration::seconds(29));
    ok(&app, read_as(&sq, 1)).await;
    app.state.stats.clock.advance(chrono::Duration::seconds(1));
    ok(&app, read_as(&sq, 1)).await;
    flush(&app);
    let detail = app
        .send(
            TestRequest::get()
                .uri(&format!("/v1/publications/{slug}"))
                .insert_header(bearer(&editor)),
        )
        .await
        .json();
    assert_eq!(
        detail["stats"],
        json!({"views": 5, "downloads": 0}),
        "{detail}"
    );

    let metrics = app
        .send(
            TestRequest::get()
                .uri("/metrics")
                .insert_header(bearer(&admin)),
        )
        .await;
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.contains("arkiv_stats_reads_total{event=\"view\",outcome=\"counted\"} 5"),
        "{text}"
    );
    assert!(
        text.contains("arkiv_stats_reads_total{event=\"any\",outcome=\"robot\"} 4"),
        "{text}"
    );
    assert!(
        text.contains("arkiv_stats_reads_total{event=\"any\",outcome=\"repeat\"} 2"),
        "{text}"
    );
});

on_both_backends!(
    a_download_is_the_whole_file_or_a_range_from_its_start,
    |backend| {
        let app = demo_app(backend);
        let editor = app.key(Role::Editor);
        let (bytes, _) = crate::api::files::pdf();
        let uri = "/v1/publications/media-monitoring-report-2024-q4/variants/sq/file";
        let read = app
            .send(
                TestRequest::get()
                    .uri("/v1/publications/media-monitoring-report-2024-q4")
                    .insert_header(bearer(&editor)),
            )
            .await;
        let etag = read.header("etag").expect("ETag");
        let uploaded = app
            .send(crate::api::files::upload(uri, &editor, bytes).insert_header(("If-Match", etag)))
            .await;
        assert!(uploaded.status.is_success(), "{}", uploaded.status);

        ok(&app, read_as(uri, 1)).await;
        let middle = ok(&app, read_as(uri, 2).insert_header(("Range", "bytes=5-"))).await;
        assert_eq!(middle.status, 206);
        let start = ok(&app, read_as(uri, 3).insert_header(("Range", "bytes=0-3"))).await;
        assert_eq!(start.status, 206);
        ok(&app, read_as(uri, 4).method(Method::HEAD)).await;
        ok(&app, read_as(uri, 5).insert_header(bearer(&editor))).await;
        flush(&app);
        let stats = stats_of(&app, "media-monitoring-report-2024-q4", "").await;
        assert_eq!(
            stats["total"],
            json!({"views": 0, "downloads": 2}),
            "{stats}"
        );
        assert_eq!(stats["languages"]["sq"]["downloads"], 2, "{stats}");
    }
);

on_both_backends!(front_ends_report_views_with_a_beacon, |backend| {
    let app = demo_app(backend);
    app.db.import(concat!(
        r#"{"type":"publication","slug":"a-draft","kind":"report","status":"draft","variants":{"en":{"title":"Draft"}}}"#,
        "\n"
    ));
    let beacon = |body: Value, reader: u8| {
        TestRequest::post()
            .uri("/v1/stats/views")
            .insert_header(("User-Agent", FIREFOX))
            .peer_addr(SocketAddr::from(([198, 51, 100, reader], 1)))
            .set_json(body)
    };
    let slug = "conclusions-expert-discussion-2024-10-31";
    let counted = app
        .send(beacon(
            json!({"publication": slug, "language": "sr-Cyrl"}),
            1,
        ))
        .await;
    assert_eq!(counted.status, 204);
    assert!(counted.body.is_empty());
    // A repeat is accepted and not counted; sendBeacon's text/plain is
    // read as JSON; sr-Latn is an edition derived from Cyrillic.
    app.send(beacon(
        json!({"publication": slug, "language": "sr-Cyrl"}),
        1,
    ))
    .await;
    let plain = app
        .send(
            TestRequest::post()
                .uri("/v1/stats/views")
                .insert_header(("User-Agent", FIREFOX))
                .insert_header(("Content-Type", "text/plain;charset=UTF-8"))
                .set_payload(json!({"publication": slug, "language": "sr-Latn"}).to_string()),
        )
        .await;
    assert_eq!(plain.status, 204);
    flush(&app);
    let stats = stats_of(&app, slug, "").await;
    assert_eq!(stats["languages"]["sr-Cyrl"]["views"], 1, "{stats}");
    assert_eq!(stats["languages"]["sr-Latn"]["views"], 1, "{stats}");

    // What is refused, and why.
    let refused = [
        (
            json!({"publication": "no-such-thing", "language": "en"}),
            404,
            "not_found",
        ),
        (
            json!({"publication": "a-draft", "language": "en"}),
            404,
            "not_found",
        ),
        (
            json!({"publication": slug, "language": "xx"}),
            400,
            "invalid_body",
        ),
        (
            json!({"publication": "media-monitoring-report-2024-q3", "language": "sr-Cyrl"}),
            422,
            "validation_failed",
        ),
        (json!({"publication": slug}), 400, "invalid_body"),
        (
            json!({"publication": slug, "language": "en", "extra": 1}),
            400,
            "invalid_body",
        ),
        (
            json!({"publication": "../x", "language": "en"}),
            400,
            "invalid_body",
        ),
    ];
    for (body, status, code) in refused {
        assert_problem(&app.send(beacon(body, 2)).await, status, code);
    }
    let xml = app
        .send(
            TestRequest::post()
                .uri("/v1/stats/views")
                .insert_header(("Content-Type", "application/xml"))
                .set_payload("<view/>"),
        )
        .await;
    assert_problem(&xml, 415, "unsupported_media_type");
    let big = app
        .send(
            TestRequest::post()
                .uri("/v1/stats/views")
                .insert_header(("Content-Type", "application/json"))
                .set_payload(format!(
                    r#"{{"publication":"{slug}","language":"en","pad":"{}"}}"#,
                    "x".repeat(2000)
                )),
        )
        .await;
    assert_problem(&big, 413, "payload_too_large");
    flush(&app);
    assert_eq!(
        stats_of(&app, slug, "").await["total"]["views"],
        2,
        "refused beacons count nothing"
    );
});

on_both_backends!(
    most_read_lists_and_reports_show_only_published_work,
    |backend| {
        let app = demo_app(backend);
        let editor = app.key(Role::Editor);
        let first = "conclusions-informal-discussion-2024-10-24";
        let second = "media-monitoring-report-2024-q3";
        for reader in 1..=3 {
            ok(
                &app,
                read_as(&format!("/v1/publications/{first}?lang=en"), reader),
            )
            .await;
        }
        ok(
            &app,
            read_as(&format!("/v1/publications/{first}?lang=sq"), 9),
        )
        .await;
        for reader in 1..=2 {
            ok(
                &app,
                read_as(&format!("/v1/publications/{second}?lang=sq"), reader),
            )
            .await;
        }
        flush(&app);

        let top = app.get("/v1/stats/top?period=7d&lang=en").await;
        assert_eq!(top.status, 200);
        let top = top.json();
        let ranked: Vec<(&str, i64)> = top["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| {
                (
                    item["publication"]["slug"].as_str().unwrap_or_default(),
                    item["views"].as_i64().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(ranked, [(first, 4), (second, 2)], "{top}");
        assert_eq!(top["period"], "7d");
        assert_eq!(top["by"], "views");
        // "Most read in Albanian" counts Albanian reads only.
        let sq = app.get("/v1/stats/top?language=sq").await.json();
        let ranked: Vec<(&str, i64)> = sq["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| {
                (
                    item["publication"]["slug"].as_str().unwrap_or_default(),
                    item["views"].as_i64().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(ranked, [(second, 2), (first, 1)], "{sq}");
        // Filters of the list apply; nothing was downloaded.
        let youth = app
            .get("/v1/stats/top?project=strengthening-youth-civic-participation&limit=1")
            .await
            .json();
        assert_eq!(youth["items"][0]["publication"]["slug"], second, "{youth}");
        let downloads = app.get("/v1/stats/top?by=downloads").await.json();
        assert_eq!(downloads["items"], json!([]), "{downloads}");
        assert_problem(
            &app.get("/v1/stats/top?period=2d").await,
            400,
            "invalid_parameter",
        );
        assert_problem(
            &app.get("/v1/stats/top?limit=0").await,
            400,
            "invalid_parameter",
        );

        // The funder report: every language edition of the funder's
        // publications, zeros included.
        let report = app
            .get("/v1/stats/report.csv?funder=german-federal-foreign-office")
            .await;
        assert_eq!(report.status, 200);
        assert!(report
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/csv")));
        let text = String::from_utf8(report.body.clone()).expect("UTF-8");
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines[0], "slug,title,kind,language,views,downloads");
        assert!(
            lines
                .iter()
                .any(|line| line.starts_with(&format!("{first},"))
                    && line.ends_with(",discussion_conclusions,en,3,0")),
            "{text}"
        );
        assert!(
            lines
                .iter()
                .any(|line| line.starts_with(&format!("{first},")) && line.ends_with(",sq,1,0")),
            "{text}"
        );
        assert!(
            lines.iter().any(|line| line
                .starts_with("integrating-kosovo-serbs-challenges-and-opportunities,")
                && line.ends_with(",en,0,0")),
            "{text}"
        );
        assert!(!text.contains(second), "another funder's work: {text}");

        // Withdrawn, a publication leaves the lists and its counts are no
        // longer public.
        let withdrawn = app
            .act(
                &format!("/v1/publications/{first}/withdraw"),
                &editor,
                Some(json!({"reason": "superseded"})),
            )
            .await;
        assert!(withdrawn.status.is_success(), "{}", withdrawn.status);
        let top = app.get("/v1/stats/top?period=7d").await.json();
        let slugs: Vec<&str> = top["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|item| item["publication"]["slug"].as_str())
            .collect();
        assert_eq!(slugs, [second], "{top}");
        assert_problem(
            &app.get(&format!("/v1/publications/{first}/stats")).await,
            410,
            "withdrawn",
        );
        let report = app.get("/v1/stats/report.csv").await;
        assert!(!String::from_utf8_lossy(&report.body).contains(first));
        // Editors still see them.
        assert_eq!(stats_of(&app, first, "").await["total"]["views"], 4);
    }
);

on_both_backends!(days_are_utc_days, |backend| {
    let app = demo_app(backend);
    let slug = "media-monitoring-report-2024-q3";
    let uri = format!("/v1/publications/{slug}");
    let clock = &app.state.stats.clock;
    clock.set("2026-03-31T23:59:50Z".parse().expect("time"));
    ok(&app, read_as(&uri, 1)).await;
    // Twenty seconds later it is another day: a new key for readers, so
    // the same reader is counted on the new day.
    clock.advance(chrono::Duration::seconds(20));
    ok(&app, read_as(&uri, 1)).await;
    ok(&app, read_as(&uri, 2)).await;
    flush(&app);
    let by_day = stats_of(&app, slug, "?from=2026-03-30&to=2026-04-01&interval=day").await;
    assert_eq!(
        by_day["series"],
        json!([
            {"start": "2026-03-30", "views": 0, "downloads": 0},
            {"start": "2026-03-31", "views": 1, "downloads": 0},
            {"start": "2026-04-01", "views": 2, "downloads": 0},
        ]),
        "{by_day}"
    );
    let by_month = stats_of(&app, slug, "?from=2026-03-15&to=2026-04-30").await;
    assert_eq!(by_month["interval"], "month");
    assert_eq!(
        by_month["series"],
        json!([
            {"start": "2026-03-01", "views": 1, "downloads": 0},
            {"start": "2026-04-01", "views": 2, "downloads": 0},
        ]),
        "{by_month}"
    );
    // Today (by the same clock) is the default end; a year the default span.
    let default = stats_of(&app, slug, "").await;
    assert_eq!(default["to"], "2026-04-01");
    assert_eq!(default["from"], "2025-04-02");
    assert_eq!(default["total"]["views"], 3);
    assert_problem(
        &app.get(&format!(
            "/v1/publications/{slug}/stats?from=2026-04-02&to=2026-04-01"
        ))
        .await,
        400,
        "invalid_parameter",
    );
    assert_problem(
        &app.get(&format!(
            "/v1/publications/{slug}/stats?from=2000-01-01&to=2026-04-01"
        ))
        .await,
        400,
        "invalid_parameter",
    );
    assert_problem(
        &app.get(&format!("/v1/publications/{slug}/stats?interval=week"))
            .await,
        400,
        "invalid_parameter",
    );
});

on_both_backends!(two_servers_on_one_database_add_up, |backend| {
    let app = demo_app(backend);
    let other_db = app.db.another_writer();
    let files = tempfile::tempdir().expect("temporary directory");
    let other = actix_web::web::Data::new(
        arkiv::state::AppState::new(
            other_db.db.clone(),
            16 << 20,
            arkiv::files::FileStore::new(files.path().to_owned()),
        )
        .expect("state"),
    );
    let slug = "media-monitoring-report-2024-q3";
    let uri = format!("/v1/publications/{slug}");
    for reader in 1..=2 {
        ok(&app, read_as(&uri, reader)).await;
    }
    {
        use actix_web::dev::Service;
        let service = actix_web::test::init_service(arkiv::app::app(other.clone())).await;
        for reader in 10..=12 {
            let response = service
                .call(read_as(&uri, reader).to_request())
                .await
                .expect("response");
            assert_eq!(response.status(), 200);
        }
    }
    flush(&app);
    let mut conn = other_db.db.conn().expect("connection");
    other.stats.flush(&mut conn).expect("flush");
    // Each flush added to the same rows; a refresh shows each server the sum.
    flush(&app);
    let id = app.get(&uri).await.json()["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(app.state.stats.totals(&id).views, 5);
    assert_eq!(other.stats.totals(&id).views, 5);
    assert_eq!(stats_of(&app, slug, "").await["total"]["views"], 5);
});

/// The server flushes every `ARKIV_STATS_FLUSH_S`: a kill -9 loses at most
/// what was counted since the last flush, and a stop loses nothing.
#[test]
fn a_crash_loses_at_most_one_flush_interval() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let db = TestDb::new(super::Backend::Sqlite)
        .expect("SQLite")
        .with_demo();
    let data = tempfile::tempdir().expect("temporary directory");
    let slug = "media-monitoring-report-2024-q3";
    let views = |conn: &mut arkiv::db::Conn| -> i64 {
        arkiv::db::stats::totals_since(conn, None)
            .expect("totals")
            .iter()
            .map(|row| row.views)
            .sum()
    };
    let start = || {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("address")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_arkiv"))
            .env("ARKIV_DATA_DIR", data.path())
            .env("ARKIV_DATABASE_URL", &db.url)
            .env("ARKIV_BIND", format!("127.0.0.1:{port}"))
            .env("ARKIV_NO_DEMO", "1")
            .env("ARKIV_STATS_FLUSH_S", "1")
            .env("ARKIV_RATE_LIMIT", "0")
            .env("ARKIV_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("arkiv serve");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while ureq::get(&format!("{base}/healthz")).call().is_err() {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        (child, base)
    };
    let view = |base: &str, reader: u32| {
        ureq::get(&format!("{base}/v1/publications/{slug}"))
            .header("User-Agent", &format!("{FIREFOX} reader/{reader}"))
            .call()
            .expect("a view");
    };
    let mut conn = db.db.conn().expect("connection");

    let (mut child, base) = start();
    for reader in 0..3 {
        view(&base, reader);
    }
    // Within about one interval the three are in the database.
    let deadline = Instant::now() + Duration::from_secs(10);
    while views(&mut conn) < 3 {
        assert!(Instant::now() < deadline, "no flush within 10 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    for reader in 3..5 {
        view(&base, reader);
    }
    child.kill().expect("kill -9");
    child.wait().expect("exit");
    let kept = views(&mut conn);
    assert!((3..=5).contains(&kept), "{kept} views kept of 5");

    // A stop (SIGTERM) flushes what is left before the process ends.
    let (mut child, base) = start();
    for reader in 10..14 {
        view(&base, reader);
    }
    let pid =
        rustix::process::Pid::from_raw(i32::try_from(child.id()).expect("a pid")).expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
    assert!(child.wait().expect("exit").success());
    assert_eq!(views(&mut conn), kept + 4);
}

on_both_backends!(
    behind_a_trusted_proxy_readers_are_told_apart_by_its_header,
    |backend| {
        let mut app = demo_app(backend);
        let slug = "media-monitoring-report-2024-q3";
        let uri = format!("/v1/publications/{slug}");
        // Two readers behind one proxy: without trusting it, both are the
        // proxy's address, so the second is a repeat of the first.
        let through_proxy =
            |client: &str| read_as(&uri, 200).insert_header(("X-Forwarded-For", client.to_owned()));
        ok(&app, through_proxy("203.0.113.1")).await;
        ok(&app, through_proxy("203.0.113.2")).await;
        flush(&app);
        assert_eq!(stats_of(&app, slug, "").await["total"]["views"], 1);

        app.restart(|state| {
            state.with_proxies(arkiv::http::proxy::TrustedProxies::hops(1).expect("one hop"))
        });
        ok(&app, through_proxy("203.0.113.1")).await;
        ok(&app, through_proxy("203.0.113.2")).await;
        ok(&app, through_proxy("203.0.113.2")).await;
        flush(&app);
        assert_eq!(stats_of(&app, slug, "").await["total"]["views"], 3);
    }
);
