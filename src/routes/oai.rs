//! OAI-PMH 2.0 at `/oai`, for the library and aggregator harvesters that
//! already speak it. All six verbs over GET and POST, Dublin Core
//! (`oai_dc`), sets by kind, field of work, project and language, deleted
//! records kept forever, seconds granularity.
//!
//! Records come from the harvest table (see [`crate::db::harvest`]), which
//! the writers keep in step with the change log. Resumption tokens hold
//! the whole request and the last record sent, so they never expire, survive
//! a restart and need nothing stored on the server.

use std::collections::HashMap;
use std::fmt::Write as _;

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use base64::Engine as _;
use utoipa::{IntoParams, ToSchema};

use super::body;
use super::feeds::escape;
use crate::db::harvest::{self, HarvestRow, Selection};
use crate::db::publications;
use crate::domain::catalog::Catalog;
use crate::domain::links::PageType::{Projects, Publications};
use crate::domain::links::SiteLinks;
use crate::domain::{Lang, PublicationKind, PublicationStatus};
use crate::http::error::ApiError;
use crate::state::AppState;

/// The one metadata format: unqualified Dublin Core.
const OAI_DC: &str = "oai_dc";
const OAI_DC_SCHEMA: &str = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd";
const OAI_DC_NAMESPACE: &str = "http://www.openarchives.org/OAI/2.0/oai_dc/";

/// The language sets, with their names.
const LANGUAGE_SETS: [(&str, &str); 5] = [
    ("en", "English"),
    ("sq", "Albanian"),
    ("sr", "Serbian (either script)"),
    ("sr-Latn", "Serbian, Latin script"),
    ("sr-Cyrl", "Serbian, Cyrillic script"),
];

/// The arguments of an OAI-PMH request (GET query or POST form body).
#[derive(IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "documents the arguments; they are read from the query or form body"
)]
pub struct OaiParams {
    /// `Identify`, `ListMetadataFormats`, `ListSets`, `GetRecord`,
    /// `ListIdentifiers` or `ListRecords`.
    #[param(example = "ListRecords")]
    #[schema(example = "ListRecords")]
    verb: String,
    /// `oai_dc` (the only format).
    #[param(rename = "metadataPrefix", example = "oai_dc")]
    #[schema(rename = "metadataPrefix", example = "oai_dc")]
    metadata_prefix: Option<String>,
    /// `oai:<namespace>:<publication uuid>`, for GetRecord and
    /// ListMetadataFormats.
    identifier: Option<String>,
    /// Records changed at or after this (`YYYY-MM-DD` or
    /// `YYYY-MM-DDThh:mm:ssZ`).
    from: Option<String>,
    /// Records changed at or before this (same forms as `from`).
    until: Option<String>,
    /// A set: `kind:report`, `field:<slug>`, `project:<slug>`,
    /// `language:sq`, or a top level (`kind`, `field`, `project`, `language`).
    set: Option<String>,
    /// The token of the previous response, alone with `verb`.
    #[param(rename = "resumptionToken")]
    #[schema(rename = "resumptionToken")]
    resumption_token: Option<String>,
}

/// Harvest the archive with OAI-PMH (GET)
///
/// OAI-PMH 2.0: `Identify`, `ListMetadataFormats`, `ListSets`,
/// `GetRecord`, `ListIdentifiers`, `ListRecords`, with `oai_dc` records
/// (one title and description per language, `xml:lang` on each). Deleted
/// records are persistent: withdrawn, unpublished and deleted publications
/// stay as `status="deleted"` headers. Resumption tokens do not expire.
/// Protocol errors (`badVerb`, `badArgument`, `badResumptionToken`,
/// `cannotDisseminateFormat`, `idDoesNotExist`, `noRecordsMatch`) come in
/// the XML body with status 200, as the protocol requires.
#[utoipa::path(
    tag = "partners",
    params(OaiParams),
    responses(
        (status = 200, description = "An OAI-PMH response (or protocol error)",
            content_type = "text/xml", body = String),
    )
)]
#[get("/oai")]
pub async fn oai_get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let arguments = parse_arguments(req.query_string().as_bytes());
    answer(&state, arguments).await
}

