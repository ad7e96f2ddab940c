//! Facets: what a search counts its matches by, read from the index's
//! fast fields.

use std::collections::HashMap;

use tantivy::collector::DocSetCollector;
use tantivy::query::Query;

use super::index::SearchIndex;

/// What a search can count its matches by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Facet {
    Kind,
    Field,
    Project,
    Funder,
    Language,
    Year,
}

impl Facet {
    pub const ALL: [Facet; 6] = [
        Facet::Kind,
        Facet::Field,
        Facet::Project,
        Facet::Funder,
        Facet::Language,
        Facet::Year,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Facet::Kind => "kind",
            Facet::Field => "field",
            Facet::Project => "project",
            Facet::Funder => "funder",
            Facet::Language => "language",
            Facet::Year => "year",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        crate::domain::one_of(raw, &Facet::ALL, |facet| facet.as_str()).copied()
    }
}

impl SearchIndex {
    /// Counts every match of `query` by each facet: (value, count) pairs,
    /// values as the index holds them (ids, wire names, tags, years).
    pub fn facet_counts(
        &self,
        query: &dyn Query,
        facets: &[Facet],
    ) -> tantivy::Result<Vec<(Facet, HashMap<String, u64>)>> {
        let searcher = self.reader.searcher();
        let matches = searcher.search(query, &DocSetCollector)?;
        let mut by_segment: HashMap<u32, Vec<u32>> = HashMap::new();
        for address in matches {
            by_segment
                .entry(address.segment_ord)
                .or_default()
                .push(address.doc_id);
        }
        let mut counts: Vec<(Facet, HashMap<String, u64>)> =
            facets.iter().map(|f| (*f, HashMap::new())).collect();
        for (segment_ord, docs) in by_segment {
            let fast = searcher.segment_reader(segment_ord).fast_fields();
            for (facet, totals) in &mut counts {
                if *facet == Facet::Year {
                    let column = fast.u64("year")?;
                    for doc in &docs {
                        for year in column.values_for_doc(*doc) {
                            *totals.entry(year.to_string()).or_default() += 1;
                        }
                    }
                    continue;
                }
                let Some(column) = fast.str(facet.as_str())? else {
                    continue;
                };
                let mut by_ord: HashMap<u64, u64> = HashMap::new();
                for doc in &docs {
                    for ord in column.term_ords(*doc) {
                        *by_ord.entry(ord).or_default() += 1;
                    }
                }
                let mut value = String::new();
                for (ord, count) in by_ord {
                    if column.ord_to_str(ord, &mut value)? {
                        *totals.entry(value.clone()).or_default() += count;
                    }
                }
            }
        }
        Ok(counts)
    }
}
