//! Completions for a search box: titles with every finished word typed and
//! a word starting with the last one.

use tantivy::query::{BooleanQuery, Occur, Query, RegexQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::Term;

use super::index::{Hit, SearchIndex, SearchOrder};

impl SearchIndex {
    /// Completes a half-typed title: publications with a title (in any
    /// language or script) that has every finished word of `text` and a
    /// word starting with its last one, newest first.
    pub fn suggest(&self, text: &str, limit: usize) -> tantivy::Result<Vec<Hit>> {
        let mut analyzer = super::analyzers::suggest();
        let words = super::analyzers::terms(&mut analyzer, text);
        let Some((last, finished)) = words.split_last() else {
            return Ok(Vec::new());
        };
        let field = self.fields.title_suggest;
        let typing = !text.ends_with(char::is_whitespace);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in finished {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(field, word),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if typing {
            // Tokens are letters and digits only, so the pattern needs no escaping.
            clauses.push((
                Occur::Must,
                Box::new(RegexQuery::from_pattern(&format!("{last}.*"), field)?),
            ));
        } else {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(field, last),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        let page = self.search(
            &BooleanQuery::new(clauses),
            SearchOrder::PublishedDesc,
            limit,
            0,
        )?;
        Ok(page.hits)
    }
}