/// Harvest the archive with OAI-PMH (POST)
///
/// The same as GET, with the arguments in an
/// `application/x-www-form-urlencoded` body.
#[utoipa::path(
    tag = "partners",
    request_body(content = inline(OaiParams), content_type = "application/x-www-form-urlencoded",
        description = "The OAI-PMH arguments, e.g. `verb=ListRecords&metadataPrefix=oai_dc`",
        extensions(("x-max-body-bytes" = json!(body::SMALL_BODY_LIMIT)))),
    responses(
        (status = 200, description = "An OAI-PMH response (or protocol error)",
            content_type = "text/xml", body = String),
    )
)]
#[post("/oai")]
pub async fn oai_post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    body::check_declared(&req, body::SMALL_BODY_LIMIT as u64)?;
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(';')
                .next()
                .is_some_and(|media| media.trim() == "application/x-www-form-urlencoded")
        });
    let arguments = if is_form {
        parse_arguments(&body::read(&req, payload, body::SMALL_BODY_LIMIT).await?)
    } else {
        Err(OaiError::bad_argument(
            "POST requests carry their arguments as application/x-www-form-urlencoded",
        ))
    };
    Ok(answer(&state, arguments).await)
}

/// A protocol error, answered in the XML body.
#[derive(Debug, Clone)]
struct OaiError {
    code: &'static str,
    message: String,
}

impl OaiError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    fn bad_argument(message: impl Into<String>) -> Self {
        Self::new("badArgument", message)
    }

    /// badVerb and badArgument answers must not echo the arguments.
    fn echoes_request(&self) -> bool {
        !matches!(self.code, "badVerb" | "badArgument")
    }
}

/// The arguments of a request, each given once.
type Arguments = Vec<(String, String)>;

fn parse_arguments(raw: &[u8]) -> Result<Arguments, OaiError> {
    let arguments: Arguments = form_urlencoded::parse(raw).into_owned().collect();
    let mut seen = HashMap::new();
    for (name, _) in &arguments {
        *seen.entry(name.as_str()).or_insert(0) += 1;
    }
    if seen.get("verb").copied().unwrap_or(0) > 1 {
        return Err(OaiError::new("badVerb", "the verb is given more than once"));
    }
    if let Some((name, _)) = seen.iter().find(|(_, count)| **count > 1) {
        return Err(OaiError::bad_argument(format!(
            "the argument {name} is given more than once"
        )));
    }
    Ok(arguments)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Identify,
    ListMetadataFormats,
    ListSets,
    GetRecord,
    ListIdentifiers,
    ListRecords,
}

impl Verb {
    const ALL: [Verb; 6] = [
        Verb::Identify,
        Verb::ListMetadataFormats,
        Verb::ListSets,
        Verb::GetRecord,
        Verb::ListIdentifiers,
        Verb::ListRecords,
    ];

    fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|verb| verb.as_str() == raw)
    }

    fn as_str(self) -> &'static str {
        match self {
            Verb::Identify => "Identify",
            Verb::ListMetadataFormats => "ListMetadataFormats",
            Verb::ListSets => "ListSets",
            Verb::GetRecord => "GetRecord",
            Verb::ListIdentifiers => "ListIdentifiers",
            Verb::ListRecords => "ListRecords",
        }
    }

    /// The arguments the verb takes besides itself: (required, optional).
    fn arguments(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Verb::Identify => (&[], &[]),
            Verb::ListMetadataFormats => (&[], &["identifier"]),
            Verb::ListSets => (&[], &["resumptionToken"]),
            Verb::GetRecord => (&["identifier", "metadataPrefix"], &[]),
            Verb::ListIdentifiers | Verb::ListRecords => (
                &["metadataPrefix"],
                &["from", "until", "set", "resumptionToken"],
            ),
        }
    }
}

