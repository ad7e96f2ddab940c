//! The text analyzers, one per language, registered under the names in
//! [`EN`], [`SQ`] and [`SR`] (`en.3`, …: the number is the analyzer's
//! version) every time an index is opened. Each normalises to NFC,
//! splits on non-alphanumerics and lowercases; then
//! - `en`: ASCII folding, English stemmer;
//! - `sq`: the Albanian light stemmer, which folds `ë → e`, `ç → c`;
//! - `sr`: Cyrillic → Latin, the Snowball Serbian stemmer, then folding
//!   `č ć → c`, `š → s`, `ž → z`, `đ → dj` — so "Priština", "Pristina" and
//!   "Приштина" meet.

use std::cell::RefCell;
use std::mem;
use std::thread::LocalKey;

use compact_str::CompactString;
use rustc_hash::FxHashMap;
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
    TextAnalyzerBuilder, Token, TokenFilter, TokenStream, Tokenizer, TokenizerManager,
};
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use super::pairs::{CommonPairs, Pairs};
use crate::domain::translit::cyrillic_to_latin;

/// Tokens longer than this many bytes are dropped (base64 blobs, URLs).
pub const MAX_TOKEN_BYTES: usize = 80;

/// Splits NFC-normalised text: a word typed with combining accents
/// (`e` + `\u{308}`) becomes the same token as one typed precomposed (`ë`).
#[derive(Clone, Default)]
pub struct NfcTokenizer {
    inner: SimpleTokenizer,
    buffer: String,
}

impl Tokenizer for NfcTokenizer {
    type TokenStream<'a> = <SimpleTokenizer as Tokenizer>::TokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        if is_nfc_quick(text.chars()) == IsNormalized::Yes {
            return self.inner.token_stream(text);
        }
        self.buffer.clear();
        self.buffer.extend(text.nfc());
        self.inner.token_stream(&self.buffer)
    }
}

/// A token filter that rewrites each token's text with a function writing
/// into a buffer: the stream swaps the buffer with the token's text, so no
/// token costs an allocation.
#[derive(Clone)]
pub struct MapText(pub fn(&str, &mut String));

impl TokenFilter for MapText {
    type Tokenizer<T: Tokenizer> = MapTextTokenizer<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> MapTextTokenizer<T> {
        MapTextTokenizer {
            tokenizer,
            map: self.0,
        }
    }
}

#[derive(Clone)]
pub struct MapTextTokenizer<T> {
    tokenizer: T,
    map: fn(&str, &mut String),
}

impl<T: Tokenizer> Tokenizer for MapTextTokenizer<T> {
    type TokenStream<'a> = MapTextStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        MapTextStream {
            tail: self.tokenizer.token_stream(text),
            map: self.map,
            buffer: String::new(),
        }
    }
}

pub struct MapTextStream<S> {
    tail: S,
    map: fn(&str, &mut String),
    buffer: String,
}

impl<S: TokenStream> TokenStream for MapTextStream<S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        self.buffer.clear();
        (self.map)(&token.text, &mut self.buffer);
        mem::swap(&mut token.text, &mut self.buffer);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// One thread's memo of a word-to-term function. Stemming a word costs
/// far more than looking it up, and the words of any text repeat, so each
/// analyzer thread (indexing, highlighting, query parsing) stems a word
/// once. Emptied when full, which keeps it to a few megabytes. Words and
/// terms of up to 24 bytes (nearly all) are kept inside the table's slots,
/// so a lookup reads one slot instead of following two pointers to the
/// heap: the lookups were a tenth of a reindex's CPU.
type Memo = RefCell<FxHashMap<CompactString, CompactString>>;

/// Distinct words a memo holds before it is emptied.
const MEMO_WORDS: usize = 50_000;

/// Writes `term(word)` into `out`, through `memo`.
fn memoized(memo: &'static LocalKey<Memo>, term: fn(&str) -> String, word: &str, out: &mut String) {
    memo.with_borrow_mut(|memo| {
        if let Some(known) = memo.get(word) {
            out.push_str(known);
            return;
        }
        let made = term(word);
        out.push_str(&made);
        if memo.len() >= MEMO_WORDS {
            memo.clear();
        }
        memo.insert(word.into(), made.into());
    });
}

