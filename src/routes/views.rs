//! The wire shapes of responses (DTOs), kept apart from rows and domain
//! types. Their doc comments and examples are the API documentation.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::markup::BodyFormat;
use crate::domain::{EventKind, Lang, PublicationKind, PublicationStatus, Role};

/// Where a resource lives: in the API and on the organisation's website,
/// both in the language of the page that embeds it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Links {
    /// The resource in this API.
    #[serde(rename = "self")]
    #[schema(
        example = "https://archive.example.org/v1/publications/conclusions-expert-discussion-2024-10-31?lang=sq"
    )]
    pub self_url: String,
    /// The page a reader should open on the organisation's website; null
    /// when no site URL is configured for this type (`ARKIV_SITE_URL`).
    #[schema(
        required = true,
        example = "https://example.org/sq/publications/conclusions-expert-discussion-2024-10-31"
    )]
    pub site: Option<String>,
}

/// An image (a cover, a logo) with everything `<img srcset>` needs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImageView {
    /// The alt text in the best language it has (the page's, when it
    /// exists); null for a decorative image.
    #[schema(
        required = true,
        example = "Participants of the expert discussion in Pristina"
    )]
    pub alt: Option<String>,
    /// Whom to credit, printed under the image; null when none is owed.
    #[schema(required = true, example = "Photo: NSI photo archive")]
    pub credit: Option<String>,
    /// The source's size in pixels (upright).
    #[schema(example = 2400)]
    pub width: u32,
    #[schema(example = 1600)]
    pub height: u32,
    /// WebP renditions, narrowest first, none wider than the source.
    pub renditions: Vec<RenditionView>,
}

/// One rendition of an image: immutable, cacheable for a year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RenditionView {
    #[schema(example = 800)]
    pub width: u32,
    #[schema(example = 533)]
    pub height: u32,
    #[schema(
        example = "https://archive.example.org/v1/images/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08/800.webp"
    )]
    pub url: String,
    #[schema(example = "image/webp")]
    pub media_type: String,
}

/// An organisation as other resources embed it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganisationRef {
    #[schema(example = "0193a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b")]
    pub id: String,
    #[schema(example = "german-federal-foreign-office")]
    pub slug: String,
    /// The name in the served language.
    #[schema(example = "German Federal Foreign Office")]
    pub name: String,
    pub links: Links,
    /// Its logo, ready for `<img srcset>`; null when it has none.
    #[schema(required = true)]
    pub image: Option<ImageView>,
    /// For funders of a project: the grant number, when known.
    #[schema(required = true)]
    pub grant_number: Option<String>,
}

/// A project as other resources embed it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectRef {
    pub id: String,
    #[schema(example = "dialogue-solutions-future")]
    pub slug: String,
    #[schema(example = "Dialogue, Solutions Future")]
    pub title: String,
    pub links: Links,
    /// Its image, ready for `<img srcset>`; null when it has none.
    #[schema(required = true)]
    pub image: Option<ImageView>,
}

/// An event as other resources embed it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventRef {
    pub id: String,
    #[schema(example = "expert-discussion-2024-10-31")]
    pub slug: String,
    pub kind: EventKind,
    /// The kind's label in the served language.
    #[schema(example = "Expert discussion")]
    pub kind_label: String,
    #[schema(example = "Challenges and opportunities in the Kosovo-Serbia normalization process")]
    pub title: String,
    pub links: Links,
    /// Its image, ready for `<img srcset>`; null when it has none.
    #[schema(required = true)]
    pub image: Option<ImageView>,
    #[schema(example = "2024-10-31")]
    pub starts_on: String,
    pub ends_on: Option<String>,
    #[schema(example = "Pristina")]
    pub place: Option<String>,
}

/// A field of work as other resources embed it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldRef {
    pub id: String,
    #[schema(example = "normalization-dialogue")]
    pub slug: String,
    #[schema(example = "Normalization of relations/dialogue")]
    pub label: String,
    pub links: Links,
}

/// One language edition of a publication, for a language switcher and
/// `hreflang` tags.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Alternate {
    #[schema(example = "sq")]
    pub language: Lang,
    /// The title in that language.
    pub title: String,
    /// True when the edition is transliterated from the other script.
    pub derived: bool,
    /// The edition in this API and on the site.
    pub links: Links,
}

