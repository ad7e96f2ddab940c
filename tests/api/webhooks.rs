//! `/v1/admin/webhooks` and the dispatcher: a receiver on 127.0.0.1 hears
//! of publications being published, withdrawn and deleted, checks the
//! signatures (with Python's own HMAC), sees failed deliveries retried
//! after a pause and given up after the last attempt, and nothing is lost
//! or sent twice when the dispatcher starts over.
//!
//! Webhooks may not reach inside: every spelling of a loopback, private,
//! link-local or otherwise inside address is refused at registration, and
//! again at delivery. The receivers here are on 127.0.0.1, which the apps
//! under test let through with their allow list, as `ARKIV_WEBHOOK_ALLOW`
//! would.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::http::Method;
use actix_web::test::TestRequest;
use arkiv::domain::keys::Role;
use arkiv::domain::net::AllowList;
use arkiv::webhooks::{Dispatcher, Round, MAX_ATTEMPTS};
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use super::{assert_problem, bearer, demo_app, python_json, TestApp, TestDb};
use crate::on_both_backends;

/// What the apps under test let webhooks reach beyond the public internet:
/// the test receivers' address.
fn loopback_allowed() -> AllowList {
    AllowList::parse(&["127.0.0.1"]).expect("allow list")
}

/// An app whose webhooks may reach the receivers on 127.0.0.1.
fn app_reaching_loopback(app: TestApp) -> TestApp {
    let mut app = app;
    app.restart(|state| state.with_webhook_allow(loopback_allowed()));
    app
}

/// A dispatcher with the same allow list as the app.
fn dispatcher_for(app: &TestApp) -> Dispatcher {
    Dispatcher::new(app.db.db.clone(), app.state.webhook_allow.clone())
}

/// One request the receiver took.
#[derive(Debug, Clone)]
struct Received {
    headers: HashMap<String, String>,
    body: String,
}

/// An HTTP endpoint on 127.0.0.1 that records what it is sent and answers
/// with the status it is told to.
struct Receiver {
    address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    location: Arc<Mutex<Option<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let stop = Arc::new(AtomicBool::new(false));
        let location = Arc::new(Mutex::new(None::<String>));
        let thread = {
            let (received, status, stop) = (received.clone(), status.clone(), stop.clone());
            let location = location.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    if let Ok(stream) = stream {
                        if let Some(request) = read_request(&stream) {
                            received.lock().expect("lock").push(request);
                        }
                        let code = status.load(Ordering::SeqCst);
                        let location = location
                            .lock()
                            .expect("lock")
                            .as_ref()
                            .map(|to| format!("Location: {to}\r\n"))
                            .unwrap_or_default();
                        let _ = (&stream).write_all(
                            format!(
                                "HTTP/1.1 {code} Status\r\n{location}Content-Length: 0\r\nConnection: close\r\n\r\n"
                            )
                            .as_bytes(),
                        );
                    }
                }
            })
        };
        Self {
            address,
            received,
            status,
            location,
            stop,
            thread: Some(thread),
        }
    }

    /// Answers with this status and a `Location` header.
    fn redirect_to(&self, status: u16, location: &str) {
        *self.location.lock().expect("lock") = Some(location.to_owned());
        self.answer_with(status);
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.received.lock().expect("lock"))
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn read_request(stream: &TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    if !line.starts_with("POST /hook ") {
        return None;
    }
    let mut headers = HashMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let length: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        headers,
        body: String::from_utf8(body).ok()?,
    })
}

/// Checks each signature with Python's hmac module: true per request
/// whose `Arkiv-Signature` is the HMAC-SHA256 of `<t>.<body>`.
const VERIFY: &str = r#"
import hashlib, hmac, json, sys
requests = json.load(open(sys.argv[1]))
secret = sys.argv[2].encode()
checked = []
for request in requests:
    parts = dict(part.split("=", 1) for part in request["signature"].split(","))
    signed = (parts["t"] + "." + request["body"]).encode()
    expected = hmac.new(secret, signed, hashlib.sha256).hexdigest()
    checked.append(hmac.compare_digest(expected, parts["v1"]))
print(json.dumps(checked))
"#;

