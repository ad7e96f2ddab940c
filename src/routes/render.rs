//! Builds response views from rows and the catalog, in the negotiated
//! language.

use std::collections::BTreeMap;

use crate::db::models::{PublicationRow, VariantHeadRow, VariantRow};
use crate::domain::catalog::{self, Catalog};
use crate::domain::images::RENDITION_MEDIA_TYPE;
use crate::domain::lang::{available, negotiate, pick_text, LanguageRange, Served};
use crate::domain::links::{PageType, SiteLinks};
use crate::domain::markup::to_html;
use crate::domain::reading::{excerpt, reading_minutes};
use crate::domain::records::{ImageRecord, LangMap};
use crate::domain::text::{TextError, TextStatus};
use crate::domain::translit::cyrillic_to_latin;
use crate::domain::Lang;
use crate::state::AppState;

use super::views::*;

/// Renders views for one request.
pub struct Render<'a> {
    pub catalog: &'a Catalog,
    pub ranges: &'a [LanguageRange],
    /// The API's public URL, the base of `links.self`.
    api: &'a str,
    /// The website's page templates, for `links.site`.
    site: &'a SiteLinks,
    /// Reader counts, for a detail's `stats`.
    stats: &'a crate::stats::Stats,
}

/// A text picked from a per-language map, with where it came from.
pub struct Picked {
    pub text: String,
    pub served: Served,
    pub available: Vec<Lang>,
}

impl<'a> Render<'a> {
    pub fn new(state: &'a AppState, catalog: &'a Catalog, ranges: &'a [LanguageRange]) -> Self {
        Self {
            catalog,
            ranges,
            api: state.public_url.as_str(),
            site: &state.site,
            stats: &state.stats,
        }
    }

    /// The links of a resource, in the page's language.
    pub fn links(&self, page: PageType, slug: &str, id: &str) -> Links {
        self.links_in(self.labels(), page, slug, id)
    }

    /// The links of a resource in a given language (a language edition).
    pub fn links_in(&self, lang: Lang, page: PageType, slug: &str, id: &str) -> Links {
        Links {
            self_url: format!(
                "{}/v1/{}/{slug}?lang={}",
                self.api,
                page.as_str(),
                lang.as_str()
            ),
            site: self.site.page(page, lang, slug, id),
        }
    }

    /// Returns the language of every label in the response (kinds, roles,
    /// vocabulary names): the first language asked for, whatever each
    /// item's own text fell back to, so one page never mixes two.
    pub fn labels(&self) -> Lang {
        crate::domain::lang::label_language(self.ranges)
    }

    pub fn pick(&self, texts: &LangMap) -> Picked {
        let stored: Vec<Lang> = texts.keys().copied().collect();
        let (served, text) = pick_text(self.ranges, &stored, |lang| {
            texts.get(&lang).map(String::as_str)
        })
        .unwrap_or((
            Served {
                lang: Lang::En,
                derived_from: None,
            },
            String::new(),
        ));
        Picked {
            text,
            served,
            available: available(&stored),
        }
    }

    /// A description in the best language it has; `None` when it has none.
    pub fn description(&self, texts: &LangMap) -> Option<String> {
        (!texts.is_empty()).then(|| self.pick(texts).text)
    }

    /// An image as objects carry it, its alt text in the best language.
    pub fn image(&self, image: Option<&ImageRecord>) -> Option<ImageView> {
        let image = image?;
        Some(ImageView {
            alt: self.description(&image.alt),
            credit: image.credit.clone(),
            width: image.width,
            height: image.height,
            renditions: image
                .renditions
                .iter()
                .map(|size| RenditionView {
                    width: size.width,
                    height: size.height,
                    url: format!(
                        "{}/v1/images/{}/{}.webp",
                        self.api, image.sha256, size.width
                    ),
                    media_type: RENDITION_MEDIA_TYPE.to_owned(),
                })
                .collect(),
        })
    }

    /// A publication's cover, from its row.
    fn cover(&self, row: &PublicationRow) -> Option<ImageView> {
        let image = crate::db::vocabulary::stored_image(row.image.as_deref(), &row.id);
        self.image(image.as_ref())
    }

    fn text(&self, texts: &LangMap) -> String {
        self.pick(texts).text
    }

    pub fn organisation_ref(
        &self,
        id: &str,
        grant_number: Option<&str>,
    ) -> Option<OrganisationRef> {
        let org = self.catalog.organisations.by_id(id)?;
        Some(OrganisationRef {
            id: org.id.clone(),
            slug: org.slug.clone(),
            name: self.text(&org.name),
            links: self.links(PageType::Organisations, &org.slug, &org.id),
            image: self.image(org.image.as_ref()),
            grant_number: grant_number.map(str::to_owned),
        })
    }

