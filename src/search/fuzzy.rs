//! Typo tolerance: when a search finds nothing as typed, its longer plain
//! words are looked for within one edit that keeps their first letter.
//! In a stemmed field a word is found when one edit makes it a word whose
//! stem the index holds: the typo may be in the stem (`raprotin`, whose
//! stem is one edit from `raport`) or in the ending the stemmer would have
//! taken off (`raportev` for `raporteve`, whose stem is `raport`, two
//! edits from `raportev`).

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use tantivy::query::{
    BooleanQuery, BoostQuery, DfaWrapper, EmptyScorer, EnableScoring, Explanation, FuzzyTermQuery,
    Occur, Query, QueryParser, Scorer, TermQuery, Weight,
};
use tantivy::query_grammar::{UserInputAst, UserInputLeaf};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocId, DocSet, Score, SegmentReader, Term, TERMINATED};

use super::analyzers;
use super::index::SearchIndex;
use super::query::{self, Parsed};
use super::schema::{analyzer_of, TEXT_LANGUAGES};
use crate::db::publications::Filter;

/// The terms within one edit of a word, but for its first letter, in one
/// or more fields with the same analyzer: documents with any of them in any
/// of the fields, scored by how many of the fields have one (as one fuzzy
/// query per field would score them together; with one field, a constant,
/// as tantivy's fuzzy query scores).
///
/// The automaton walks the dictionaries of the first field only, in every
/// segment, when the query is built; the others, when there are any, are
/// a language's titles and summaries beside its bodies, whose words are
/// mostly in the bodies too. Walking a dictionary is most of a fuzzy
/// query's cost, and one walk per language instead of three halves it.
/// A typo in a word's first letter is not one a reader makes often, and
/// Meilisearch counts it as two: keeping the first letter confines each
/// walk to the words that start with it.
/// Knowing its terms, the query also tells highlighting what to mark.
#[derive(Clone)]
struct FuzzyTerms {
    fields: Vec<Field>,
    /// The words found, in each of the fields.
    terms: Vec<Term>,
}

impl std::fmt::Debug for FuzzyTerms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FuzzyTerms")
            .field("fields", &self.fields)
            .field("terms", &self.terms.len())
            .finish()
    }
}

impl FuzzyTerms {
    /// The terms `automaton` accepts that start with the first letter of
    /// `word`, which it was built from, and the terms `also` (found in the
    /// first field's dictionaries).
    fn expand(
        searcher: &tantivy::Searcher,
        automaton: &DfaWrapper,
        word: &str,
        fields: Vec<Field>,
        also: Vec<String>,
    ) -> tantivy::Result<Self> {
        let first = word.chars().next().map_or(0, char::len_utf8);
        let from = word.as_bytes()[..first].to_vec();
        // The first byte string past every word starting with `from`: its
        // last byte is a UTF-8 character's last, so never 0xFF.
        let mut past = from.clone();
        if let Some(last) = past.last_mut() {
            *last += 1;
        }
        let mut words: std::collections::BTreeSet<Vec<u8>> =
            also.into_iter().map(String::into_bytes).collect();
        for reader in searcher.segment_readers() {
            let inverted = reader.inverted_index(fields[0])?;
            let mut builder = inverted.terms().search(automaton);
            if !from.is_empty() {
                builder = builder.ge(&from).lt(&past);
            }
            let mut stream = builder.into_stream()?;
            while stream.advance() {
                words.insert(stream.key().to_vec());
            }
        }
        let terms = fields
            .iter()
            .flat_map(|&field| {
                words.iter().filter_map(move |word| {
                    std::str::from_utf8(word).ok().map(|text| (field, text))
                })
            })
            .map(|(field, text)| Term::from_field_text(field, text))
            .collect();
        Ok(Self { fields, terms })
    }
}

impl Query for FuzzyTerms {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for term in &self.terms {
            visitor(term, false);
        }
    }
}