/// Checks the verb and its arguments, then answers; every outcome is an
/// OAI-PMH document, errors included.
async fn answer(state: &AppState, arguments: Result<Arguments, OaiError>) -> HttpResponse {
    // Taken before anything is read: a harvester's next `from=` is this,
    // and must not pass over what committed while this answer was made.
    let response_date = harvest::datestamp(&crate::domain::now_timestamp());
    let base = format!("{}/oai", state.public_url);
    let outcome = match arguments {
        Ok(arguments) => match checked(&arguments) {
            Ok((verb, named)) => match respond_to(state, verb, &named).await {
                Ok(body) => Ok((arguments, verb, body)),
                Err(Reply::Protocol(error)) => Err((Some(arguments), error)),
                Err(Reply::Server(error)) => {
                    return actix_web::ResponseError::error_response(&error);
                }
            },
            Err(error) => Err((Some(arguments), error)),
        },
        Err(error) => Err((None, error)),
    };
    let mut xml = String::with_capacity(4096);
    xml.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/ \
         http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd\">\n",
    );
    let _ = writeln!(xml, "<responseDate>{response_date}</responseDate>");
    match outcome {
        Ok((arguments, verb, body)) => {
            request_element(&mut xml, &base, Some(&arguments));
            let _ = write!(xml, "<{0}>\n{body}</{0}>\n", verb.as_str());
        }
        Err((arguments, error)) => {
            let echoed = arguments.as_ref().filter(|_| error.echoes_request());
            request_element(&mut xml, &base, echoed);
            let _ = writeln!(
                xml,
                "<error code=\"{}\">{}</error>",
                error.code,
                escape(&error.message)
            );
        }
    }
    xml.push_str("</OAI-PMH>\n");
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/xml; charset=utf-8"))
        // Harvests with `from=` want what is there now, never a cache's copy.
        .insert_header((header::CACHE_CONTROL, "public, no-cache"))
        .body(xml)
}

/// `<request>`: the base URL, with the arguments as attributes when the
/// request was well-formed.
fn request_element(xml: &mut String, base: &str, arguments: Option<&Arguments>) {
    xml.push_str("<request");
    for (name, value) in arguments.into_iter().flatten() {
        let _ = write!(xml, " {name}=\"{}\"", escape(value));
    }
    let _ = writeln!(xml, ">{}</request>", escape(base));
}

/// Finds the verb and checks its arguments: present when required, known,
/// and `resumptionToken` alone.
fn checked(arguments: &Arguments) -> Result<(Verb, HashMap<&str, &str>), OaiError> {
    let named: HashMap<&str, &str> = arguments
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let verb = match named.get("verb") {
        None => return Err(OaiError::new("badVerb", "the verb argument is missing")),
        Some(raw) => Verb::parse(raw)
            .ok_or_else(|| OaiError::new("badVerb", format!("{raw:?} is not an OAI-PMH verb")))?,
    };
    let (required, optional) = verb.arguments();
    for name in named.keys().filter(|name| **name != "verb") {
        if !required.contains(name) && !optional.contains(name) {
            return Err(OaiError::bad_argument(format!(
                "{} does not take the argument {name}",
                verb.as_str()
            )));
        }
    }
    if named.contains_key("resumptionToken") {
        if named.len() > 2 {
            return Err(OaiError::bad_argument(
                "resumptionToken is an exclusive argument: give it alone with the verb",
            ));
        }
    } else if let Some(missing) = required.iter().find(|name| !named.contains_key(*name)) {
        return Err(OaiError::bad_argument(format!(
            "{} needs the argument {missing}",
            verb.as_str()
        )));
    }
    Ok((verb, named))
}

/// Why a verb gave no body.
enum Reply {
    Protocol(OaiError),
    Server(ApiError),
}

impl From<OaiError> for Reply {
    fn from(error: OaiError) -> Self {
        Reply::Protocol(error)
    }
}

impl From<ApiError> for Reply {
    fn from(error: ApiError) -> Self {
        Reply::Server(error)
    }
}

