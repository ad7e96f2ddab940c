//! `/metrics`: request counts and latencies by route pattern and status,
//! index lag, webhook backlog and pool use, in a format Prometheus's own
//! Python parser reads.

use std::collections::BTreeMap;

use actix_web::http::Method;
use arkiv::domain::keys::Role;
use serde_json::{json, Value};

use actix_web::dev::Service;
use actix_web::test::{self, TestRequest};

use super::{assert_problem, python_parser, TestApp, TestDb};
use crate::on_both_backends;

/// Series → value, from the text format.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("series and value");
            (series.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

/// Parses the text with prometheus_client and lists each family's name,
/// type and number of samples; `null` without the parser.
const PARSE: &str = r#"
import json, sys
try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print("null")
    sys.exit()
families = {}
for family in text_string_to_metric_families(open(sys.argv[1]).read()):
    families[family.name] = {"type": family.type, "samples": len(family.samples)}
print(json.dumps(families))
"#;

on_both_backends!(metrics_count_requests_by_route_and_show_lag, |backend| {
    let app = TestApp::with_search(TestDb::new(backend).expect("backend").with_demo());
    let listed = app.get("/v1/publications").await.json();
    let slug = listed["items"][0]["slug"]
        .as_str()
        .expect("slug")
        .to_owned();
    for _ in 0..3 {
        assert_eq!(
            app.get(&format!("/v1/publications/{slug}")).await.status,
            200
        );
    }
    assert_eq!(app.get("/v1/publications/no-such-thing").await.status, 404);
    assert_eq!(app.get("/no/such/route").await.status, 404);

    let admin = format!("Bearer {}", app.key(Role::Admin));
    let with_key = [("Authorization", admin.as_str())];
    let scrape = || app.get_with("/metrics", &with_key);
    let reply = scrape().await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = String::from_utf8(reply.body.clone()).expect("UTF-8");
    let found = samples(&text);
    let detail = "method=\"GET\",route=\"/v1/publications/{id_or_slug}\"";
    assert_eq!(
        found[&format!("arkiv_http_requests_total{{{detail},status=\"200\"}}")],
        3.0
    );
    assert_eq!(
        found[&format!("arkiv_http_requests_total{{{detail},status=\"404\"}}")],
        1.0
    );
    assert_eq!(
        found[&format!(
            "arkiv_http_request_duration_seconds_bucket{{{detail},status=\"200\",le=\"+Inf\"}}"
        )],
        3.0
    );
    assert!(
        found.contains_key(
            "arkiv_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"
        ),
        "{text}"
    );
    assert!(!text.contains(&slug), "ids and slugs never become labels");
    assert_eq!(found["arkiv_index_lag"], 0.0);
    assert_eq!(found["arkiv_webhook_backlog"], 0.0);
    assert!(found["arkiv_db_pool_max"] >= 1.0);

    // A write the indexer has not applied yet is lag until it is.
    let editor = app.key(Role::Editor);
    let made = app
        .send_json(
            Method::POST,
            "/v1/publications",
            Some(&editor),
            &json!({"slug": "lagging", "kind": "report", "variants": {"en": {"title": "Lag"}}}),
        )
        .await;
    assert_eq!(made.status, 201);
    let lagging = samples(&String::from_utf8(scrape().await.body).expect("UTF-8"));
    assert_eq!(lagging["arkiv_index_lag"], 1.0);
    app.sync();
    let caught_up = samples(&String::from_utf8(scrape().await.body).expect("UTF-8"));
    assert_eq!(caught_up["arkiv_index_lag"], 0.0);

    let Some(families) = python_parser(PARSE, text.as_bytes(), &[], "prometheus_client") else {
        return;
    };
    let kind = |name: &str| families[name]["type"].clone();
    assert_eq!(kind("arkiv_http_requests"), Value::from("counter"));
    assert_eq!(
        kind("arkiv_http_request_duration_seconds"),
        Value::from("histogram")
    );
    for gauge in [
        "arkiv_index_lag",
        "arkiv_webhook_backlog",
        "arkiv_db_pool_connections",
    ] {
        assert_eq!(kind(gauge), Value::from("gauge"), "{gauge}");
    }
});

on_both_backends!(metrics_need_an_admin_key_or_their_own_listener, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    assert_problem(&app.get("/metrics").await, 401, "unauthorized");
    for role in [Role::Partner, Role::Editor] {
        let bearer = format!("Bearer {}", app.key(role));
        let reply = app
            .get_with("/metrics", &[("Authorization", &bearer)])
            .await;
        assert_problem(&reply, 403, "forbidden");
    }
    let admin = format!("Bearer {}", app.key(Role::Admin));
    let reply = app.get_with("/metrics", &[("Authorization", &admin)]).await;
    assert_eq!(reply.status, 200);
    assert!(String::from_utf8_lossy(&reply.body).contains("arkiv_http_requests_total"));

    // The listener of its own serves /metrics to anyone who reaches it,
    // and nothing else; the API's listener still refuses.
    let listener = test::init_service(arkiv::app::metrics_app(app.state.clone())).await;
    let response = listener
        .call(TestRequest::get().uri("/metrics").to_request())
        .await
        .expect("response");
    assert_eq!(response.status(), 200);
    let body = test::read_body(response).await;
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains(
            "arkiv_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"401\"}"
        ),
        "{text}"
    );
    for uri in ["/v1/publications", "/healthz", "/docs/"] {
        let response = listener
            .call(TestRequest::get().uri(uri).to_request())
            .await
            .expect("response");
        assert_eq!(response.status(), 404, "{uri}");
        assert_eq!(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
    }
    assert_problem(&app.get("/metrics").await, 401, "unauthorized");
});
