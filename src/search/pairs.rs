//! Pairs of common words, indexed as one term each (what Lucene calls
//! "common grams").
//!
//! A phrase of two very common words ("da se", "që të", "that the") is in
//! most documents word by word, and tantivy checks the positions of both
//! words in every one of them: such phrases were the slowest queries by
//! far. So where two of a language's most common terms stand side by side,
//! the index also holds the pair as one term (`"da se"`, the two terms
//! joined by a space, which no single term contains), at the first word's
//! position. A phrase query asks for the pair instead of its two words, and
//! the pair's postings are only as long as the phrase is common.
//!
//! Only pairs of two common words: a phrase with a rarer word is quick
//! already (the rarer word's documents are few), and pairing every common
//! word with both its neighbours would make the index much larger.

use std::mem;

use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// The most frequent terms each analyzer makes of its language, after
/// stemming and folding: the 32 most frequent terms of each language's side
/// of FLORES-200 devtest (`../shared/data`), counted through the analyzers.
/// Sorted, for binary search.
pub const ENGLISH: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "have", "in", "is",
    "it", "not", "of", "on", "one", "or", "s", "that", "the", "their", "they", "this", "to", "was",
    "were", "which", "with", "you",
];
pub const ALBANIAN: &[&str] = &[
    "cil", "dhe", "dis", "do", "duk", "e", "esh", "i", "ish", "jan", "ka", "ket", "madh", "me",
    "mund", "ne", "nga", "nje", "nuk", "ose", "par", "pas", "per", "qe", "se", "shum", "si", "te",
    "tyr", "u", "vend", "vit",
];
pub const SERBIAN: &[&str] = &[
    "a", "al", "bi", "bil", "ce", "da", "do", "godin", "i", "il", "ima", "iz", "je", "ka", "kak",
    "koj", "ljud", "mest", "na", "ne", "nek", "nij", "od", "ov", "sa", "se", "sto", "su", "to",
    "tok", "u", "za",
];

/// Whether a term is a pair of two terms (queries and highlights tell them
/// apart by the space).
pub fn is_pair(term: &str) -> bool {
    term.contains(' ')
}

/// What the filter does with pairs of common words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pairs {
    /// Indexing: every word, and each pair besides.
    Index,
    /// Phrase queries: each pair instead of the words it covers.
    Query,
}

/// The token filter: `common` is one of the lists above.
#[derive(Clone, Copy)]
pub struct CommonPairs {
    pub common: &'static [&'static str],
    pub pairs: Pairs,
}

impl TokenFilter for CommonPairs {
    type Tokenizer<T: Tokenizer> = PairTokenizer<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> PairTokenizer<T> {
        PairTokenizer {
            tokenizer,
            filter: self,
        }
    }
}

#[derive(Clone)]
pub struct PairTokenizer<T> {
    tokenizer: T,
    filter: CommonPairs,
}

impl<T: Tokenizer> Tokenizer for PairTokenizer<T> {
    type TokenStream<'a> = PairStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        let tail = self.tokenizer.token_stream(text);
        let common = self.filter.common;
        match self.filter.pairs {
            Pairs::Index => PairStream::Index(IndexPairs {
                tail,
                common,
                previous: None,
                previous_text: String::new(),
                pair: Token::default(),
                pair_ready: false,
                on_pair: false,
            }),
            Pairs::Query => PairStream::Query(QueryPairs::new(tail, common)),
        }
    }
}

fn is_common(common: &[&str], term: &str) -> bool {
    common.binary_search(&term).is_ok()
}

pub enum PairStream<S> {
    Index(IndexPairs<S>),
    Query(QueryPairs),
}

impl<S: TokenStream> TokenStream for PairStream<S> {
    fn advance(&mut self) -> bool {
        match self {
            Self::Index(stream) => stream.advance(),
            Self::Query(stream) => stream.advance(),
        }
    }

    fn token(&self) -> &Token {
        match self {
            Self::Index(stream) => stream.token(),
            Self::Query(stream) => stream.token(),
        }
    }

    fn token_mut(&mut self) -> &mut Token {
        match self {
            Self::Index(stream) => stream.token_mut(),
            Self::Query(stream) => stream.token_mut(),
        }
    }
}

/// Passes every token on; after the second word of a common pair, the
/// pair. No allocation per token: the buffers are reused.
pub struct IndexPairs<S> {
    tail: S,
    common: &'static [&'static str],
    /// The previous token's (position, start offset), when it was common;
    /// its text is in `previous_text`.
    previous: Option<(usize, usize)>,
    previous_text: String,
    pair: Token,
    pair_ready: bool,
    on_pair: bool,
}

