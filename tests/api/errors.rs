//! Bad input: every malformed request is a problem+json 4xx that names what
//! was wrong, never a 5xx.

use actix_web::test::TestRequest;

use super::{assert_problem, bearer, demo_app, Backend};
use crate::on_both_backends;

on_both_backends!(malformed_requests_are_4xx_problems, |backend| {
    let app = demo_app(backend);
    let cases: &[(&str, u16, &str, &str)] = &[
        (
            "/v1/publications?limit=0",
            400,
            "invalid_parameter",
            "limit",
        ),
        (
            "/v1/publications?limit=101",
            400,
            "invalid_parameter",
            "limit",
        ),
        (
            "/v1/publications?limit=ten",
            400,
            "invalid_parameter",
            "limit",
        ),
        (
            "/v1/publications?limit=-1",
            400,
            "invalid_parameter",
            "limit",
        ),
        (
            "/v1/publications?limit=1&limit=2",
            400,
            "invalid_parameter",
            "limit",
        ),
        (
            "/v1/publications?cursor=garbage",
            400,
            "invalid_cursor",
            "cursor",
        ),
        (
            "/v1/publications?limit=%2B5",
            400,
            "invalid_parameter",
            "limit",
        ),
        (
            "/v1/publications?cursor=WyJ4Il0",
            400,
            "invalid_cursor",
            "cursor",
        ),
        (
            "/v1/publications?sort=newest",
            400,
            "invalid_parameter",
            "sort",
        ),
        (
            "/v1/publications?kind=book",
            400,
            "invalid_parameter",
            "kind",
        ),
        ("/v1/publications?year=24", 400, "invalid_parameter", "year"),
        (
            "/v1/publications?published_from=2024-13-01",
            400,
            "invalid_parameter",
            "published_from",
        ),
        (
            "/v1/publications?published_to=yesterday",
            400,
            "invalid_parameter",
            "published_to",
        ),
        (
            "/v1/publications?updated_since=soon",
            400,
            "invalid_parameter",
            "updated_since",
        ),
        (
            "/v1/publications?language=klingon!",
            400,
            "invalid_parameter",
            "language",
        ),
        (
            "/v1/publications?language=de",
            400,
            "invalid_parameter",
            "language",
        ),
        (
            "/v1/publications?lang=e%20n",
            400,
            "invalid_parameter",
            "lang",
        ),
        ("/v1/publications?lang=*", 400, "invalid_parameter", "lang"),
        (
            "/v1/publications?project=Not%20A%20Slug",
            400,
            "invalid_parameter",
            "project",
        ),
        (
            "/v1/publications?q=words",
            400,
            "unknown_query_parameter",
            "q",
        ),
        ("/v1/publications?lang=%FF", 400, "invalid_query_string", ""),
        (
            "/v1/publications?kind=%E2%82",
            400,
            "invalid_query_string",
            "",
        ),
        (
            "/v1/publications/Not%20a%20slug",
            400,
            "invalid_parameter",
            "id_or_slug",
        ),
        (
            "/v1/publications/UPPER",
            400,
            "invalid_parameter",
            "id_or_slug",
        ),
        ("/v1/publications/no-such-publication", 404, "not_found", ""),
        (
            "/v1/publications/0192f5e4-1c2b-7cc3-9a4e-6f1d2b3c4d5e",
            404,
            "not_found",
            "",
        ),
        (
            "/v1/publications/a--b",
            400,
            "invalid_parameter",
            "id_or_slug",
        ),
        (
            "/v1/projects/%2e%2e",
            400,
            "invalid_parameter",
            "id_or_slug",
        ),
        ("/v1/organisations/nobody", 404, "not_found", ""),
        (
            "/v1/organisations?role=donor",
            400,
            "invalid_parameter",
            "role",
        ),
        ("/v1/events?kind=party", 400, "invalid_parameter", "kind"),
        ("/v1/events/no-event", 404, "not_found", ""),
        ("/v1/fields/no-field", 404, "not_found", ""),
        (
            "/v1/fields?offset=5",
            400,
            "unknown_query_parameter",
            "offset",
        ),
        ("/v1/fields?limit=500", 400, "invalid_parameter", "limit"),
        ("/v1/nothing-here", 404, "route_not_found", ""),
        ("/nothing", 404, "route_not_found", ""),
    ];
    for (uri, status, code, field) in cases {
        let reply = app.get(uri).await;
        let problem = assert_problem(&reply, *status, code);
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{uri}: {problem}"
        );
        if !field.is_empty() {
            assert_eq!(problem["errors"][0]["field"], *field, "{uri}: {problem}");
        }
    }
    let long = format!("/v1/publications?kind={}", "a".repeat(10_000));
    assert_problem(&app.get(&long).await, 414, "query_too_long");
    // Upper-case UUIDs name the same resource as lower-case ones.
    let project = app
        .get("/v1/projects/dialogue-solutions-future")
        .await
        .json();
    let upper = project["id"].as_str().expect("id").to_uppercase();
    assert_eq!(
        app.get(&format!("/v1/projects/{upper}")).await.json()["slug"],
        "dialogue-solutions-future"
    );
    let filtered = app
        .get(&format!("/v1/publications?project={upper}"))
        .await
        .json();
    assert_eq!(filtered["total"], project["publications_total"]);
});

