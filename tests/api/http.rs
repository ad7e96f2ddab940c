//! What every endpoint does at the HTTP level for partners and caches:
//! per-client rate limits with `RateLimit-*` headers and 429s, gzip and
//! brotli, `Cache-Control`.

use std::io::Read;

use actix_web::test::TestRequest;
use arkiv::domain::keys::Role;
use arkiv::http::proxy::TrustedProxies;
use arkiv::http::ratelimit::RateLimits;
use serde_json::{json, Value};

use super::{assert_problem, demo_app, Reply, TestApp};
use crate::on_both_backends;

fn limited(app: &mut TestApp, anonymous: u32, keyed: u32, proxies: TrustedProxies) {
    app.restart(|state| {
        state
            .with_rate_limits(RateLimits { anonymous, keyed })
            .with_proxies(proxies)
    });
}

async fn from(app: &TestApp, address: &str, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = TestRequest::get()
        .uri(uri)
        .peer_addr(address.parse().expect("socket address"));
    for (name, value) in headers {
        request = request.insert_header((*name, *value));
    }
    app.send(request).await
}

/// (limit, remaining, reset) from a response's headers.
fn standing(reply: &Reply) -> (u32, u32, u64) {
    let number = |name: &str| {
        reply
            .header(name)
            .unwrap_or_else(|| panic!("{name} on {}", reply.status))
            .parse::<u64>()
            .expect("a number")
    };
    (
        number("ratelimit-limit") as u32,
        number("ratelimit-remaining") as u32,
        number("ratelimit-reset"),
    )
}

