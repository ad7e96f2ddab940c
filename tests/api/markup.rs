//! A publication body's declared format (`body_format`) and the HTML made
//! of it (`body_html`): Markdown rendered and cleaned, plain text escaped,
//! excerpts and search without Markdown syntax, hostile markup removed,
//! the format carried through export and import.

use actix_web::http::Method;
use arkiv::domain::keys::Role;
use serde_json::{json, Value};

use super::{assert_problem, demo_app, Reply, TestApp, TestDb};
use crate::on_both_backends;

/// A published publication with one English variant.
fn publication(slug: &str, format: &str, body: &str) -> Value {
    json!({
        "slug": slug,
        "kind": "report",
        "status": "published",
        "published_on": "2025-03-01",
        "variants": {"en": {"title": format!("About {slug}"), "body": body, "body_format": format}}
    })
}

async fn create(app: &TestApp, key: &str, body: &Value) -> Reply {
    let reply = app
        .send_json(Method::POST, "/v1/publications", Some(key), body)
        .await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply
}

async fn detail(app: &TestApp, slug: &str, lang: &str) -> Value {
    let reply = app
        .get(&format!("/v1/publications/{slug}?lang={lang}"))
        .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

/// The item of a list page with this slug.
fn item<'a>(page: &'a Value, slug: &str) -> &'a Value {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|item| item["slug"] == slug)
        .unwrap_or_else(|| panic!("{slug} is not listed: {page}"))
}

const REPORT: &str = "## Findings\n\n\
    The talks were *slow* but **steady**; see [the minutes](https://example.org/minutes).\n\n\
    - water\n- energy\n\n\
    1. first\n2. second\n\n\
    > A quoted line.\n";

on_both_backends!(a_markdown_body_is_rendered_to_html, |backend| {
    let app = demo_app(backend);
    let editor = app.key(Role::Editor);
    create(&app, &editor, &publication("md-report", "markdown", REPORT)).await;

    let found = detail(&app, "md-report", "en").await;
    assert_eq!(found["body_format"], "markdown");
    assert_eq!(found["body"], REPORT, "the body is served as written");
    let html = found["body_html"].as_str().expect("body_html");
    for expected in [
        "<h2>Findings</h2>",
        "<em>slow</em>",
        "<strong>steady</strong>",
        "<a href=\"https://example.org/minutes\" rel=\"noopener noreferrer nofollow\">the minutes</a>",
        "<ul>\n<li>water</li>\n<li>energy</li>\n</ul>",
        "<ol>\n<li>first</li>",
        "<blockquote>",
    ] {
        assert!(html.contains(expected), "{expected} not in {html}");
    }

    // The excerpt (no summary: the body's start) and the reading time see
    // the text, in the detail and in lists.
    let excerpt = found["excerpt"].as_str().expect("excerpt");
    assert!(
        excerpt.starts_with("Findings The talks were slow but steady; see the minutes."),
        "{excerpt}"
    );
    let listed = app.get("/v1/publications?limit=100").await.json();
    let listed_excerpt = item(&listed, "md-report")["excerpt"]
        .as_str()
        .expect("excerpt")
        .to_owned();
    assert_eq!(listed_excerpt, excerpt);
    for syntax in ["**", "#", "](", "> "] {
        assert!(!excerpt.contains(syntax), "{syntax} in {excerpt}");
    }
    assert_eq!(found["reading_minutes"], 1);

    // Every variant of `?lang=all` carries both.
    let all = detail(&app, "md-report", "all").await;
    assert_eq!(all["variants"]["en"]["body_format"], "markdown");
    assert_eq!(all["variants"]["en"]["body_html"], found["body_html"]);
});

