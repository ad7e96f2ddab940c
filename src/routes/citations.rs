//! How to cite a publication: BibTeX, RIS and CSL-JSON for reference
//! managers, schema.org JSON-LD for search engines and linked data, in
//! the negotiated language.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Deserializer};
use serde_json::json;
use utoipa::IntoParams;

use super::publications::find_public;
use super::render::Render;
use super::views::{Alternate, PublicationDetail};
use crate::db::publications::Bodies;
use crate::domain::catalog::Catalog;
use crate::domain::{IdOrSlug, Lang, PublicationKind};
use crate::http::error::{ApiError, Problem};
use crate::http::negotiate::{AcceptLanguage, Requested};
use crate::http::params;
use crate::http::respond;
use crate::state::AppState;

/// Who publishes everything in the archive.
const PUBLISHER: &str = "New Social Initiative";

/// A citation format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Bibtex,
    Ris,
    CslJson,
    JsonLd,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Bibtex, Format::Ris, Format::CslJson, Format::JsonLd];

    pub fn name(self) -> &'static str {
        match self {
            Format::Bibtex => "bibtex",
            Format::Ris => "ris",
            Format::CslJson => "csl-json",
            Format::JsonLd => "jsonld",
        }
    }

    /// The file name extension of a download.
    fn extension(self) -> &'static str {
        match self {
            Format::Bibtex => "bib",
            Format::Ris => "ris",
            Format::CslJson => "json",
            Format::JsonLd => "jsonld",
        }
    }

    fn media_type(self) -> &'static str {
        match self {
            Format::Bibtex => "application/x-bibtex",
            Format::Ris => "application/x-research-info-systems",
            Format::CslJson => "application/vnd.citationstyles.csl+json",
            Format::JsonLd => "application/ld+json",
        }
    }

    fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|format| format.name() == raw)
            .ok_or_else(|| format!("{raw:?} is not a format: use bibtex, ris, csl-json or jsonld"))
    }

    /// The format an `Accept` header asks for, if it names one.
    fn from_accept(accept: &str) -> Option<Self> {
        accept.split(',').find_map(|range| {
            let media = range.split(';').next().unwrap_or_default().trim();
            Self::ALL
                .into_iter()
                .find(|format| format.media_type() == media)
        })
    }
}

/// Query parameters of the citation endpoint.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct CitationParams {
    /// `bibtex`, `ris`, `csl-json` or `jsonld` (schema.org); without it,
    /// the `Accept` header chooses, else BibTeX.
    #[param(value_type = Option<String>, example = "ris")]
    #[serde(deserialize_with = "format")]
    format: Option<Format>,
    /// Language to cite in (overrides `Accept-Language`).
    #[param(example = "sq")]
    #[serde(deserialize_with = "params::text")]
    lang: Option<String>,
}

fn format<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Format>, D::Error> {
    params::one(deserializer, Format::parse)
}

/// Cite a publication
///
/// The publication as a citation, in the negotiated language: BibTeX
/// (`application/x-bibtex`), RIS (`application/x-research-info-systems`),
/// CSL-JSON (`application/vnd.citationstyles.csl+json`) or schema.org
/// JSON-LD (`application/ld+json`: a `Report` or `ScholarlyArticle` with
/// `inLanguage`, `workTranslation`, authors as `Person` or `Organization`,
/// `funder`, `funding` (a `MonetaryGrant` from each funder, with its grant
/// number), `isPartOf` the project's series and `encoding` each PDF),
/// chosen by `format` or by `Accept`. BibTeX keeps an organisation's name
/// whole (`{New Social Initiative}`). Downloads are named after the slug.
#[utoipa::path(
    tag = "publications",
    params(
        ("id_or_slug" = String, Path, description = "The publication's UUID or slug", example = "conclusions-expert-discussion-2024-10-31"),
        CitationParams,
        AcceptLanguage,
    ),
    responses(
        (status = 200, description = "The citation", content(
            (String = "application/x-bibtex"),
            (String = "application/x-research-info-systems"),
            ([Object] = "application/vnd.citationstyles.csl+json"),
            (Object = "application/ld+json"),
        ), headers(("ETag" = String), ("Content-Language" = String),
            ("Content-Disposition" = String, description = "attachment; filename=\"<slug>.bib\" (.ris, .json, .jsonld)"))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 400, description = "A malformed id, slug or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published publication has this id or slug", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The publication was withdrawn", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/publications/{id_or_slug}/citation")]
