//! The served OpenAPI document equals the committed one, and the two
//! migration sets name the same migrations.

use super::{demo_app, Backend};

#[actix_web::test]
async fn served_spec_equals_the_committed_file() {
    let app = demo_app(Backend::Sqlite);
    let served = app.get("/openapi.json").await.json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed: serde_json::Value = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(serde_json::Value::Null);
    assert!(
        served == committed,
        "openapi/openapi.json is out of date; regenerate it with:\n\n    cargo run -- openapi > openapi/openapi.json\n"
    );
    assert_eq!(
        arkiv::openapi::spec_json(),
        std::fs::read_to_string(path).unwrap_or_default()
    );
    // Every read endpoint of the design is documented.
    for path in [
        "/v1/publications",
        "/v1/publications/{id_or_slug}",
        "/v1/projects",
        "/v1/projects/{id_or_slug}",
        "/v1/organisations",
        "/v1/organisations/{id_or_slug}",
        "/v1/fields",
        "/v1/events",
        "/v1/events/{id_or_slug}",
        "/healthz",
        "/readyz",
    ] {
        assert!(
            served["paths"].get(path).is_some(),
            "{path} is not in the spec"
        );
    }
}

#[test]
fn both_backends_have_the_same_migrations() {
    let names = |backend: &str| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite,
        names("postgres"),
        "migrations/sqlite and migrations/postgres must hold the same directories"
    );
}