impl<S: TokenStream> IndexPairs<S> {
    fn advance(&mut self) -> bool {
        if mem::take(&mut self.pair_ready) {
            self.on_pair = true;
            return true;
        }
        self.on_pair = false;
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token();
        if !is_common(self.common, &token.text) {
            self.previous = None;
            return true;
        }
        if let Some((position, offset_from)) = self.previous {
            // Only words side by side: a dropped long word leaves a gap.
            if position + 1 == token.position {
                self.pair.text.clear();
                self.pair.text.push_str(&self.previous_text);
                self.pair.text.push(' ');
                self.pair.text.push_str(&token.text);
                self.pair.position = position;
                self.pair.position_length = 2;
                self.pair.offset_from = offset_from;
                self.pair.offset_to = token.offset_to;
                self.pair_ready = true;
            }
        }
        self.previous = Some((token.position, token.offset_from));
        self.previous_text.clear();
        self.previous_text.push_str(&token.text);
        true
    }

    fn token(&self) -> &Token {
        if self.on_pair {
            &self.pair
        } else {
            self.tail.token()
        }
    }

    fn token_mut(&mut self) -> &mut Token {
        if self.on_pair {
            &mut self.pair
        } else {
            self.tail.token_mut()
        }
    }
}

/// A phrase's tokens with each common pair in place of its two words:
/// `"it is the end"` → `it is`, `is the`, `end`. Queries are short, so the
/// stream is worked out whole up front.
pub struct QueryPairs {
    tokens: Vec<Token>,
    next: usize,
}

impl QueryPairs {
    fn new<S: TokenStream>(mut tail: S, common: &[&str]) -> Self {
        let mut words: Vec<Token> = Vec::new();
        while tail.advance() {
            words.push(tail.token().clone());
        }
        let pairs_with_next: Vec<bool> = (0..words.len())
            .map(|i| {
                words.get(i + 1).is_some_and(|next| {
                    words[i].position + 1 == next.position
                        && is_common(common, &words[i].text)
                        && is_common(common, &next.text)
                })
            })
            .collect();
        let mut tokens = Vec::with_capacity(words.len());
        for (i, word) in words.iter().enumerate() {
            let covered = pairs_with_next[i] || (i > 0 && pairs_with_next[i - 1]);
            if !covered {
                tokens.push(word.clone());
            }
            if pairs_with_next[i] {
                let next = &words[i + 1];
                tokens.push(Token {
                    offset_from: word.offset_from,
                    offset_to: next.offset_to,
                    position: word.position,
                    text: format!("{} {}", word.text, next.text),
                    position_length: 2,
                });
            }
        }
        Self { tokens, next: 0 }
    }

    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::{SimpleTokenizer, TextAnalyzer};

    use super::*;

    fn run(pairs: Pairs, text: &str) -> Vec<(String, usize)> {
        let mut analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(CommonPairs {
                common: ENGLISH,
                pairs,
            })
            .build();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push((token.text.clone(), token.position));
        }
        out
    }

    fn owned(tokens: &[(&str, usize)]) -> Vec<(String, usize)> {
        tokens.iter().map(|(t, p)| (t.to_string(), *p)).collect()
    }

    #[test]
    fn the_lists_are_sorted_for_binary_search() {
        for list in [ENGLISH, ALBANIAN, SERBIAN] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
            assert_eq!(list.len(), 32);
        }
    }

    #[test]
    fn indexing_keeps_every_word_and_adds_each_common_pair() {
        assert_eq!(
            run(Pairs::Index, "it is the end of the road"),
            owned(&[
                ("it", 0),
                ("is", 1),
                ("it is", 0),
                ("the", 2),
                ("is the", 1),
                ("end", 3),
                ("of", 4),
                ("the", 5),
                ("of the", 4),
                ("road", 6),
            ])
        );
    }

    #[test]
    fn a_query_asks_for_pairs_instead_of_their_words() {
        assert_eq!(
            run(Pairs::Query, "it is the end of the road"),
            owned(&[
                ("it is", 0),
                ("is the", 1),
                ("end", 3),
                ("of the", 4),
                ("road", 6)
            ])
        );
        // No common pair: the words as they are.
        assert_eq!(
            run(Pairs::Query, "layer of rock"),
            owned(&[("layer", 0), ("of", 1), ("rock", 2)])
        );
        assert_eq!(run(Pairs::Query, "the"), owned(&[("the", 0)]));
    }
}
