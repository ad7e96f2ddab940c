//! Highlights without re-analysing text. The index already knows where a
//! query matched: the positions of its terms in each hit's title and body
//! fields (`positions.rs`, [`SearchIndex::matches`](super::index::SearchIndex::matches)).
//! A position is the number of the word in the field, so marking a text
//! only needs the text split into words the way the analyzers split it,
//! not lowercased, transliterated or stemmed again. That costs a fraction
//! of what a snippet generator pays for running the whole analyzer chain
//! over every hit's text.
//!
//! A field holds several values when a publication has both Serbian
//! scripts: their words are numbered on, one after the other, with a gap
//! of one between values (tantivy's rule), in the order
//! [`document`](super::index::SearchIndex::document) adds them: variants
//! sorted by language tag.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use super::analyzers::MAX_TOKEN_BYTES;
use super::schema::TEXT_LANGUAGES;
use crate::domain::Lang;

mod positions;

/// What a query matched in one variant, marked up.
#[derive(Debug, Clone, Default)]
pub struct Marked {
    pub title: Option<String>,
    pub body: Option<String>,
}

/// The most characters of a body fragment.
pub const FRAGMENT_CHARS: usize = 240;

/// Where a query matched one hit: word positions, per text language slot
/// (en, sq, sr), in the title field and in the body field.
#[derive(Debug, Clone, Default)]
pub struct Matches {
    pub title: [BTreeSet<u32>; TEXT_LANGUAGES.len()],
    pub body: [BTreeSet<u32>; TEXT_LANGUAGES.len()],
    /// Words matched in the titles of every language at once (the
    /// completions' field, which a typo-tolerant query also searches), as
    /// that field folds them: marked wherever a title has them.
    pub title_words: BTreeSet<String>,
}

impl Matches {
    pub fn is_empty(&self) -> bool {
        self.title_words.is_empty() && self.title.iter().chain(&self.body).all(BTreeSet::is_empty)
    }

    /// The marked positions of a slot's title or body field.
    pub fn field(&mut self, slot: usize, title: bool) -> &mut BTreeSet<u32> {
        if title {
            &mut self.title[slot]
        } else {
            &mut self.body[slot]
        }
    }

    /// Whether anything matched in the fields of a text language slot.
    pub fn in_slot(&self, slot: usize) -> bool {
        !self.title_words.is_empty() || !self.title[slot].is_empty() || !self.body[slot].is_empty()
    }
}

/// One variant's text to highlight: (publication id, language tag, title, body).
pub type VariantText = (String, String, String, String);

/// The most words a fragment can hold after its last marked word: each
/// takes at least one character and one separator.
const MAX_WORDS_AFTER: u32 = (FRAGMENT_CHARS as u32).div_ceil(2) + 1;

/// The words of a text as the analyzers number them: byte ranges into the
/// NFC form of the text, by position, and where the next value of the
/// same field starts numbering.
struct Words<'a> {
    /// The text, borrowed when it was in NFC already.
    text: Cow<'a, str>,
    /// (position, start byte, end byte) of each word the index holds.
    spans: Vec<(u32, usize, usize)>,
    /// (start, end) of each word of `spans` in characters, not bytes.
    chars: Vec<(usize, usize)>,
    /// Positions this value takes up, gap included (when `complete`).
    width: u32,
    /// False when splitting stopped before the end of the text.
    complete: bool,
}

impl<'a> Words<'a> {
    fn split(text: &'a str) -> Self {
        Self::split_until(text, u32::MAX)
    }

