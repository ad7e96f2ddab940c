//! `/v1/admin/webhooks` and the dispatcher: a receiver on 127.0.0.1 hears
//! of publications being published, withdrawn and deleted, checks the
//! signatures (with Python's own HMAC), sees failed deliveries retried
//! after a pause and given up after the last attempt, and nothing is lost
//! or sent twice when the dispatcher starts over.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::http::Method;
use actix_web::test::TestRequest;
use arkiv::auth::Role;
use arkiv::webhooks::{Dispatcher, Round, MAX_ATTEMPTS};
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use super::{assert_problem, demo_app, python_json, TestApp};
use crate::on_both_backends;

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
        let thread = {
            let (received, status, stop) = (received.clone(), status.clone(), stop.clone());
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
                        let _ = (&stream).write_all(
                            format!(
                                "HTTP/1.1 {code} Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
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
            stop,
            thread: Some(thread),
        }
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
    app.send(request.insert_header(("Authorization", format!("Bearer {admin}"))))
        .await
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
        let app = demo_app(backend);
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
        let dispatcher = Dispatcher::new(app.db.db.clone());
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
        let idle = Dispatcher::new(app.db.db.clone())
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
        let older = admin_send(
            &app,
            &admin,
            TestRequest::get().uri(&format!("{location}/deliveries?before={before}")),
        )
        .await
        .json();
        assert_eq!(older["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(older["next_before"], Value::Null);

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