on_both_backends!(
    a_derived_latin_edition_renders_the_transliterated_source,
    |backend| {
        let app = demo_app(backend);
        let editor = app.key(Role::Editor);
        let mut body = publication("md-serbian", "markdown", "");
        body["variants"] = json!({"sr-Cyrl": {
            "title": "Закључци",
            "body": "## Закључци\n\nРазговор у **Приштини** је [завршен](https://example.org/sr).",
            "body_format": "markdown"
        }});
        create(&app, &editor, &body).await;

        let latin = detail(&app, "md-serbian", "sr-Latn").await;
        assert_eq!(latin["derived_from"], "sr-Cyrl");
        assert_eq!(latin["body_format"], "markdown");
        let html = latin["body_html"].as_str().expect("body_html");
        assert!(html.contains("<h2>Zaključci</h2>"), "{html}");
        assert!(html.contains("<strong>Prištini</strong>"), "{html}");
        assert!(html.contains(">završen</a>"), "{html}");
        assert!(
            !html.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)),
            "{html}"
        );

        let all = detail(&app, "md-serbian", "all").await;
        assert_eq!(all["variants"]["sr-Latn"]["derived_from"], "sr-Cyrl");
        assert_eq!(all["variants"]["sr-Latn"]["body_html"], latin["body_html"]);
        assert!(all["variants"]["sr-Cyrl"]["body_html"]
            .as_str()
            .expect("body_html")
            .contains("<strong>Приштини</strong>"));
    }
);

on_both_backends!(a_plain_body_is_escaped_paragraphs, |backend| {
    let app = demo_app(backend);
    let editor = app.key(Role::Editor);
    let text =
        "First <b>line</b> & *not emphasis*\nsecond line\n\n\nNew paragraph <script>x</script>";
    let mut body = publication("plain-report", "plain", text);
    // `plain` is the default: leaving it out says the same.
    body["variants"]["en"]
        .as_object_mut()
        .expect("variant")
        .remove("body_format");
    create(&app, &editor, &body).await;

    let found = detail(&app, "plain-report", "en").await;
    assert_eq!(found["body_format"], "plain");
    assert_eq!(
        found["body_html"],
        "<p>First &lt;b&gt;line&lt;/b&gt; &amp; *not emphasis*<br>\nsecond line</p>\n\
         <p>New paragraph &lt;script&gt;x&lt;/script&gt;</p>\n"
    );
    assert!(found["excerpt"]
        .as_str()
        .expect("excerpt")
        .contains("*not emphasis*"));

    // No body: an empty string, never null.
    create(&app, &editor, &publication("no-body", "markdown", "")).await;
    let empty = detail(&app, "no-body", "en").await;
    assert_eq!(empty["body_html"], "");
    assert_eq!(empty["reading_minutes"], 0);

    // The demo archive, written before formats, is plain.
    let demo = detail(&app, "conclusions-expert-discussion-2024-10-31", "en").await;
    assert_eq!(demo["body_format"], "plain");
    assert!(demo["body_html"]
        .as_str()
        .expect("body_html")
        .starts_with("<p>"));
});

/// Markdown bodies an attacker might write: each must come out without
/// anything that runs.
const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "Text <SCRIPT SRC=https://evil.example/x.js></SCRIPT> more",
    "Inline <ScRiPt>alert(1)</sCrIpT> in mixed case",
    "<img src=x onerror=alert(1)>",
    "An image <img src=\"x\" onerror=\"alert('1')\"> inline",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](<javascript:alert(1)>)",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<a href=\"jav&#x09;ascript:alert(1)\">click</a>",
    "[click](jav&#x09;ascript:alert(1))",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">click</a>",
    "<a href=\"javascript&colon;alert(1)\">click</a>",
    "<a href=\" javascript:alert(1)\">click</a>",
    "<a href=\"java\nscript:alert(1)\">click</a>",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<a href=\"data:text/html,<script>alert(1)</script>\">click</a>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<p style=\"width: expression(alert(1))\">styled</p>",
    "<div style=\"background-image: url(javascript:alert(1))\">x</div>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<math><a xlink:href=\"javascript:alert(1)\">x</a></math>",
    "<form action=\"javascript:alert(1)\"><button>go</button></form>",
    "<form><button formaction=javascript:alert(1)>go</button></form>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<data:text/html,alert(1)>",
    "[click][evil]\n\n[evil]: javascript:alert(1)",
    "![chart][evil]\n\n[evil]: javascript:alert(1)",
    "![x](javascript:alert(1))",
    "<!-- --><script>alert(1)</script><!-- -->",
    "<!--><script>alert(1)</script>-->",
    "<!-- <a href=\"x\"> --><img src=x onerror=alert(1)>",
    "<a href=\"https://example.org\" onmouseover=\"alert(1)\">hover</a>",
    "<details open ontoggle=alert(1)>x</details>",
    "<body onload=alert(1)>",
    "<base href=\"javascript:alert(1)//\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<textarea><script>alert(1)</script></textarea>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<img src=\"javascript:alert(1)\">",
    "<video><source onerror=\"alert(1)\"></video>",
];