/// Stems a lowercase, ASCII-folded English word with the Snowball English
/// (Porter2) stemmer.
fn english_stem(word: &str) -> String {
    thread_local! {
        static STEMMER: frostem::Stemmer = frostem::Stemmer::new(frostem::Algorithm::English);
    }
    STEMMER.with(|stemmer| stemmer.stem(word).into_owned())
}

fn english_term(word: &str, out: &mut String) {
    thread_local! { static MEMO: Memo = Memo::default(); }
    memoized(&MEMO, english_stem, word, out);
}

fn albanian_term(word: &str, out: &mut String) {
    thread_local! { static MEMO: Memo = Memo::default(); }
    memoized(&MEMO, super::albanian::stem, word, out);
}

/// Stems a lowercase Serbian Latin word with the Snowball Serbian stemmer.
fn serbian_stem(word: &str) -> String {
    thread_local! {
        static STEMMER: frostem::Stemmer = frostem::Stemmer::new(frostem::Algorithm::Serbian);
    }
    STEMMER.with(|stemmer| stemmer.stem(word).into_owned())
}

/// Folds Serbian Latin diacritics: `č ć → c`, `š → s`, `ž → z`, `đ → dj`.
pub fn fold_serbian(word: &str) -> String {
    let mut folded = String::with_capacity(word.len());
    for c in word.chars() {
        match c {
            'č' | 'ć' => folded.push('c'),
            'š' => folded.push('s'),
            'ž' => folded.push('z'),
            'đ' => folded.push_str("dj"),
            other => folded.push(other),
        }
    }
    folded
}

/// The Serbian chain after lowercasing: Latin script, stem, fold.
fn serbian(word: &str) -> String {
    fold_serbian(&serbian_stem(&cyrillic_to_latin(word)))
}

fn serbian_term(word: &str, out: &mut String) {
    thread_local! { static MEMO: Memo = Memo::default(); }
    memoized(&MEMO, serbian, word, out);
}

/// Ends an analyzer chain, with the common-pair filter when `pairs` says.
fn finish<T: Tokenizer>(
    chain: TextAnalyzerBuilder<T>,
    common: &'static super::pairs::Common,
    pairs: Option<Pairs>,
) -> TextAnalyzer {
    match pairs {
        None => chain.build(),
        Some(pairs) => chain.filter(CommonPairs { common, pairs }).build(),
    }
}