pub async fn cite_publication(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query: CitationParams = params::read(&req)?;
    let requested = Requested::new(&req, query.lang.as_deref(), false)?;
    let format = match query.format {
        Some(format) => format,
        None => req
            .headers()
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok())
            .and_then(Format::from_accept)
            .unwrap_or(Format::Bibtex),
    };
    cite(
        &req,
        &state,
        &path.into_inner(),
        &requested,
        format,
        Delivery::Download,
    )
    .await
}

/// How a citation is sent: as a file to save, or as the publication's own
/// URL answering `Accept: application/ld+json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Download,
    Representation,
}

/// Returns true when `Accept` prefers schema.org JSON-LD to plain JSON: its
/// q-value is higher, or equal and it is listed first.
pub fn prefers_json_ld(req: &HttpRequest) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let mut best: Option<(&str, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim();
        if !matches!(media, "application/ld+json" | "application/json") {
            continue;
        }
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q > 0.0 && best.is_none_or(|(_, top)| q > top) {
            best = Some((media, q));
        }
    }
    best.is_some_and(|(media, _)| media == "application/ld+json")
}

/// Answers with a publication's citation in `format`.
pub async fn cite(
    req: &HttpRequest,
    state: &AppState,
    raw: &str,
    requested: &Requested,
    format: Format,
    delivery: Delivery,
) -> Result<HttpResponse, ApiError> {
    let key = IdOrSlug::parse(raw).map_err(|message| ApiError::invalid("id_or_slug", message))?;
    let full = find_public(state, &key, raw, Bodies::Served(requested.ranges.clone())).await?;
    let snapshot = state.snapshot().await?;
    let render = Render::new(state, &snapshot.catalog, &requested.ranges);
    let detail = render.publication_detail(
        &full.row,
        &full.variants,
        &full.field_ids,
        requested.tags(),
        false,
    );
    let summary = &detail.summary;
    let api_url = format!("{}/v1/publications/{}", state.public_url, summary.slug);
    // A citation points a reader at the site's page when there is one.
    let (served, others): (Vec<&Alternate>, Vec<&Alternate>) = summary
        .alternates
        .iter()
        .partition(|edition| edition.language == summary.language);
    let url = served
        .first()
        .and_then(|edition| edition.links.site.clone())
        .unwrap_or_else(|| api_url.clone());
    let cited = Cited {
        detail: &detail,
        url: &url,
        translations: others
            .into_iter()
            .map(|edition| {
                let links = &edition.links;
                let url = links.site.as_ref().unwrap_or(&links.self_url);
                (edition.language, url.clone())
            })
            .collect(),
        corporate: corporate_authors(&snapshot.catalog, &detail.summary.authors),
        files: full
            .variants
            .iter()
            .filter_map(|variant| {
                Some(CitedFile {
                    url: format!("{api_url}/variants/{}/file", variant.lang),
                    media_type: variant.file_media_type.clone()?,
                    size: variant.file_size?,
                    language: variant.lang.clone(),
                })
            })
            .collect(),
    };
    let body = match format {
        Format::Bibtex => bibtex(&cited).into_bytes(),
        Format::Ris => ris(&detail, &url).into_bytes(),
        Format::CslJson => {
            serde_json::to_vec_pretty(&csl_json(&cited)).map_err(ApiError::internal)?
        }
        Format::JsonLd => {
            script_safe(serde_json::to_vec_pretty(&json_ld(&cited)).map_err(ApiError::internal)?)
        }
    };
    let mut encoded = respond::encode_bytes(body, &[detail.summary.language.as_str()])?;
    encoded.content_type = Some(match format {
        Format::Bibtex => "application/x-bibtex; charset=utf-8",
        Format::Ris => "application/x-research-info-systems; charset=utf-8",
        other => other.media_type(),
    });
    let mut response = respond::send(req, &encoded);
    response.headers_mut().insert(
        header::VARY,
        header::HeaderValue::from_static("Accept, Accept-Language"),
    );
    if delivery == Delivery::Representation {
        return Ok(response);
    }
    // The slug is letters, digits and hyphens: nothing to quote.
    let disposition = format!(
        "attachment; filename=\"{}.{}\"",
        detail.summary.slug,
        format.extension()
    );
    if let Ok(value) = header::HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// What a citation is made of: the publication in the served language, its
/// URL, which of its authors are organisations, and its files.
struct Cited<'a> {
    detail: &'a PublicationDetail,
    /// The site's page in the served language, else the API's resource.
    url: &'a str,
    /// The other language editions and their URLs, made the same way.
    translations: Vec<(Lang, String)>,
    /// Per author: an organisation (the publisher, or named like one in
    /// the archive in any language), not a person.
    corporate: Vec<bool>,
    files: Vec<CitedFile>,
}

