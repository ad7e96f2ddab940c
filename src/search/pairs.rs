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
//! Only pairs of two common words: a phrase with a rarer word is quicker
//! (the rarer word's documents are fewer), and pairing every common word
//! with both its neighbours would make the index much larger.

use std::mem;
use std::sync::LazyLock;

use rustc_hash::FxHashSet;
use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// How many terms of each language count as common.
pub const COMMON_TERMS: usize = 128;

/// The most frequent terms each analyzer makes of its language, after
/// stemming and folding: the [`COMMON_TERMS`] most frequent terms of each
/// language's text in `../shared/data`, counted through the analyzers.
/// That text is of two kinds, and the lists take both: FLORES-200 devtest,
/// sentences of news and reference articles, for the words of reports;
/// and the Tatoeba test sentences, everyday speech, for the words of quotes
/// and interviews ("I want", "mi je", "me i"). Sorted, for the reader.
/// `the_lists_are_the_most_frequent_terms_of_the_shared_text` recounts
/// them: a change to an analyzer that moves them fails it, and then the
/// lists and the analyzers' version names change together.
pub const ENGLISH: &[&str] = &[
    "a", "about", "all", "am", "an", "and", "are", "as", "at", "back", "be", "been", "but", "by",
    "can", "come", "could", "day", "did", "didn", "do", "don", "for", "from", "get", "give", "go",
    "good", "had", "happen", "has", "have", "he", "help", "her", "here", "him", "his", "how", "i",
    "if", "in", "is", "it", "just", "know", "languag", "let", "like", "live", "ll", "look", "love",
    "m", "make", "mani", "mari", "me", "more", "my", "need", "never", "new", "no", "not", "now",
    "of", "on", "one", "onli", "or", "other", "out", "peopl", "pleas", "re", "realli", "right",
    "s", "said", "say", "see", "she", "should", "so", "some", "still", "t", "take", "talk", "tell",
    "than", "that", "the", "their", "there", "they", "think", "this", "time", "to", "today", "tom",
    "too", "tri", "two", "up", "us", "use", "ve", "veri", "want", "was", "we", "were", "what",
    "when", "where", "whi", "which", "who", "will", "with", "work", "would", "write", "you",
    "your",
];

pub const ALBANIAN: &[&str] = &[
    "a", "ai", "ajo", "apo", "ashtu", "ata", "ate", "ato", "ben", "ber", "bot", "buk", "cdo",
    "cfar", "cil", "der", "dhe", "dis", "dit", "do", "dua", "duh", "duk", "dy", "e", "edhe",
    "esht", "femij", "fund", "gjat", "gjith", "gjuh", "her", "i", "ishin", "isht", "ishuj", "jam",
    "jan", "jet", "jo", "ju", "ka", "kafsh", "kal", "kam", "kan", "ken", "kerk", "ket", "kish",
    "kisht", "kjo", "koh", "kryesor", "ku", "kur", "ky", "lidh", "madh", "mbi", "me", "medh",
    "mend", "menyr", "mes", "mir", "mos", "mund", "ndihm", "ndodh", "ne", "nes", "nga", "nis",
    "nje", "njerez", "njoh", "nuk", "ose", "pa", "par", "pas", "pelk", "per", "perdor", "perfsh",
    "pers", "pjes", "po", "por", "prej", "pun", "qe", "qen", "qyt", "rreth", "rrug", "sa", "saj",
    "se", "shpe", "shqiptar", "shtep", "shtet", "shum", "si", "sot", "t", "ta", "te", "tha", "ti",
    "tij", "tjer", "tjetr", "tom", "treg", "tyr", "u", "une", "vend", "ver", "vet", "vetm", "vit",
    "vogl", "zon",
];

pub const SERBIAN: &[&str] = &[
    "a", "ak", "al", "bi", "bih", "bil", "bit", "bud", "ce", "cest", "cu", "da", "dan", "dana",
    "do", "dobr", "dok", "drug", "ga", "gde", "godin", "i", "il", "ima", "iz", "ja", "je", "jedn",
    "jes", "jos", "ka", "kad", "kak", "kaz", "ko", "koj", "kolik", "kuc", "li", "ljud", "mal",
    "me", "men", "mer", "mest", "mi", "misli", "mnog", "mog", "moga", "mogl", "moj", "moli",
    "mora", "moz", "mozd", "moze", "mu", "na", "nam", "nas", "ne", "nec", "neg", "nek", "nest",
    "nij", "nikad", "nis", "nisa", "nov", "o", "od", "on", "ov", "ova", "ovd", "po", "prav", "prv",
    "put", "rad", "radi", "rec", "reka", "sa", "sad", "sam", "se", "si", "smo", "sta", "ste",
    "sto", "stvar", "stvarn", "su", "svak", "sve", "svi", "svoj", "tak", "te", "ti", "to", "tok",
    "tom", "treb", "treba", "tvoj", "u", "uradi", "uvek", "vas", "vec", "velik", "veom", "vide",
    "vis", "voli", "vrem", "za", "zast", "zbog", "zemlj", "zivot", "zna", "znam",
];

