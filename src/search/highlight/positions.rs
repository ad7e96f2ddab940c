//! Where a query matched each hit: the positions of its terms in the hit's
//! title and body fields, read from the index's postings (phrases marked
//! only where the whole phrase stands), for [`mark`](super::mark).

use std::collections::{HashMap, HashSet};

use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::Query;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocSet, Term};

use super::Matches;
use crate::search::index::{Hit, Page, SearchIndex};
use crate::search::query::{self, Parsed};
use crate::search::schema::{analyzer_of, TEXT_LANGUAGES};

impl SearchIndex {
    /// The phrases of a parsed text as the title and body fields hold
    /// them, and the terms that match anywhere on their own.
    fn phrase_plan(&self, parsed: &Parsed) -> PhrasePlan {
        let mut plan = PhrasePlan::default();
        let schema = self.index.schema();
        let f = &self.fields;
        let highlighted: Vec<Field> = f.title.iter().chain(&f.body).copied().collect();
        // The analyzers the parser used (see `parser`).
        let analyzers = if parsed.has_slop() {
            &self.word_analyzers
        } else {
            &self.pair_analyzers
        };
        query::visit_literals(&parsed.ast, true, &mut |literal| {
            let fields: Vec<Field> = match &literal.field_name {
                None => highlighted.clone(),
                Some(name) => schema
                    .get_field(name)
                    .ok()
                    .filter(|field| highlighted.contains(field))
                    .into_iter()
                    .collect(),
            };
            for field in fields {
                let Some(mut analyzer) = analyzer_of(&schema, field, analyzers) else {
                    continue;
                };
                let mut stream = analyzer.token_stream(&literal.phrase);
                let mut phrase: Vec<(Term, u32)> = Vec::new();
                while let Some(token) = stream.next() {
                    let position = u32::try_from(token.position).unwrap_or(u32::MAX);
                    phrase.push((Term::from_field_text(field, &token.text), position));
                }
                // Words a phrase with slop matches need not stand side by side.
                if phrase.len() < 2 || literal.slop > 0 {
                    plan.alone.extend(phrase.into_iter().map(|(term, _)| term));
                } else {
                    let start = phrase[0].1;
                    let phrase = phrase
                        .into_iter()
                        .map(|(term, position)| (term, position.saturating_sub(start)))
                        .collect();
                    plan.phrases.push(phrase);
                }
            }
        });
        plan
    }

    /// Where `query` matched each hit of `page`: the positions of its terms
    /// in the hit's title and body fields, read from the index's postings,
    /// and the words of its terms in the completions' titles. Hits without
    /// any are left out.
    ///
    /// A term that the text (`parsed`) has only in phrases is marked only
    /// where its phrase matched: `"dialogue between"` does not mark a lone
    /// "between". Other terms (words, typo matches) are marked everywhere.
    pub fn matches(
        &self,
        page: &Page,
        query: &dyn Query,
        parsed: Option<&Parsed>,
    ) -> tantivy::Result<HashMap<String, Matches>> {
        let mut terms: Vec<Term> = Vec::new();
        query.query_terms(&mut |term, _| terms.push(term.clone()));
        terms.sort();
        terms.dedup();
        let plan = parsed
            .map(|parsed| self.phrase_plan(parsed))
            .unwrap_or_default();
        let in_phrases: HashSet<&Term> = plan
            .phrases
            .iter()
            .flatten()
            .map(|(term, _)| term)
            .filter(|term| !plan.alone.contains(*term))
            .collect();
        let mut found: HashMap<String, Matches> = HashMap::new();
        let mut positions = Vec::new();
        // The hits in index order, for each term's postings to go through
        // once, forward.
        let mut order: Vec<&Hit> = page.hits.iter().collect();
        order.sort_by_key(|hit| (hit.address.segment_ord, hit.address.doc_id));
        for slot in 0..TEXT_LANGUAGES.len() {
            for (field, is_title) in [
                (self.fields.title[slot], true),
                (self.fields.body[slot], false),
            ] {
                // Where each hit has the terms of phrases, to mark only
                // where a whole phrase stands.
                let mut held: HashMap<(DocAddress, &Term), Vec<u32>> = HashMap::new();
                for term in terms.iter().filter(|term| term.field() == field) {
                    let record = IndexRecordOption::WithFreqsAndPositions;
                    let phrase_only = in_phrases.contains(term);
                    postings_at_hits(page, &order, term, record, |hit, postings| {
                        positions.clear();
                        postings.positions(&mut positions);
                        if phrase_only {
                            held.insert((hit.address, term), positions.clone());
                        } else {
                            let matches = found.entry(hit.id.clone()).or_default();
                            mark_term(matches.field(slot, is_title), term, &positions);
                        }
                    })?;
                }
                for phrase in plan.phrases.iter().filter(|phrase| {
                    phrase
                        .first()
                        .is_some_and(|(term, _)| term.field() == field)
                }) {
                    for hit in &order {
                        let lists: Vec<(&[u32], u32)> = phrase
                            .iter()
                            .map(|(term, offset)| {
                                let list = held.get(&(hit.address, term));
                                (list.map(Vec::as_slice).unwrap_or_default(), *offset)
                            })
                            .collect();
                        let standing = phrase_starts(&lists);
                        if standing.is_empty() {
                            continue;
                        }
                        let matches = found.entry(hit.id.clone()).or_default();
                        let set = matches.field(slot, is_title);
                        for (term, offset) in phrase {
                            let marked: Vec<u32> =
                                standing.iter().map(|start| start + offset).collect();
                            mark_term(set, term, &marked);
                        }
                    }
                }
            }
        }
        // Words a typo matched in titles of any language: marked wherever
        // a title of the hit has them.
        let suggest = self.fields.title_suggest;
        for term in terms.iter().filter(|term| term.field() == suggest) {
            let value = term.value();
            let Some(word) = value.as_str() else {
                continue;
            };
            postings_at_hits(page, &order, term, IndexRecordOption::Basic, |hit, _| {
                let matches = found.entry(hit.id.clone()).or_default();
                matches.title_words.insert(word.to_owned());
            })?;
        }
        Ok(found)
    }
}

