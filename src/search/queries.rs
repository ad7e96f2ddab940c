//! The queries of a search: its text parsed with the language chains (by
//! common pairs, or word by word for phrases with slop), looked for in every
//! text field, AND the list filters. A text of plain words also scores the
//! pairs of common words it holds side by side, where a document has them
//! side by side too (D86).

use std::ops::Bound;

use tantivy::query::{
    BooleanQuery, BoostQuery, EmptyQuery, Occur, Query, QueryParser, RangeQuery, TermQuery,
};
use tantivy::query_grammar::{UserInputAst, UserInputLeaf};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TokenizerManager;
use tantivy::{Index, Score, Term};

use super::analyzers;
use super::index::SearchIndex;
use super::pairs;
use super::query::{self, Parsed};
use super::schema::{analyzer_of, date_number, text_fields, timestamp_number, Fields};
use crate::db::publications::Filter;

/// How much more a title's words weigh than a body's.
const TITLE_BOOST: Score = 3.0;
/// How much more a summary's words weigh than a body's.
const SUMMARY_BOOST: Score = 1.5;
/// How much a pair of common words found side by side, as the text has
/// them, weighs against one word in the same field (D86).
const PAIR_BOOST: Score = 2.0;

impl SearchIndex {
    /// Builds the query of a search: the text query (words, phrases,
    /// `-exclusion`, `OR`, `field:`; see [`Parsed`]) AND the filters.
    pub fn query(&self, text: &str, filter: &Filter) -> Box<dyn Query> {
        self.search_query(text, filter).0
    }

    /// The query of a search, and its text as parsed (None when the text
    /// has nothing to look for), for [`matches`](Self::matches).
    pub fn search_query(&self, text: &str, filter: &Filter) -> (Box<dyn Query>, Option<Parsed>) {
        match self.runnable(text) {
            Some((parsed, query)) => (self.filtered(Some(query), filter), Some(parsed)),
            None if text.trim().is_empty() => (self.filtered(None, filter), None),
            // Only syntax (`-`, `:`, `(((`): nothing to look for, so nothing found.
            None => (Box::new(EmptyQuery), None),
        }
    }

    /// A search text as the index can run it, and its query: as typed, or
    /// its plain words when the index can't run it as typed. None when the
    /// text has nothing to look for.
    fn runnable(&self, text: &str) -> Option<(Parsed, Box<dyn Query>)> {
        let parsed = Parsed::new(text)?;
        let (query, errors) = self
            .parser(&parsed)
            .build_query_from_user_input_ast_lenient(parsed.ast.clone());
        if errors.is_empty() || !parsed.as_typed {
            let query = self.with_adjacent_pairs(&parsed, query);
            return Some((parsed, query));
        }
        let plain = Parsed::plain_words(text);
        let (query, _) = self
            .parser(&plain)
            .build_query_from_user_input_ast_lenient(plain.ast.clone());
        let query = self.with_adjacent_pairs(&plain, query);
        Some((plain, query))
    }

    /// `query`, scoring more the documents that have some of the text's
    /// pairs of common words side by side: for a text of two plain words
    /// or more, each pair its words make in a language's list of common
    /// words (which the index holds as one term) is an optional term of the
    /// language's fields. What matches is the same; in what order changes.
    /// A text with anything else (a phrase, `OR`, `-`, `field:`) is left
    /// as it is.
    fn with_adjacent_pairs(&self, parsed: &Parsed, query: Box<dyn Query>) -> Box<dyn Query> {
        let Some(text) = plain_words(&parsed.ast) else {
            return query;
        };
        let f = &self.fields;
        let schema = self.index.schema();
        let mut pair_terms: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (fields, boost) in [
            (f.title, TITLE_BOOST),
            (f.summary, SUMMARY_BOOST),
            (f.body, 1.0),
        ] {
            for field in fields {
                let Some(mut analyzer) = analyzer_of(&schema, field, &self.pair_analyzers) else {
                    continue;
                };
                for term in analyzers::terms(&mut analyzer, &text) {
                    if pairs::is_pair(&term) {
                        let pair = Box::new(TermQuery::new(
                            Term::from_field_text(field, &term),
                            IndexRecordOption::WithFreqs,
                        ));
                        let weighed = BoostQuery::new(pair, boost * PAIR_BOOST);
                        pair_terms.push((Occur::Should, Box::new(weighed)));
                    }
                }
            }
        }
        if pair_terms.is_empty() {
            return query;
        }
        Box::new(BooleanQuery::new(vec![
            (Occur::Must, query),
            (Occur::Should, Box::new(BooleanQuery::new(pair_terms))),
        ]))
    }

