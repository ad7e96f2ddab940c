//! Properties over hostile input, with random cases: search texts through
//! the index and through `/v1/search` and `/v1/search/suggest` (never a
//! panic, never a 5xx), and import files through `arkiv::import::parse`
//! (never a panic; every problem a line error within the file).

use actix_web::dev::Service;
use actix_web::test as actix_test;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;

use super::publications::fixture;
use super::{Backend, TestApp, TestDb};

/// Pieces of the query syntax, and words in the archive's scripts.
#[rustfmt::skip]
const QUERY_PIECES: &[&str] = &[
    " ", " ", "\"", "-", "+", " OR ", " AND ", " NOT ", "(", ")", "[", "]", "{", "}", "*", "~",
    "~2", "^", "^2.5", "\\", ":", "!", "'", " TO ", "IN ", "title:", "summary:", "body_sq:",
    "title_en:", "keywords:", "authors:", "year:", "published_on:", "normalization", "dialogue",
    "process", "expert", "Prishtinë", "Приштини", "Prištini", "Ивановић", "e\u{301}", "\u{301}",
    "\u{200b}", "\u{fffd}", "ǅ", "ﬁ", "2024", "a",
];

/// A search text: any characters, pieces of the syntax, or pieces inside
/// parentheses up to 900 deep.
fn search_text() -> impl Strategy<Value = String> {
    let syntax = prop::collection::vec(prop::sample::select(QUERY_PIECES), 0..40)
        .prop_map(|pieces| pieces.concat());
    prop_oneof![
        prop::collection::vec(any::<char>(), 0..300).prop_map(String::from_iter),
        syntax.clone(),
        (0usize..900, syntax, 0usize..900).prop_map(|(open, inside, close)| {
            format!("{}{inside}{}", "(".repeat(open), ")".repeat(close))
        }),
    ]
}

/// The demo archive, indexed.
fn demo_with_search() -> TestApp {
    TestApp::with_search(TestDb::new(Backend::Sqlite).expect("backend").with_demo())
}