/// The English chain; with `pairs`, common pairs as [`super::pairs`] says.
pub fn english_with(pairs: Option<Pairs>) -> TextAnalyzer {
    let chain = TextAnalyzer::builder(NfcTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(MapText(english_term));
    finish(chain, &super::pairs::ENGLISH_SET, pairs)
}

pub fn albanian_with(pairs: Option<Pairs>) -> TextAnalyzer {
    let chain = TextAnalyzer::builder(NfcTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(MapText(albanian_term));
    finish(chain, &super::pairs::ALBANIAN_SET, pairs)
}

pub fn serbian_with(pairs: Option<Pairs>) -> TextAnalyzer {
    let chain = TextAnalyzer::builder(NfcTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(MapText(serbian_term));
    finish(chain, &super::pairs::SERBIAN_SET, pairs)
}

/// The chains word by word, without pairs.
pub fn english() -> TextAnalyzer {
    english_with(None)
}

pub fn albanian() -> TextAnalyzer {
    albanian_with(None)
}

pub fn serbian_analyzer() -> TextAnalyzer {
    serbian_with(None)
}

/// Folds every diacritic arkiv's languages use and Cyrillic to Latin:
/// what a search box compares while the user is still typing.
fn suggest_fold(word: &str, out: &mut String) {
    for c in fold_serbian(&cyrillic_to_latin(word)).chars() {
        match c {
            'ë' | 'é' => out.push('e'),
            'ç' => out.push('c'),
            other => out.push(other),
        }
    }
}

/// For title completions: no stemming (a half-typed word has no stem), but
/// every script and diacritic folded.
pub fn suggest() -> TextAnalyzer {
    TextAnalyzer::builder(NfcTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(MapText(suggest_fold))
        .build()
}

/// For keywords, which come in any language: scripts and diacritics folded
/// as for completions ("Приштина", "Priština" and "Pristina" meet), then
/// English stemming, which leaves most Albanian and Serbian words alone.
pub fn keywords() -> TextAnalyzer {
    TextAnalyzer::builder(NfcTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(MapText(suggest_fold))
        .filter(AsciiFoldingFilter)
        .filter(MapText(english_term))
        .build()
}

/// The names the text fields' analyzers are registered under. The number
/// changes whenever what an analyzer makes of a text does: the names are
/// part of the schema, so an index made by an older arkiv no longer matches
/// it and is rebuilt (see `SearchIndex::open`).
pub const EN: &str = "en.3";
pub const SQ: &str = "sq.4";
pub const SR: &str = "sr.3";
pub const SUGGEST: &str = "suggest";
pub const KEYWORDS: &str = "keywords.1";

/// Registers the analyzers under [`EN`], [`SQ`], [`SR`], [`SUGGEST`] and [`KEYWORDS`],
/// the language chains treating common pairs as `pairs` says.
fn register_with(manager: &TokenizerManager, pairs: Option<Pairs>) {
    manager.register(EN, english_with(pairs));
    manager.register(SQ, albanian_with(pairs));
    manager.register(SR, serbian_with(pairs));
    manager.register(SUGGEST, suggest());
    manager.register(KEYWORDS, keywords());
}

/// Registers the analyzers an index is written with: the language chains,
/// which add common pairs, and `suggest`.
pub fn register(manager: &TokenizerManager) {
    register_with(manager, Some(Pairs::Index));
}

/// The analyzers a query is parsed with, under the same names: a phrase
/// asks for common pairs instead of their words. With `pairs` false, word
/// by word (for phrases with slop, whose words need not stand side by side).
pub fn for_queries(pairs: bool) -> TokenizerManager {
    let manager = TokenizerManager::default();
    register_with(&manager, pairs.then_some(Pairs::Query));
    manager
}

/// Returns the terms an analyzer makes of a text.
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut terms = Vec::new();
    while let Some(token) = stream.next() {
        terms.push(token.text.clone());
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serbian_scripts_and_diacritics_meet() {
        let mut sr = serbian_analyzer();
        let forms = [
            "Priština",
            "Pristina",
            "Приштина",
            "PRIŠTINA",
            "Pris\u{030C}tina",
        ];
        let expected = terms(&mut sr, "Priština");
        assert_eq!(expected.len(), 1);
        for form in forms {
            assert_eq!(terms(&mut sr, form), expected, "{form}");
        }
        assert_eq!(terms(&mut sr, "Ђорђе"), terms(&mut sr, "Djordje"));
        assert_eq!(
            terms(&mut sr, "Косова и Србије"),
            terms(&mut sr, "Kosova i Srbije")
        );
    }

    #[test]
    fn albanian_and_english_fold_and_stem() {
        let mut sq = albanian();
        assert_eq!(terms(&mut sq, "Prishtinë"), terms(&mut sq, "Prishtina"));
        assert_eq!(terms(&mut sq, "Prishtinë"), terms(&mut sq, "prishtine"));
        let mut en = english();
        assert_eq!(
            terms(&mut en, "Normalization of relations"),
            vec!["normal", "of", "relat"]
        );
        assert_eq!(terms(&mut en, "Priština"), terms(&mut en, "pristina"));
    }

    /// Every word of the Snowball Serbian list reaches its listed stem,
    /// after arkiv's folding.
    #[test]
    fn serbian_matches_the_snowball_word_list() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/data/stemming/serbian_snowball"
        );
        let (Ok(words), Ok(stems)) = (
            std::fs::read_to_string(format!("{dir}/voc.txt")),
            std::fs::read_to_string(format!("{dir}/output.txt")),
        ) else {
            assert!(
                std::env::var("CI").is_err(),
                "CI runs with ../shared beside the project"
            );
            eprintln!("skipped: {dir} is not there");
            return;
        };
        let mut sr = serbian_analyzer();
        let mut checked = 0;
        let mut wrong = Vec::new();
        for (word, stem) in words.lines().zip(stems.lines()) {
            let got = terms(&mut sr, word);
            if got != [fold_serbian(stem)] {
                wrong.push(format!("{word}: {got:?}, want {:?}", fold_serbian(stem)));
            }
            checked += 1;
        }
        assert_eq!(checked, 29_996);
        assert!(
            wrong.is_empty(),
            "{} of {checked} differ, e.g. {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(5)]
        );
    }
}