/// The content of the verb's element.
async fn respond_to(
    state: &AppState,
    verb: Verb,
    named: &HashMap<&str, &str>,
) -> Result<String, Reply> {
    let snapshot = state.snapshot().await?;
    let catalog = &snapshot.catalog;
    let base = state.public_url.as_str();
    let namespace = &state.oai.namespace;
    match verb {
        Verb::Identify => {
            let earliest = state
                .db
                .read(|conn| -> Result<_, ApiError> { Ok(harvest::earliest(conn)?) })
                .await?
                .unwrap_or_else(|| harvest::datestamp(&crate::domain::now_timestamp()));
            Ok(identify(state, base, &earliest))
        }
        Verb::ListMetadataFormats => {
            if let Some(identifier) = named.get("identifier") {
                find_record(state, namespace, identifier).await?;
            }
            Ok(format!(
                "<metadataFormat><metadataPrefix>{OAI_DC}</metadataPrefix>\
                 <schema>{OAI_DC_SCHEMA}</schema>\
                 <metadataNamespace>{OAI_DC_NAMESPACE}</metadataNamespace></metadataFormat>\n"
            ))
        }
        Verb::ListSets => {
            if named.contains_key("resumptionToken") {
                return Err(OaiError::new(
                    "badResumptionToken",
                    "ListSets answers in one response; there is nothing to resume",
                )
                .into());
            }
            Ok(list_sets(catalog))
        }
        Verb::GetRecord => {
            check_prefix(named.get("metadataPrefix").copied())?;
            let identifier = named.get("identifier").copied().unwrap_or_default();
            let record = find_record(state, namespace, identifier).await?;
            Ok(render_records(state, catalog, base, namespace, vec![record], true).await?)
        }
        Verb::ListIdentifiers | Verb::ListRecords => {
            list(state, catalog, base, namespace, verb, named).await
        }
    }
}

fn check_prefix(prefix: Option<&str>) -> Result<(), OaiError> {
    match prefix {
        Some(OAI_DC) => Ok(()),
        Some(other) => Err(OaiError::new(
            "cannotDisseminateFormat",
            format!("records are available as oai_dc only, not {other:?}"),
        )),
        None => Err(OaiError::bad_argument("metadataPrefix is missing")),
    }
}

fn identify(state: &AppState, base: &str, earliest: &str) -> String {
    let oai = &state.oai;
    format!(
        "<repositoryName>{name}</repositoryName>\n\
         <baseURL>{base}/oai</baseURL>\n\
         <protocolVersion>2.0</protocolVersion>\n\
         <adminEmail>{email}</adminEmail>\n\
         <earliestDatestamp>{earliest}</earliestDatestamp>\n\
         <deletedRecord>persistent</deletedRecord>\n\
         <granularity>YYYY-MM-DDThh:mm:ssZ</granularity>\n\
         <compression>gzip</compression><compression>deflate</compression>\
         <compression>br</compression>\n\
         <description>\n\
         <oai-identifier xmlns=\"http://www.openarchives.org/OAI/2.0/oai-identifier\" \
         xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/oai-identifier \
         http://www.openarchives.org/OAI/2.0/oai-identifier.xsd\">\
         <scheme>oai</scheme><repositoryIdentifier>{namespace}</repositoryIdentifier>\
         <delimiter>:</delimiter>\
         <sampleIdentifier>oai:{namespace}:0190e4a2-7b1c-7d3e-9f00-1a2b3c4d5e6f</sampleIdentifier>\
         </oai-identifier>\n\
         </description>\n",
        name = escape(&oai.repository_name),
        base = escape(base),
        email = escape(&oai.admin_email),
        namespace = escape(&oai.namespace),
    )
}

/// Every set: the four top levels and what is under each.
fn list_sets(catalog: &Catalog) -> String {
    let mut xml = String::new();
    let mut set = |spec: &str, name: &str| {
        let _ = writeln!(
            xml,
            "<set><setSpec>{}</setSpec><setName>{}</setName></set>",
            escape(spec),
            escape(name)
        );
    };
    set("kind", "Publications by kind");
    for kind in PublicationKind::ALL {
        set(&format!("kind:{kind}"), kind.label(Lang::En));
    }
    set("field", "Publications by field of work");
    for field in catalog.fields.iter() {
        set(&format!("field:{}", field.slug), &english(&field.label));
    }
    set("project", "Publications by project");
    for project in catalog.projects.iter() {
        set(
            &format!("project:{}", project.slug),
            &english(&project.title),
        );
    }
    set("language", "Publications by language");
    for (tag, name) in LANGUAGE_SETS {
        set(&format!("language:{tag}"), name);
    }
    xml
}