/// Every step a search takes in the index — the query, the page, the
/// typo-tolerant retry, the facet counts, the match positions, the
/// completions — answers for any text, without a panic or an error.
#[test]
fn the_index_answers_any_search_text() {
    use arkiv::db::publications::Filter;
    use arkiv::search::index::{Facet, SearchOrder};

    let app = demo_with_search();
    let index = app.state.search.clone().expect("an index");
    let mut runner = TestRunner::new(Config::with_cases(256));
    let outcome = runner.run(&search_text(), |text| {
        let fail = |step: &str, error: tantivy::TantivyError| {
            TestCaseError::fail(format!("{step} of {text:?}: {error}"))
        };
        let (query, parsed) = index.search_query(&text, &Filter::default());
        let page = index
            .search(&*query, SearchOrder::Relevance, 10, 0)
            .map_err(|error| fail("search", error))?;
        if let Some(tolerant) = parsed
            .as_ref()
            .and_then(|parsed| index.fuzzy_query(parsed, &Filter::default()))
        {
            index
                .search(&*tolerant, SearchOrder::PublishedDesc, 10, 0)
                .map_err(|error| fail("the typo-tolerant search", error))?;
        }
        index
            .facet_counts(&*query, &Facet::ALL)
            .map_err(|error| fail("the facet counts", error))?;
        index
            .matches(&page, &*query, parsed.as_ref())
            .map_err(|error| fail("the match positions", error))?;
        index
            .suggest(&text, 8)
            .map_err(|error| fail("the completions", error))?;
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

/// `/v1/search` and `/v1/search/suggest` answer any `q` without a 5xx: a
/// 200 with items, or a 4xx problem (a `q` over 1,000 characters).
#[test]
fn search_and_suggest_never_answer_5xx() {
    let app = demo_with_search();
    let system = actix_web::rt::System::new();
    let service = system.block_on(actix_test::init_service(arkiv::app::app(app.state.clone())));
    let mut runner = TestRunner::new(Config::with_cases(96));
    let outcome = runner.run(&search_text(), |text| {
        let q = percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC);
        for uri in [
            format!("/v1/search?q={q}&facets=kind,field,project,language,year"),
            format!("/v1/search?q={q}&sort=-published_on&highlight=false"),
            format!("/v1/search/suggest?q={q}"),
        ] {
            let (status, body) = system.block_on(async {
                let response = service
                    .call(actix_test::TestRequest::get().uri(&uri).to_request())
                    .await
                    .map_err(|error| TestCaseError::fail(format!("{uri}: {error}")))?;
                let status = response.status();
                Ok::<_, TestCaseError>((status, actix_test::read_body(response).await))
            })?;
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            prop_assert!(
                !status.is_server_error(),
                "{} for {:?}: {}",
                status,
                text,
                body
            );
            if status.is_success() {
                prop_assert!(body["items"].is_array(), "{:?}: {}", text, body);
            } else {
                prop_assert!(body["code"].is_string(), "{} {:?}: {}", status, text, body);
            }
        }
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

/// Checks what `parse` makes of a file: no panic, and either lines
/// numbered within the file or line errors within it (an in-memory file
/// has no I/O error to give, and parsing never reaches a database). With
/// `only`, every error is on that line.
fn check_parse(file: &[u8], only: Option<usize>) -> Result<(), TestCaseError> {
    let lines = file.iter().filter(|&&byte| byte == b'\n').count() + 1;
    match arkiv::import::parse(file) {
        Ok(parsed) => {
            let numbers: Vec<usize> = parsed.iter().map(|line| line.number).collect();
            prop_assert!(
                numbers.windows(2).all(|pair| pair[0] < pair[1]),
                "{:?}",
                numbers
            );
            prop_assert!(numbers.iter().all(|&n| (1..=lines).contains(&n)));
        }
        Err(arkiv::import::ImportError::Invalid(errors)) => {
            prop_assert!(!errors.is_empty());
            for error in &errors {
                prop_assert!(
                    (1..=lines).contains(&error.line),
                    "line {} of {}",
                    error.line,
                    lines
                );
                if let Some(only) = only {
                    prop_assert_eq!(error.line, only, "{}", error);
                }
                prop_assert!(!error.message.is_empty(), "{}", error);
            }
        }
        Err(other) => return Err(TestCaseError::fail(format!("not a line error: {other}"))),
    }
    Ok(())
}

/// Names and values of the import format, so that random records reach
/// past the JSON parser into the records' own checks.
#[rustfmt::skip]
const FORMAT_KEYS: &[&str] = &[
    "type", "id", "slug", "kind", "status", "published_on", "project", "event", "fields",
    "variants", "en", "sq", "sr-Latn", "sr-Cyrl", "sr", "title", "summary", "body", "authors",
    "keywords", "withdrawn_reason", "file", "sha256", "name", "label", "roles", "website",
    "funders", "partners", "organisation", "grant_number", "starts_on", "ends_on", "url",
];
#[rustfmt::skip]
const FORMAT_VALUES: &[&str] = &[
    "", "publication", "organisation", "field", "project", "event", "report", "policy_paper",
    "published", "draft", "withdrawn", "funder", "partner", "2024-02-29", "2023-02-29",
    "0000-00-00", "99999-01-01", "en", "sr-Cyrl", "xx", "project-p", "field-x", "funder-a",
    "no-such-slug", "UPPER-case", "../../etc", "01890a5d-ac96-774b-bcce-b302099a8057",
    "not-a-uuid", "https://example.org", "javascript:alert(1)", "Приштина", "e\u{301}", "\u{0}",
];

/// Any JSON value, leaning on the format's own names and values.
fn json_value() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        prop::sample::select(FORMAT_VALUES).prop_map(str::to_owned),
        prop::collection::vec(any::<char>(), 0..20).prop_map(String::from_iter),
        (1usize..5000).prop_map(|n| "x".repeat(n)),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text.prop_map(Value::from),
    ];
    let key = prop_oneof![
        prop::sample::select(FORMAT_KEYS).prop_map(str::to_owned),
        prop::collection::vec(any::<char>(), 0..8).prop_map(String::from_iter),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// A valid file to mutate: the test fixture and the demo archive.
fn valid_lines() -> Vec<String> {
    fixture(4)
        .lines()
        .chain(arkiv::demo::ARCHIVE.lines())
        .map(str::to_owned)
        .collect()
}

/// One change to a JSON value at the `at`-th of its places (objects and
/// arrays count, and so do their members).
#[derive(Debug, Clone)]
enum Change {
    Replace(Value),
    Remove,
    Add(String, Value),
}

fn change_at(value: &mut Value, at: &mut usize, change: &Change) -> bool {
    if *at == 0 {
        match (change, &mut *value) {
            (Change::Add(key, added), Value::Object(object)) => {
                object.insert(key.clone(), added.clone());
            }
            (Change::Replace(replacement), _) | (Change::Add(_, replacement), _) => {
                *value = replacement.clone();
            }
            (Change::Remove, _) => *value = Value::Null,
        }
        return true;
    }
    *at -= 1;
    match value {
        Value::Object(object) => {
            let keys: Vec<String> = object.keys().cloned().collect();
            for key in keys {
                if *at == 0 && matches!(change, Change::Remove) {
                    object.remove(&key);
                    return true;
                }
                if let Some(member) = object.get_mut(&key) {
                    if change_at(member, at, change) {
                        return true;
                    }
                }
            }
            false
        }
        Value::Array(items) => items.iter_mut().any(|item| change_at(item, at, change)),
        _ => false,
    }
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        json_value().prop_map(Change::Replace),
        Just(Change::Remove),
        (
            prop::sample::select(FORMAT_KEYS).prop_map(str::to_owned),
            json_value()
        )
            .prop_map(|(key, value)| Change::Add(key, value)),
    ]
}

/// A byte-level edit of one line: bytes replaced, inserted or cut (never a
/// line break, so the file keeps its lines).
#[derive(Debug, Clone)]
enum Edit {
    Set(prop::sample::Index, u8),
    Insert(prop::sample::Index, Vec<u8>),
    Cut(prop::sample::Index, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = any::<u8>().prop_map(|b| if b == b'\n' { b' ' } else { b });
    prop_oneof![
        (any::<prop::sample::Index>(), byte.clone()).prop_map(|(at, b)| Edit::Set(at, b)),
        (
            any::<prop::sample::Index>(),
            prop::collection::vec(byte, 1..8)
        )
            .prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
        (any::<prop::sample::Index>(), 1usize..40).prop_map(|(at, n)| Edit::Cut(at, n)),
    ]
}

fn apply(line: &mut Vec<u8>, edit: &Edit) {
    match edit {
        Edit::Set(at, byte) => {
            let at = at.index(line.len());
            line[at] = *byte;
        }
        Edit::Insert(at, bytes) => {
            let at = at.index(line.len() + 1);
            line.splice(at..at, bytes.iter().copied());
        }
        Edit::Cut(at, n) => {
            let at = at.index(line.len());
            let end = (at + n).min(line.len());
            line.drain(at..end);
        }
    }
}

/// Random bytes, random JSON (deeply nested too) and broken valid lines
/// never panic the import parser, and every problem is a line error within
/// the file; a file with one line broken has errors on that line alone.
#[test]
fn the_import_parser_names_a_line_for_every_problem() {
    let valid = valid_lines();
    let whole = valid.join("\n");
    check_parse(whole.as_bytes(), None).expect("the valid file");
    assert!(
        arkiv::import::parse(whole.as_bytes()).is_ok(),
        "the lines to break are valid"
    );
    let config = Config::with_cases(512);

    let bytes = prop::collection::vec(any::<u8>(), 0..2000);
    TestRunner::new(config.clone())
        .run(&bytes, |file| check_parse(&file, None))
        .unwrap_or_else(|failure| panic!("random bytes: {failure}"));

    let values = prop::collection::vec(json_value(), 1..6);
    TestRunner::new(config.clone())
        .run(&values, |values| {
            let file: Vec<String> = values.iter().map(Value::to_string).collect();
            check_parse(file.join("\n").as_bytes(), None)
        })
        .unwrap_or_else(|failure| panic!("random JSON: {failure}"));

    let deep = (0usize..5000, prop::sample::select(&["[", "{\"a\":"][..]));
    TestRunner::new(config.clone())
        .run(&deep, |(depth, opening)| {
            let closing = if opening == "[" { "]" } else { "}" };
            let line = format!(
                r#"{{"type":"publication","slug":"deep","variants":{}1{}}}"#,
                opening.repeat(depth),
                closing.repeat(depth)
            );
            check_parse(line.as_bytes(), Some(1))
        })
        .unwrap_or_else(|failure| panic!("deep JSON: {failure}"));

    let typed = (
        prop::sample::select(&["organisation", "field", "project", "event", "publication"][..]),
        json_value(),
    );
    TestRunner::new(config.clone())
        .run(&typed, |(kind, mut value)| {
            if let Value::Object(object) = &mut value {
                object.insert("type".into(), kind.into());
            }
            check_parse(value.to_string().as_bytes(), None)
        })
        .unwrap_or_else(|failure| panic!("random records: {failure}"));

    let changed = (any::<prop::sample::Index>(), any::<usize>(), change());
    TestRunner::new(config.clone())
        .run(&changed, |(which, at, change)| {
            let line = which.index(valid.len());
            let mut value: Value = serde_json::from_str(&valid[line]).expect("valid JSON");
            let mut at = at % 64;
            change_at(&mut value, &mut at, &change);
            let mut file = valid.clone();
            file[line] = value.to_string();
            check_parse(file.join("\n").as_bytes(), Some(line + 1))
        })
        .unwrap_or_else(|failure| panic!("changed records: {failure}"));

    let edited = (
        any::<prop::sample::Index>(),
        prop::collection::vec(edit(), 1..6),
    );
    TestRunner::new(config)
        .run(&edited, |(which, edits)| {
            let line = which.index(valid.len());
            let mut broken = valid[line].clone().into_bytes();
            for edit in &edits {
                if !broken.is_empty() {
                    apply(&mut broken, edit);
                }
            }
            let mut file: Vec<Vec<u8>> = valid.iter().map(|l| l.clone().into_bytes()).collect();
            file[line] = broken;
            check_parse(&file.join(&b'\n'), Some(line + 1))
        })
        .unwrap_or_else(|failure| panic!("edited lines: {failure}"));
}