    pub fn project_ref(&self, id: &str) -> Option<ProjectRef> {
        let project = self.catalog.projects.by_id(id)?;
        Some(ProjectRef {
            id: project.id.clone(),
            slug: project.slug.clone(),
            title: self.text(&project.title),
            links: self.links(PageType::Projects, &project.slug, &project.id),
            image: self.image(project.image.as_ref()),
        })
    }

    pub fn field_ref(&self, id: &str) -> Option<FieldRef> {
        let field = self.catalog.fields.by_id(id)?;
        Some(FieldRef {
            id: field.id.clone(),
            slug: field.slug.clone(),
            label: self.text(&field.label),
            links: self.links(PageType::Fields, &field.slug, &field.id),
        })
    }

    pub fn event_ref(&self, event: &catalog::Event) -> EventRef {
        let picked = self.pick(&event.title);
        EventRef {
            id: event.id.clone(),
            slug: event.slug.clone(),
            kind: event.kind,
            kind_label: event.kind.label(self.labels()).to_owned(),
            title: picked.text,
            links: self.links(PageType::Events, &event.slug, &event.id),
            image: self.image(event.image.as_ref()),
            starts_on: event.starts_on.clone(),
            ends_on: event.ends_on.clone(),
            place: event.place.clone(),
        }
    }

    pub fn funders(&self, project: &catalog::Project) -> Vec<OrganisationRef> {
        project
            .funders
            .iter()
            .filter_map(|f| self.organisation_ref(&f.organisation_id, f.grant_number.as_deref()))
            .collect()
    }

    /// The organisations these ids name, in order (partners, implementers,
    /// organisers), skipping any no longer in the catalog.
    pub fn organisations(&self, ids: &[String]) -> Vec<OrganisationRef> {
        ids.iter()
            .filter_map(|id| self.organisation_ref(id, None))
            .collect()
    }

    pub fn fields(&self, ids: &[String]) -> Vec<FieldRef> {
        ids.iter().filter_map(|id| self.field_ref(id)).collect()
    }

    /// Renders a publication in a list from its row and variant heads.
    pub fn publication_summary(
        &self,
        row: &PublicationRow,
        heads: &[VariantHeadRow],
        field_ids: &[String],
    ) -> PublicationSummary {
        let stored = stored_languages(heads);
        let served = negotiate(self.ranges, &stored).unwrap_or(Served {
            lang: Lang::En,
            derived_from: None,
        });
        let head = heads.iter().find(|h| h.lang == served.source().as_str());
        let text = match head {
            Some(head) => {
                let summary = derived(served, &head.summary);
                let excerpt = excerpt(
                    &summary,
                    &derived(served, &head.body_start),
                    head.body_format,
                );
                (derived(served, &head.title), summary, excerpt)
            }
            None => Default::default(),
        };
        let titles: Vec<(Lang, &str)> = heads
            .iter()
            .filter_map(|h| Some((Lang::from_stored(&h.lang)?, h.title.as_str())))
            .collect();
        self.summary_of(row, served, &titles, text, field_ids)
    }

    /// The language editions of a publication from its stored titles: each
    /// stored one, and Latin derived from Cyrillic when only that is stored.
    fn alternates(
        &self,
        row: &PublicationRow,
        titles: &[(Lang, &str)],
        languages: &[Lang],
    ) -> Vec<Alternate> {
        languages
            .iter()
            .filter_map(|&lang| {
                let (source, derived) = match titles.iter().find(|(l, _)| *l == lang) {
                    Some(found) => (found, false),
                    None => (titles.iter().find(|(l, _)| *l == Lang::SrCyrl)?, true),
                };
                Some(Alternate {
                    language: lang,
                    title: if derived {
                        cyrillic_to_latin(source.1)
                    } else {
                        source.1.to_owned()
                    },
                    derived,
                    links: self.links_in(lang, PageType::Publications, &row.slug, &row.id),
                })
            })
            .collect()
    }

    /// `titles` are the stored variants' titles; `text` the served title,
    /// summary and excerpt.
    fn summary_of(
        &self,
        row: &PublicationRow,
        served: Served,
        titles: &[(Lang, &str)],
        (title, summary, excerpt): (String, String, String),
        field_ids: &[String],
    ) -> PublicationSummary {
        let kind = row.kind;
        let status = row.status;
        let stored: Vec<Lang> = titles.iter().map(|(lang, _)| *lang).collect();
        let available_languages = available(&stored);
        let project = row
            .project_id
            .as_deref()
            .and_then(|id| self.catalog.projects.by_id(id));
        PublicationSummary {
            id: row.id.clone(),
            slug: row.slug.clone(),
            kind,
            kind_label: kind.label(self.labels()).to_owned(),
            status,
            published_on: row.published_on.clone(),
            updated_at: row.updated_at.clone(),
            language: served.lang,
            derived_from: served.derived_from,
            alternates: self.alternates(row, titles, &available_languages),
            available_languages,
            title,
            summary,
            excerpt,
            links: self.links(PageType::Publications, &row.slug, &row.id),
            image: self.cover(row),
            authors: serde_json::from_str(&row.authors).unwrap_or_default(),
            keywords: serde_json::from_str(&row.keywords).unwrap_or_default(),
            project: project.and_then(|p| self.project_ref(&p.id)),
            funders: project.map(|p| self.funders(p)).unwrap_or_default(),
            partners: project
                .map(|p| self.organisations(&p.partner_ids))
                .unwrap_or_default(),
            event: row
                .event_id
                .as_deref()
                .and_then(|id| self.catalog.events.by_id(id))
                .map(|e| self.event_ref(e)),
            fields: self.fields(field_ids),
        }
    }