async fn admin_send(app: &TestApp, admin: &str, request: TestRequest) -> super::Reply {
    app.send(request.insert_header(bearer(admin))).await
}

/// The publication moves a receiver subscribed to published, withdrawn
/// and deleted hears of: one of each, and an update it did not ask for.
async fn make_news(app: &TestApp, editor: &str, admin: &str) {
    for slug in ["hook-one", "hook-two", "hook-draft"] {
        let made = app
            .send_json(
                Method::POST,
                "/v1/publications",
                Some(editor),
                &json!({"slug": slug, "kind": "report", "variants": {"en": {"title": slug}}}),
            )
            .await;
        assert_eq!(made.status, 201);
    }
    for slug in ["hook-one", "hook-two"] {
        let uri = format!("/v1/publications/{slug}/publish");
        assert_eq!(app.act(&uri, editor, None).await.status, 200);
    }
    let update = json!({"keywords": ["updated"]});
    let reply = app
        .change(
            Method::PATCH,
            "/v1/publications/hook-one",
            editor,
            Some(update),
        )
        .await;
    assert_eq!(reply.status, 200);
    let reason = json!({"reason": "superseded"});
    let reply = app
        .act("/v1/publications/hook-one/withdraw", editor, Some(reason))
        .await;
    assert_eq!(reply.status, 200);
    // Deleting what was public is news; deleting a draft nobody saw is not.
    for slug in ["hook-two", "hook-draft"] {
        let uri = format!("/v1/publications/{slug}");
        let reply = app.change(Method::DELETE, &uri, admin, None).await;
        assert_eq!(reply.status, 204);
    }
}