/// A publication in a list: everything a card or a search hit shows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicationSummary {
    #[schema(example = "0193a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b")]
    pub id: String,
    #[schema(example = "conclusions-expert-discussion-2024-10-31")]
    pub slug: String,
    pub kind: PublicationKind,
    /// The kind's label in the served language.
    #[schema(example = "Discussion conclusions")]
    pub kind_label: String,
    pub status: PublicationStatus,
    #[schema(example = "2024-11-08")]
    pub published_on: Option<String>,
    /// When anything about the publication last changed (RFC 3339, UTC).
    #[schema(example = "2024-11-08T09:30:00.000000Z")]
    pub updated_at: String,
    /// The language tag of `title`, `summary` and `body`.
    #[schema(example = "sr-Latn")]
    pub language: Lang,
    /// Set when the text was transliterated from another stored variant.
    #[schema(required = true)]
    #[schema(example = "sr-Cyrl")]
    pub derived_from: Option<Lang>,
    /// Every tag the publication can be served in (a derived `sr-Latn` included).
    pub available_languages: Vec<Lang>,
    pub title: String,
    /// Plain text, whatever the body's format.
    pub summary: String,
    /// Plain text for a card: the summary, else the start of the body (a
    /// Markdown body without its syntax); at most 300 characters, cut at a
    /// word (with `…`).
    #[schema(example = "The informal discussion brought together diplomats…")]
    pub excerpt: String,
    pub links: Links,
    /// Its cover, ready for `<img srcset>`; null when it has none.
    #[schema(required = true)]
    pub image: Option<ImageView>,

    /// Every language edition, this one included, in the order of
    /// `available_languages`.
    pub alternates: Vec<Alternate>,
    #[schema(example = json!(["New Social Initiative"]))]
    pub authors: Vec<String>,
    #[schema(example = json!(["dialogue", "normalization"]))]
    pub keywords: Vec<String>,
    pub project: Option<ProjectRef>,
    /// The funders of the publication's project.
    pub funders: Vec<OrganisationRef>,
    /// The implementing partners of the publication's project.
    pub partners: Vec<OrganisationRef>,
    pub event: Option<EventRef>,
    pub fields: Vec<FieldRef>,
}

/// What is known of a variant's file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileView {
    pub sha256: String,
    pub size: i64,
    #[schema(example = "application/pdf")]
    pub media_type: String,
    #[schema(example = "conclusions-2024-10-31.pdf")]
    pub name: String,
    /// Whether text was extracted from it (and is searchable). False for a
    /// PDF without a text layer (a scan) or one that could not be read.
    pub text_extracted: bool,
    /// What became of its text: `extracted`, `no_text` (a scan, say) or
    /// `failed`; null when it was never extracted (an imported file).
    pub text_status: Option<crate::domain::text::TextStatus>,
    /// Why the text could not be extracted, when `text_status` is `failed`:
    /// `extract_timeout`, `extract_crashed`, `extract_memory`,
    /// `extract_too_large`, `encrypted` or `extract_failed`.
    pub text_error: Option<crate::domain::text::TextError>,
}

/// One language variant, as `?lang=all` lists them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VariantView {
    pub title: String,
    /// Plain text, whatever the body's format.
    pub summary: String,
    /// The full text as written, in `body_format`.
    pub body: String,
    pub body_format: BodyFormat,
    /// The body as HTML, safe to insert into a page as it is; `""` when
    /// there is no body.
    pub body_html: String,
    /// Set when this variant is a transliteration of another.
    #[schema(required = true)]
    pub derived_from: Option<Lang>,
    #[schema(required = true)]
    pub file: Option<FileView>,
}