/// A label in English, or in the first language it has.
fn english(texts: &crate::domain::records::LangMap) -> String {
    texts
        .get(&Lang::En)
        .or_else(|| texts.values().next())
        .cloned()
        .unwrap_or_default()
}

/// Turns a set spec into the token the harvest table stores (fields and
/// projects by id); None when no such set exists.
fn set_token(catalog: &Catalog, spec: &str) -> Option<String> {
    if matches!(spec, "kind" | "field" | "project" | "language") {
        return Some(spec.to_owned());
    }
    let (top, value) = spec.split_once(':')?;
    match top {
        "kind" => PublicationKind::parse(value)
            .ok()
            .map(|kind| format!("kind:{kind}")),
        "field" => catalog
            .fields
            .by_slug(value)
            .map(|f| format!("field:{}", f.id)),
        "project" => catalog
            .projects
            .by_slug(value)
            .map(|p| format!("project:{}", p.id)),
        "language" => LANGUAGE_SETS
            .iter()
            .any(|(tag, _)| *tag == value)
            .then(|| format!("language:{value}")),
        _ => None,
    }
}

/// The set specs of a stored record, for its header.
fn set_specs(catalog: &Catalog, sets: &str) -> Vec<String> {
    sets.split_whitespace()
        .filter_map(|token| {
            let (top, value) = token.split_once(':')?;
            match top {
                "field" => catalog
                    .fields
                    .by_id(value)
                    .map(|f| format!("field:{}", f.slug)),
                "project" => catalog
                    .projects
                    .by_id(value)
                    .map(|p| format!("project:{}", p.slug)),
                _ => Some(token.to_owned()),
            }
        })
        .collect()
}

/// Where a list stopped, and what it lists: everything a resumption token
/// must carry for the next request to go on without the server keeping
/// anything.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Position {
    verb: Verb,
    selection: Selection,
    /// The last record sent: (seq, publication id).
    after: (i64, String),
}

const TOKEN_VERSION: &str = "1";

impl Position {
    fn token(&self) -> String {
        let selection = &self.selection;
        let raw = [
            TOKEN_VERSION,
            self.verb.as_str(),
            selection.from.as_deref().unwrap_or(""),
            selection.until.as_deref().unwrap_or(""),
            selection.set.as_deref().unwrap_or(""),
            &self.after.0.to_string(),
            &self.after.1,
        ]
        .join("\n");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    fn parse(token: &str, verb: Verb) -> Result<Self, OaiError> {
        let bad = || {
            OaiError::new(
                "badResumptionToken",
                "this resumption token was not made by this archive (or not for this verb)",
            )
        };
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| bad())?;
        let raw = String::from_utf8(bytes).map_err(|_| bad())?;
        let parts: Vec<&str> = raw.split('\n').collect();
        let [version, token_verb, from, until, set, seq, id] = parts[..] else {
            return Err(bad());
        };
        if version != TOKEN_VERSION || token_verb != verb.as_str() {
            return Err(bad());
        }
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(bad());
        }
        // A set as `set_token` makes them: letters, digits, `-`, `_`, `:`.
        let token_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':');
        if !set.chars().all(token_char) {
            return Err(bad());
        }
        let optional = |value: &str| (!value.is_empty()).then(|| value.to_owned());
        for stamp in [from, until].into_iter().filter(|s| !s.is_empty()) {
            parse_datestamp(stamp, false).map_err(|_| bad())?;
        }
        Ok(Position {
            verb,
            selection: Selection {
                from: optional(from),
                until: optional(until),
                set: optional(set),
            },
            after: (seq, id.to_owned()),
        })
    }
}