on_both_backends!(unknown_parameters_list_the_allowed_ones, |backend| {
    let app = demo_app(backend);
    let problem = assert_problem(
        &app.get("/v1/publications?colour=red&page=2").await,
        400,
        "unknown_query_parameter",
    );
    let allowed: Vec<&str> = problem["allowed"]
        .as_array()
        .expect("allowed")
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    for name in [
        "kind",
        "field",
        "project",
        "funder",
        "partner",
        "event",
        "language",
        "year",
        "published_from",
        "published_to",
        "updated_since",
        "sort",
        "limit",
        "cursor",
        "lang",
    ] {
        assert!(allowed.contains(&name), "{name} missing from {allowed:?}");
    }
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, vec!["colour", "page"]);
});

// DESIGN: `_`, `utm_*`, `fbclid`, `gclid`, `mc_cid` and `mc_eid` are
// ignored, so a link shared through a newsletter or a social site (or a
// jQuery cache-buster) still answers; anything close to them is refused.
on_both_backends!(tracking_parameters_are_ignored, |backend| {
    let app = crate::api::TestApp::with_search(
        crate::api::TestDb::new(backend)
            .expect("backend")
            .with_demo(),
    );
    let tags = "_=1733500000&utm_source=newsletter&utm_medium=email&fbclid=IwAR0x&gclid=Cj0K&mc_cid=ab12&mc_eid=cd34";
    for uri in [
        "/v1/publications?limit=2",
        "/v1/search?q=dialogue",
        "/v1/projects",
        "/v1/changes?limit=1",
        "/healthz",
    ] {
        let plain = app.get(uri).await;
        assert_eq!(plain.status, 200, "{uri}");
        let joiner = if uri.contains('?') { '&' } else { '?' };
        let tagged = app.get(&format!("{uri}{joiner}{tags}")).await;
        assert_eq!(tagged.status, 200, "{uri} with tracking tags");
        assert_eq!(tagged.body, plain.body, "{uri}: the tags change nothing");
    }
    for name in [
        "__",
        "utm",
        "utmsource",
        "fbclid2",
        "_utm_source",
        "UTM_source",
    ] {
        assert_problem(
            &app.get(&format!("/v1/publications?{name}=1")).await,
            400,
            "unknown_query_parameter",
        );
    }
});