/// A variant's file, as JSON-LD lists it.
struct CitedFile {
    url: String,
    media_type: String,
    size: i64,
    language: String,
}

/// Which authors are organisations: the publisher, or any organisation of
/// the archive by its name in any language. Authors are names, so a person
/// who shares an organisation's name would be taken for it.
fn corporate_authors(catalog: &Catalog, authors: &[String]) -> Vec<bool> {
    authors
        .iter()
        .map(|author| {
            let author = author.trim();
            author.eq_ignore_ascii_case(PUBLISHER)
                || catalog
                    .organisations
                    .iter()
                    .any(|org| org.name.values().any(|name| name.trim() == author))
        })
        .collect()
}

/// JSON that can be pasted into an HTML `<script type="application/ld+json">`
/// as it is: `<`, `>` and `&` written as `\u003c`, `\u003e`, `\u0026`, so
/// that no text (a title with `</script>`) can end the element or start
/// markup. The JSON means the same. Those bytes occur only inside strings
/// in JSON, and never inside a multi-byte UTF-8 character, so each is
/// replaced where it stands.
fn script_safe(json: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    for byte in json {
        match byte {
            b'<' => out.extend_from_slice(b"\\u003c"),
            b'>' => out.extend_from_slice(b"\\u003e"),
            b'&' => out.extend_from_slice(b"\\u0026"),
            other => out.push(other),
        }
    }
    out
}

/// Year, month and day of `YYYY-MM-DD`.
fn date_parts(date: Option<&str>) -> Option<(i32, u32, u32)> {
    let date = chrono::NaiveDate::parse_from_str(date?, "%Y-%m-%d").ok()?;
    use chrono::Datelike;
    Some((date.year(), date.month(), date.day()))
}