    /// Splits `text` up to the word at position `last` (and one more, to
    /// know whether the text goes on): a fragment never reaches past it,
    /// and most of a long body need not be read.
    fn split_until(text: &'a str, last: u32) -> Self {
        // Most texts are NFC, and most of their characters are NFC whatever
        // stands around them: one pass splits such a text and checks that,
        // as far as it reads. Only a text with other characters is checked
        // whole, normalised when it needs it, and split again.
        let words = (text.len() / 6).min(last as usize + 2);
        let mut found = (Vec::with_capacity(words), Vec::with_capacity(words));
        if let Some(complete) = scan_words(text, last, true, &mut found) {
            return Self::new(Cow::Borrowed(text), found, complete);
        }
        let text = if is_nfc_quick(text.chars()) == IsNormalized::Yes {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(text.nfc().collect())
        };
        found.0.clear();
        found.1.clear();
        // Without the check, scanning always comes to an answer.
        let complete = scan_words(&text, last, false, &mut found).unwrap_or(true);
        Self::new(text, found, complete)
    }

    fn new(text: Cow<'a, str>, (spans, chars): Found, complete: bool) -> Self {
        let end = spans.last().map_or(0, |(position, _, _)| position + 1);
        Self {
            text,
            spans,
            chars,
            width: end + 1,
            complete,
        }
    }

    /// The indices into `spans` of the words at `positions` (relative to
    /// this value's first word).
    fn marked(&self, positions: impl Iterator<Item = u32>) -> Vec<usize> {
        let mut marked: Vec<usize> = positions
            .filter_map(|position| {
                self.spans
                    .binary_search_by_key(&position, |(p, _, _)| *p)
                    .ok()
            })
            .collect();
        marked.sort_unstable();
        marked.dedup();
        marked
    }

    /// The words from `first` to `last` (indices into `spans`), with the
    /// `marked` ones in `<mark>` and everything HTML-escaped; from the
    /// start or to the end of the text when they are its first or last word.
    fn render(&self, first: usize, last: usize, marked: &[usize]) -> String {
        let mut html = String::new();
        let mut at = if first == 0 { 0 } else { self.spans[first].1 };
        let end = if last + 1 == self.spans.len() && self.complete {
            self.text.len()
        } else {
            self.spans[last].2
        };
        for &i in marked.iter().filter(|&&i| (first..=last).contains(&i)) {
            let (_, start, end) = self.spans[i];
            escape_into(&mut html, &self.text[at..start]);
            html.push_str("<mark>");
            escape_into(&mut html, &self.text[start..end]);
            html.push_str("</mark>");
            at = end;
        }
        escape_into(&mut html, &self.text[at..end]);
        html
    }
}

/// The words a scan found: (position, start byte, end byte) of each, and
/// (start, end) of each in characters.
type Found = (Vec<(u32, usize, usize)>, Vec<(usize, usize)>);

/// Adds to `found` the words of `text` as tantivy's simple tokenizer finds
/// them (runs of letters and digits), numbered from 0, up to the word at
/// position `last`. Words the analyzers drop for their length are numbered
/// but left out. Returns whether the text was read to its end, or, with
/// `check_nfc`, None as soon as it meets a character that [`surely_nfc`]
/// can't vouch for.
///
/// Reading stops after the first word past `last` and the character that
/// ends it. With the check, every character read is one that nothing
/// composes with, so what comes after can't change the words read.
fn scan_words(text: &str, last: u32, check_nfc: bool, found: &mut Found) -> Option<bool> {
    let bytes = text.as_bytes();
    let mut position = 0;
    // (byte, character) where the word being read starts.
    let mut word_start = None;
    let (mut at, mut chars) = (0, 0);
    while at < bytes.len() {
        let (in_word, len) = if bytes[at].is_ascii() {
            (bytes[at].is_ascii_alphanumeric(), 1)
        } else {
            let Some(c) = text[at..].chars().next() else {
                break;
            };
            if check_nfc && !surely_nfc(c) {
                return None;
            }
            (is_word_char(c), c.len_utf8())
        };
        match word_start {
            None if in_word => word_start = Some((at, chars)),
            Some(start) if !in_word => {
                if !take_word(found, position, start, (at, chars), last) {
                    return Some(false);
                }
                position += 1;
                word_start = None;
            }
            _ => {}
        }
        at += len;
        chars += 1;
    }
    match word_start {
        Some(start) => Some(take_word(found, position, start, (at, chars), last)),
        None => Some(true),
    }
}