on_both_backends!(other_methods_get_405_and_head_works, |backend| {
    let app = demo_app(backend);
    for (request, allowed) in [
        (
            TestRequest::put().uri("/v1/publications"),
            "GET, HEAD, POST",
        ),
        (
            TestRequest::post().uri("/v1/publications/conclusions-expert-discussion-2024-10-31"),
            "GET, HEAD, PUT, PATCH, DELETE",
        ),
        (
            TestRequest::get()
                .uri("/v1/publications/conclusions-expert-discussion-2024-10-31/publish"),
            "POST",
        ),
        (
            TestRequest::post().uri("/v1/projects/dialogue-solutions-future"),
            "GET, HEAD, PUT, PATCH, DELETE",
        ),
        (TestRequest::put().uri("/v1/errors"), "GET, HEAD"),
        (TestRequest::delete().uri("/v1/search"), "GET, HEAD"),
    ] {
        let reply = app.send(request).await;
        assert_problem(&reply, 405, "method_not_allowed");
        assert_eq!(reply.header("allow").as_deref(), Some(allowed));
    }
    assert_problem(
        &app.send(TestRequest::post().uri("/v1/nowhere")).await,
        404,
        "route_not_found",
    );
    let head = app
        .send(
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri("/v1/publications"),
        )
        .await;
    assert_eq!(head.status, 200);
    assert!(head.header("etag").is_some());
});

/// Every route answers the methods its `Allow` lists and only those: a
/// route registered with a method the 405 answers do not list (or listed
/// and not routed) fails here.
#[actix_web::test]
async fn each_route_takes_exactly_the_methods_405_lists() {
    use actix_web::dev::Service;
    use actix_web::http::Method;
    let app = super::TestApp::new(super::TestDb::new(Backend::Sqlite).expect("backend"));
    let service = actix_web::test::init_service(arkiv::app::app(app.state.clone())).await;
    let (_, api) = arkiv::openapi::utoipa_app().split_for_parts();
    let methods = arkiv::routes::RouteMethods::from_spec(&api, &arkiv::app::UNDOCUMENTED_ROUTES);
    let mut checked = 0;
    for (pattern, _) in methods.routes() {
        // One path the pattern matches: every segment variable is "x", a
        // tail (the API docs' files) is a file that exists.
        let mut path = String::new();
        let mut rest = pattern;
        while let Some(open) = rest.find('{') {
            path.push_str(&rest[..open]);
            let close = open + rest[open..].find('}').expect("closed variable");
            let tail = rest[open..close].ends_with(":.*");
            path.push_str(if tail { "index.html" } else { "x" });
            rest = &rest[close + 1..];
        }
        path.push_str(rest);
        let allowed = methods
            .allowed(&path)
            .expect("the path's own route matches it");
        for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            let request = TestRequest::default()
                .method(Method::from_bytes(method.as_bytes()).expect("method"))
                .uri(&path)
                .to_request();
            let reply = service.call(request).await.expect("response");
            let status = reply.status();
            let allow = reply
                .headers()
                .get("allow")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            let body = actix_web::body::to_bytes(reply.into_body())
                .await
                .unwrap_or_default();
            let code = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|body| body["code"].as_str().map(str::to_owned));
            let refused = status == 405 || code.as_deref() == Some("route_not_found");
            if allowed.split(", ").any(|listed| listed == method) {
                assert!(
                    !refused,
                    "{method} {path} is listed ({allowed}) but not routed"
                );
            } else {
                assert_eq!(
                    status, 405,
                    "{method} {path} is routed but not in Allow: {allowed}"
                );
                assert_eq!(allow.as_deref(), Some(allowed.as_str()), "{method} {path}");
            }
            checked += 1;
        }
    }
    assert!(checked > 200, "{checked} requests");
}