/// Parses a `from`/`until` value into the datestamp format; a bare date is
/// the first (or, for `until`, the last) second of its day. Returns whether
/// it was a bare date too.
fn parse_datestamp(raw: &str, end_of_day: bool) -> Result<(String, bool), OaiError> {
    let bad = || {
        OaiError::bad_argument(format!(
            "{raw:?} is not a date (YYYY-MM-DD) or a time in seconds (YYYY-MM-DDThh:mm:ssZ)"
        ))
    };
    if raw.len() == 10 {
        chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| bad())?;
        let time = if end_of_day { "23:59:59" } else { "00:00:00" };
        return Ok((format!("{raw}T{time}Z"), true));
    }
    if raw.len() == 20 && raw.ends_with('Z') {
        chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%SZ").map_err(|_| bad())?;
        return Ok((raw.to_owned(), false));
    }
    Err(bad())
}

/// The selection a fresh list request asks for.
fn selection(catalog: &Catalog, named: &HashMap<&str, &str>) -> Result<Selection, OaiError> {
    check_prefix(named.get("metadataPrefix").copied())?;
    let from = named
        .get("from")
        .map(|raw| parse_datestamp(raw, false))
        .transpose()?;
    let until = named
        .get("until")
        .map(|raw| parse_datestamp(raw, true))
        .transpose()?;
    if let (Some((from, from_day)), Some((until, until_day))) = (&from, &until) {
        if from_day != until_day {
            return Err(OaiError::bad_argument(
                "from and until must have the same granularity",
            ));
        }
        if from > until {
            return Err(OaiError::bad_argument("from is later than until"));
        }
    }
    let set = match named.get("set") {
        Some(spec) => Some(set_token(catalog, spec).ok_or_else(|| {
            OaiError::new(
                "noRecordsMatch",
                format!("there is no set {spec:?}; ListSets names them all"),
            )
        })?),
        None => None,
    };
    Ok(Selection {
        from: from.map(|(stamp, _)| stamp),
        until: until.map(|(stamp, _)| stamp),
        set,
    })
}

/// ListIdentifiers and ListRecords: one page of the list, with a
/// resumption token when more follow.
async fn list(
    state: &AppState,
    catalog: &Catalog,
    base: &str,
    namespace: &str,
    verb: Verb,
    named: &HashMap<&str, &str>,
) -> Result<String, Reply> {
    let (selection, after) = match named.get("resumptionToken") {
        Some(token) => {
            let position = Position::parse(token, verb)?;
            (position.selection, Some(position.after))
        }
        None => (selection(catalog, named)?, None),
    };
    let per_page = match verb {
        Verb::ListRecords => state.oai.page_size,
        _ => state.oai.page_size * 5,
    };
    let resumed = after.is_some();
    let (mut rows, total, sent) = {
        let selection = selection.clone();
        let after = after.clone();
        state
            .db
            .read(move |conn| -> Result<_, ApiError> {
                let after = after.as_ref().map(|(seq, id)| (*seq, id.as_str()));
                let rows = harvest::page(conn, &selection, after, per_page + 1)?;
                let (total, sent) = harvest::count(conn, &selection, after)?;
                Ok((rows, total, sent))
            })
            .await?
    };
    if rows.is_empty() {
        if resumed {
            // The list ended exactly where the last page did (records that
            // were in it changed since and came round again are already sent).
            return Ok(format!(
                "<resumptionToken completeListSize=\"{total}\" cursor=\"{sent}\"/>\n"
            ));
        }
        return Err(OaiError::new("noRecordsMatch", "no records match the request").into());
    }
    let more = rows.len() as i64 > per_page;
    rows.truncate(per_page as usize);
    let next = rows.last().map(|row| (row.seq, row.publication_id.clone()));
    let mut xml = render_records(
        state,
        catalog,
        base,
        namespace,
        rows,
        verb == Verb::ListRecords,
    )
    .await?;
    match next.filter(|_| more) {
        Some(after) => {
            let token = Position {
                verb,
                selection,
                after,
            }
            .token();
            let _ = writeln!(
                xml,
                "<resumptionToken completeListSize=\"{total}\" cursor=\"{sent}\">{token}</resumptionToken>"
            );
        }
        None if resumed => {
            let _ = writeln!(
                xml,
                "<resumptionToken completeListSize=\"{total}\" cursor=\"{sent}\"/>"
            );
        }
        None => {}
    }
    Ok(xml)
}