/// Escapes BibTeX's special characters; letters (ë, ç, š, ђ, …) stay as
/// UTF-8, which BibLaTeX/Biber and every current reference manager read.
fn bibtex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '{' | '}' | '#' | '$' | '%' | '&' | '_' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A citation key: letters, digits and hyphens of the slug.
fn cite_key(slug: &str) -> String {
    slug.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

fn bibtex(cited: &Cited) -> String {
    let (item, url) = (&cited.detail.summary, cited.url);
    let entry_type = match item.kind {
        PublicationKind::Report
        | PublicationKind::PolicyPaper
        | PublicationKind::MediaMonitoring => "techreport",
        _ => "misc",
    };
    let mut fields: Vec<(&str, String)> = vec![("title", item.title.clone())];
    // An organisation goes in an extra pair of braces, so that BibTeX takes
    // the whole name as one (a last name), not a person "Initiative, New
    // Social".
    let authors: Vec<String> = item
        .authors
        .iter()
        .zip(&cited.corporate)
        .map(|(name, corporate)| match corporate {
            true => format!("{{{}}}", bibtex_escape(name)),
            false => bibtex_escape(name),
        })
        .collect();
    if entry_type == "techreport" {
        fields.push(("institution", PUBLISHER.into()));
        fields.push(("type", item.kind_label.clone()));
    } else {
        fields.push(("publisher", PUBLISHER.into()));
        fields.push(("howpublished", item.kind_label.clone()));
    }
    if let Some((year, month, _)) = date_parts(item.published_on.as_deref()) {
        fields.push(("year", year.to_string()));
        fields.push(("month", month.to_string()));
    }
    if let Some(date) = &item.published_on {
        fields.push(("date", date.clone()));
    }
    fields.push(("language", item.language.as_str().into()));
    if !item.summary.is_empty() {
        fields.push(("abstract", item.summary.clone()));
    }
    if !item.keywords.is_empty() {
        fields.push(("keywords", item.keywords.join(", ")));
    }
    let mut out = format!("@{entry_type}{{{},\n", cite_key(&item.slug));
    for (name, value) in fields {
        out.push_str(&format!("  {name} = {{{}}},\n", bibtex_escape(&value)));
        if name == "title" && !authors.is_empty() {
            out.push_str(&format!("  author = {{{}}},\n", authors.join(" and ")));
        }
    }
    // The URL goes verbatim: `\url`-style fields take no escapes.
    out.push_str(&format!("  url = {{{url}}}\n}}\n"));
    out
}

/// One RIS line; RIS has no escapes, so line breaks become spaces.
fn ris_line(out: &mut String, tag: &str, value: &str) {
    let value: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    out.push_str(&format!("{tag}  - {}\r\n", value.trim()));
}

fn ris(detail: &PublicationDetail, url: &str) -> String {
    let item = &detail.summary;
    let mut out = String::new();
    let ty = match item.kind {
        PublicationKind::Report
        | PublicationKind::PolicyPaper
        | PublicationKind::MediaMonitoring => "RPRT",
        _ => "GEN",
    };
    ris_line(&mut out, "TY", ty);
    ris_line(&mut out, "TI", &item.title);
    for author in &item.authors {
        ris_line(&mut out, "AU", author);
    }
    if let Some((year, month, day)) = date_parts(item.published_on.as_deref()) {
        ris_line(&mut out, "PY", &year.to_string());
        ris_line(&mut out, "DA", &format!("{year:04}/{month:02}/{day:02}"));
    }
    ris_line(&mut out, "PB", PUBLISHER);
    ris_line(&mut out, "M3", &item.kind_label);
    ris_line(&mut out, "LA", item.language.as_str());
    if !item.summary.is_empty() {
        ris_line(&mut out, "AB", &item.summary);
    }
    for keyword in &item.keywords {
        ris_line(&mut out, "KW", keyword);
    }
    ris_line(&mut out, "UR", url);
    ris_line(&mut out, "ID", &item.id);
    out.push_str("ER  - \r\n");
    out
}

fn csl_json(cited: &Cited) -> serde_json::Value {
    let (item, url) = (&cited.detail.summary, cited.url);
    let issued = date_parts(item.published_on.as_deref())
        .map(|(y, m, d)| json!({"date-parts": [[y, m, d]]}));
    json!([{
        "id": item.slug,
        "type": "report",
        "genre": item.kind_label,
        "title": item.title,
        "author": item.authors.iter().map(|name| json!({"literal": name})).collect::<Vec<_>>(),
        "issued": issued,
        "publisher": PUBLISHER,
        "language": item.language.as_str(),
        "abstract": item.summary,
        "keyword": item.keywords.join(", "),
        "URL": url,
    }])
}

fn json_ld(cited: &Cited) -> serde_json::Value {
    let (item, url) = (&cited.detail.summary, cited.url);
    let kind = match item.kind {
        PublicationKind::PolicyPaper => "ScholarlyArticle",
        _ => "Report",
    };
    let translations: Vec<serde_json::Value> = cited
        .translations
        .iter()
        .map(|(lang, url)| {
            json!({
                "@type": kind,
                "@id": url,
                "url": url,
                "inLanguage": lang.as_str(),
            })
        })
        .collect();
    let mut doc = json!({
        "@context": "https://schema.org",
        "@type": kind,
        "@id": url,
        "url": url,
        "name": item.title,
        "headline": item.title,
        "inLanguage": item.language.as_str(),
        "datePublished": item.published_on,
        "dateModified": item.updated_at,
        "author": item
            .authors
            .iter()
            .zip(&cited.corporate)
            .map(|(name, corporate)| {
                json!({"@type": if *corporate { "Organization" } else { "Person" }, "name": name})
            })
            .collect::<Vec<_>>(),
        "publisher": {"@type": "Organization", "name": PUBLISHER},
        "funder": item.funders.iter().map(|f| json!({"@type": "Organization", "name": f.name})).collect::<Vec<_>>(),
        "keywords": item.keywords,
        "about": item.fields.iter().map(|f| json!({"@type": "Thing", "name": f.label})).collect::<Vec<_>>(),
        "workTranslation": translations,
        "identifier": format!("urn:uuid:{}", item.id),
    });
    if !item.summary.is_empty() {
        doc["abstract"] = json!(item.summary);
    }
    // A project is not a creative work, the range of `isPartOf`: its
    // publications form a series named after it, and its funding is a
    // grant from each funder (with the grant number, when known).
    if let Some(project) = &item.project {
        doc["isPartOf"] = json!({
            "@type": "CreativeWorkSeries",
            "name": project.title,
            "identifier": project.slug,
        });
        let grants: Vec<serde_json::Value> = item
            .funders
            .iter()
            .map(|funder| {
                let mut grant = json!({
                    "@type": "MonetaryGrant",
                    "name": project.title,
                    "funder": {"@type": "Organization", "name": funder.name},
                });
                if let Some(number) = &funder.grant_number {
                    grant["identifier"] = json!(number);
                }
                grant
            })
            .collect();
        if !grants.is_empty() {
            doc["funding"] = json!(grants);
        }
    }
    let encodings: Vec<serde_json::Value> = cited
        .files
        .iter()
        .map(|file| {
            json!({
                "@type": "MediaObject",
                "contentUrl": file.url,
                "encodingFormat": file.media_type,
                "contentSize": file.size.to_string(),
                "inLanguage": file.language,
            })
        })
        .collect();
    if !encodings.is_empty() {
        doc["encoding"] = json!(encodings);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bibtex_escapes_specials_and_keeps_letters() {
        assert_eq!(
            bibtex_escape("50% & {x}_y #1 ~ Prishtinë, Priština, Приштина"),
            "50\\% \\& \\{x\\}\\_y \\#1 \\textasciitilde{} Prishtinë, Priština, Приштина"
        );
    }

    #[test]
    fn accept_chooses_a_format() {
        assert_eq!(
            Format::from_accept("application/x-research-info-systems"),
            Some(Format::Ris)
        );
        assert_eq!(
            Format::from_accept("text/html, application/vnd.citationstyles.csl+json;q=0.9"),
            Some(Format::CslJson)
        );
        assert_eq!(Format::from_accept("*/*"), None);
    }

    #[test]
    fn json_ld_cannot_end_its_script_element() {
        let value = serde_json::json!({"name": "</script><script>alert(1)</script> & <b>ë"});
        let safe = script_safe(serde_json::to_vec(&value).unwrap());
        let text = String::from_utf8(safe.clone()).unwrap();
        assert!(!text.contains(['<', '>', '&']), "{text}");
        assert!(text.contains("\\u003c/script\\u003e"), "{text}");
        let again: serde_json::Value = serde_json::from_slice(&safe).unwrap();
        assert_eq!(again, value);
    }
}
