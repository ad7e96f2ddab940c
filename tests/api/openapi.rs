//! The served OpenAPI document equals the committed one and states what
//! the server takes, and the two migration sets name the same migrations.

use serde_json::Value;

use super::{assert_problem, demo_app, Backend, TestApp, TestDb};

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

/// Every value the spec lists for a query parameter of an endpoint without
/// path parameters is taken (alone, and a list of them all at once), and a
/// value it doesn't list is a 400 `invalid_parameter`: the spec says what
/// the parsers enforce, so that a generated client or a fuzzer agrees with
/// the server.
#[actix_web::test]
async fn the_listed_values_of_each_parameter_are_the_ones_taken() {
    let app = TestApp::with_search(TestDb::new(Backend::Sqlite).expect("backend").with_demo());
    let editor = app.key(arkiv::domain::keys::Role::Editor);
    let spec = app.get("/openapi.json").await.json();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        let Some(parameters) = item["get"]["parameters"].as_array() else {
            continue;
        };
        if path.contains('{') {
            continue;
        }
        for parameter in parameters.iter().filter(|p| p["in"] == "query") {
            let name = parameter["name"].as_str().expect("name");
            // Documented means taken: whatever the value, never an unknown parameter.
            let named = app.get(&format!("{path}?{name}=")).await;
            if !named.status.is_success() && named.body.starts_with(b"{") {
                assert_ne!(
                    named.json()["code"],
                    "unknown_query_parameter",
                    "{path} documents {name} but does not take it"
                );
            }
            let schema = &parameter["schema"];
            let (values, list) = match (&schema["enum"], &schema["items"]["enum"]) {
                (Value::Array(values), _) => (values, false),
                (_, Value::Array(values)) => (values, true),
                _ => continue,
            };
            let values: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
            let mut tries: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
            if list {
                assert_eq!(parameter["explode"], false, "{path} {name}");
                tries.push(values.join(","));
            }
            for value in tries {
                let uri = format!("{path}?{name}={}", value.replace('+', "%2B"));
                let reply = app
                    .get_with(&uri, &[("Authorization", &format!("Bearer {editor}"))])
                    .await;
                assert!(
                    reply.status.is_success(),
                    "{uri} answered {}: {}",
                    reply.status,
                    String::from_utf8_lossy(&reply.body)
                );
                checked += 1;
            }
            let unlisted = app.get(&format!("{path}?{name}=not-a-listed-value")).await;
            assert_problem(&unlisted, 400, "invalid_parameter");
        }
    }
    // kind, language, sort, status on the list and the CSV; kind, language,
    // sort, facets on search; kind on the feeds and events; role; include.
    assert!(checked >= 60, "only {checked} values checked");
}

