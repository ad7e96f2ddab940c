//! A publication as the index holds it: its texts in each language's
//! fields, its keywords and authors, the filter values, and its listing.

use tantivy::TantivyDocument;

use super::index::SearchIndex;
use super::schema::{date_number, slot, timestamp_number};
use crate::db::publications::{Full, Listing};
use crate::domain::catalog::Catalog;
use crate::domain::lang::available;
use crate::domain::markup::plain_text;
use crate::domain::{Lang, PublicationStatus};

impl SearchIndex {
    /// Builds the document of a publication, or None when it is not public.
    pub fn document(&self, full: &Full, catalog: &Catalog) -> Option<TantivyDocument> {
        if full.row.status != PublicationStatus::Published {
            return None;
        }
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &full.row.id);
        if let Ok(listing) = serde_json::to_string(&Listing::of(full)) {
            doc.add_text(f.listing, listing);
        }
        // Variants in language-tag order, files' text after every body:
        // the order highlighting numbers words in (see `highlight`).
        let mut variants: Vec<_> = full
            .variants
            .iter()
            .filter_map(|variant| Some((Lang::from_stored(&variant.lang)?, variant)))
            .collect();
        variants.sort_by_key(|(lang, _)| lang.as_str());
        let mut stored = Vec::new();
        for (lang, variant) in &variants {
            stored.push(*lang);
            let i = slot(*lang);
            doc.add_text(f.title[i], &variant.title);
            doc.add_text(f.title_suggest, &variant.title);
            doc.add_text(f.summary[i], &variant.summary);
            // The words a reader reads: Markdown without its syntax.
            doc.add_text(f.body[i], plain_text(variant.body_format, &variant.body));
        }
        for (lang, variant) in &variants {
            if let Some(text) = &variant.file_text {
                doc.add_text(f.body[slot(*lang)], text);
            }
        }
        for lang in available(&stored) {
            doc.add_text(f.language, lang.as_str());
        }
        let keywords: Vec<String> = serde_json::from_str(&full.row.keywords).unwrap_or_default();
        doc.add_text(f.keywords, keywords.join(" "));
        let authors: Vec<String> = serde_json::from_str(&full.row.authors).unwrap_or_default();
        doc.add_text(f.authors, authors.join(" "));
        doc.add_text(f.kind, full.row.kind.as_str());
        for field_id in &full.field_ids {
            doc.add_text(f.field, field_id);
        }
        if let Some(project_id) = &full.row.project_id {
            doc.add_text(f.project, project_id);
            if let Some(project) = catalog.projects.by_id(project_id) {
                for funding in &project.funders {
                    doc.add_text(f.funder, &funding.organisation_id);
                }
                for partner in &project.partner_ids {
                    doc.add_text(f.partner, partner);
                }
            }
        }
        if let Some(event_id) = &full.row.event_id {
            doc.add_text(f.event, event_id);
        }
        if let Some(date) = full.row.published_on.as_deref().and_then(date_number) {
            doc.add_u64(f.published_on, date);
            doc.add_u64(f.year, date / 10_000);
        }
        if let Some(at) = timestamp_number(&full.row.updated_at) {
            doc.add_u64(f.updated_at, at);
        }
        Some(doc)
    }
}