/// A search text's phrases, as the title and body fields hold them: each
/// a list of (term, offset from its first term); and the terms of the text
/// that match on their own (words, phrases with slop).
#[derive(Default)]
struct PhrasePlan {
    phrases: Vec<Vec<(Term, u32)>>,
    alone: HashSet<Term>,
}

/// Where a phrase starts in a document, given where the document has each
/// of its terms (sorted positions) and the term's offset in the phrase.
fn phrase_starts(terms: &[(&[u32], u32)]) -> Vec<u32> {
    let Some(((first, _), rest)) = terms.split_first() else {
        return Vec::new();
    };
    first
        .iter()
        .copied()
        .filter(|start| {
            rest.iter()
                .all(|(positions, offset)| positions.binary_search(&(start + offset)).is_ok())
        })
        .collect()
}

/// Adds a term's positions to the marked ones: a common pair stands for
/// its word and the next.
fn mark_term(set: &mut std::collections::BTreeSet<u32>, term: &Term, positions: &[u32]) {
    set.extend(positions.iter().copied());
    if term
        .value()
        .as_str()
        .is_some_and(crate::search::pairs::is_pair)
    {
        set.extend(positions.iter().map(|position| position + 1));
    }
}

/// Calls `at_hit` with each of the `hits` (in index order) that has
/// `term`, and the term's postings moved to it: read once per segment and
/// moved forward, not looked up again for every hit.
fn postings_at_hits(
    page: &Page,
    hits: &[&Hit],
    term: &Term,
    record: IndexRecordOption,
    mut at_hit: impl FnMut(&Hit, &mut SegmentPostings),
) -> tantivy::Result<()> {
    let mut current: Option<(u32, Option<SegmentPostings>)> = None;
    for &hit in hits {
        let segment_ord = hit.address.segment_ord;
        if current.as_ref().map(|(ord, _)| *ord) != Some(segment_ord) {
            let postings = page
                .searcher
                .segment_reader(segment_ord)
                .inverted_index(term.field())?
                .read_postings(term, record)?;
            current = Some((segment_ord, postings));
        }
        let Some((_, Some(postings))) = current.as_mut() else {
            continue;
        };
        // `seek` only moves forward; past the end, `doc` is TERMINATED.
        let doc = hit.address.doc_id;
        if postings.doc() < doc {
            postings.seek(doc);
        }
        if postings.doc() == doc {
            at_hit(hit, postings);
        }
    }
    Ok(())
}