/// The patterns the spec gives language tags and ids or slugs are the
/// parsers' own: a sample of each kind of value is taken exactly when
/// the pattern matches it.
#[actix_web::test]
async fn the_patterns_of_tags_and_keys_agree_with_the_parsers() {
    let app = demo_app(Backend::Sqlite);
    let spec = app.get("/openapi.json").await.json();
    let pattern = |path: &str, name: &str| -> regex_lite::Regex {
        let parameters = spec["paths"][path]["get"]["parameters"]
            .as_array()
            .expect("parameters");
        let parameter = parameters
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path} has no {name}"));
        let schema = &parameter["schema"];
        let pattern = schema["pattern"]
            .as_str()
            .or(schema["items"]["pattern"].as_str())
            .unwrap_or_else(|| panic!("{path} {name} has no pattern"));
        regex_lite::Regex::new(pattern).expect("a valid pattern")
    };
    let tag = pattern("/v1/fields", "lang");
    for sample in [
        "en",
        "sq",
        "sr",
        "sr-Latn",
        "SR-cyrl",
        "de",
        "en-GB",
        "sr-Latn-RS",
        "x",
        "all",
        "",
        "*",
        "en_US",
        "-en",
        "en-",
        "en--GB",
        "abcdefghi",
        "en-abcdefghi",
        "e1",
        "č",
        " en",
        "en\t",
    ] {
        let taken = arkiv::domain::LanguageRange::parse(sample)
            .is_ok_and(|range| !matches!(range, arkiv::domain::LanguageRange::Any));
        assert_eq!(tag.is_match(sample), taken, "lang {sample:?}");
    }
    // The parameter is stricter than a tag in Accept-Language: no spaces around it.
    for (sample, taken) in [("sq", true), ("sq%20", false), ("%09sq", false)] {
        let reply = app.get(&format!("/v1/fields?lang={sample}")).await;
        assert_eq!(reply.status.is_success(), taken, "lang={sample}");
    }
    let key = pattern("/v1/publications/{id_or_slug}", "id_or_slug");
    let field = pattern("/v1/publications", "field");
    for sample in [
        "citizen-participation",
        "publication-000001",
        "01a2234b-5539-70d0-a5ba-a8cb93c1a684",
        "01A2234B-5539-70D0-A5BA-A8CB93C1A684",
        "01a2234b5539",
        "",
        "-a",
        "a-",
        "a--b",
        "Citizen",
        "a_b",
        "č",
        "01a2234b-5539-70d0-a5ba-a8cb93c1a68",
    ] {
        let taken = arkiv::domain::IdOrSlug::parse(sample).is_ok();
        assert_eq!(key.is_match(sample), taken, "id_or_slug {sample:?}");
        assert_eq!(field.is_match(sample), taken, "field {sample:?}");
    }
}

/// The request bodies of the write endpoints are the import format's
/// records, stated exactly enough for a client (or a fuzzer) to make one:
/// the slug pattern is the parser's, and every record of the demo archive
/// has only properties its schema lists and all those it requires.
#[actix_web::test]
async fn the_body_schemas_state_what_the_import_format_takes() {
    let app = demo_app(Backend::Sqlite);
    let spec = app.get("/openapi.json").await.json();
    let schemas = &spec["components"]["schemas"];
    let slug = &schemas["Slug"];
    let pattern = regex_lite::Regex::new(slug["pattern"].as_str().expect("a slug pattern"))
        .expect("a valid pattern");
    let longest = slug["maxLength"].as_u64().expect("a longest slug") as usize;
    let long = "a".repeat(longest + 1);
    for sample in [
        "dialogue", "a-1", "2024", "", "a--b", "-a", "a-", "Ab", "č", "a_b", &long,
    ] {
        let documented = pattern.is_match(sample) && sample.len() <= longest;
        let taken = arkiv::domain::Slug::parse(sample).is_ok();
        assert_eq!(documented, taken, "slug {sample:?}");
    }

    let body = |path: &str, method: &str| -> Value {
        let schema =
            &spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"];
        let name = schema["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: {schema}"));
        schemas[name.trim_start_matches("#/components/schemas/")].clone()
    };
    let fits = |record: &Value, schema: &Value, what: &str| {
        let properties = schema["properties"].as_object().expect("properties");
        for name in record.as_object().expect("an object").keys() {
            assert!(
                properties.contains_key(name),
                "{what}: {name} is not in the schema"
            );
        }
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().expect("a name");
            assert!(
                record.get(name).is_some(),
                "{what}: the schema requires {name}"
            );
        }
    };
    let mut seen = std::collections::BTreeSet::new();
    for line in include_str!("../../src/demo/archive.ndjson").lines() {
        let mut record: Value = serde_json::from_str(line).expect("a demo record");
        let kind = record["type"].as_str().expect("a type").to_owned();
        record.as_object_mut().expect("an object").remove("type");
        let collection = match kind.as_str() {
            "organisation" => "organisations",
            "field" => "fields",
            "project" => "projects",
            "event" => "events",
            "publication" => "publications",
            other => panic!("a {other} in the demo archive"),
        };
        let path = format!("/v1/{collection}");
        let schema = body(&path, "post");
        assert_eq!(
            schema,
            body(&format!("{path}/{{id_or_slug}}"), "put"),
            "{path}"
        );
        fits(&record, &schema, &kind);
        let variants = record["variants"].as_object().into_iter().flatten();
        for (tag, variant) in variants {
            let tags = &schema["properties"]["variants"]["propertyNames"]["enum"];
            assert!(
                tags.as_array()
                    .expect("tags")
                    .contains(&Value::from(tag.as_str())),
                "{tag}"
            );
            fits(
                variant,
                &schemas["VariantRecord"],
                &format!("{kind} variant"),
            );
        }
        seen.insert(kind);
    }
    assert_eq!(
        seen.len(),
        5,
        "every kind of record is in the demo archive: {seen:?}"
    );
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