/// Keeps the word at `position`, from `start` to `end` ((byte, character)
/// offsets), unless it is too long; false when it is past `last`.
fn take_word(
    (spans, chars): &mut Found,
    position: u32,
    start: (usize, usize),
    end: (usize, usize),
    last: u32,
) -> bool {
    // The analyzers drop long words after numbering them; the filters
    // after that rewrite words but never drop one.
    if end.0 - start.0 >= MAX_TOKEN_BYTES {
        return true;
    }
    if position > last {
        return false;
    }
    spans.push((position, start.0, end.0));
    chars.push((start.1, end.1));
    true
}

/// `char::is_alphanumeric`, which the simple tokenizer splits by, answered
/// without a table lookup for the letters of the archive's languages.
fn is_word_char(c: char) -> bool {
    match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' => true,
        '\0'..='\u{7F}' => false,
        // Latin-1 letters and Latin Extended-A and -B, but for × and ÷.
        '\u{C0}'..='\u{24F}' => c != '\u{D7}' && c != '\u{F7}',
        // Cyrillic, but for a sign and the combining marks U+0482 to U+0489.
        '\u{400}'..='\u{481}' | '\u{48A}'..='\u{4FF}' => true,
        _ => c.is_alphanumeric(),
    }
}

/// True when `c` is from ranges where none decomposes and none combines
/// with the character before it, so that a text of them alone is NFC:
/// ASCII, the Latin letters up to U+02FF, the Cyrillic letters, and
/// punctuation (quotes, dashes) and currency signs. A cheaper check than
/// the quick check for most bodies; false means "look closer", not "not
/// NFC".
fn surely_nfc(c: char) -> bool {
    matches!(
        c,
        '\0'..='\u{2FF}' | '\u{400}'..='\u{482}' | '\u{48A}'..='\u{4FF}' | '\u{2002}'..='\u{20CF}'
    )
}

/// The positions of the words of a text that `folding` turns into one of `wanted`.
fn words_among(
    words: &Words,
    wanted: &BTreeSet<String>,
    folding: &mut tantivy::tokenizer::TextAnalyzer,
) -> Vec<u32> {
    words
        .spans
        .iter()
        .filter(|(_, start, end)| {
            super::analyzers::terms(folding, &words.text[*start..*end])
                .iter()
                .any(|term| wanted.contains(term))
        })
        .map(|(position, _, _)| *position)
        .collect()
}

/// A title with every matched word marked; None when none matched.
fn mark_title(words: &Words, positions: impl Iterator<Item = u32>) -> Option<String> {
    let marked = words.marked(positions);
    if marked.is_empty() {
        return None;
    }
    let (first, last) = if words.text.chars().count() > 1_000 {
        window(words, &marked, 1_000)
    } else {
        (0, words.spans.len() - 1)
    };
    Some(words.render(first, last, &marked))
}

/// The body fragment of at most `max_chars` characters with the most
/// matched words, widened to whole words on both sides; None when none matched.
fn mark_fragment(
    words: &Words,
    positions: impl Iterator<Item = u32>,
    max_chars: usize,
) -> Option<String> {
    let marked = words.marked(positions);
    if marked.is_empty() {
        return None;
    }
    let (first, last) = window(words, &marked, max_chars);
    Some(words.render(first, last, &marked))
}

