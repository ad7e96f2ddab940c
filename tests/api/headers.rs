//! Request headers are untrusted: links in answers come from the
//! configured public URL, whatever `Host` and the forwarding headers say.

use actix_web::test::TestRequest;
use arkiv::config::PublicUrl;
use arkiv::http::proxy::TrustedProxies;

use super::{demo_app, Reply};
use crate::on_both_backends;

const SLUG: &str = "conclusions-expert-discussion-2024-10-31";

/// The whole answer as text: status line, headers and body.
fn everything(reply: &Reply) -> String {
    let mut text = format!("{}\n", reply.status);
    for (name, value) in &reply.headers {
        text.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    text.push_str(&String::from_utf8_lossy(&reply.body));
    text
}

on_both_backends!(
    links_come_from_the_public_url_never_from_headers,
    |backend| {
        let mut app = demo_app(backend);
        // Even behind a trusted proxy, which names the client but not the host.
        app.restart(|state| {
            state
                .with_public_url(PublicUrl::parse("https://archive.example.org/").expect("URL"))
                .with_proxies(TrustedProxies::hops(1).expect("hops"))
        });
        let hostile: &[(&str, &str)] = &[
            ("Host", "attacker.invalid"),
            ("X-Forwarded-Host", "attacker.invalid"),
            ("X-Forwarded-Proto", "gopher"),
            ("X-Forwarded-Prefix", "/attacker"),
            ("X-Forwarded-Port", "6666"),
            ("X-Original-URL", "/attacker"),
            (
                "Forwarded",
                "for=192.0.2.1;host=attacker.invalid;proto=gopher",
            ),
        ];
        let mut uris: Vec<String> = [
            "/v1/feeds/publications.atom",
            "/v1/feeds/publications.json?lang=sq",
            "/oai?verb=Identify",
            "/oai?verb=ListRecords&metadataPrefix=oai_dc",
            "/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:x:y",
            "/v1/publications.csv",
            "/v1/publications?limit=1",
            "/v1/changes?limit=3&include=publication",
            "/v1/export.ndjson",
            "/openapi.json",
            "/docs/",
        ]
        .map(str::to_owned)
        .to_vec();
        uris.push(format!("/v1/publications/{SLUG}"));
        for format in ["bibtex", "ris", "csl-json", "jsonld"] {
            uris.push(format!("/v1/publications/{SLUG}/citation?format={format}"));
        }
        for uri in &uris {
            let reply = app.get_with(uri, hostile).await;
            assert!(reply.status.is_success(), "{uri}: {}", reply.status);
            let text = everything(&reply);
            for planted in ["attacker", "gopher", "6666"] {
                assert!(
                    !text.contains(planted),
                    "{uri} repeats {planted:?}:\n{text}"
                );
            }
        }

        // The links that are absolute start with the configured URL.
        let base = "https://archive.example.org";
        let atom = app.get_with("/v1/feeds/publications.atom", hostile).await;
        let atom = String::from_utf8_lossy(&atom.body).into_owned();
        assert!(
            atom.contains(&format!("href=\"{base}/v1/feeds/publications.atom\"")),
            "{atom}"
        );
        assert!(atom.contains(&format!("{base}/v1/publications/")), "{atom}");
        let identify = app.get_with("/oai?verb=Identify", hostile).await;
        let identify = String::from_utf8_lossy(&identify.body).into_owned();
        assert!(
            identify.contains(&format!("<baseURL>{base}/oai</baseURL>")),
            "{identify}"
        );
        assert!(
            identify.contains(&format!(">{base}/oai</request>")),
            "{identify}"
        );
        let csl = app
            .get_with(
                &format!("/v1/publications/{SLUG}/citation?format=csl-json"),
                hostile,
            )
            .await
            .json();
        assert_eq!(csl[0]["URL"], format!("{base}/v1/publications/{SLUG}"));
        let csv = app.get_with("/v1/publications.csv", hostile).await;
        assert!(String::from_utf8_lossy(&csv.body).contains(&format!(",{base}/v1/publications/")));

        // A request target in absolute form names a host too; the feed's own
        // link keeps only its path and query.
        let absolute = app
            .send(
                TestRequest::get()
                    .uri("http://attacker.invalid/v1/feeds/publications.json?kind=report"),
            )
            .await;
        assert_eq!(absolute.status, 200);
        let feed = absolute.json();
        assert_eq!(
            feed["feed_url"],
            format!("{base}/v1/feeds/publications.json?kind=report")
        );
        assert!(!everything(&absolute).contains("attacker"));
    }
);

on_both_backends!(every_answer_says_nosniff, |backend| {
    let app = demo_app(backend);
    let detail = format!("/v1/publications/{SLUG}");
    let read = app.get(&detail).await;
    assert_eq!(read.status, 200);
    let tag = read.header("etag").expect("etag");
    let replies = [
        ("a JSON read", read),
        (
            "a 304",
            app.get_with(&detail, &[("If-None-Match", &tag)]).await,
        ),
        ("an error", app.get("/v1/publications/no-such-thing").await),
        ("a framework error", app.get("/docs/no-such-file.js").await),
        ("the API docs", app.get("/docs/").await),
        ("a feed", app.get("/v1/feeds/publications.atom").await),
        ("a CSV", app.get("/v1/publications.csv").await),
        ("OAI-PMH", app.get("/oai?verb=Identify").await),
        (
            "a write refused",
            app.send(TestRequest::post().uri("/v1/publications")).await,
        ),
    ];
    assert_eq!(replies[1].1.status, 304);
    assert_eq!(replies[4].1.status, 200);
    assert!(replies[4]
        .1
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html")));
    for (what, reply) in &replies {
        assert_eq!(
            reply.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{what}: {}",
            reply.status
        );
    }
});
