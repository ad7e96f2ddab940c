//! API keys and roles: `/v1/admin/keys`, bearer authentication, and the
//! admin's search index rebuild.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use arkiv::domain::keys::Role;
use serde_json::json;

use super::{assert_problem, bearer, TestApp, TestDb};
use crate::on_both_backends;

on_both_backends!(only_admins_manage_keys, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend"));
    let (admin, editor, partner) = (
        app.key(Role::Admin),
        app.key(Role::Editor),
        app.key(Role::Partner),
    );
    // Nobody, a stranger's key, a malformed header: 401 with a challenge.
    for headers in [
        vec![],
        vec![bearer("arkiv_not-a-real-key")],
        vec![("Authorization", "Basic YWxpY2U6c2VjcmV0".to_owned())],
        vec![bearer("some-other-token")],
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let reply = app.get_with("/v1/admin/keys", &headers).await;
        assert_problem(&reply, 401, "unauthorized");
        assert_eq!(
            reply.header("www-authenticate").as_deref(),
            Some("Bearer realm=\"arkiv\"")
        );
    }
    for key in [&editor, &partner] {
        let (name, value) = bearer(key);
        assert_problem(
            &app.get_with("/v1/admin/keys", &[(name, &value)]).await,
            403,
            "forbidden",
        );
        let made = app
            .send_json(
                Method::POST,
                "/v1/admin/keys",
                Some(key),
                &json!({"name": "x", "role": "admin"}),
            )
            .await;
        assert_problem(&made, 403, "forbidden");
    }
    // Reads need no key, but a bad one is reported, not ignored.
    let (name, value) = bearer("arkiv_not-a-real-key");
    assert_problem(
        &app.get_with("/v1/publications", &[(name, &value)]).await,
        401,
        "unauthorized",
    );
    let (name, value) = bearer(&partner);
    assert_eq!(
        app.get_with("/v1/publications", &[(name, &value)])
            .await
            .status,
        200
    );
    assert_eq!(app.get("/v1/publications").await.status, 200);
    let (name, value) = bearer(&admin);
    let listed = app.get_with("/v1/admin/keys", &[(name, &value)]).await;
    assert_eq!(listed.status, 200);
    let listed = listed.json();
    assert_eq!(listed["total"], 3);
    let text = listed.to_string();
    for secret in [&admin, &editor, &partner] {
        assert!(!text.contains(secret.as_str()), "a listing shows no key");
    }
    assert!(listed["items"][0].get("hash").is_none());
});

on_both_backends!(
    a_key_is_shown_once_works_and_stops_when_revoked,
    |backend| {
        let app = TestApp::new(TestDb::new(backend).expect("backend"));
        let admin = app.key(Role::Admin);
        let made = app
            .send_json(
                Method::POST,
                "/v1/admin/keys",
                Some(&admin),
                &json!({"name": "partner harvester", "role": "admin"}),
            )
            .await;
        assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
        let made = made.json();
        let (new_key, id) = (
            made["key"].as_str().unwrap().to_owned(),
            made["id"].as_str().unwrap().to_owned(),
        );
        assert!(new_key.starts_with(made["prefix"].as_str().unwrap()));
        assert_eq!(made["role"], "admin");
        assert_eq!(made["revoked_at"], serde_json::Value::Null);
        // The new key works...
        let (name, value) = bearer(&new_key);
        assert_eq!(
            app.get_with("/v1/admin/keys", &[(name, &value)])
                .await
                .status,
            200
        );
        // ...until it is revoked, by id; revoking again changes nothing.
        let revoke = |key: String| {
            TestRequest::delete()
                .uri(&format!("/v1/admin/keys/{id}"))
                .insert_header(bearer(&key))
        };
        let revoked = app.send(revoke(admin.clone())).await;
        assert_eq!(revoked.status, 200);
        let first = revoked.json()["revoked_at"].clone();
        assert!(first.is_string());
        assert_problem(
            &app.get_with("/v1/admin/keys", &[(name, &value)]).await,
            401,
            "unauthorized",
        );
        assert_eq!(
            app.send(revoke(admin.clone())).await.json()["revoked_at"],
            first
        );
        // Unknown keys and bad bodies: 404, 400, 415.
        let missing = TestRequest::delete()
            .uri("/v1/admin/keys/0193a1e2-7c4d-7a10-9b2e-4f5a6b7c8d9e")
            .insert_header(bearer(&admin));
        assert_problem(&app.send(missing).await, 404, "not_found");
        for body in [
            json!({"name": "x", "role": "owner"}),
            json!({"name": "", "role": "editor"}),
            json!({"name": "x", "role": "editor", "extra": true}),
            json!({"role": "editor"}),
            json!([1, 2]),
        ] {
            let reply = app
                .send_json(Method::POST, "/v1/admin/keys", Some(&admin), &body)
                .await;
            assert_problem(&reply, 400, "invalid_body");
        }
        let as_text = TestRequest::post()
            .uri("/v1/admin/keys")
            .insert_header(bearer(&admin))
            .insert_header(("Content-Type", "text/plain"))
            .set_payload("name=x");
        assert_problem(&app.send(as_text).await, 415, "unsupported_media_type");
        // Only the two admin keys were made; nothing from the rejected requests.
        let (name, value) = bearer(&admin);
        assert_eq!(
            app.get_with("/v1/admin/keys", &[(name, &value)])
                .await
                .json()["total"],
            2
        );
    }
);

on_both_backends!(an_admin_rebuilds_the_search_index, |backend| {
    let app = TestApp::with_search(TestDb::new(backend).expect("backend").with_demo());
    let admin = app.key(Role::Admin);
    let editor = app.key(Role::Editor);
    let start = |key: &str| {
        TestRequest::post()
            .uri("/v1/admin/reindex")
            .insert_header(bearer(key))
    };
    assert_problem(&app.send(start(&editor)).await, 403, "forbidden");
    let before = app.get("/v1/search?q=normalization").await.json()["total"].clone();
    let started = app.send(start(&admin)).await;
    assert_eq!(started.status, 202);
    assert_eq!(
        started.header("location").as_deref(),
        Some("/v1/admin/reindex")
    );
    // Wait (bounded) for the background rebuild to finish.
    let (name, value) = bearer(&admin);
    let mut status = serde_json::Value::Null;
    for _ in 0..600 {
        status = app
            .get_with("/v1/admin/reindex", &[(name, &value)])
            .await
            .json();
        if status["running"] == false {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(status["running"], false, "{status}");
    assert_eq!(status["error"], serde_json::Value::Null, "{status}");
    let published = app.get("/v1/publications?limit=1").await.json()["total"].clone();
    assert_eq!(status["indexed"], published);
    assert_eq!(
        app.get("/v1/search?q=normalization").await.json()["total"],
        before
    );
});