/// The span of words (first, last indices into `spans`) of at most
/// `max_chars` characters holding the most marked words, centred on them.
fn window(words: &Words, marked: &[usize], max_chars: usize) -> (usize, usize) {
    // Widening reaches back at most half the room, and every word and every
    // gap takes a character: the words before `lo` can't be in the window.
    let lo = marked[0].saturating_sub(max_chars / 2 + 1);
    let at = |k: usize| words.chars[k];
    // The densest run of marked words that fits.
    let (mut best, mut best_count) = ((marked[0], marked[0]), 0);
    let mut j = 0;
    for i in 0..marked.len() {
        j = j.max(i);
        while j + 1 < marked.len() && at(marked[j + 1]).1 - at(marked[i]).0 <= max_chars {
            j += 1;
        }
        if j - i + 1 > best_count {
            best_count = j - i + 1;
            best = (marked[i], marked[j]);
        }
    }
    // Widen with context: half the room before, the rest after.
    let (mut first, mut last) = best;
    let used = |first: usize, last: usize| at(last).1 - at(first).0;
    let room_before = max_chars.saturating_sub(used(first, last)) / 2;
    while first > lo && at(best.0).0 - at(first - 1).0 <= room_before {
        first -= 1;
    }
    while last + 1 < words.spans.len() && used(first, last + 1) <= max_chars {
        last += 1;
    }
    (first, last)
}

fn escape_into(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#x27;"),
            other => html.push(other),
        }
    }
}