impl Weight for FuzzyTerms {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        if self.terms.is_empty() {
            return Ok(Box::new(EmptyScorer));
        }
        let max_doc = reader.max_doc() as usize;
        // Per document: the fields with a term, and the last field counted;
        // and the documents found, for when they are few.
        let (mut fields_with, mut counted_in) = (vec![0u8; max_doc], vec![0u8; max_doc]);
        let mut found: Vec<DocId> = Vec::new();
        for (number, &field) in (1u8..).zip(&self.fields) {
            let inverted = reader.inverted_index(field)?;
            for term in self.terms.iter().filter(|term| term.field() == field) {
                let Some(info) = inverted.terms().get(term.serialized_value_bytes())? else {
                    continue;
                };
                let mut postings =
                    inverted.read_block_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
                while !postings.docs().is_empty() {
                    for &doc in postings.docs() {
                        let doc = doc as usize;
                        if counted_in[doc] != number {
                            counted_in[doc] = number;
                            if fields_with[doc] == 0 {
                                found.push(doc as DocId);
                            }
                            fields_with[doc] += 1;
                        }
                    }
                    postings.advance();
                }
            }
        }
        let docs = counted_docs(&fields_with, found)
            .into_iter()
            .map(|doc| (doc, f32::from(fields_with[doc as usize]) * boost))
            .collect();
        Ok(Box::new(ScoredDocs { docs, at: 0 }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.scorer(reader, 1.0)?.seek(doc) == doc {
            Ok(Explanation::new("FuzzyTerms", 1.0))
        } else {
            Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )))
        }
    }
}

/// The documents with a count in `fields_with`, ascending, given the
/// same documents in the order they were `found`: sorted when they are
/// few, which is cheaper than going through every count.
fn counted_docs(fields_with: &[u8], mut found: Vec<DocId>) -> Vec<DocId> {
    if found.len() < fields_with.len() / 32 {
        found.sort_unstable();
        found
    } else {
        (0..)
            .zip(fields_with)
            .filter(|(_, &count)| count > 0)
            .map(|(doc, _)| doc)
            .collect()
    }
}

/// The most letters after a stem in which a typo is looked for: a typo
/// further from the end is in the stem, which the automaton forgives.
const MAX_TYPO_ENDING_CHARS: usize = 4;

/// The fewest letters of a stem found this way.
const MIN_TYPO_STEM_CHARS: usize = 3;

/// The letters an edit may put into an ending: the terms' alphabet, since
/// every language's terms are lowercase, folded Latin.
const ENDING_LETTERS: std::ops::RangeInclusive<char> = 'a'..='z';

/// The stems in `field`'s dictionaries that one edit in the ending of a
/// word gives, `folded` being the word lowercased and folded as the terms
/// are spelled. Such a stem is the start of the word (the edit is after
/// it), or of the word with the stem's last letter and the next swapped,
/// so each such start the dictionaries hold is checked: it counts when one
/// edit in the rest (a letter dropped, added, changed, or two swapped), or
/// the swap, makes a word that `analyzer` stems to it. `raportev` gives
/// `raport`, since `raporteve` stems to it, and so does `raporetve`. A
/// start with more than [`MAX_TYPO_ENDING_CHARS`] letters after it is left
/// to the automaton.
fn stems_one_edit_off(
    searcher: &tantivy::Searcher,
    analyzer: &mut TextAnalyzer,
    folded: &str,
    field: Field,
) -> tantivy::Result<Vec<String>> {
    let held = |stem: &str| -> tantivy::Result<bool> {
        for reader in searcher.segment_readers() {
            if reader
                .inverted_index(field)?
                .terms()
                .get(stem.as_bytes())?
                .is_some()
            {
                return Ok(true);
            }
        }
        Ok(false)
    };
    let mut stems_to = |word: &[char], stem: &str| {
        let word: String = word.iter().collect();
        analyzers::terms(analyzer, &word) == [stem]
    };
    let letters: Vec<char> = folded.chars().collect();
    let shortest = MIN_TYPO_STEM_CHARS.max(letters.len().saturating_sub(MAX_TYPO_ENDING_CHARS));
    let mut found = Vec::new();
    for length in shortest..letters.len() {
        let (start, ending) = letters.split_at(length);
        let stem: String = start.iter().collect();
        if held(&stem)?
            && one_edit_of(ending).any(|ending| stems_to(&[start, &ending].concat(), &stem))
        {
            found.push(stem);
        }
        let mut swapped = letters.clone();
        swapped.swap(length - 1, length);
        let stem: String = swapped[..length].iter().collect();
        if !found.contains(&stem) && held(&stem)? && stems_to(&swapped, &stem) {
            found.push(stem);
        }
    }
    Ok(found)
}

