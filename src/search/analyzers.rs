//! The text analyzers, one per language, registered under the names `en`,
//! `sq` and `sr` every time an index is opened. Each normalises to NFC,
//! splits on non-alphanumerics and lowercases; then
//! - `en`: ASCII folding, English stemmer;
//! - `sq`: the Albanian light stemmer, which folds `ë → e`, `ç → c`;
//! - `sr`: Cyrillic → Latin, the Snowball Serbian stemmer, then folding
//!   `č ć → c`, `š → s`, `ž → z`, `đ → dj` — so "Priština", "Pristina" and
//!   "Приштина" meet.

use std::mem;

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer, TokenizerManager,
};
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use crate::domain::translit::cyrillic_to_latin;

/// Tokens longer than this many bytes are dropped (base64 blobs, URLs).
const MAX_TOKEN_BYTES: usize = 80;

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

/// A token filter that rewrites each token's text with a function.
#[derive(Clone)]
pub struct MapText(pub fn(&str) -> String);

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
    map: fn(&str) -> String,
}

impl<T: Tokenizer> Tokenizer for MapTextTokenizer<T> {
    type TokenStream<'a> = MapTextStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        MapTextStream {
            tail: self.tokenizer.token_stream(text),
            map: self.map,
        }
    }
}

pub struct MapTextStream<S> {
    tail: S,
    map: fn(&str) -> String,
}

impl<S: TokenStream> TokenStream for MapTextStream<S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        let mapped = (self.map)(&token.text);
        let _ = mem::replace(&mut token.text, mapped);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
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

pub fn english() -> TextAnalyzer {
    TextAnalyzer::builder(NfcTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

pub fn albanian() -> TextAnalyzer {
    TextAnalyzer::builder(NfcTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(MapText(super::albanian::stem))
        .build()
}

pub fn serbian_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(NfcTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(MapText(serbian))
        .build()
}

/// Folds every diacritic arkiv's languages use and Cyrillic to Latin:
/// what a search box compares while the user is still typing.
fn suggest_fold(word: &str) -> String {
    fold_serbian(&cyrillic_to_latin(word))
        .replace(['ë', 'é'], "e")
        .replace('ç', "c")
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

/// Registers the analyzers under `en`, `sq`, `sr` and `suggest`.
pub fn register(manager: &TokenizerManager) {
    manager.register("en", english());
    manager.register("sq", albanian());
    manager.register("sr", serbian_analyzer());
    manager.register("suggest", suggest());
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