/// The roles the spec names on each keyed operation are the ones the
/// server enforces: every operation asking for `admin` refuses an editor's
/// key with 403, every one asking for `editor` a partner's, and each refuses
/// a request without a key with 401 and takes one of the role named; those
/// answers are the shared responses
/// the spec refers them to. Every operation but the probes states 429, and
/// every one taking `If-Match` states 428.
#[actix_web::test]
async fn the_roles_in_the_spec_are_the_ones_enforced() {
    use actix_web::http::Method;
    use arkiv::domain::keys::Role;

    let app = demo_app(Backend::Sqlite);
    let spec = app.get("/openapi.json").await.json();
    let partner = app.key(Role::Partner);
    let editor = app.key(Role::Editor);
    let admin = app.key(Role::Admin);
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            let responses = &operation["responses"];
            let reference = |status: &str| responses[status]["$ref"].as_str().map(str::to_owned);
            if !matches!(path.as_str(), "/healthz" | "/readyz") {
                assert!(
                    responses.get("429").is_some(),
                    "{method} {path} does not state 429"
                );
            }
            let takes_if_match = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|parameter| parameter["name"] == "If-Match");
            if takes_if_match {
                assert!(responses.get("428").is_some(), "{method} {path}: 428");
            }
            let Some(role) = operation["security"][0]["bearer"][0].as_str() else {
                continue;
            };
            let (own, below, refusal) = match role {
                "admin" => (&admin, &editor, "#/components/responses/NotAdmin"),
                "editor" => (&editor, &partner, "#/components/responses/NotEditor"),
                other => panic!("{method} {path} names the role {other:?}"),
            };
            assert_eq!(
                reference("403").as_deref(),
                Some(refusal),
                "{method} {path}"
            );
            assert_eq!(
                reference("401").as_deref(),
                Some("#/components/responses/Unauthorized"),
                "{method} {path}"
            );
            let uri = path
                .replace("{id_or_slug}", "conclusions-expert-discussion-2024-10-31")
                .replace("{lang}", "en")
                .replace("{id}", "0193a1e2-7c4d-7a10-9b2e-4f5a6b7c8d9e")
                .replace("{delivery}", "0193a1e2-7c4d-7a10-9b2e-4f5a6b7c8d9e");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            for (key, status, code) in [
                (None, 401, "unauthorized"),
                (Some(below.as_str()), 403, "forbidden"),
            ] {
                let mut request = actix_web::test::TestRequest::default()
                    .method(method.clone())
                    .uri(&uri);
                if let Some(key) = key {
                    request = request.insert_header(super::bearer(key));
                }
                let reply = app.send(request).await;
                assert_problem(&reply, status, code);
            }
            // The role named is enough (whatever else the request lacks).
            let request = actix_web::test::TestRequest::default()
                .method(method.clone())
                .uri(&uri)
                .insert_header(super::bearer(own));
            let status = app.send(request).await.status;
            assert!(
                status != 401 && status != 403,
                "{method} {path} refused the {role} role: {status}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} keyed operations");
}