on_both_backends!(
    subscribers_hear_of_public_changes_signed_and_retried,
    |backend| {
        let app = app_reaching_loopback(demo_app(backend));
        let (editor, admin) = (app.key(Role::Editor), app.key(Role::Admin));
        let receiver = Receiver::start();

        // Only admins register webhooks, with a URL and known events.
        let body = json!({"url": receiver.url(), "description": "test receiver",
                      "events": ["publication.published", "publication.withdrawn", "publication.deleted"]});
        let refused = app
            .send_json(Method::POST, "/v1/admin/webhooks", Some(&editor), &body)
            .await;
        assert_problem(&refused, 403, "forbidden");
        for bad in [
            json!({"url": "ftp://example.org/x"}),
            json!({"url": "not a url"}),
            json!({"url": "https:///nohost"}),
            json!({"url": receiver.url(), "events": ["publication.renamed"]}),
            json!({"url": receiver.url(), "events": []}),
            json!({"url": receiver.url(), "secret": "mine"}),
        ] {
            let reply = app
                .send_json(Method::POST, "/v1/admin/webhooks", Some(&admin), &bad)
                .await;
            assert_problem(&reply, 400, "invalid_body");
        }
        let made = app
            .send_json(Method::POST, "/v1/admin/webhooks", Some(&admin), &body)
            .await;
        assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
        let created = made.json();
        let secret = created["secret"].as_str().expect("secret").to_owned();
        assert!(secret.starts_with("whsec_"));
        let location = made.header("location").expect("Location");
        let listed = admin_send(&app, &admin, TestRequest::get().uri("/v1/admin/webhooks")).await;
        assert_eq!(listed.json()["items"][0]["id"], created["id"]);
        assert!(
            !String::from_utf8_lossy(&listed.body).contains(&secret),
            "never listed"
        );

        make_news(&app, &editor, &admin).await;

        // A dispatcher that starts after the writes (as after a restart) finds
        // every event in the change log. The subscriber fails at first.
        receiver.answer_with(503);
        let start = Utc::now();
        let dispatcher = dispatcher_for(&app);
        let round = dispatcher.run_once(start).expect("round");
        assert_eq!(
            round,
            Round {
                enqueued: 4,
                delivered: 0,
                failed: 4
            }
        );
        assert_eq!(receiver.take().len(), 4);
        let log = admin_send(
            &app,
            &admin,
            TestRequest::get().uri(&format!("{location}/deliveries")),
        )
        .await
        .json();
        for delivery in log["items"].as_array().expect("items") {
            assert_eq!(delivery["status"], "pending");
            assert_eq!(delivery["attempts"], 1);
            assert_eq!(delivery["last_status"], 503);
            assert_eq!(delivery["error_class"], Value::Null);
        }
        // Not again before the pause is over; then again, and taken.
        let idle = dispatcher_for(&app)
            .run_once(start + Duration::seconds(10))
            .expect("round");
        assert_eq!(idle, Round::default());
        receiver.answer_with(204);
        let retried = dispatcher
            .run_once(start + Duration::seconds(31))
            .expect("round");
        assert_eq!(retried.delivered, 4);
        let got = receiver.take();
        let events: Vec<&str> = got
            .iter()
            .map(|r| r.headers["arkiv-event"].as_str())
            .collect();
        assert_eq!(
            events,
            [
                "publication.published",
                "publication.published",
                "publication.withdrawn",
                "publication.deleted"
            ]
        );
        for request in &got {
            let payload: Value = serde_json::from_str(&request.body).expect("JSON body");
            assert_eq!(payload["event"], request.headers["arkiv-event"].as_str());
            assert_eq!(request.headers["content-type"], "application/json");
            assert!(payload["publication"]["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/v1/publications/")));
        }
        let signed: Vec<Value> = got
            .iter()
            .map(|r| json!({"signature": r.headers["arkiv-signature"], "body": r.body}))
            .collect();
        let checked = python_json(
            VERIFY,
            serde_json::to_string(&signed).expect("JSON").as_bytes(),
            &[&secret],
        );
        assert_eq!(checked, json!([true, true, true, true]));
        let checked = python_json(
            VERIFY,
            serde_json::to_string(&signed).expect("JSON").as_bytes(),
            &["whsec_wrong"],
        );
        assert_eq!(checked, json!([false, false, false, false]));

        // Delivered once: a new round sends nothing more.
        let quiet = dispatcher
            .run_once(start + Duration::hours(2))
            .expect("round");
        assert_eq!(quiet, Round::default());
        let log = admin_send(
            &app,
            &admin,
            TestRequest::get().uri(&format!("{location}/deliveries?limit=3")),
        )
        .await
        .json();
        assert_eq!(log["items"].as_array().map(Vec::len), Some(3));
        assert!(log["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|d| d["status"] == "delivered" && d["attempts"] == 2 && d["last_status"] == 204));
        let before = log["next_before"].as_i64().expect("next page");
        assert_eq!(log["total"], 4);
        assert_eq!(log["next_cursor"], before.to_string());
        let older = admin_send(
            &app,
            &admin,
            TestRequest::get().uri(&format!("{location}/deliveries?before={before}")),
        )
        .await
        .json();
        assert_eq!(older["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(older["next_before"], Value::Null);
        assert_eq!(older["next_cursor"], Value::Null);
        // The same page by the cursor its Link names, as every list pages.
        let first = admin_send(
            &app,
            &admin,
            TestRequest::get().uri(&format!("{location}/deliveries?limit=3")),
        )
        .await;
        let link = first.header("link").expect("a Link to older deliveries");
        let next = link
            .strip_prefix('<')
            .and_then(|rest| rest.split_once('>'))
            .map(|(uri, _)| uri.to_owned())
            .expect("a URI in Link");
        assert!(next.contains(&format!("cursor={before}")), "{link}");
        let by_link = admin_send(&app, &admin, TestRequest::get().uri(&next))
            .await
            .json();
        assert_eq!(by_link["items"], older["items"]);

        // A subscriber that never answers well is given up after the last attempt.
        receiver.answer_with(500);
        let made = app
            .send_json(
                Method::POST,
                "/v1/publications",
                Some(&editor),
                &json!({"slug": "hook-three", "kind": "report",
                    "variants": {"en": {"title": "Three"}}}),
            )
            .await;
        assert_eq!(made.status, 201);
        let published = app
            .act("/v1/publications/hook-three/publish", &editor, None)
            .await;
        assert_eq!(published.status, 200);
        let mut at = start + Duration::hours(3);
        for attempt in 1..=MAX_ATTEMPTS {
            let round = dispatcher.run_once(at).expect("round");
            assert_eq!(round.failed, 1, "attempt {attempt}");
            at += Duration::hours(2);
        }
        assert_eq!(dispatcher.run_once(at).expect("round"), Round::default());
        let log = admin_send(
            &app,
            &admin,
            TestRequest::get().uri(&format!("{location}/deliveries?limit=1")),
        )
        .await
        .json();
        assert_eq!(log["items"][0]["status"], "failed");
        assert_eq!(log["items"][0]["attempts"], MAX_ATTEMPTS);
        assert_eq!(receiver.take().len(), MAX_ATTEMPTS as usize);

        // Once the subscriber is back, an admin sends the failed one again.
        receiver.answer_with(200);
        let failed = log["items"][0]["id"].as_i64().expect("id");
        let resent = admin_send(
            &app,
            &admin,
            TestRequest::post().uri(&format!("{location}/deliveries/{failed}/resend")),
        )
        .await;
        assert_eq!(
            resent.status,
            202,
            "{}",
            String::from_utf8_lossy(&resent.body)
        );
        assert_eq!(resent.json()["status"], "pending");
        let round = dispatcher.run_once(Utc::now()).expect("round");
        assert_eq!(round.delivered, 1);
        assert_eq!(receiver.take().len(), 1);
        for (bad, status) in [("999999", 404), ("x", 400)] {
            let reply = admin_send(
                &app,
                &admin,
                TestRequest::post().uri(&format!("{location}/deliveries/{bad}/resend")),
            )
            .await;
            assert_eq!(reply.status.as_u16(), status, "{bad}");
        }

        // Deleted, it hears nothing more.
        let gone = admin_send(&app, &admin, TestRequest::delete().uri(&location)).await;
        assert_eq!(gone.status, 204);
        let missing = admin_send(&app, &admin, TestRequest::get().uri(&location)).await;
        assert_problem(&missing, 404, "not_found");
    }
);

/// Spellings of addresses webhooks may not reach: loopback, unspecified,
/// link-local (the cloud metadata address), private, shared, unique-local,
/// multicast, broadcast, documentation, benchmarking and reserved ranges,
/// written as resolvers read them, and names that are loopback.
const FORBIDDEN_URLS: &[&str] = &[
    "http://127.0.0.1/hook",
    "http://127.0.0.1:8080/hook",
    "HTTP://127.0.0.1/hook",
    "http://2130706433/hook",
    "http://0177.0.0.1/hook",
    "http://0x7f.0.0.1/hook",
    "http://0X7F.0.0.1/hook",
    "http://0x7f000001/hook",
    "http://017700000001/hook",
    "http://0177.0x0.0.1/hook",
    "http://127.000.000.001/hook",
    "http://127.1/hook",
    "http://127.0.1/hook",
    "http://0x7f.1/hook",
    "http://127.0.0.2./hook",
    "http://%31%32%37.0.0.1/hook",
    "http://user:password@127.0.0.1/hook",
    "http://partner.example.org@127.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.43518/latest/meta-data/",
    "http://0xa9fea9fe/latest/meta-data/",
    "http://2852039166/latest/meta-data/",
    "http://0.0.0.0/hook",
    "http://0/hook",
    "http://0.1.2.3/hook",
    "http://10.0.0.1/hook",
    "http://012.1/hook",
    "http://172.16.0.1/hook",
    "http://172.31.255.254/hook",
    "http://192.168.1.1/hook",
    "http://0xc0a80101/hook",
    "http://100.64.0.1/hook",
    "http://192.0.2.1/hook",
    "http://198.51.100.7/hook",
    "http://203.0.113.9/hook",
    "http://198.18.0.1/hook",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
    "http://255.255.255.255/hook",
    "http://[::]/hook",
    "http://[::1]/hook",
    "http://[0:0:0:0:0:0:0:1]:8080/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:7f00:1]/hook",
    "http://[::FFFF:169.254.169.254]/hook",
    "http://[::ffff:10.0.0.1]/hook",
    "http://[::127.0.0.1]/hook",
    "http://[64:ff9b::127.0.0.1]/hook",
    "http://[64:ff9b::a9fe:a9fe]/hook",
    "http://[2002:7f00:1::]/hook",
    "http://[2002:a9fe:a9fe::1]/hook",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://[fc00::1]/hook",
    "http://[ff02::1]/hook",
    "http://[2001:db8::1]/hook",
    "http://localhost/hook",
    "http://LOCALHOST./hook",
    "http://LocalHost:8080/hook",
    "https://api.localhost/hook",
    "http://%6c%6f%63%61%6c%68%6f%73%74/hook",
];

async fn register(app: &TestApp, admin: &str, url: &str) -> super::Reply {
    app.send_json(
        Method::POST,
        "/v1/admin/webhooks",
        Some(admin),
        &json!({"url": url}),
    )
    .await
}

on_both_backends!(inside_targets_are_refused_in_every_spelling, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend available"));
    let admin = app.key(Role::Admin);
    assert!(FORBIDDEN_URLS.len() >= 30);
    for url in FORBIDDEN_URLS {
        let reply = register(&app, &admin, url).await;
        let problem = assert_problem(&reply, 422, "webhook_target_forbidden");
        assert_eq!(problem["errors"][0]["field"], "url", "{url}: {problem}");
    }
    // A name that does not resolve is refused too, for what it is.
    let reply = register(&app, &admin, "https://no-such-host.invalid/hook").await;
    let problem = assert_problem(&reply, 422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "url");
    // Hosts that end in a number but are no address are malformed.
    for url in [
        "http://08.0.0.1/hook",
        "http://1.2.3.4.5/hook",
        "http://[fe80::1%25eth0]/hook",
    ] {
        assert_problem(&register(&app, &admin, url).await, 400, "invalid_body");
    }
    let listed = admin_send(&app, &admin, TestRequest::get().uri("/v1/admin/webhooks")).await;
    assert_eq!(listed.json()["items"], json!([]), "nothing was registered");

    // Public addresses, in any spelling, are taken (no lookup is needed).
    for url in [
        "http://93.184.215.14/hook",
        "http://1572394766/hook",
        "https://[2606:4700::1111]/hook",
        "https://[::ffff:93.184.215.14]:8443/hook",
    ] {
        let reply = register(&app, &admin, url).await;
        assert_eq!(
            reply.status,
            201,
            "{url}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(reply.json()["url"], *url);
    }

    // The allow list lets exactly what it names through.
    let app = app_reaching_loopback(app);
    let reply = register(&app, &admin, "http://127.0.0.1:9/hook").await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let reply = register(&app, &admin, "http://2130706433:9/hook").await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    for url in [
        "http://127.0.0.2/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://169.254.169.254/",
        "http://localhost/hook",
    ] {
        assert_problem(
            &register(&app, &admin, url).await,
            422,
            "webhook_target_forbidden",
        );
    }
    // An allowed host in %-escapes is still no URL the client can use.
    let reply = register(&app, &admin, "http://%31%32%37.0.0.1:9/hook").await;
    assert_problem(&reply, 400, "invalid_body");
});

/// Publishes a new publication, which every webhook hears of.
async fn publish(app: &TestApp, editor: &str, slug: &str) {
    let made = app
        .send_json(
            Method::POST,
            "/v1/publications",
            Some(editor),
            &json!({"slug": slug, "kind": "report", "variants": {"en": {"title": slug}}}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
    let uri = format!("/v1/publications/{slug}/publish");
    assert_eq!(app.act(&uri, editor, None).await.status, 200);
}

/// The newest delivery of the webhook at `location`, and the log's text.
async fn last_delivery(app: &TestApp, admin: &str, location: &str) -> (Value, String) {
    let reply = admin_send(
        app,
        admin,
        TestRequest::get().uri(&format!("{location}/deliveries?limit=1")),
    )
    .await;
    assert_eq!(reply.status, 200);
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    (reply.json()["items"][0].clone(), text)
}

on_both_backends!(delivery_checks_the_target_again, |backend| {
    let app = app_reaching_loopback(TestApp::new(
        TestDb::new(backend).expect("backend available"),
    ));
    let (editor, admin) = (app.key(Role::Editor), app.key(Role::Admin));
    let receiver = Receiver::start();
    let made = register(&app, &admin, &receiver.url()).await;
    assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
    let location = made.header("location").expect("Location");
    publish(&app, &editor, "recheck-one").await;

    // The server now runs without the allow list: the target is refused
    // at delivery, and never contacted.
    let start = Utc::now();
    let closed = Dispatcher::new(app.db.db.clone(), AllowList::default());
    let round = closed.run_once(start).expect("round");
    assert_eq!(
        round,
        Round {
            enqueued: 1,
            delivered: 0,
            failed: 1
        }
    );
    assert!(receiver.take().is_empty(), "the target was contacted");
    let (delivery, text) = last_delivery(&app, &admin, &location).await;
    assert_eq!(delivery["error_class"], "forbidden_target", "{delivery}");
    assert_eq!(delivery["last_status"], Value::Null);
    assert_eq!(delivery["status"], "pending");
    assert!(!text.contains("last_error"), "{text}");

    // Allowed again, the retry goes through.
    let round = dispatcher_for(&app)
        .run_once(start + Duration::seconds(31))
        .expect("round");
    assert_eq!(round.delivered, 1);
    assert_eq!(receiver.take().len(), 1);
    let (delivery, _) = last_delivery(&app, &admin, &location).await;
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["last_status"], 200);
    assert_eq!(delivery["error_class"], Value::Null);
});

/// A TCP server that answers a TLS handshake in plain HTTP, once.
fn plain_http_server() -> (SocketAddr, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    let thread = std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut hello = [0; 4096];
            let _ = stream.read(&mut hello);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            let _ = stream.shutdown(std::net::Shutdown::Write);
            // Reads what is left, so closing sends no reset.
            let _ = std::io::copy(&mut stream, &mut std::io::sink());
        }
    });
    (address, thread)
}

on_both_backends!(failed_attempts_are_logged_by_class_only, |backend| {
    let app = app_reaching_loopback(TestApp::new(
        TestDb::new(backend).expect("backend available"),
    ));
    let (editor, admin) = (app.key(Role::Editor), app.key(Role::Admin));
    // A port nobody listens on.
    let closed_port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    // A server that takes the connection and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("address").port();
    let (plain, plain_thread) = plain_http_server();
    // A subscriber that redirects elsewhere: not followed.
    let redirecting = Receiver::start();
    let elsewhere = Receiver::start();
    redirecting.redirect_to(307, &elsewhere.url());

    let mut locations = HashMap::new();
    for (name, url) in [
        ("refused", format!("http://127.0.0.1:{closed_port}/hook")),
        ("timeout", format!("http://127.0.0.1:{silent_port}/hook")),
        ("tls", format!("https://127.0.0.1:{}/hook", plain.port())),
        ("redirect", redirecting.url()),
    ] {
        let made = register(&app, &admin, &url).await;
        assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
        locations.insert(name, made.header("location").expect("Location"));
    }
    publish(&app, &editor, "failing-one").await;

    let round = Dispatcher::new(app.db.db.clone(), loopback_allowed())
        .with_timeout(std::time::Duration::from_secs(1))
        .run_once(Utc::now())
        .expect("round");
    assert_eq!(
        round,
        Round {
            enqueued: 4,
            delivered: 0,
            failed: 4
        }
    );
    for name in ["refused", "timeout", "tls"] {
        let (delivery, text) = last_delivery(&app, &admin, &locations[name]).await;
        assert_eq!(delivery["error_class"], name, "{delivery}");
        assert_eq!(delivery["last_status"], Value::Null, "{delivery}");
        assert_eq!(delivery["attempts"], 1);
        for os_text in [
            "os error",
            "onnection",
            "timed out",
            "rustls",
            "io:",
            "last_error",
        ] {
            assert!(!text.contains(os_text), "{name}: {text}");
        }
    }
    let (delivery, _) = last_delivery(&app, &admin, &locations["redirect"]).await;
    assert_eq!(delivery["last_status"], 307);
    assert_eq!(delivery["error_class"], Value::Null);
    assert_eq!(redirecting.take().len(), 1);
    assert!(elsewhere.take().is_empty(), "a redirect was followed");
    drop(silent);
    plain_thread.join().expect("the plain server");
});