/// One publication, everything a detail page needs in one response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicationDetail {
    #[serde(flatten)]
    pub summary: PublicationSummary,
    /// The full text in the served language, as written: in `body_format`.
    /// For a page, use `body_html`.
    #[schema(example = "The informal discussion brought together **diplomats**…")]
    pub body: String,
    pub body_format: BodyFormat,
    /// The body as HTML, ready to insert into a page as it is: Markdown
    /// rendered and cleaned, plain text as escaped `<p>` paragraphs (a
    /// single newline a `<br>`). It holds text structure and links only:
    /// no scripts, styles, event handlers, frames, forms or images; links
    /// are http, https, mailto or relative, each with
    /// `rel="noopener noreferrer nofollow"`. `""` when there is no body.
    #[schema(
        example = "<p>The informal discussion brought together <strong>diplomats</strong>…</p>\n"
    )]
    pub body_html: String,
    /// Minutes the body takes to read (200 words a minute, rounded up);
    /// 0 when there is no body.
    #[schema(example = 4)]
    pub reading_minutes: u32,
    pub created_at: String,
    /// The file of the served variant, if it has one.
    #[schema(required = true)]
    pub file: Option<FileView>,
    /// With `?lang=all`: every variant by tag, derived ones included.
    #[schema(required = true)]
    pub variants: Option<BTreeMap<Lang, VariantView>>,
    /// The languages the request asked for, in order of preference.
    // This and `stats` vary by request and come last: a stored rendered
    // detail is everything before them (see `crate::documents`).
    #[schema(example = json!(["sr-Latn"]))]
    pub requested_languages: Vec<String>,
    /// Views and downloads by readers since counting began, all languages
    /// together (robots, API keys and repeats within 30 s not counted).
    /// They may lag by the flush interval (5 s) plus the age of a cached
    /// response (at most 60 s); per language and over time:
    /// `/v1/publications/{id_or_slug}/stats`.
    pub stats: crate::stats::Counts,
}

/// A page of publications.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicationPage {
    pub items: Vec<PublicationSummary>,
    /// How many publications match the filters, over all pages.
    #[schema(example = 8)]
    pub total: i64,
    /// Pass as `cursor` to get the next page; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// The languages the request asked for, in order of preference.
    pub requested_languages: Vec<String>,
}

/// An organisation: a funder, partner or implementer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganisationView {
    pub id: String,
    #[schema(example = "isp-musine-kokalari")]
    pub slug: String,
    #[schema(example = "Institute for Social Policy Musine Kokalari")]
    pub name: String,
    pub links: Links,
    /// Its logo, ready for `<img srcset>`; null when it has none.
    #[schema(required = true)]
    pub image: Option<ImageView>,

    /// Its description in the best language it has, as plain text (to be
    /// escaped, never read as Markdown or HTML); null when it has none.
    #[schema(required = true)]
    pub description: Option<String>,
    pub language: Lang,
    #[schema(required = true)]
    pub derived_from: Option<Lang>,
    pub available_languages: Vec<Lang>,
    pub roles: Vec<Role>,
    /// The roles' labels in the served language.
    pub role_labels: Vec<String>,
    pub website: Option<String>,
    /// The organisation's ROR id, when known.
    pub ror: Option<String>,
}

/// A project on an organisation's page, with how much came of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganisationProject {
    #[serde(flatten)]
    pub project: ProjectRef,
    /// How many published publications the project has.
    #[schema(example = 4)]
    pub publications_total: i64,
}

/// An organisation with its projects by role and the events it organised.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganisationDetail {
    #[serde(flatten)]
    pub organisation: OrganisationView,
    /// Projects it funds.
    pub funded_projects: Vec<OrganisationProject>,
    /// Projects it is a partner in.
    pub partner_projects: Vec<OrganisationProject>,
    /// Projects it carries out.
    pub implemented_projects: Vec<OrganisationProject>,
    /// The newest publications of all those projects (at most 20).
    pub publications: Vec<PublicationSummary>,
    /// How many published publications those projects have.
    pub publications_total: i64,
    /// The next page of these publications in `GET /v1/publications`
    /// (the same filter, the page's language); null when all are here.
    #[schema(
        required = true,
        example = "https://archive.example.org/v1/publications?project=dialogue-solutions-future&lang=en&cursor=WyItcHVibGlzaGVkX29uIiwiMjAyNC0xMS0wOCIsIjAxOTMiXQ"
    )]
    pub publications_next: Option<String>,
    pub organised_events: Vec<EventRef>,
    pub requested_languages: Vec<String>,
}

/// A field of work.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldView {
    pub id: String,
    #[schema(example = "citizen-participation")]
    pub slug: String,
    #[schema(example = "Citizen participation")]
    pub label: String,
    pub links: Links,
    /// Its description in the best language it has, as plain text (to be
    /// escaped, never read as Markdown or HTML); null when it has none.
    #[schema(required = true)]
    pub description: Option<String>,
    pub language: Lang,
    #[schema(required = true)]
    pub derived_from: Option<Lang>,
    pub available_languages: Vec<Lang>,
}

