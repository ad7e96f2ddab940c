//! `/oai`: OAI-PMH 2.0 as harvesters use it — whole and incremental
//! harvests through resumption tokens (across a restart too), deleted
//! records that stay, sets, every protocol error, and a real client
//! (`sickle`) over HTTP.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::Method;
use actix_web::test::TestRequest;
use arkiv::config::OaiSettings;
use arkiv::domain::keys::Role;
use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

use super::{python_parser, TestApp, TestDb};
use crate::on_both_backends;

const NAMESPACE: &str = "arkiv.example.org";

/// What a header says of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Header {
    id: String,
    datestamp: String,
    deleted: bool,
    sets: Vec<String>,
    titles: Vec<(String, String)>,
}

/// One OAI-PMH answer: checks it is XML with status 200 and parses it.
struct Answer(String);

impl Answer {
    fn doc(&self) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(&self.0).unwrap_or_else(|e| panic!("not XML ({e}): {}", self.0))
    }

    fn error(&self) -> Option<String> {
        self.doc()
            .descendants()
            .find(|n| n.has_tag_name("error"))
            .and_then(|n| n.attribute("code").map(str::to_owned))
    }

    /// The `<request>` element's attributes.
    fn request(&self) -> BTreeMap<String, String> {
        let doc = self.doc();
        let request = doc
            .descendants()
            .find(|n| n.has_tag_name("request"))
            .expect("request");
        request
            .attributes()
            .map(|a| (a.name().to_owned(), a.value().to_owned()))
            .collect()
    }

    fn headers(&self) -> Vec<Header> {
        let doc = self.doc();
        doc.descendants()
            .filter(|n| n.has_tag_name("header"))
            .map(|header| {
                let text = |name: &str| {
                    header
                        .children()
                        .find(|n| n.has_tag_name(name))
                        .and_then(|n| n.text())
                        .unwrap_or_default()
                        .to_owned()
                };
                let titles = header
                    .parent()
                    .into_iter()
                    .flat_map(|record| record.descendants())
                    .filter(|n| n.has_tag_name(("http://purl.org/dc/elements/1.1/", "title")))
                    .map(|n| {
                        (
                            n.attribute(("http://www.w3.org/XML/1998/namespace", "lang"))
                                .unwrap_or_default()
                                .to_owned(),
                            n.text().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect();
                Header {
                    id: text("identifier"),
                    datestamp: text("datestamp"),
                    deleted: header.attribute("status") == Some("deleted"),
                    sets: header
                        .children()
                        .filter(|n| n.has_tag_name("setSpec"))
                        .filter_map(|n| n.text().map(str::to_owned))
                        .collect(),
                    titles,
                }
            })
            .collect()
    }

    /// (token, completeListSize, cursor) when the answer has the element.
    fn token(&self) -> Option<(String, i64, i64)> {
        let doc = self.doc();
        let element = doc
            .descendants()
            .find(|n| n.has_tag_name("resumptionToken"))?;
        let number = |name: &str| {
            element
                .attribute(name)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} on the token"))
        };
        Some((
            element.text().unwrap_or_default().to_owned(),
            number("completeListSize"),
            number("cursor"),
        ))
    }
}

async fn oai(app: &TestApp, query: &str) -> Answer {
    let reply = app.get(&format!("/oai?{query}")).await;
    assert_eq!(reply.status, 200, "{query}");
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("text/xml; charset=utf-8")
    );
    Answer(String::from_utf8(reply.body).expect("UTF-8"))
}

/// Follows a list to its end, checking the tokens' counts on the way.
async fn harvest(app: &TestApp, verb: &str, arguments: &str) -> Vec<Header> {
    let mut headers = Vec::new();
    let mut answer = oai(app, &format!("verb={verb}&{arguments}")).await;
    if answer.error().as_deref() == Some("noRecordsMatch") {
        return headers;
    }
    for _ in 0..1_000 {
        assert_eq!(answer.error(), None, "{}", answer.0);
        let page = answer.headers();
        assert!(!page.is_empty(), "{}", answer.0);
        let Some((token, size, cursor)) = answer.token() else {
            headers.extend(page);
            return headers;
        };
        assert_eq!(
            cursor,
            headers.len() as i64,
            "cursor counts what came before"
        );
        headers.extend(page);
        if token.is_empty() {
            assert_eq!(size, headers.len() as i64, "completeListSize");
            return headers;
        }
        answer = oai(app, &format!("verb={verb}&resumptionToken={token}")).await;
    }
    panic!("the list never ended");
}