/// A list of common terms as a set: every token of every text indexed is
/// looked up in one, and a hash and one comparison cost less than a binary
/// search's seven comparisons (which took a tenth of a reindex's CPU).
pub type Common = LazyLock<FxHashSet<&'static str>>;

pub static ENGLISH_SET: Common = LazyLock::new(|| ENGLISH.iter().copied().collect());
pub static ALBANIAN_SET: Common = LazyLock::new(|| ALBANIAN.iter().copied().collect());
pub static SERBIAN_SET: Common = LazyLock::new(|| SERBIAN.iter().copied().collect());

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

/// The token filter: `common` is one of the sets above.
#[derive(Clone, Copy)]
pub struct CommonPairs {
    pub common: &'static Common,
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

fn is_common(common: &FxHashSet<&str>, term: &str) -> bool {
    common.contains(term)
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
    common: &'static Common,
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
    fn new<S: TokenStream>(mut tail: S, common: &FxHashSet<&str>) -> Self {
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
    use std::collections::HashMap;

    use tantivy::tokenizer::{SimpleTokenizer, TextAnalyzer};

    use super::*;
    use crate::search::analyzers;

    fn run(pairs: Pairs, text: &str) -> Vec<(String, usize)> {
        let mut analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(CommonPairs {
                common: &ENGLISH_SET,
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
    fn the_lists_are_sorted_and_the_sets_hold_them() {
        for (list, set) in [
            (ENGLISH, &ENGLISH_SET),
            (ALBANIAN, &ALBANIAN_SET),
            (SERBIAN, &SERBIAN_SET),
        ] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
            assert_eq!(list.len(), COMMON_TERMS);
            assert_eq!(set.len(), COMMON_TERMS);
            assert!(list.iter().all(|term| set.contains(term)));
        }
    }

    /// The terms an analyzer makes of some files of `../shared/data`, with
    /// how often each comes, most frequent first (ties by the term).
    fn counted(mut analyzer: TextAnalyzer, files: &[&str]) -> (Vec<(String, usize)>, usize) {
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut all = 0;
        for file in files {
            let path = format!("{}/../shared/data/{file}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            for line in text.lines() {
                for term in analyzers::terms(&mut analyzer, line) {
                    *counts.entry(term).or_default() += 1;
                    all += 1;
                }
            }
        }
        let mut counted: Vec<(String, usize)> = counts.into_iter().collect();
        counted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        (counted, all)
    }

    #[test]
    fn the_lists_are_the_most_frequent_terms_of_the_shared_text() {
        const TATOEBA: &str = "tatoeba/eng-";
        const TEST: &str = "tatoeba-test-v2021-08-07";
        let languages = [
            (
                ENGLISH,
                analyzers::english(),
                vec![
                    "flores200_devtest/eng_Latn.devtest".to_owned(),
                    format!("{TATOEBA}sqi/{TEST}.eng"),
                    format!("{TATOEBA}srp_Cyrl/{TEST}.eng"),
                    format!("{TATOEBA}srp_Latn/{TEST}.eng"),
                ],
            ),
            (
                ALBANIAN,
                analyzers::albanian(),
                vec![
                    "flores200_devtest/als_Latn.devtest".to_owned(),
                    format!("{TATOEBA}sqi/{TEST}.sqi"),
                ],
            ),
            (
                SERBIAN,
                analyzers::serbian_analyzer(),
                vec![
                    "flores200_devtest/srp_Cyrl.devtest".to_owned(),
                    format!("{TATOEBA}srp_Cyrl/{TEST}.srp_Cyrl"),
                    format!("{TATOEBA}srp_Latn/{TEST}.srp_Latn"),
                ],
            ),
        ];
        for (list, analyzer, files) in languages {
            let files: Vec<&str> = files.iter().map(String::as_str).collect();
            let (counted, all) = counted(analyzer, &files);
            let mut top: Vec<&str> = counted[..COMMON_TERMS]
                .iter()
                .map(|(term, _)| term.as_str())
                .collect();
            top.sort_unstable();
            assert_eq!(
                top, list,
                "the {COMMON_TERMS} most frequent terms of {files:?}"
            );
            let covered: usize = counted[..COMMON_TERMS].iter().map(|(_, n)| n).sum();
            println!(
                "{}: the common terms are {:.1}% of the words",
                files[0],
                100.0 * covered as f64 / all as f64
            );
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