on_both_backends!(odd_headers_and_parameterless_endpoints, |backend| {
    let app = demo_app(backend);
    let garbled = app
        .get_with("/v1/publications", &[("Accept-Language", ";;;q=,,,")])
        .await;
    assert_eq!(garbled.status, 200);
    assert_eq!(
        garbled.json()["requested_languages"],
        serde_json::json!(["en"])
    );
    let odd_etag = app
        .get_with("/v1/publications", &[("If-None-Match", "garbage")])
        .await;
    assert_eq!(odd_etag.status, 200);
    for uri in [
        "/healthz?x=1",
        "/readyz?verbose",
        "/v1/errors?page=2",
        "/openapi.json?v=3",
    ] {
        assert_problem(&app.get(uri).await, 400, "unknown_query_parameter");
    }
    let table = app.get("/v1/errors").await.json();
    let codes: Vec<&str> = table["items"]
        .as_array()
        .expect("table")
        .iter()
        .filter_map(|row| row["code"].as_str())
        .collect();
    assert_eq!(table["total"].as_u64(), Some(codes.len() as u64));
    for code in [
        "invalid_cursor",
        "not_found",
        "method_not_allowed",
        "withdrawn",
        "query_too_long",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
});

/// A request with a JSON body nested `levels` deep.
fn nested(levels: usize) -> String {
    format!(
        r#"{{"slug": "deep", "kind": "report", "variants": {{"en": {{"title": "Deep", "authors": {}"x"{}}}}}}}"#,
        "[".repeat(levels),
        "]".repeat(levels)
    )
}

on_both_backends!(the_frameworks_own_errors_are_problems_too, |backend| {
    use actix_web::http::header::HeaderValue;
    use actix_web::http::Method;

    let app = demo_app(backend);
    let editor = app.key(arkiv::domain::keys::Role::Editor);
    let detail = "/v1/publications/conclusions-expert-discussion-2024-10-31";
    let get = |uri: &str| TestRequest::get().uri(uri);
    let json_post = |body: String| {
        TestRequest::post()
            .uri("/v1/publications")
            .insert_header(bearer(&editor))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body)
    };
    let obs_text = |bytes: &'static [u8]| HeaderValue::from_bytes(bytes).expect("obs-text");
    // (what, request, status, code)
    let cases: Vec<(&str, TestRequest, u16, &str)> = vec![
        (
            "byte not UTF-8",
            get("/v1/publications/%FF"),
            400,
            "invalid_path",
        ),
        (
            "bytes not UTF-8",
            get("/v1/publications/%C3%28/citation"),
            400,
            "invalid_path",
        ),
        (
            "bad escape",
            get("/v1/publications/%zz"),
            400,
            "invalid_path",
        ),
        ("cut escape", get("/docs/%E2%82"), 400, "invalid_path"),
        (
            "query not UTF-8",
            get("/v1/search?q=%C3%28"),
            400,
            "invalid_query_string",
        ),
        (
            "bad query escape",
            get("/v1/publications?kind=%ZZ"),
            400,
            "invalid_query_string",
        ),
        (
            "unknown route",
            get("/v1/nothing-here"),
            404,
            "route_not_found",
        ),
        (
            "unknown docs file",
            get("/docs/no-such-file.js"),
            404,
            "route_not_found",
        ),
        (
            "POST to a slug",
            TestRequest::post().uri("/v1/publications/publish"),
            405,
            "method_not_allowed",
        ),
        (
            "DELETE the spec",
            TestRequest::delete().uri("/openapi.json"),
            405,
            "method_not_allowed",
        ),
        (
            "POST to the docs",
            TestRequest::post().uri("/docs/"),
            405,
            "method_not_allowed",
        ),
        (
            "OPTIONS without CORS",
            TestRequest::default()
                .method(Method::OPTIONS)
                .uri("/v1/publications"),
            405,
            "method_not_allowed",
        ),
        ("100 levels", json_post(nested(100)), 400, "json_too_deep"),
        (
            "100,000 levels",
            json_post(nested(100_000)),
            400,
            "json_too_deep",
        ),
        (
            "cut JSON",
            json_post("{\"slug\": ".into()),
            400,
            "invalid_body",
        ),
        (
            "text/plain",
            json_post(nested(1)).insert_header(("Content-Type", "text/plain")),
            415,
            "unsupported_media_type",
        ),
        (
            "Content-Type not ASCII",
            json_post(nested(1)).insert_header(("Content-Type", obs_text(b"application/\xffjson"))),
            415,
            "unsupported_media_type",
        ),
        (
            "a body over the limit",
            TestRequest::post()
                .uri("/oai")
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .set_payload(vec![b'a'; (16 << 20) + 1]),
            413,
            "payload_too_large",
        ),
        (
            "Authorization not ASCII",
            get("/v1/fields").insert_header(("Authorization", obs_text(b"Bearer \xff"))),
            401,
            "unauthorized",
        ),
        (
            "If-Match not ASCII",
            TestRequest::patch()
                .uri(detail)
                .insert_header(bearer(&editor))
                .insert_header(("If-Match", obs_text(b"\"\xff\"")))
                .insert_header(("Content-Type", "application/merge-patch+json"))
                .set_payload("{}"),
            412,
            "precondition_failed",
        ),
    ];
    for (what, request, status, code) in cases {
        let reply = app.send(request).await;
        assert_eq!(
            reply.status.as_u16(),
            status,
            "{what}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        let problem = assert_problem(&reply, status, code);
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{what}: {problem}"
        );
        assert_eq!(
            reply.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{what}"
        );
    }

    // A 405 lists the methods of the route the path matched: a slug may
    // be "publish", and such a publication takes GET, PUT, PATCH, DELETE.
    for (request, allowed) in [
        (
            TestRequest::post().uri("/v1/publications/publish"),
            "GET, HEAD, PUT, PATCH, DELETE",
        ),
        (TestRequest::get().uri(&format!("{detail}/publish")), "POST"),
        (TestRequest::delete().uri("/openapi.json"), "GET, HEAD"),
        (TestRequest::put().uri("/docs/index.html"), "GET, HEAD"),
        (TestRequest::get().uri("/v1/admin/keys/k"), "DELETE"),
    ] {
        let reply = app.send(request).await;
        let problem = assert_problem(&reply, 405, "method_not_allowed");
        assert_eq!(reply.header("allow").as_deref(), Some(allowed), "{problem}");
        let said = problem["detail"].as_str().expect("detail");
        assert!(said.contains(&format!("takes {allowed}, not ")), "{said}");
    }

    // Every endpoint that takes a body refuses one declared too large
    // before reading it, as a problem.
    let admin = app.key(arkiv::domain::keys::Role::Admin);
    let spec = app.get("/openapi.json").await.json();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if operation.get("requestBody").is_none() {
                continue;
            }
            let uri = path
                .replace("{id_or_slug}", "conclusions-expert-discussion-2024-10-31")
                .replace("{lang}", "en");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let request = TestRequest::default()
                .method(method.clone())
                .uri(&uri)
                .insert_header(bearer(&admin))
                .insert_header(("If-Match", "*"))
                .set_payload("{}")
                .insert_header(("Content-Length", (1u64 << 30).to_string()));
            let reply = app.send(request).await;
            assert_problem(&reply, 413, "payload_too_large");
            checked += 1;
            let _ = method;
        }
    }
    assert!(checked >= 15, "{checked} endpoints take a body");
});