fn identifier(id: &str) -> String {
    format!("oai:{NAMESPACE}:{id}")
}

/// The public publications: id → slug.
async fn public(app: &TestApp) -> BTreeMap<String, String> {
    let listed = app.get("/v1/publications?limit=100").await.json();
    listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            (
                identifier(item["id"].as_str().unwrap_or_default()),
                item["slug"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// An app on the demo archive with three records per ListRecords page, so
/// every list takes several.
fn small_pages(backend: super::Backend) -> TestApp {
    let mut app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    app.restart(|state| {
        state.with_oai(OaiSettings {
            page_size: 3,
            ..OaiSettings::default()
        })
    });
    app
}

/// Editors' and admins' moves on demo publications, by slug: a new title,
/// a withdrawal, unpublishing, a deletion, and a new publication. Returns
/// the identifiers of the five.
async fn edit_the_archive(app: &TestApp, slugs: &[String]) -> BTreeSet<String> {
    let (editor, admin) = (app.key(Role::Editor), app.key(Role::Admin));
    let uri = |slug: &String| format!("/v1/publications/{slug}");
    let ok = |reply: super::Reply, status: u16| {
        assert_eq!(
            reply.status,
            status,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        reply
    };
    let id_of = |reply: &super::Reply| identifier(reply.json()["id"].as_str().expect("id"));
    let mut touched = BTreeSet::new();
    let renamed = json!({"variants": {"en": {"title": "Renamed for harvesters"}}});
    let reply = app
        .change(Method::PATCH, &uri(&slugs[0]), &editor, Some(renamed))
        .await;
    touched.insert(id_of(&ok(reply, 200)));
    let reason = json!({"reason": "superseded"});
    let reply = app
        .act(
            &format!("{}/withdraw", uri(&slugs[1])),
            &editor,
            Some(reason),
        )
        .await;
    touched.insert(id_of(&ok(reply, 200)));
    let draft = json!({"status": "draft"});
    let reply = app
        .change(Method::PATCH, &uri(&slugs[2]), &editor, Some(draft))
        .await;
    touched.insert(id_of(&ok(reply, 200)));
    let bearer = format!("Bearer {admin}");
    let read = app
        .get_with(&uri(&slugs[3]), &[("Authorization", &bearer)])
        .await;
    touched.insert(id_of(&read));
    ok(
        app.change(Method::DELETE, &uri(&slugs[3]), &admin, None)
            .await,
        204,
    );
    let made = app
        .send_json(
            Method::POST,
            "/v1/publications",
            Some(&editor),
            &json!({"slug": "harvested-later", "kind": "report",
                    "variants": {"sq": {"title": "Raport i ri"}}}),
        )
        .await;
    ok(
        app.act("/v1/publications/harvested-later/publish", &editor, None)
            .await,
        200,
    );
    touched.insert(id_of(&made));
    touched
}

/// Dates every record as harvested long ago, so changes made now stand
/// apart at OAI-PMH's one-second granularity.
fn backdate(app: &TestApp) {
    app.db
        .db
        .conn()
        .expect("connection")
        .batch_execute("UPDATE harvest_records SET datestamp = '2026-01-01T00:00:00Z'")
        .expect("backdate");
}

on_both_backends!(
    harvests_see_every_public_record_and_every_change,
    |backend| {
        let mut app = small_pages(backend);
        let identify = oai(&app, "verb=Identify").await;
        assert!(identify
            .0
            .contains("<deletedRecord>persistent</deletedRecord>"));
        assert!(identify
            .0
            .contains("<granularity>YYYY-MM-DDThh:mm:ssZ</granularity>"));
        assert!(identify
            .0
            .contains("<adminEmail>archive@example.org</adminEmail>"));

        // The whole archive, in pages of three records (fifteen headers).
        let shown = public(&app).await;
        assert!(shown.len() > 3, "the demo fills more than one page");
        for verb in ["ListRecords", "ListIdentifiers"] {
            let all = harvest(&app, verb, "metadataPrefix=oai_dc").await;
            let ids: BTreeSet<String> = all.iter().map(|h| h.id.clone()).collect();
            assert_eq!(ids.len(), all.len(), "{verb}: no record twice");
            assert_eq!(ids, shown.keys().cloned().collect(), "{verb}");
            assert!(all.iter().all(|h| !h.deleted && h.datestamp.len() == 20));
        }
        let records = harvest(&app, "ListRecords", "metadataPrefix=oai_dc").await;
        assert!(records.iter().all(|h| !h.titles.is_empty()), "titles");

        // A token goes on after a restart: nothing is kept between requests.
        let first = oai(&app, "verb=ListRecords&metadataPrefix=oai_dc").await;
        let (token, _, _) = first.token().expect("more than a page");
        let before = oai(&app, &format!("verb=ListRecords&resumptionToken={token}")).await;
        app.restart(|state| {
            state.with_oai(OaiSettings {
                page_size: 3,
                ..OaiSettings::default()
            })
        });
        let after = oai(&app, &format!("verb=ListRecords&resumptionToken={token}")).await;
        assert_eq!(before.headers(), after.headers());

        // Edits, a withdrawal, unpublishing, a deletion and a new publication:
        // an incremental harvest from just before them sees exactly those.
        backdate(&app);
        let from = arkiv::db::harvest::datestamp(&arkiv::domain::now_timestamp());
        let slugs: Vec<String> = shown.values().cloned().collect();
        let touched = edit_the_archive(&app, &slugs).await;
        let changed = harvest(
            &app,
            "ListRecords",
            &format!("metadataPrefix=oai_dc&from={from}"),
        )
        .await;
        let changed_ids: BTreeSet<String> = changed.iter().map(|h| h.id.clone()).collect();
        assert_eq!(changed_ids, touched);
        let by_id: BTreeMap<&str, &Header> = changed.iter().map(|h| (h.id.as_str(), h)).collect();
        let live = |slug: &String| {
            shown
                .iter()
                .find(|(_, s)| *s == slug)
                .map(|(id, _)| id.clone())
        };
        let renamed = by_id[live(&slugs[0]).expect("renamed").as_str()];
        assert!(!renamed.deleted);
        assert!(renamed
            .titles
            .contains(&("en".to_owned(), "Renamed for harvesters".to_owned())));
        for gone in &slugs[1..4] {
            let header = by_id[live(gone).expect("gone").as_str()];
            assert!(header.deleted, "{gone} is harvested as deleted");
            assert!(!header.sets.is_empty(), "{gone} keeps its sets");
        }
        // Nothing before the edits changed; `until` bounds a harvest too.
        assert_eq!(
            oai(
                &app,
                "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2026-01-02"
            )
            .await
            .headers()
            .len(),
            touched.len()
        );
        let old = harvest(
            &app,
            "ListIdentifiers",
            "metadataPrefix=oai_dc&until=2026-01-01",
        )
        .await;
        assert_eq!(old.len(), shown.len() - 4, "the untouched demo records");

        // Deleted records stay in full harvests and answer GetRecord.
        let all = harvest(&app, "ListIdentifiers", "metadataPrefix=oai_dc").await;
        assert_eq!(all.len(), shown.len() + 1);
        assert_eq!(all.iter().filter(|h| h.deleted).count(), 3);
        let deleted = all.iter().find(|h| h.deleted).expect("a deleted record");
        let record = oai(
            &app,
            &format!(
                "verb=GetRecord&metadataPrefix=oai_dc&identifier={}",
                deleted.id
            ),
        )
        .await;
        assert_eq!(record.error(), None);
        assert!(record.headers()[0].deleted);
        assert!(!record.0.contains("<metadata>"));
    }
);

on_both_backends!(drafts_never_reach_a_harvester, |backend| {
    let app = small_pages(backend);
    let editor = app.key(Role::Editor);
    let made = app
        .send_json(
            Method::POST,
            "/v1/publications",
            Some(&editor),
            &json!({"slug": "secret-draft", "kind": "report",
                    "variants": {"en": {"title": "Secret draft"}}}),
        )
        .await;
    assert_eq!(made.status, 201);
    let id = identifier(made.json()["id"].as_str().expect("id"));
    for verb in ["ListRecords", "ListIdentifiers"] {
        let all = harvest(&app, verb, "metadataPrefix=oai_dc").await;
        assert!(all.iter().all(|h| h.id != id), "{verb}");
    }
    for query in [
        format!("verb=GetRecord&metadataPrefix=oai_dc&identifier={id}"),
        format!("verb=ListMetadataFormats&identifier={id}"),
    ] {
        assert_eq!(
            oai(&app, &query).await.error().as_deref(),
            Some("idDoesNotExist")
        );
    }
    let everything = oai(&app, "verb=ListIdentifiers&metadataPrefix=oai_dc").await;
    assert!(!everything.0.contains("Secret draft"));
    // A new publication cannot start withdrawn (it would be a tombstone of
    // something never public).
    let withdrawn = app
        .send_json(
            Method::POST,
            "/v1/publications",
            Some(&editor),
            &json!({"slug": "born-withdrawn", "kind": "report", "status": "withdrawn",
                    "withdrawn_reason": "never", "variants": {"en": {"title": "No"}}}),
        )
        .await;
    crate::api::assert_problem(&withdrawn, 409, "invalid_transition");

    // Published, then back to draft: a deleted record that keeps the sets
    // it was public in, whatever the draft becomes.
    let publish = app
        .act("/v1/publications/secret-draft/publish", &editor, None)
        .await;
    assert_eq!(publish.status, 200);
    for change in [json!({"status": "draft"}), json!({"kind": "policy_paper"})] {
        let reply = app
            .change(
                Method::PATCH,
                "/v1/publications/secret-draft",
                &editor,
                Some(change),
            )
            .await;
        assert_eq!(reply.status, 200);
    }
    let record = oai(
        &app,
        &format!("verb=GetRecord&metadataPrefix=oai_dc&identifier={id}"),
    )
    .await;
    let header = &record.headers()[0];
    assert!(header.deleted);
    assert!(
        header.sets.contains(&"kind:report".to_owned()),
        "{:?}",
        header.sets
    );
});

on_both_backends!(sets_select_by_kind_field_project_and_language, |backend| {
    let app = small_pages(backend);
    let sets = oai(&app, "verb=ListSets").await;
    let specs: Vec<String> = sets
        .doc()
        .descendants()
        .filter(|n| n.has_tag_name("setSpec"))
        .filter_map(|n| n.text().map(str::to_owned))
        .collect();
    for expected in [
        "kind",
        "kind:report",
        "field",
        "project",
        "language:sq",
        "language:sr",
    ] {
        assert!(
            specs.iter().any(|s| s == expected),
            "{expected} in {specs:?}"
        );
    }
    let mut nonempty = 0;
    for spec in specs.iter().filter(|s| s.contains(':')) {
        let members = harvest(
            &app,
            "ListIdentifiers",
            &format!("metadataPrefix=oai_dc&set={spec}"),
        )
        .await;
        // Each member says it is in the set; the list filter agrees.
        assert!(members.iter().all(|h| h.sets.contains(spec)), "{spec}");
        let (top, value) = spec.split_once(':').expect("spec");
        let filter = match top {
            "language" => format!("lang={value}"),
            "kind" | "field" | "project" => format!("{top}={value}"),
            other => panic!("unexpected set {other}"),
        };
        if top != "language" {
            let listed = app
                .get(&format!("/v1/publications?limit=100&{filter}"))
                .await
                .json();
            let expected = listed["items"].as_array().expect("items").len();
            assert_eq!(members.len(), expected, "{spec}");
        }
        nonempty += usize::from(!members.is_empty());
    }
    assert!(nonempty >= 5, "the demo fills several sets");
    // A top-level set holds everything under it.
    let kinds = harvest(&app, "ListIdentifiers", "metadataPrefix=oai_dc&set=kind").await;
    assert_eq!(kinds.len(), public(&app).await.len());
});

on_both_backends!(every_protocol_error_answers_in_xml, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let some = public(&app).await.into_keys().next().expect("a record");
    let uuid = some.rsplit(':').next().expect("uuid");
    // A token made up to use `%` as a set, a LIKE wildcard.
    let wildcard_token = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("1\nListRecords\n\n\n%\n0\n{uuid}"))
    };
    let cases = [
        ("", "badVerb"),
        ("verb=Harvest", "badVerb"),
        ("verb=Identify&verb=ListSets", "badVerb"),
        ("verb=%FF%FE", "badVerb"),
        ("verb=Identify&set=kind", "badArgument"),
        ("verb=ListRecords", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2026-13-01", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2026-01-01T10:00Z", "badArgument"),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=2026-01-01&until=2026-02-01T00:00:00Z",
            "badArgument",
        ),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2026-02-01&until=2026-01-01", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&resumptionToken=x", "badArgument"),
        ("verb=GetRecord&metadataPrefix=oai_dc", "badArgument"),
        ("verb=ListRecords&resumptionToken=not-a-token", "badResumptionToken"),
        ("verb=ListRecords&resumptionToken=MQpMaXN0UmVjb3Jkcw", "badResumptionToken"),
        ("verb=ListSets&resumptionToken=anything", "badResumptionToken"),
        ("verb=ListRecords&metadataPrefix=marc21", "cannotDisseminateFormat"),
        ("verb=ListIdentifiers&metadataPrefix=", "cannotDisseminateFormat"),
        ("verb=GetRecord&metadataPrefix=mods&identifier=ID", "cannotDisseminateFormat"),
        ("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:other.org:UUID", "idDoesNotExist"),
        (
            "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:arkiv.example.org:0190e4a2-7b1c-7d3e-9f00-1a2b3c4d5e6f",
            "idDoesNotExist",
        ),
        ("verb=ListMetadataFormats&identifier=nonsense", "idDoesNotExist"),
        // U+FFFF cannot be in XML: dropped from the echoed request.
        ("verb=GetRecord&metadataPrefix=oai_dc&identifier=%EF%BF%BF", "idDoesNotExist"),
        ("verb=ListRecords&resumptionToken=PERCENT", "badResumptionToken"),
        ("verb=ListRecords&metadataPrefix=oai_dc&set=kind:memoir", "noRecordsMatch"),
        ("verb=ListRecords&metadataPrefix=oai_dc&set=field:no-such-field", "noRecordsMatch"),
        ("verb=ListIdentifiers&metadataPrefix=oai_dc&from=2999-01-01", "noRecordsMatch"),
        ("verb=ListRecords&metadataPrefix=oai_dc&until=1999-12-31", "noRecordsMatch"),
    ];
    for (query, code) in cases {
        let query = query
            .replace("=ID", &format!("={some}"))
            .replace("UUID", uuid)
            .replace("PERCENT", &wildcard_token);
        let answer = oai(&app, &query).await;
        assert_eq!(
            answer.error().as_deref(),
            Some(code),
            "{query}: {}",
            answer.0
        );
        let request = answer.request();
        if matches!(code, "badVerb" | "badArgument") {
            assert!(
                request.is_empty(),
                "{query}: no attributes, got {request:?}"
            );
        } else {
            assert!(request.contains_key("verb"), "{query}: {request:?}");
        }
    }
    // The good requests for comparison, and POST with a form body.
    for query in [
        "verb=Identify".to_owned(),
        "verb=ListMetadataFormats".to_owned(),
        format!("verb=ListMetadataFormats&identifier={some}"),
        format!("verb=GetRecord&metadataPrefix=oai_dc&identifier={some}"),
    ] {
        let answer = oai(&app, &query).await;
        assert_eq!(answer.error(), None, "{query}");
        assert!(answer.0.contains("oai_dc") || query == "verb=Identify");
    }
    let posted = app
        .send(
            TestRequest::post()
                .uri("/oai")
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .set_payload(format!(
                    "verb=GetRecord&metadataPrefix=oai_dc&identifier={}",
                    some.replace(':', "%3A")
                )),
        )
        .await;
    assert_eq!(posted.status, 200);
    let posted = Answer(String::from_utf8(posted.body).expect("UTF-8"));
    assert_eq!(posted.error(), None, "{}", posted.0);
    assert_eq!(posted.headers()[0].id, some);
    let as_json = app
        .send(
            TestRequest::post()
                .uri("/oai")
                .set_json(json!({"verb": "Identify"})),
        )
        .await;
    assert_eq!(
        Answer(String::from_utf8(as_json.body).expect("UTF-8"))
            .error()
            .as_deref(),
        Some("badArgument")
    );
});