/// What must not be in the HTML of any of [`HOSTILE`], in any case.
const FORBIDDEN: &[&str] = &[
    "<script",
    "onerror",
    "onload",
    "javascript:",
    "<iframe",
    "<style",
    "data:text/html",
    "expression(",
];

on_both_backends!(hostile_markdown_comes_out_clean, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend"));
    let editor = app.key(Role::Editor);
    // Any attribute whose name starts with `on`, inside a tag.
    let handler = regex_lite::Regex::new(r"(?i)<[^>]*\son[a-z]+\s*=").expect("regex");
    let mut failures = Vec::new();
    for (index, vector) in HOSTILE.iter().enumerate() {
        let slug = format!("hostile-{index}");
        create(&app, &editor, &publication(&slug, "markdown", vector)).await;
        let found = detail(&app, &slug, "en").await;
        let html = found["body_html"]
            .as_str()
            .expect("body_html")
            .to_lowercase();
        for needle in FORBIDDEN {
            if html.contains(needle) {
                failures.push(format!("#{index} {vector:?}: {needle} in {html:?}"));
            }
        }
        if handler.is_match(&html) {
            failures.push(format!("#{index} {vector:?}: an event handler in {html:?}"));
        }
    }
    assert!(HOSTILE.len() >= 20);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
});

on_both_backends!(markdown_bodies_are_searched_as_their_text, |backend| {
    let db = TestDb::new(backend).expect("backend");
    db.import(
        &json!({
            "type": "publication",
            "slug": "md-searched",
            "kind": "report",
            "status": "published",
            "published_on": "2025-03-01",
            "variants": {"en": {
                "title": "Bridges",
                "body": "The **Ibar** bridge; see [the plan](https://zzhostname.example/a/b/c/d) \
                         before Mitrovica opens it.",
                "body_format": "markdown"
            }}
        })
        .to_string(),
    );
    let app = TestApp::with_search(db);
    // A word of a link's address is not text.
    let none = app.get("/v1/search?q=zzhostname").await.json();
    assert_eq!(none["total"], 0, "{none}");
    // The words after a link are marked where they are: the highlighter
    // counts the words the index counted.
    let found = app.get("/v1/search?q=Mitrovica").await.json();
    let fragment = found["items"][0]["highlights"]["body"][0]
        .as_str()
        .expect("a body fragment")
        .to_owned();
    assert!(fragment.contains("<mark>Mitrovica</mark>"), "{fragment}");
    assert!(
        !fragment.contains("**") && !fragment.contains("]("),
        "{fragment}"
    );
    let bold = app.get("/v1/search?q=Ibar").await.json();
    let fragment = bold["items"][0]["highlights"]["body"][0]
        .as_str()
        .expect("a body fragment")
        .to_owned();
    assert!(
        fragment.contains("The <mark>Ibar</mark> bridge"),
        "{fragment}"
    );
});

on_both_backends!(
    body_format_round_trips_through_export_and_import,
    |backend| {
        let app = demo_app(backend);
        let editor = app.key(Role::Editor);
        create(
            &app,
            &editor,
            &publication("md-exported", "markdown", REPORT),
        )
        .await;
        let original = detail(&app, "md-exported", "en").await;

        let export = app.get("/v1/export.ndjson").await;
        assert_eq!(export.status, 200);
        let text = String::from_utf8_lossy(&export.body).into_owned();
        let mut with_format = 0;
        for line in text.lines() {
            let record: Value = serde_json::from_str(line).expect("a JSON line");
            let Some(variants) = record["variants"].as_object() else {
                continue;
            };
            for variant in variants.values() {
                if record["slug"] == "md-exported" {
                    assert_eq!(variant["body_format"], "markdown", "{line}");
                    with_format += 1;
                } else {
                    // Plain is left out, so older records read (and hash) as they did.
                    assert!(variant.get("body_format").is_none(), "{line}");
                }
            }
        }
        assert_eq!(with_format, 1);

        let mirror = TestDb::new(backend).expect("backend");
        mirror.import(&text);
        let mirror = TestApp::new(mirror);
        let copied = detail(&mirror, "md-exported", "en").await;
        assert_eq!(copied["body_format"], "markdown");
        assert_eq!(copied["body_html"], original["body_html"]);

        // And `arkiv export` of the copy writes it again.
        let mut out = Vec::new();
        arkiv::import::export::export(&mut mirror.db.db.conn().expect("connection"), &mut out)
            .expect("export");
        let line = String::from_utf8_lossy(&out)
            .lines()
            .find(|line| line.contains("\"md-exported\""))
            .map(|line| serde_json::from_str::<Value>(line).expect("JSON"))
            .expect("exported again");
        assert_eq!(line["variants"]["en"]["body_format"], "markdown");
    }
);