/// A body of exactly `size` bytes of this media type: well-formed, with
/// nothing the endpoint takes (so that, read whole, it is refused for what
/// it says, not for its size).
fn body_of(media_type: &str, size: usize) -> Vec<u8> {
    let (head, tail): (&[u8], &[u8]) = match media_type {
        "application/pdf" => (b"%PDF-1.4\n", b""),
        "image/*" => (b"\x89PNG\r\n\x1a\n", b""),
        "application/x-www-form-urlencoded" => (b"padding=", b""),
        _ => (br#"{"padding":""#, br#""}"#),
    };
    let mut body = head.to_vec();
    body.resize(size - tail.len(), b'x');
    body.extend_from_slice(tail);
    assert_eq!(body.len(), size);
    body
}

/// The limits chosen, by operation: a test of the table in the spec.
const LIMITS: &[(&str, &str, u64)] = &[
    ("post", "/v1/publications", 16 << 20),
    ("put", "/v1/publications/{id_or_slug}", 16 << 20),
    ("patch", "/v1/publications/{id_or_slug}", 16 << 20),
    ("post", "/v1/publications/{id_or_slug}/withdraw", 64 << 10),
    ("post", "/v1/admin/keys", 64 << 10),
    ("post", "/v1/admin/webhooks", 64 << 10),
    ("post", "/oai", 64 << 10),
    ("post", "/v1/stats/views", 1 << 10),
    ("post", "/v1/organisations", 1 << 20),
    ("put", "/v1/organisations/{id_or_slug}", 1 << 20),
    ("patch", "/v1/organisations/{id_or_slug}", 1 << 20),
    ("post", "/v1/fields", 1 << 20),
    ("put", "/v1/fields/{id_or_slug}", 1 << 20),
    ("patch", "/v1/fields/{id_or_slug}", 1 << 20),
    ("post", "/v1/projects", 1 << 20),
    ("put", "/v1/projects/{id_or_slug}", 1 << 20),
    ("patch", "/v1/projects/{id_or_slug}", 1 << 20),
    ("post", "/v1/events", 1 << 20),
    ("put", "/v1/events/{id_or_slug}", 1 << 20),
    ("patch", "/v1/events/{id_or_slug}", 1 << 20),
    // The server's ARKIV_MAX_UPLOAD_MB, as this test sets it.
    (
        "put",
        "/v1/publications/{id_or_slug}/variants/{lang}/file",
        1 << 20,
    ),
    // Images: 20 MiB, or the upload limit when smaller, as here.
    ("put", "/v1/publications/{id_or_slug}/image", 1 << 20),
    ("put", "/v1/organisations/{id_or_slug}/image", 1 << 20),
    ("put", "/v1/projects/{id_or_slug}/image", 1 << 20),
    ("put", "/v1/events/{id_or_slug}/image", 1 << 20),
];

/// Every operation with a request body states its limit in the served
/// spec (in words and as `x-max-body-bytes`, with a 413 answer), and
/// enforces exactly that: a body one byte over is 413 `payload_too_large`
/// naming the limit, declared or chunked, and a body at the limit is read
/// and answered for what it says. The limits are checked before any
/// database work, so SQLite alone tells.
#[actix_web::test]
async fn each_body_limit_is_stated_and_enforced_to_the_byte() {
    use actix_web::http::Method;
    use serde_json::Value;

    let mut app = demo_app(Backend::Sqlite);
    // A small upload limit keeps the upload's bodies small; the served
    // spec states the limit this server enforces.
    app.restart(|state| state.with_upload_limit(1 << 20));
    let admin = app.key(arkiv::domain::keys::Role::Admin);
    let spec = app.get("/openapi.json").await.json();
    let mut stated = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let Some(body) = operation.get("requestBody") else {
                continue;
            };
            let what = format!("{method} {path}");
            let limit = body["x-max-body-bytes"]
                .as_u64()
                .unwrap_or_else(|| panic!("{what} states no x-max-body-bytes: {body}"));
            stated.push((method.clone(), path.clone(), limit));
            let description = body["description"].as_str().unwrap_or_default();
            assert!(
                description.contains(&format!("({limit} bytes)")),
                "{what}: {description}"
            );
            assert!(
                operation["responses"]["413"].is_object(),
                "{what} documents no 413"
            );
            let media_type = body["content"]
                .as_object()
                .and_then(|content| content.keys().next())
                .expect("a media type")
                .clone();
            // A demo entity of the collection, so that a body at the limit
            // gets past the lookups to the parser.
            let collection = path.split("/{").next().unwrap_or_default();
            let slug = match collection {
                "/v1/organisations" => "new-social-initiative",
                "/v1/fields" => "normalization-dialogue",
                "/v1/projects" => "dialogue-solutions-future",
                "/v1/events" => "expert-discussion-2024-10-31",
                _ => "conclusions-expert-discussion-2024-10-31",
            };
            let uri = path.replace("{id_or_slug}", slug).replace("{lang}", "en");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let request = || {
                TestRequest::default()
                    .method(method.clone())
                    .uri(&uri)
                    .insert_header(bearer(&admin))
                    .insert_header(("If-Match", "*"))
                    .insert_header(("Content-Type", media_type.as_str()))
            };
            let size = usize::try_from(limit).expect("a limit that fits");

            let over = app
                .send(request().set_payload(body_of(&media_type, size + 1)))
                .await;
            let problem = assert_problem(&over, 413, "payload_too_large");
            let detail = problem["detail"].as_str().unwrap_or_default();
            assert!(
                detail.contains(&format!("({limit} bytes)")),
                "{what}: {detail}"
            );

            let chunks = futures_util::stream::iter(
                body_of(&media_type, size + 1)
                    .chunks(64 << 10)
                    .map(actix_web::web::Bytes::copy_from_slice)
                    .collect::<Vec<_>>(),
            );
            let chunked = app.send_chunked(request(), chunks).await;
            assert_problem(&chunked, 413, "payload_too_large");

            let at = app
                .send(request().set_payload(body_of(&media_type, size)))
                .await;
            assert!(
                at.status != 413 && !at.status.is_server_error(),
                "{what} at its limit: {} {}",
                at.status,
                String::from_utf8_lossy(&at.body)
            );
            if at.status.is_client_error() {
                // Refused for what it says: the body was read and parsed.
                let problem: Value = at.json();
                assert!(
                    ["invalid_body", "validation_failed", "image_invalid"]
                        .contains(&problem["code"].as_str().unwrap_or_default()),
                    "{what} at its limit: {problem}"
                );
            }
        }
    }
    let mut expected: Vec<(String, String, u64)> = LIMITS
        .iter()
        .map(|(method, path, limit)| ((*method).to_owned(), (*path).to_owned(), *limit))
        .collect();
    expected.sort();
    stated.sort();
    assert_eq!(
        stated, expected,
        "the operations with a body and their limits"
    );
}