/// Harvests with sickle, printing each record's identifier, status and
/// titles; `null` when sickle is not installed.
const SICKLE: &str = r#"
import json, sys
try:
    from sickle import Sickle
    from sickle.oaiexceptions import NoRecordsMatch
except ImportError:
    print("null")
    sys.exit()
arguments = {"metadataPrefix": "oai_dc", "ignore_deleted": False}
if len(sys.argv) > 3:
    arguments["from"] = sys.argv[3]
records = []
try:
    for record in Sickle(sys.argv[2], max_retries=0).ListRecords(**arguments):
        metadata = getattr(record, "metadata", None) or {}
        records.append({
            "id": record.header.identifier,
            "deleted": record.header.deleted,
            "titles": metadata.get("title", []),
        })
except NoRecordsMatch:
    pass
print(json.dumps(records))
"#;

on_both_backends!(sickle_harvests_whole_and_incrementally, |backend| {
    let app = small_pages(backend);
    let server = app.listen();
    let base = format!("{}/oai", server.base);
    let Some(all) = python_parser(SICKLE, b"", &[&base], "sickle") else {
        return;
    };
    let records = all.as_array().expect("records");
    let ids: BTreeSet<String> = records
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    let shown = public(&app).await;
    assert_eq!(ids, shown.keys().cloned().collect());
    assert!(records
        .iter()
        .all(|r| r["deleted"] == false && r["titles"].as_array().is_some_and(|t| !t.is_empty())));

    backdate(&app);
    let from = arkiv::db::harvest::datestamp(&arkiv::domain::now_timestamp());
    let slugs: Vec<String> = shown.values().cloned().collect();
    let touched = edit_the_archive(&app, &slugs).await;
    let changed = python_parser(SICKLE, b"", &[&base, &from], "sickle").expect("sickle");
    let changed: BTreeMap<String, Value> = changed
        .as_array()
        .expect("records")
        .iter()
        .map(|r| (r["id"].as_str().expect("id").to_owned(), r.clone()))
        .collect();
    assert_eq!(changed.keys().cloned().collect::<BTreeSet<_>>(), touched);
    assert_eq!(
        changed.values().filter(|r| r["deleted"] == true).count(),
        3,
        "withdrawn, unpublished and deleted: {changed:?}"
    );
    assert!(changed
        .values()
        .any(|r| r["titles"] == json!(["Renamed for harvesters"])));
});

