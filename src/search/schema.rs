//! The index's schema: one document per publication, text fields per
//! language (each analysed by its language's chain), keywords, authors and
//! completions, and filter fields holding the ids the database uses.

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{TextAnalyzer, TokenizerManager};
use tantivy::IndexSettings;

use super::analyzers;
use crate::domain::Lang;

/// The languages with text fields of their own; both Serbian scripts go to `sr`.
pub const TEXT_LANGUAGES: [&str; 3] = ["en", "sq", "sr"];

/// The fields of the schema, looked up once.
#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    /// The publication as lists show it ([`Listing`], as JSON): stored, not indexed.
    pub listing: Field,
    pub title: [Field; 3],
    pub summary: [Field; 3],
    pub body: [Field; 3],
    pub keywords: Field,
    pub authors: Field,
    /// Every title, unstemmed and folded, for completions.
    pub title_suggest: Field,
    pub kind: Field,
    pub field: Field,
    pub project: Field,
    pub funder: Field,
    pub partner: Field,
    pub event: Field,
    pub language: Field,
    pub year: Field,
    pub published_on: Field,
    /// When the publication last changed, in microseconds since 1970.
    pub updated_at: Field,
}

pub(super) fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = |tokenizer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };
    let mut per_language = |name: &str| {
        TEXT_LANGUAGES.map(|lang| {
            builder.add_text_field(&format!("{name}_{lang}"), text(analyzer_name(lang)))
        })
    };
    let title = per_language("title");
    let summary = per_language("summary");
    let body = per_language("body");
    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED),
        // Named for the shape of the JSON it holds: a new shape is a new
        // name, so an index holding the old one is rebuilt at start.
        // (v2: heads carry the body's start, for excerpts.)
        listing: builder.add_text_field("listing_v2", STORED),
        title,
        summary,
        body,
        keywords: builder.add_text_field("keywords", text(analyzers::KEYWORDS)),
        title_suggest: builder.add_text_field("title_suggest", text(analyzers::SUGGEST)),
        // Names are not stemmed, but their scripts and diacritics fold as
        // the completions' do: "Ivanović", "Ivanovic" and "Ивановић" meet.
        authors: builder.add_text_field("authors", text(analyzers::SUGGEST)),
        kind: builder.add_text_field("kind", STRING | FAST),
        field: builder.add_text_field("field", STRING | FAST),
        project: builder.add_text_field("project", STRING | FAST),
        funder: builder.add_text_field("funder", STRING | FAST),
        partner: builder.add_text_field("partner", STRING | FAST),
        event: builder.add_text_field("event", STRING | FAST),
        language: builder.add_text_field("language", STRING | FAST),
        year: builder.add_u64_field("year", INDEXED | FAST),
        published_on: builder.add_u64_field("published_on", INDEXED | FAST),
        updated_at: builder.add_u64_field("updated_at", INDEXED | FAST),
    };
    (builder.build(), fields)
}

/// The index's settings. The doc store is read for each hit's listing
/// (about a kilobyte of JSON), and tantivy decompresses a whole block to
/// read one document: blocks of 4 KiB rather than the default 16 KiB.
pub(super) fn settings() -> IndexSettings {
    IndexSettings {
        docstore_blocksize: 4 * 1024,
        ..IndexSettings::default()
    }
}

/// The analyzer of a text language's fields.
fn analyzer_name(lang: &str) -> &'static str {
    match lang {
        "en" => analyzers::EN,
        "sq" => analyzers::SQ,
        _ => analyzers::SR,
    }
}

/// Maps a stored language tag to its text field slot.
pub fn slot(lang: Lang) -> usize {
    match lang {
        Lang::En => 0,
        Lang::Sq => 1,
        Lang::SrLatn | Lang::SrCyrl => 2,
    }
}

/// `YYYY-MM-DD` as the number `YYYYMMDD`, which orders as the date does.
pub fn date_number(date: &str) -> Option<u64> {
    let digits: String = date.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == 8).then(|| digits.parse().ok()).flatten()
}

/// A stored or parsed timestamp (RFC 3339) as microseconds since 1970,
/// which order as the times do.
pub fn timestamp_number(timestamp: &str) -> Option<u64> {
    let at = chrono::DateTime::parse_from_rfc3339(timestamp).ok()?;
    u64::try_from(at.timestamp_micros()).ok()
}

/// The analyzer a text field is analysed with, from `analyzers`.
pub(super) fn analyzer_of(
    schema: &Schema,
    field: Field,
    analyzers: &TokenizerManager,
) -> Option<TextAnalyzer> {
    match schema.get_field_entry(field).field_type() {
        tantivy::schema::FieldType::Str(options) => options
            .get_indexing_options()
            .and_then(|indexing| analyzers.get(indexing.tokenizer())),
        _ => None,
    }
}

/// The analyzer the index runs on `lang`'s bodies, registered by the code
/// that registers the index's own ([`analyzers::register`]), so that what
/// it makes of a text is what indexing makes of it (`arkiv analyze`).
pub fn body_analyzer(lang: Lang) -> Option<TextAnalyzer> {
    let (schema, fields) = schema();
    let registered = TokenizerManager::default();
    analyzers::register(&registered);
    analyzer_of(&schema, fields.body[slot(lang)], &registered)
}

/// The fields a query's words are looked for in.
pub(super) fn text_fields(fields: &Fields) -> Vec<Field> {
    let mut text: Vec<Field> = Vec::new();
    text.extend(fields.title);
    text.extend(fields.summary);
    text.extend(fields.body);
    text.push(fields.keywords);
    text.push(fields.authors);
    text
}