/// A chunked body is read no further than the chunk that takes it past
/// its limit: the rest is never pulled from the connection.
#[actix_web::test]
async fn a_chunked_body_stops_at_its_limit() {
    use futures_util::StreamExt as _;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let app = demo_app(Backend::Sqlite);
    let admin = app.key(arkiv::domain::keys::Role::Admin);
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    let chunk = 4096;
    // 64 MiB of JSON-ish bytes, made only as they are asked for.
    let chunks = futures_util::stream::iter(0..(64 << 20) / chunk).map(move |_| {
        counter.fetch_add(chunk, Ordering::SeqCst);
        actix_web::web::Bytes::from(vec![b' '; chunk])
    });
    let request = TestRequest::post()
        .uri("/v1/admin/keys")
        .insert_header(bearer(&admin))
        .insert_header(("Content-Type", "application/json"));
    let reply = app.send_chunked(request, chunks).await;
    assert_problem(&reply, 413, "payload_too_large");
    let limit = arkiv::routes::body::SMALL_BODY_LIMIT;
    let read = pulled.load(Ordering::SeqCst);
    assert!(
        read > limit && read <= limit + chunk,
        "{read} bytes pulled for a limit of {limit}"
    );
}

/// A compressed body is refused before it is read: inflated, a few
/// kilobytes can become gigabytes, before any limit could count them.
#[actix_web::test]
async fn compressed_bodies_are_refused_unread() {
    let app = demo_app(Backend::Sqlite);
    let admin = app.key(arkiv::domain::keys::Role::Admin);
    let request = |coding: &str| {
        TestRequest::post()
            .uri("/v1/admin/keys")
            .insert_header(bearer(&admin))
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Content-Encoding", coding))
            .set_payload(r#"{"name": "compressed", "role": "partner"}"#)
    };
    for coding in ["gzip", "br", "deflate", "zstd", "gzip, identity"] {
        let problem = assert_problem(
            &app.send(request(coding)).await,
            415,
            "unsupported_media_type",
        );
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("Content-Encoding"), "{coding}: {detail}");
    }
    let plain = app.send(request("identity")).await;
    assert_eq!(
        plain.status,
        201,
        "{}",
        String::from_utf8_lossy(&plain.body)
    );
}