/// Marks what a query matched in each hit's variants: for each
/// (id, language) with a match, (title, best body fragment). The
/// `preferred` variant of each id is tried first; the others only when it
/// matched nothing.
pub fn mark(
    texts: &[VariantText],
    matches: &HashMap<String, Matches>,
    preferred: &HashMap<String, Lang>,
) -> HashMap<(String, Lang), Marked> {
    let mut by_id: HashMap<&str, Vec<(Lang, &str, &str)>> = HashMap::new();
    for (id, tag, title, body) in texts {
        if let Some(lang) = Lang::from_stored(tag) {
            by_id.entry(id).or_default().push((lang, title, body));
        }
    }
    let mut found = HashMap::new();
    let mut folding = super::analyzers::suggest();
    for (id, mut variants) in by_id {
        let Some(matched) = matches.get(id) else {
            continue;
        };
        // The order the index numbered them in.
        variants.sort_by_key(|(lang, _, _)| lang.as_str());
        // The served variant first, then the others in order, until one matched.
        let preferred = preferred.get(id).copied();
        let mut order: Vec<usize> = (0..variants.len()).collect();
        order.sort_by_key(|&k| Some(variants[k].0) != preferred);
        for k in order {
            let (lang, title, body) = variants[k];
            let slot = super::index::slot(lang);
            // The variants before this one in the same field (a Serbian
            // variant after the other script's) number their words first.
            let earlier = variants[..k]
                .iter()
                .filter(|(other, _, _)| super::index::slot(*other) == slot);
            // Positions from this value's first word on; those past its
            // last word match none of its words.
            let relative = |set: &BTreeSet<u32>, width: &dyn Fn(&str, &str) -> u32| {
                if set.is_empty() {
                    return Vec::new();
                }
                let base: u32 = earlier
                    .clone()
                    .map(|(_, title, body)| width(title, body))
                    .sum();
                set.range(base..).map(|position| position - base).collect()
            };
            let mut title_at =
                relative(&matched.title[slot], &|title, _| Words::split(title).width);
            // Split once, when there is anything to mark in it.
            let title_words = (!title_at.is_empty() || !matched.title_words.is_empty())
                .then(|| Words::split(title));
            if let Some(words) = title_words
                .as_ref()
                .filter(|_| !matched.title_words.is_empty())
            {
                title_at.extend(words_among(words, &matched.title_words, &mut folding));
            }
            let body_at = relative(&matched.body[slot], &|_, body| Words::split(body).width);
            let pair = Marked {
                title: title_words.and_then(|words| mark_title(&words, title_at.into_iter())),
                body: body_at
                    .last()
                    .map(|&last| Words::split_until(body, last.saturating_add(MAX_WORDS_AFTER)))
                    .and_then(|words| mark_fragment(&words, body_at.into_iter(), FRAGMENT_CHARS)),
            };
            if pair.title.is_some() || pair.body.is_some() {
                found.insert((id.to_owned(), lang), pair);
                break;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The positions of `word` in a split text.
    fn positions_of(words: &Words, word: &str) -> Vec<u32> {
        words
            .spans
            .iter()
            .filter(|(_, start, end)| &words.text[*start..*end] == word)
            .map(|(position, _, _)| *position)
            .collect()
    }

    #[test]
    fn marks_words_by_position_and_escapes_the_rest() {
        let words = Words::split("Kosovo & Serbia: <normalization> of relations");
        // Positions: Kosovo 0, Serbia 1, normalization 2, of 3, relations 4.
        assert_eq!(
            mark_title(&words, [0, 2].into_iter()).as_deref(),
            Some(
                "<mark>Kosovo</mark> &amp; Serbia: &lt;<mark>normalization</mark>&gt; of relations"
            )
        );
        assert_eq!(mark_title(&words, [9].into_iter()), None);
    }

    #[test]
    fn a_fragment_fits_and_holds_the_densest_matches() {
        let text = format!(
            "{} needle one needle two {} needle three",
            "filler ".repeat(100),
            "padding ".repeat(100)
        );
        let words = Words::split(&text);
        let needles = positions_of(&words, "needle");
        let fragment = mark_fragment(&words, needles.into_iter(), 60).unwrap();
        assert_eq!(
            fragment.matches("<mark>needle</mark>").count(),
            2,
            "{fragment}"
        );
        let plain = fragment.replace("<mark>", "").replace("</mark>", "");
        assert!(plain.chars().count() <= 60, "{plain}");
        assert!(plain.starts_with("filler"), "{plain}");
    }

    #[test]
    fn a_body_split_only_past_its_fragment_marks_the_same() {
        let text = format!(
            "{}needle, {}needle {}",
            "lead ".repeat(80),
            "x ".repeat(30),
            "tail ".repeat(2_000)
        );
        let whole = Words::split(&text);
        let needles = positions_of(&whole, "needle");
        let last = *needles.last().unwrap();
        let part = Words::split_until(&text, last + MAX_WORDS_AFTER);
        assert!(!part.complete && part.spans.len() < whole.spans.len() / 5);
        for max_chars in [20, 60, FRAGMENT_CHARS] {
            let expected = mark_fragment(&whole, needles.iter().copied(), max_chars).unwrap();
            assert_eq!(
                mark_fragment(&part, needles.iter().copied(), max_chars).unwrap(),
                expected
            );
            if max_chars == FRAGMENT_CHARS {
                assert!(expected.ends_with("tail"), "{expected}");
            }
        }
        // Cut right after the last word it holds, the fragment does not
        // run on to the end of the text.
        let cut = Words::split_until(&text, last);
        let fragment = mark_fragment(&cut, needles.iter().copied(), FRAGMENT_CHARS).unwrap();
        assert!(fragment.ends_with("<mark>needle</mark>"), "{fragment}");
    }

    /// A split that stops early reads only part of a text, and checks
    /// only that part for NFC: its words are those of the whole text,
    /// normalised, up to where it stopped.
    #[test]
    fn a_split_that_stops_early_finds_the_words_of_the_normalised_text() {
        let words = |split: &Words| -> Vec<(u32, String)> {
            split
                .spans
                .iter()
                .map(|&(position, start, end)| (position, split.text[start..end].to_owned()))
                .collect()
        };
        // A combining mark (which NFC composes) well past the stop, at the
        // start of the word that stops it, ending it, and in the last word.
        for text in [
            "jedan dva tri c\u{301}etiri pet",
            "jedan dva tri četiri pe\u{301}t",
            "jedan dva tri c\u{301}",
            "jedan dva\u{301} tri",
        ] {
            let whole = Words::split(text);
            assert!(matches!(whole.text, Cow::Owned(_)), "{text:?}");
            for last in 0..6 {
                let part = Words::split_until(text, last);
                let expected: Vec<(u32, String)> = words(&whole)
                    .into_iter()
                    .filter(|(position, _)| *position <= last)
                    .collect();
                assert_eq!(words(&part), expected, "{text:?} up to {last}");
                assert_eq!(part.complete, whole.spans.len() as u32 <= last + 1);
            }
        }
    }

    #[test]
    fn word_characters_are_the_alphanumeric_ones() {
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            assert_eq!(is_word_char(c), c.is_alphanumeric(), "{:?}", c);
        }
    }

    #[test]
    fn surely_nfc_characters_are_left_alone_by_nfc() {
        use unicode_normalization::char::canonical_combining_class;
        let mut checked = 0;
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            if !surely_nfc(c) {
                continue;
            }
            let one = c.to_string();
            checked += 1;
            assert_eq!(is_nfc_quick(one.chars()), IsNormalized::Yes, "{c:?}");
            assert_eq!(canonical_combining_class(c), 0, "{c:?}");
            // Nothing before it composes with it.
            for before in ['a', 'e', 'A', 'с', 'ë'] {
                let pair = format!("{before}{c}");
                assert_eq!(pair.nfc().collect::<String>(), pair, "{c:?}");
            }
        }
        assert!(checked > 1_100, "{checked}");
        assert!(!surely_nfc('\u{030C}'));
    }

    /// The words as the analyzers' tokenizer and long-word filter find
    /// them, on real text of each language and on edge cases.
    #[test]
    fn words_are_split_as_the_analyzers_split_them() {
        use tantivy::tokenizer::{RemoveLongFilter, SimpleTokenizer, TextAnalyzer, TokenStream};
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/data/flores200_devtest"
        );
        let mut texts: Vec<String> = ["eng_Latn", "als_Latn", "srp_Cyrl"]
            .iter()
            .filter_map(|name| std::fs::read_to_string(format!("{dir}/{name}.devtest")).ok())
            .collect();
        assert!(
            texts.len() == 3 || std::env::var("CI").is_err(),
            "CI runs with ../shared beside the project"
        );
        texts.extend(
            [
                "",
                "   ",
                "x",
                "¿Qué? ½ × 2²—Ǆemal, Ђорђе № 5 ҂ ﬁne 𝔘nicode 数字 ٣",
                "Pris\u{030C}tina ne\u{0301}",
            ]
            .map(String::from),
        );
        texts.push(format!("a {} b {}", "x".repeat(79), "y".repeat(80)));
        let mut analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
            .build();
        for text in &texts {
            let text: String = text.nfc().collect();
            let mut expected = Vec::new();
            let mut stream = analyzer.token_stream(&text);
            while stream.advance() {
                let token = stream.token();
                expected.push((token.position as u32, token.offset_from, token.offset_to));
            }
            let words = Words::split(&text);
            assert_eq!(words.spans, expected, "{text:?}");
            assert!(words.complete);
            let in_chars: Vec<(usize, usize)> = expected
                .iter()
                .map(|&(_, start, end)| {
                    (text[..start].chars().count(), text[..end].chars().count())
                })
                .collect();
            assert_eq!(words.chars, in_chars, "{text:?}");
        }
    }

    #[test]
    fn long_words_keep_their_numbers_and_combining_marks_become_nfc() {
        // The long word is dropped by the analyzers but still numbered.
        let text = format!("Pris\u{030C}tina {} grad", "x".repeat(100));
        let words = Words::split(&text);
        assert_eq!(words.spans.len(), 2);
        assert_eq!(words.width, 3 + 1);
        assert_eq!(
            mark_title(&words, [0, 2].into_iter()).as_deref(),
            Some(
                format!(
                    "<mark>Priština</mark> {} <mark>grad</mark>",
                    "x".repeat(100)
                )
                .as_str()
            )
        );
    }
}