/// The strings one edit from `ending`: a letter dropped, two side by side
/// swapped, a letter changed, a letter added (letters from [`ENDING_LETTERS`]).
fn one_edit_of(ending: &[char]) -> impl Iterator<Item = Vec<char>> + '_ {
    let dropped = (0..ending.len()).map(move |at| {
        let mut edited = ending.to_vec();
        edited.remove(at);
        edited
    });
    let swapped = (1..ending.len()).map(move |at| {
        let mut edited = ending.to_vec();
        edited.swap(at - 1, at);
        edited
    });
    let changed = (0..ending.len()).flat_map(move |at| {
        ENDING_LETTERS
            .filter(move |&letter| letter != ending[at])
            .map(move |letter| {
                let mut edited = ending.to_vec();
                edited[at] = letter;
                edited
            })
    });
    let added = (0..=ending.len()).flat_map(move |at| {
        ENDING_LETTERS.map(move |letter| {
            let mut edited = ending.to_vec();
            edited.insert(at, letter);
            edited
        })
    });
    dropped.chain(swapped).chain(changed).chain(added)
}

/// Documents with their scores, in document order.
struct ScoredDocs {
    docs: Vec<(DocId, Score)>,
    at: usize,
}

impl DocSet for ScoredDocs {
    fn advance(&mut self) -> DocId {
        self.at = (self.at + 1).min(self.docs.len());
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).map_or(TERMINATED, |(doc, _)| *doc)
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let rest = &self.docs[self.at..];
        self.at += rest.partition_point(|(doc, _)| *doc < target);
        self.doc()
    }

    fn size_hint(&self) -> u32 {
        self.docs.len() as u32
    }
}

impl Scorer for ScoredDocs {
    fn score(&mut self) -> Score {
        self.docs.get(self.at).map_or(0.0, |(_, score)| *score)
    }
}

impl SearchIndex {
    /// Builds a typo-tolerant version of a query, for when the exact one
    /// finds nothing: the same query, but a plain word of five letters or
    /// more may be found within one edit (a transposition counts as one)
    /// that keeps its first letter. Phrases, words with a field prefix and
    /// exclusions stay as typed. None when no word may take a typo.
    /// `parsed` is the text as the exact query ran it ([`search_query`](Self::search_query)).
    pub fn fuzzy_query(&self, parsed: &Parsed, filter: &Filter) -> Option<Box<dyn Query>> {
        let f = &self.fields;
        // The stemmed fields, a language's three in one walk, and the
        // unstemmed titles: a typo near the end of a word defeats its
        // stemmer, not the title's spelling.
        let mut groups: Vec<(Field, Vec<Field>)> = (0..TEXT_LANGUAGES.len())
            .map(|slot| (f.body[slot], vec![f.title[slot], f.summary[slot]]))
            .collect();
        groups.extend([f.keywords, f.authors, f.title_suggest].map(|field| (field, Vec::new())));
        let mut tolerant = Tolerant {
            index: self,
            parser: self.parser(parsed),
            searcher: self.reader.searcher(),
            groups,
            automata: HashMap::new(),
            folding: analyzers::suggest(),
            forgiving: false,
        };
        let query = tolerant.query(&parsed.ast)?;
        tolerant
            .forgiving
            .then(|| self.filtered(Some(query), filter))
    }
}

/// Builds the typo-tolerant version of a parsed query.
struct Tolerant<'a> {
    index: &'a SearchIndex,
    parser: &'a QueryParser,
    searcher: tantivy::Searcher,
    /// The fields a word is looked for in: each with those whose
    /// dictionaries its walk stands for.
    groups: Vec<(Field, Vec<Field>)>,
    /// One Levenshtein automaton per distinct word form, shared by the
    /// fields (building one costs more than walking a dictionary with it).
    automata: HashMap<String, DfaWrapper>,
    /// Lowercases and folds a word as every language's terms are spelled
    /// before stemming (the completions' analyzer).
    folding: TextAnalyzer,
    /// Whether some word may take a typo.
    forgiving: bool,
}