/// A project (the organisation's "Reference List").
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectView {
    pub id: String,
    #[schema(example = "dialogue-solutions-future")]
    pub slug: String,
    #[schema(example = "Dialogue, Solutions Future")]
    pub title: String,
    pub links: Links,
    /// Its image, ready for `<img srcset>`; null when it has none.
    #[schema(required = true)]
    pub image: Option<ImageView>,
    /// Its description in the best language it has, as plain text (to be
    /// escaped, never read as Markdown or HTML); null when it has none.
    #[schema(required = true)]
    pub description: Option<String>,
    pub language: Lang,
    #[schema(required = true)]
    pub derived_from: Option<Lang>,
    pub available_languages: Vec<Lang>,
    #[schema(example = "2024-01-01")]
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub funders: Vec<OrganisationRef>,
    pub partners: Vec<OrganisationRef>,
    /// The organisations that carry the project out.
    pub implementers: Vec<OrganisationRef>,
    pub fields: Vec<FieldRef>,
}

/// A project with its events and its latest publications.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectDetail {
    #[serde(flatten)]
    pub project: ProjectView,
    pub events: Vec<EventRef>,
    /// The newest publications of the project (at most 20); the rest from
    /// `publications_next`.
    pub publications: Vec<PublicationSummary>,
    /// How many published publications the project has.
    pub publications_total: i64,
    /// The next page of these publications in `GET /v1/publications`
    /// (the same filter, the page's language); null when all are here.
    #[schema(
        required = true,
        example = "https://archive.example.org/v1/publications?project=dialogue-solutions-future&lang=en&cursor=WyItcHVibGlzaGVkX29uIiwiMjAyNC0xMS0wOCIsIjAxOTMiXQ"
    )]
    pub publications_next: Option<String>,
    pub requested_languages: Vec<String>,
}

/// An event: a discussion, summit, focus group or conference.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    #[serde(flatten)]
    pub event: EventRef,
    /// Its description in the best language it has, as plain text (to be
    /// escaped, never read as Markdown or HTML); null when it has none.
    #[schema(required = true)]
    pub description: Option<String>,
    pub language: Lang,
    #[schema(required = true)]
    pub derived_from: Option<Lang>,
    pub available_languages: Vec<Lang>,
    pub organisers: Vec<OrganisationRef>,
    pub project: Option<ProjectRef>,
}

/// An event with the publications that came out of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventDetail {
    #[serde(flatten)]
    pub event: EventView,
    /// The newest publications that came out of the event (at most 20).
    pub publications: Vec<PublicationSummary>,
    /// How many published publications came out of it.
    pub publications_total: i64,
    /// The next page of these publications in `GET /v1/publications`
    /// (the same filter, the page's language); null when all are here.
    #[schema(
        required = true,
        example = "https://archive.example.org/v1/publications?project=dialogue-solutions-future&lang=en&cursor=WyItcHVibGlzaGVkX29uIiwiMjAyNC0xMS0wOCIsIjAxOTMiXQ"
    )]
    pub publications_next: Option<String>,
    pub requested_languages: Vec<String>,
}

/// Declares a list envelope for one item type.
macro_rules! list_envelope {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// How many items match, over all pages.
            pub total: i64,
            /// Pass as `cursor` to get the next page; null on the last page.
            #[schema(required = true)]
            pub next_cursor: Option<String>,
            pub requested_languages: Vec<String>,
        }

        impl super::vocabulary::Envelope for $name {
            type Item = $item;

            fn new(
                items: Vec<$item>,
                total: usize,
                next_cursor: Option<String>,
                requested_languages: Vec<String>,
            ) -> Self {
                Self {
                    total: i64::try_from(total).unwrap_or(i64::MAX),
                    items,
                    next_cursor,
                    requested_languages,
                }
            }
        }

        impl super::vocabulary::Served for $item {
            fn language(&self) -> Lang {
                self.language
            }
        }
    };
}

list_envelope!(
    OrganisationList,
    OrganisationView,
    "Every organisation that matches."
);
list_envelope!(FieldList, FieldView, "Every field of work.");
list_envelope!(ProjectList, ProjectView, "Every project that matches.");
list_envelope!(
    EventList,
    EventView,
    "Every event that matches, newest first."
);

/// The service's liveness or readiness.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
    /// For readiness: which database backend answered.
    #[schema(required = true)]
    #[schema(example = "sqlite")]
    pub database: Option<String>,
}