on_both_backends!(each_client_has_its_own_limit, |backend| {
    let mut app = demo_app(backend);
    // Off unless configured: no headers at all.
    let free = from(&app, "192.0.2.1:4000", "/v1/publications", &[]).await;
    assert_eq!(free.header("ratelimit-limit"), None);

    limited(&mut app, 3, 5, TrustedProxies::NONE);
    let partner = app.key(Role::Partner);
    for remaining in [2, 1, 0] {
        let reply = from(&app, "192.0.2.1:4000", "/v1/publications", &[]).await;
        assert_eq!(reply.status, 200);
        let (limit, left, reset) = standing(&reply);
        assert_eq!((limit, left), (3, remaining));
        assert!((1..=60).contains(&reset), "{reset}");
    }
    let refused = from(&app, "192.0.2.1:4001", "/v1/fields", &[]).await;
    let problem = assert_problem(&refused, 429, "rate_limited");
    assert!(problem["detail"]
        .as_str()
        .is_some_and(|d| d.contains("API key")));
    let (_, left, reset) = standing(&refused);
    assert_eq!(left, 0);
    assert_eq!(refused.header("retry-after"), Some(reset.to_string()));

    // Another address, a key from the same address, and health probes go on.
    assert_eq!(
        from(&app, "192.0.2.2:4000", "/v1/fields", &[]).await.status,
        200
    );
    let bearer = format!("Bearer {partner}");
    let keyed = from(
        &app,
        "192.0.2.1:4000",
        "/v1/fields",
        &[("Authorization", &bearer)],
    )
    .await;
    assert_eq!(keyed.status, 200);
    assert_eq!(standing(&keyed).0, 5);
    // A made-up key is a 401, but counts against its address: once that
    // is spent, guessing gets 429s.
    let guess = from(
        &app,
        "192.0.2.9:4000",
        "/v1/fields",
        &[(
            "Authorization",
            "Bearer arkiv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )],
    )
    .await;
    assert_problem(&guess, 401, "unauthorized");
    for _ in 0..2 {
        from(&app, "192.0.2.9:4000", "/v1/fields", &[]).await;
    }
    let spent = from(
        &app,
        "192.0.2.9:4000",
        "/v1/fields",
        &[(
            "Authorization",
            "Bearer arkiv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )],
    )
    .await;
    assert_problem(&spent, 429, "rate_limited");
    let probe = from(&app, "192.0.2.1:4000", "/healthz", &[]).await;
    assert_eq!(probe.status, 200);
    assert_eq!(probe.header("ratelimit-limit"), None);

    // One IPv6 host is one /64.
    for _ in 0..3 {
        let reply = from(&app, "[2001:db8:7:7::1]:4000", "/v1/fields", &[]).await;
        assert_eq!(reply.status, 200);
    }
    let neighbour = from(&app, "[2001:db8:7:7:ffff::2]:4000", "/v1/fields", &[]).await;
    assert_problem(&neighbour, 429, "rate_limited");

    // Forwarded addresses count only behind a trusted proxy.
    for (trust, expected) in [(false, 429), (true, 200)] {
        let proxies = if trust {
            TrustedProxies::hops(1).expect("hops")
        } else {
            TrustedProxies::NONE
        };
        limited(&mut app, 1, 5, proxies);
        let mut last = 0;
        for client in ["198.51.100.1", "198.51.100.2"] {
            last = from(
                &app,
                "10.0.0.1:4000",
                "/v1/fields",
                &[("X-Forwarded-For", client)],
            )
            .await
            .status
            .as_u16();
        }
        assert_eq!(last, expected, "trust_proxy {trust}");
    }
});

on_both_backends!(clients_behind_proxies_count_as_the_proxies_say, |backend| {
    let mut app = demo_app(backend);
    // Two proxies of our own: a CDN, then a load balancer (the peer), which
    // appends the CDN's address; the CDN appended the client's.
    let balancer = "10.0.0.1:4000";
    let cases: [(&[(&str, &str)], &str); 7] = [
        (
            &[("X-Forwarded-For", "6.6.6.6, 198.51.100.1, 10.0.0.9")],
            "198.51.100.1",
        ),
        (
            &[
                ("X-Forwarded-For", "6.6.6.6"),
                ("X-Forwarded-For", "198.51.100.2, 10.0.0.9"),
            ],
            "198.51.100.2",
        ),
        // Forwarded wins over X-Forwarded-For.
        (
            &[
                ("X-Forwarded-For", "198.51.100.3, 10.0.0.9"),
                (
                    "Forwarded",
                    "for=6.6.6.6, for=\"[2001:db8:5::1]:4711\", for=10.0.0.9",
                ),
            ],
            "2001:db8:5::1",
        ),
        (
            &[(
                "Forwarded",
                "for=6.6.6.6;proto=https, for=\"198.51.100.4:80\";by=_cdn, for=10.0.0.9",
            )],
            "198.51.100.4",
        ),
        // Nobody named: the peer counts.
        (&[("Forwarded", "for=unknown, for=10.0.0.9")], "10.0.0.1"),
        (
            &[("Forwarded", "for=\"[2001:db8::1, for=10.0.0.9")],
            "10.0.0.1",
        ),
        (&[("X-Forwarded-For", "10.0.0.9")], "10.0.0.1"),
    ];
    for (headers, client) in cases {
        limited(&mut app, 1, 5, TrustedProxies::hops(2).expect("hops"));
        let first = from(&app, balancer, "/v1/fields", headers).await;
        assert_eq!(first.status, 200, "{headers:?}");
        // The client it was counted as has spent its request.
        let naming = format!("{client}, 10.0.0.9");
        let again: &[(&str, &str)] = if client == "10.0.0.1" {
            &[]
        } else {
            &[("X-Forwarded-For", &naming)]
        };
        let refused = from(&app, balancer, "/v1/fields", again).await;
        assert_problem(&refused, 429, "rate_limited");
        let someone_else = from(
            &app,
            balancer,
            "/v1/fields",
            &[("X-Forwarded-For", "198.51.100.200, 10.0.0.9")],
        )
        .await;
        assert_eq!(someone_else.status, 200, "{headers:?}");
    }
    // Garbage names nobody either, and never fails the request.
    for garbage in [
        "for",
        ";;;,,,=",
        "for=_hidden",
        "for=\"\\\"",
        "for=192.0.2.1:99999",
    ] {
        limited(&mut app, 1, 5, TrustedProxies::hops(1).expect("hops"));
        let reply = from(
            &app,
            "192.0.2.77:1",
            "/v1/fields",
            &[("Forwarded", garbage)],
        )
        .await;
        assert_eq!(reply.status, 200, "{garbage}");
        let peer = from(&app, "192.0.2.77:1", "/v1/fields", &[]).await;
        assert_problem(&peer, 429, "rate_limited");
    }
});

fn decode(coding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .expect("gzip");
        }
        "br" => {
            brotli_decompressor::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .expect("brotli");
        }
        other => panic!("coding {other}"),
    }
    out
}

fn varies_by_encoding(reply: &Reply) -> bool {
    reply
        .headers
        .get_all("vary")
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("accept-encoding"))
}

on_both_backends!(answers_come_compressed_with_their_own_etags, |backend| {
    let app = demo_app(backend);
    let plain = app.get("/v1/publications?limit=100").await;
    let plain_json = plain.json();
    let plain_tag = plain.header("etag").expect("etag");
    assert!(varies_by_encoding(&plain), "caches keep codings apart");
    for coding in ["gzip", "br"] {
        let reply = app
            .get_with("/v1/publications?limit=100", &[("Accept-Encoding", coding)])
            .await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-encoding").as_deref(), Some(coding));
        assert!(
            reply.body.len() < plain.body.len() / 2,
            "{coding} compresses"
        );
        let json: Value = serde_json::from_slice(&decode(coding, &reply.body)).expect("JSON");
        assert_eq!(json, plain_json);
        assert!(varies_by_encoding(&reply), "{coding}");
        // The coded form has its own tag, and revalidates with it.
        let tag = reply.header("etag").expect("etag");
        assert_eq!(
            tag,
            format!("{}-{coding}\"", plain_tag.trim_end_matches('"'))
        );
        let again = app
            .get_with(
                "/v1/publications?limit=100",
                &[("Accept-Encoding", coding), ("If-None-Match", &tag)],
            )
            .await;
        assert_eq!(again.status, 304);
        assert_eq!(
            again.header("etag"),
            Some(tag.clone()),
            "the 304 names the coded tag"
        );
    }

    // An editor who read a compressed page can still save with its tag.
    let editor = app.key(Role::Editor);
    let slug = plain_json["items"][0]["slug"].as_str().expect("slug");
    let uri = format!("/v1/publications/{slug}");
    let bearer = format!("Bearer {editor}");
    let read = app
        .get_with(
            &uri,
            &[("Authorization", &bearer), ("Accept-Encoding", "br")],
        )
        .await;
    let tag = read.header("etag").expect("etag");
    assert!(tag.ends_with("-br\""), "{tag}");
    let saved = app
        .send(
            TestRequest::patch()
                .uri(&uri)
                .insert_header(("Authorization", bearer.clone()))
                .insert_header(("If-Match", tag))
                .set_json(json!({"keywords": ["compressed"]})),
        )
        .await;
    assert_eq!(
        saved.status,
        200,
        "{}",
        String::from_utf8_lossy(&saved.body)
    );
});

type Headers<'a> = &'a [(&'a str, &'a str)];

on_both_backends!(cache_control_says_who_may_keep_an_answer, |backend| {
    let mut app = demo_app(backend);
    app.restart(|state| state.with_cache_max_age(60));
    let editor = app.key(Role::Editor);
    let bearer = format!("Bearer {editor}");
    let cases: [(&str, Headers<'_>, &str); 8] = [
        ("/v1/publications", &[], "public, max-age=60"),
        ("/v1/feeds/publications.atom", &[], "public, max-age=60"),
        ("/oai?verb=Identify", &[], "public, no-cache"),
        (
            "/v1/publications",
            &[("Authorization", &bearer)],
            "private, no-cache",
        ),
        ("/v1/changes", &[], "public, no-cache"),
        ("/v1/publications/no-such-thing", &[], "no-store"),
        ("/v1/publications?limit=0", &[], "no-store"),
        ("/healthz", &[], "no-store"),
    ];
    for (uri, headers, expected) in cases {
        let reply = app.get_with(uri, headers).await;
        assert_eq!(
            reply.header("cache-control").as_deref(),
            Some(expected),
            "{uri} {headers:?}"
        );
    }
    app.restart(|state| state.with_cache_max_age(0));
    assert_eq!(
        app.get("/v1/fields")
            .await
            .header("cache-control")
            .as_deref(),
        Some("public, no-cache")
    );
});