    /// Renders a publication's detail; with `all`, every variant too.
    pub fn publication_detail(
        &self,
        row: &PublicationRow,
        variants: &[VariantRow],
        field_ids: &[String],
        requested_languages: Vec<String>,
        all: bool,
    ) -> PublicationDetail {
        let stored: Vec<Lang> = variants
            .iter()
            .filter_map(|v| Lang::from_stored(&v.lang))
            .collect();
        let served = negotiate(self.ranges, &stored).unwrap_or(Served {
            lang: Lang::En,
            derived_from: None,
        });
        let variant = variants.iter().find(|v| v.lang == served.source().as_str());
        let (title, summary, body) = match variant {
            Some(v) => (
                derived(served, &v.title),
                derived(served, &v.summary),
                derived(served, &v.body),
            ),
            None => Default::default(),
        };
        let body_format = variant.map(|v| v.body_format).unwrap_or_default();
        let titles: Vec<(Lang, &str)> = variants
            .iter()
            .filter_map(|v| Some((Lang::from_stored(&v.lang)?, v.title.as_str())))
            .collect();
        let excerpt = excerpt(&summary, &body, body_format);
        let summary_view =
            self.summary_of(row, served, &titles, (title, summary, excerpt), field_ids);
        let variants_view = all.then(|| {
            let mut map = BTreeMap::new();
            for v in variants {
                if let Some(lang) = Lang::from_stored(&v.lang) {
                    map.insert(lang, variant_view(v, None));
                }
            }
            if let (Some(cyrillic), false) = (
                variants.iter().find(|v| v.lang == Lang::SrCyrl.as_str()),
                stored.contains(&Lang::SrLatn),
            ) {
                map.insert(Lang::SrLatn, variant_view(cyrillic, Some(Lang::SrCyrl)));
            }
            map
        });
        PublicationDetail {
            summary: summary_view,
            reading_minutes: reading_minutes(&body, body_format),
            body_html: to_html(body_format, &body),
            body_format,
            body,
            created_at: row.created_at.clone(),
            file: variant.and_then(file_view),
            requested_languages,
            variants: variants_view,
            stats: self.stats.totals(&row.id),
        }
    }
}

/// Returns a stored text as served: transliterated when the served tag is
/// derived from Cyrillic.
fn derived(served: Served, text: &str) -> String {
    derived_text(served.derived_from, text)
}

fn derived_text(derived_from: Option<Lang>, text: &str) -> String {
    match derived_from {
        Some(_) => cyrillic_to_latin(text),
        None => text.to_owned(),
    }
}

fn file_view(v: &VariantRow) -> Option<FileView> {
    match (
        &v.file_sha256,
        v.file_size,
        &v.file_media_type,
        &v.file_name,
    ) {
        (Some(sha256), Some(size), Some(media_type), Some(name)) => Some(FileView {
            sha256: sha256.clone(),
            size,
            media_type: media_type.clone(),
            name: name.clone(),
            text_extracted: v.file_text.as_deref().is_some_and(|t| !t.trim().is_empty()),
            text_status: v
                .file_text_status
                .as_deref()
                .and_then(|raw| TextStatus::parse(raw).ok()),
            text_error: v
                .file_text_error
                .as_deref()
                .and_then(|raw| TextError::parse(raw).ok()),
        }),
        _ => None,
    }
}

/// A variant as `?lang=all` lists it; a derived one is transliterated
/// before its body is rendered.
fn variant_view(v: &VariantRow, derived_from: Option<Lang>) -> VariantView {
    let convert = |text: &str| derived_text(derived_from, text);
    let body = convert(&v.body);
    VariantView {
        title: convert(&v.title),
        summary: convert(&v.summary),
        body_html: to_html(v.body_format, &body),
        body_format: v.body_format,
        body,
        derived_from,
        file: file_view(v),
    }
}

/// The languages of a publication's stored variants, from their heads.
pub fn stored_languages(heads: &[VariantHeadRow]) -> Vec<Lang> {
    heads
        .iter()
        .filter_map(|head| Lang::from_stored(&head.lang))
        .collect()
}