impl Tolerant<'_> {
    /// The shortest word that may take a typo, in characters.
    const MIN_FUZZY_CHARS: usize = 5;

    /// The query of a subtree; None when it has nothing to look for.
    fn query(&mut self, ast: &UserInputAst) -> Option<Box<dyn Query>> {
        match ast {
            UserInputAst::Clause(children) => {
                let clauses: Vec<(Occur, Box<dyn Query>)> = children
                    .iter()
                    .filter_map(|(occur, child)| {
                        // Words are required unless `OR` or `-` says otherwise.
                        let occur = occur.unwrap_or(Occur::Must);
                        let query = if occur == Occur::MustNot {
                            Some(self.exact(child))
                        } else {
                            self.query(child)
                        };
                        query.map(|query| (occur, query))
                    })
                    .collect();
                (!clauses.is_empty())
                    .then(|| Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>)
            }
            UserInputAst::Boost(child, boost) => {
                let child = self.query(child)?;
                Some(Box::new(BoostQuery::new(child, boost.0 as Score)))
            }
            UserInputAst::Leaf(leaf) => match leaf.as_ref() {
                UserInputLeaf::Literal(literal) if query::is_plain(literal) => {
                    let words: Vec<(Occur, Box<dyn Query>)> = query::words(&literal.phrase)
                        .filter_map(|word| self.word(word))
                        .map(|query| (Occur::Must, query))
                        .collect();
                    (!words.is_empty())
                        .then(|| Box::new(BooleanQuery::new(words)) as Box<dyn Query>)
                }
                _ => Some(self.exact(ast)),
            },
        }
    }

    /// A subtree as typed.
    fn exact(&self, ast: &UserInputAst) -> Box<dyn Query> {
        self.parser
            .build_query_from_user_input_ast_lenient(ast.clone())
            .0
    }

    /// One word, in any of the fields: within one edit when it is long
    /// enough, as typed otherwise.
    fn word(&mut self, word: &str) -> Option<Box<dyn Query>> {
        let forgive = word.chars().count() >= Self::MIN_FUZZY_CHARS;
        let schema = self.index.index.schema();
        let folded = match analyzers::terms(&mut self.folding, word).as_slice() {
            [folded] => Some(folded.clone()),
            _ => None,
        };
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, also) in &self.groups {
            let (field, also) = (*field, also.as_slice());
            let Some(mut analyzer) = analyzer_of(&schema, field, self.index.index.tokenizers())
            else {
                continue;
            };
            let fields = || std::iter::once(field).chain(also.iter().copied());
            // A language's fields are stemmed: a typo in the ending the
            // stemmer takes off is looked for too.
            let stemmed = !also.is_empty();
            for token in analyzers::terms(&mut analyzer, word) {
                let query: Box<dyn Query> = if forgive {
                    let automaton = match self.automata.entry(token.clone()) {
                        Entry::Occupied(built) => built.into_mut(),
                        Entry::Vacant(slot) => {
                            let term = Term::from_field_text(field, &token);
                            match FuzzyTermQuery::new(term, 1, true).automaton() {
                                Ok(built) => slot.insert(built),
                                Err(_) => continue,
                            }
                        }
                    };
                    let ending_typos = match &folded {
                        Some(folded) if stemmed => {
                            stems_one_edit_off(&self.searcher, &mut analyzer, folded, field)
                                .unwrap_or_default()
                        }
                        _ => Vec::new(),
                    };
                    let expanded = FuzzyTerms::expand(
                        &self.searcher,
                        automaton,
                        &token,
                        fields().collect(),
                        ending_typos,
                    );
                    match expanded {
                        Ok(expanded) => Box::new(expanded),
                        Err(_) => continue,
                    }
                } else {
                    let exact: Vec<(Occur, Box<dyn Query>)> = fields()
                        .map(|field| {
                            let term = Box::new(TermQuery::new(
                                Term::from_field_text(field, &token),
                                IndexRecordOption::WithFreqs,
                            ));
                            (Occur::Should, term as Box<dyn Query>)
                        })
                        .collect();
                    Box::new(BooleanQuery::new(exact))
                };
                alternatives.push((Occur::Should, query));
            }
        }
        if alternatives.is_empty() {
            return None;
        }
        self.forgiving |= forgive;
        Some(Box::new(BooleanQuery::new(alternatives)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_docs_are_the_documents_counted_few_or_many() {
        let max_doc = 10_000;
        // From a handful of documents to most of them, found out of order.
        for step in [9_973, 1_009, 331, 97, 31, 7, 2, 1] {
            let mut fields_with = vec![0u8; max_doc];
            let mut found = Vec::new();
            for doc in (0..max_doc).step_by(step).rev() {
                fields_with[doc] = 1 + (doc % 3) as u8;
                found.push(doc as DocId);
            }
            let expected: Vec<DocId> = (0..max_doc as DocId).step_by(step).collect();
            assert_eq!(
                counted_docs(&fields_with, found),
                expected,
                "every {step}th"
            );
        }
        assert!(counted_docs(&[0; 64], Vec::new()).is_empty());
    }
}