on_both_backends!(an_archive_from_before_harvesting_is_filled_in, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let before = harvest(&app, "ListIdentifiers", "metadataPrefix=oai_dc").await;
    // The table as a database migrated from before it existed has it.
    let mut conn = app.db.db.conn().expect("connection");
    conn.batch_execute("DELETE FROM harvest_records")
        .expect("empty");
    assert!(harvest(&app, "ListIdentifiers", "metadataPrefix=oai_dc")
        .await
        .is_empty());
    let filled = arkiv::db::harvest::backfill(&mut conn).expect("backfill");
    assert_eq!(filled, before.len());
    let after = harvest(&app, "ListIdentifiers", "metadataPrefix=oai_dc").await;
    // The same records; each dated by its newest change, which a live write
    // stamps at its end, up to a second boundary later.
    let undated = |headers: &[Header]| -> Vec<Header> {
        headers
            .iter()
            .map(|header| Header {
                datestamp: String::new(),
                ..header.clone()
            })
            .collect()
    };
    assert_eq!(undated(&after), undated(&before));
    for (filled, live) in after.iter().zip(&before) {
        assert!(
            filled.datestamp <= live.datestamp,
            "{filled:?} after {live:?}"
        );
    }
});

on_both_backends!(renaming_a_field_redates_its_records, |backend| {
    let app = TestApp::new(TestDb::new(backend).expect("backend").with_demo());
    let editor = app.key(Role::Editor);
    let field = app.get("/v1/fields").await.json()["items"][0]["slug"]
        .as_str()
        .expect("a field")
        .to_owned();
    let members = harvest(
        &app,
        "ListIdentifiers",
        &format!("metadataPrefix=oai_dc&set=field:{field}"),
    )
    .await;
    assert!(!members.is_empty());
    backdate(&app);
    let from = arkiv::db::harvest::datestamp(&arkiv::domain::now_timestamp());
    // The label is each record's dc:subject: harvesters must hear of it.
    let label = json!({"label": {"en": "A field renamed"}});
    let reply = app
        .change(
            Method::PATCH,
            &format!("/v1/fields/{field}"),
            &editor,
            Some(label),
        )
        .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let changed = harvest(
        &app,
        "ListRecords",
        &format!("metadataPrefix=oai_dc&from={from}"),
    )
    .await;
    let ids = |headers: &[Header]| {
        headers
            .iter()
            .map(|h| h.id.clone())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(ids(&changed), ids(&members));

    // Links in answers name the host the client asked, not one a header
    // claims (no proxy is trusted here).
    let identify = app
        .get_with(
            "/oai?verb=Identify",
            &[("X-Forwarded-Host", "evil.example")],
        )
        .await;
    assert!(!String::from_utf8_lossy(&identify.body).contains("evil.example"));
});