/// Finds the record an identifier names: idDoesNotExist for anything that
/// is not `oai:<namespace>:<uuid>` of a publication that was ever public.
async fn find_record(
    state: &AppState,
    namespace: &str,
    identifier: &str,
) -> Result<HarvestRow, Reply> {
    let missing = || {
        OaiError::new(
            "idDoesNotExist",
            format!("{identifier:?} is not the identifier of a record of this archive"),
        )
    };
    let id = identifier
        .strip_prefix("oai:")
        .and_then(|rest| rest.strip_prefix(namespace))
        .and_then(|rest| rest.strip_prefix(':'))
        .filter(|id| uuid::Uuid::parse_str(id).is_ok())
        .ok_or_else(missing)?
        .to_owned();
    let found = state
        .db
        .read(move |conn| -> Result<_, ApiError> { Ok(harvest::find(conn, &id)?) })
        .await?;
    Ok(found.ok_or_else(missing)?)
}

/// `<header>` (ListIdentifiers) or `<record>` elements for these rows.
async fn render_records(
    state: &AppState,
    catalog: &Catalog,
    base: &str,
    namespace: &str,
    rows: Vec<HarvestRow>,
    with_metadata: bool,
) -> Result<String, ApiError> {
    let live: Vec<String> = rows
        .iter()
        .filter(|row| !row.deleted)
        .map(|row| row.publication_id.clone())
        .collect();
    let listed = if with_metadata {
        Some(
            state
                .db
                .read(move |conn| -> Result<_, ApiError> { Ok(publications::by_ids(conn, &live)?) })
                .await?,
        )
    } else {
        None
    };
    let by_id: HashMap<&str, &crate::db::models::PublicationRow> = listed
        .iter()
        .flat_map(|listed| listed.rows.iter())
        .filter(|row| row.status == PublicationStatus::Published)
        .map(|row| (row.id.as_str(), row))
        .collect();
    let mut xml = String::new();
    for row in &rows {
        let publication = by_id.get(row.publication_id.as_str());
        // A publication can change between the two reads: one that is no
        // longer public is sent as deleted.
        let deleted = row.deleted || (with_metadata && publication.is_none());
        let mut head = String::new();
        let _ = write!(
            head,
            "<header{}><identifier>oai:{namespace}:{}</identifier><datestamp>{}</datestamp>",
            if deleted { " status=\"deleted\"" } else { "" },
            row.publication_id,
            row.datestamp
        );
        for spec in set_specs(catalog, &row.sets) {
            let _ = write!(head, "<setSpec>{}</setSpec>", escape(&spec));
        }
        head.push_str("</header>");
        if !with_metadata {
            xml.push_str(&head);
            xml.push('\n');
            continue;
        }
        xml.push_str("<record>");
        xml.push_str(&head);
        if let (Some(publication), Some(listed)) = (publication, &listed) {
            xml.push_str("<metadata>");
            dublin_core(&mut xml, catalog, (base, &state.site), publication, listed);
            xml.push_str("</metadata>");
        }
        xml.push_str("</record>\n");
    }
    Ok(xml)
}