on_both_backends!(
    a_format_can_be_changed_and_an_unknown_one_is_refused,
    |backend| {
        let app = demo_app(backend);
        let editor = app.key(Role::Editor);
        create(
            &app,
            &editor,
            &publication("md-changed", "plain", "Some **words**"),
        )
        .await;
        assert_eq!(
            detail(&app, "md-changed", "en").await["body_html"],
            "<p>Some **words**</p>\n"
        );
        let uri = "/v1/publications/md-changed";
        let patched = app
            .change(
                Method::PATCH,
                uri,
                &editor,
                Some(json!({"variants": {"en": {"body_format": "markdown"}}})),
            )
            .await;
        assert_eq!(
            patched.status,
            200,
            "{}",
            String::from_utf8_lossy(&patched.body)
        );
        assert_eq!(
            detail(&app, "md-changed", "en").await["body_html"],
            "<p>Some <strong>words</strong></p>\n"
        );

        // An unknown format, in a new publication and in a patch, names the field.
        let reply = app
            .send_json(
                Method::POST,
                "/v1/publications",
                Some(&editor),
                &publication("md-unknown", "html", "<b>x</b>"),
            )
            .await;
        let problem = assert_problem(&reply, 400, "invalid_body");
        assert_eq!(
            problem["errors"][0]["field"], "variants.en.body_format",
            "{problem}"
        );
        let reply = app
            .change(
                Method::PATCH,
                uri,
                &editor,
                Some(json!({"variants": {"en": {"body_format": "rst"}}})),
            )
            .await;
        let problem = assert_problem(&reply, 400, "invalid_body");
        assert_eq!(
            problem["errors"][0]["field"], "variants.en.body_format",
            "{problem}"
        );

        // And an import line names its line and the field.
        let line = json!({"type": "publication", "slug": "md-import", "kind": "report",
        "variants": {"en": {"title": "x", "body_format": "HTML"}}});
        let error = arkiv::import::parse(line.to_string().as_bytes()).expect_err("refused");
        assert!(
            error
                .to_string()
                .contains("line 1: variants.en.body_format"),
            "{error}"
        );
    }
);

/// A Markdown body nested past the limit is refused at the write (the
/// sanitiser would take minutes over it on every uncached read); the
/// same text as plain is taken.
#[actix_web::test]
async fn markdown_nested_too_deep_is_refused_at_the_write() {
    let app = crate::api::demo_app(crate::api::Backend::Sqlite);
    let editor = app.key(arkiv::domain::keys::Role::Editor);
    let deep = format!("{}x{}", "<div>".repeat(100_000), "</div>".repeat(100_000));
    for (format, status) in [("markdown", 422), ("plain", 201)] {
        let body = serde_json::json!({
            "slug": format!("deep-{format}"),
            "kind": "report",
            "variants": {"en": {"title": "Deep", "body": deep, "body_format": format}}
        });
        let reply = app
            .send_json(
                actix_web::http::Method::POST,
                "/v1/publications",
                Some(&editor),
                &body,
            )
            .await;
        assert_eq!(reply.status, status, "{format}");
        if status == 422 {
            let problem = crate::api::assert_problem(&reply, 422, "validation_failed");
            assert_eq!(
                problem["errors"][0]["field"], "variants.en.body",
                "{problem}"
            );
        }
    }
}