    /// The parser for a query: a phrase with slop (`"a b"~2`) need not
    /// have its words side by side, so it can't be asked for by pairs.
    pub(super) fn parser(&self, parsed: &Parsed) -> &QueryParser {
        if parsed.has_slop() {
            &self.word_parser
        } else {
            &self.pair_parser
        }
    }

    /// Combines a text query (or none) with the list filters, all required.
    pub(super) fn filtered(
        &self,
        text_query: Option<Box<dyn Query>>,
        filter: &Filter,
    ) -> Box<dyn Query> {
        let f = &self.fields;
        let has_text = text_query.is_some();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(query) = text_query {
            clauses.push((Occur::Must, query));
        }
        let any_of = |field: Field, values: &[String]| -> Box<dyn Query> {
            let terms: Vec<(Occur, Box<dyn Query>)> = values
                .iter()
                .map(|value| {
                    let query: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(field, value),
                        IndexRecordOption::Basic,
                    ));
                    (Occur::Should, query)
                })
                .collect();
            Box::new(BooleanQuery::new(terms))
        };
        let mut filter_on = |field: Field, values: Option<&Vec<String>>| {
            if let Some(values) = values {
                clauses.push((Occur::Must, any_of(field, values)));
            }
        };
        let kinds: Vec<String> = filter.kinds.iter().map(|k| k.as_str().to_owned()).collect();
        filter_on(f.kind, (!kinds.is_empty()).then_some(&kinds));
        filter_on(f.field, filter.field_ids.as_ref());
        filter_on(f.project, filter.project_ids.as_ref());
        filter_on(f.event, filter.event_ids.as_ref());
        // The index lists the tags a publication is served in, derived
        // sr-Latn included, so the list filter's tags match as they are.
        filter_on(f.language, filter.languages.as_ref());
        if !filter.years.is_empty() {
            let years: Vec<(Occur, Box<dyn Query>)> = filter
                .years
                .iter()
                .filter_map(|year| {
                    let first = date_number(&format!("{year:04}-01-01"))?;
                    let last = date_number(&format!("{year:04}-12-31"))?;
                    let range: Box<dyn Query> = Box::new(RangeQuery::new(
                        Bound::Included(Term::from_field_u64(f.published_on, first)),
                        Bound::Included(Term::from_field_u64(f.published_on, last)),
                    ));
                    Some((Occur::Should, range))
                })
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(years))));
        }
        let from = filter.published_from.as_deref().and_then(date_number);
        let to = filter.published_to.as_deref().and_then(date_number);
        if from.is_some() || to.is_some() {
            let bound = |value: Option<u64>| match value {
                Some(value) => Bound::Included(Term::from_field_u64(f.published_on, value)),
                None => Bound::Unbounded,
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(bound(from), bound(to))),
            ));
        }
        if let Some(since) = filter.updated_since.as_deref() {
            // A time before 1970 excludes nothing.
            let since = timestamp_number(since).unwrap_or(0);
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_u64(f.updated_at, since)),
                    Bound::Unbounded,
                )),
            ));
        }
        if clauses.is_empty() {
            return Box::new(tantivy::query::AllQuery);
        }
        if has_text && clauses.len() == 1 {
            // The text alone, unwrapped: a union of terms at the top is what
            // lets the top hits be found without scoring every match.
            if let Some((_, text_query)) = clauses.pop() {
                return text_query;
            }
        }
        if !has_text {
            // Filters alone: match every document, then narrow.
            clauses.push((Occur::Must, Box::new(tantivy::query::AllQuery)));
        }
        Box::new(BooleanQuery::new(clauses))
    }
}

/// A parser of search texts: every word required, looked for in every
/// text field, titles and summaries weighing more than bodies.
pub(super) fn query_parser(
    index: &Index,
    fields: &Fields,
    analyzers: TokenizerManager,
) -> QueryParser {
    let mut parser = QueryParser::new(index.schema(), text_fields(fields), analyzers);
    parser.set_conjunction_by_default();
    for title in fields.title {
        parser.set_field_boost(title, TITLE_BOOST);
    }
    for summary in fields.summary {
        parser.set_field_boost(summary, SUMMARY_BOOST);
    }
    parser
}

/// The words of a text of two plain words or more, every one required, in
/// their order; None for a text with anything else.
fn plain_words(ast: &UserInputAst) -> Option<String> {
    let UserInputAst::Clause(children) = ast else {
        return None;
    };
    let mut words: Vec<&str> = Vec::new();
    for (occur, child) in children {
        let required = matches!(occur, None | Some(tantivy::query_grammar::Occur::Must));
        let UserInputAst::Leaf(leaf) = child else {
            return None;
        };
        let UserInputLeaf::Literal(literal) = leaf.as_ref() else {
            return None;
        };
        if !required || !query::is_plain(literal) {
            return None;
        }
        words.extend(query::words(&literal.phrase));
    }
    (words.len() >= 2).then(|| words.join(" "))
}