/// A publication as unqualified Dublin Core: every language variant's
/// title and summary with its `xml:lang`.
fn dublin_core(
    xml: &mut String,
    catalog: &Catalog,
    (base, site): (&str, &SiteLinks),
    row: &crate::db::models::PublicationRow,
    listed: &publications::Listed,
) {
    xml.push_str(
        "<oai_dc:dc xmlns:oai_dc=\"http://www.openarchives.org/OAI/2.0/oai_dc/\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/oai_dc/ \
         http://www.openarchives.org/OAI/2.0/oai_dc.xsd\">",
    );
    let mut element = |name: &str, lang: Option<&str>, value: &str| {
        if value.trim().is_empty() {
            return;
        }
        let _ = match lang {
            Some(lang) => write!(
                xml,
                "<dc:{name} xml:lang=\"{lang}\">{}</dc:{name}>",
                escape(value)
            ),
            None => write!(xml, "<dc:{name}>{}</dc:{name}>", escape(value)),
        };
    };
    let mut variants: Vec<&crate::db::models::VariantHeadRow> = listed
        .heads
        .get(&row.id)
        .map(|heads| heads.iter().collect())
        .unwrap_or_default();
    variants.sort_by_key(|v| Lang::from_stored(&v.lang));
    for variant in &variants {
        element("title", Some(&variant.lang), &variant.title);
    }
    let authors: Vec<String> = serde_json::from_str(&row.authors).unwrap_or_default();
    for author in &authors {
        element("creator", None, author);
    }
    for field_id in listed.field_ids.get(&row.id).into_iter().flatten() {
        if let Some(field) = catalog.fields.by_id(field_id) {
            for (lang, label) in &field.label {
                element("subject", Some(lang.as_str()), label);
            }
        }
    }
    let keywords: Vec<String> = serde_json::from_str(&row.keywords).unwrap_or_default();
    for keyword in &keywords {
        element("subject", None, keyword);
    }
    for variant in &variants {
        element("description", Some(&variant.lang), &variant.summary);
    }
    if let Some(date) = &row.published_on {
        element("date", None, date);
    }
    element("type", None, "Text");
    for lang in Lang::ALL {
        element("type", Some(lang.as_str()), row.kind.label(lang));
    }
    // The site's page first, where a reader should land; it is in the
    // first language the publication has (English when it exists).
    let first = variants.first().and_then(|v| Lang::from_stored(&v.lang));
    if let Some(page) = first.and_then(|lang| site.page(Publications, lang, &row.slug, &row.id)) {
        element("identifier", None, &page);
    }
    element(
        "identifier",
        None,
        &format!("{base}/v1/publications/{}", row.slug),
    );
    for variant in &variants {
        element("language", None, &variant.lang);
    }
    if let Some(project) = row
        .project_id
        .as_deref()
        .and_then(|id| catalog.projects.by_id(id))
    {
        let page = first.and_then(|lang| site.page(Projects, lang, &project.slug, &project.id));
        element(
            "relation",
            None,
            &page.unwrap_or_else(|| format!("{base}/v1/projects/{}", project.slug)),
        );
    }
    xml.push_str("</oai_dc:dc>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        let position = Position {
            verb: Verb::ListRecords,
            selection: Selection {
                from: Some("2026-01-01T00:00:00Z".into()),
                until: None,
                set: Some("field:0190e4a2-7b1c-7d3e-9f00-1a2b3c4d5e6f".into()),
            },
            after: (42, "0190e4a2-7b1c-7d3e-9f00-1a2b3c4d5e6f".into()),
        };
        let token = position.token();
        assert_eq!(
            Position::parse(&token, Verb::ListRecords).unwrap(),
            position
        );
        // Not for another verb, not cut short, not made up.
        assert!(Position::parse(&token, Verb::ListIdentifiers).is_err());
        assert!(Position::parse(&token[..token.len() - 3], Verb::ListRecords).is_err());
        assert!(Position::parse("bm9wZQ", Verb::ListRecords).is_err());
    }

    #[test]
    fn dates_take_both_granularities() {
        assert_eq!(
            parse_datestamp("2026-03-01", true).unwrap(),
            ("2026-03-01T23:59:59Z".into(), true)
        );
        assert_eq!(
            parse_datestamp("2026-03-01T10:00:00Z", false).unwrap(),
            ("2026-03-01T10:00:00Z".into(), false)
        );
        for bad in [
            "2026-3-1",
            "2026-02-30",
            "2026-03-01T10:00Z",
            "2026-03-01T10:00:00.5Z",
        ] {
            assert!(parse_datestamp(bad, false).is_err(), "{bad}");
        }
    }
}
