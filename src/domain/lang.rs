//! Language tags and negotiation.
//!
//! Content exists in four BCP 47 tags. A request names what it wants with
//! `?lang=` or `Accept-Language`; [`negotiate`] picks what to serve from what
//! exists, walking the fallback chain: requested → the other script of the
//! same language → `en` → anything.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A language tag that content can be stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
pub enum Lang {
    #[serde(rename = "en")]
    En,
    #[serde(rename = "sq")]
    Sq,
    #[serde(rename = "sr-Latn")]
    SrLatn,
    #[serde(rename = "sr-Cyrl")]
    SrCyrl,
}

impl Lang {
    /// Every tag, in the order "anything" falls back through.
    pub const ALL: [Lang; 4] = [Lang::En, Lang::Sq, Lang::SrLatn, Lang::SrCyrl];

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Sq => "sq",
            Lang::SrLatn => "sr-Latn",
            Lang::SrCyrl => "sr-Cyrl",
        }
    }

    /// The language's name in `label` (a facet's label): "Albanian" in
    /// English, "Shqip" in Albanian, "Албански" in Serbian Cyrillic.
    pub fn name_in(self, label: Lang) -> &'static str {
        use Lang::{En, Sq, SrCyrl, SrLatn};
        match (label, self) {
            (En, En) => "English",
            (En, Sq) => "Albanian",
            (En, SrLatn) => "Serbian (Latin script)",
            (En, SrCyrl) => "Serbian (Cyrillic script)",
            (Sq, En) => "Anglisht",
            (Sq, Sq) => "Shqip",
            (Sq, SrLatn) => "Serbisht (latinisht)",
            (Sq, SrCyrl) => "Serbisht (cirilik)",
            (SrLatn, En) => "Engleski",
            (SrLatn, Sq) => "Albanski",
            (SrLatn, SrLatn) => "Srpski (latinica)",
            (SrLatn, SrCyrl) => "Srpski (ćirilica)",
            (SrCyrl, En) => "Енглески",
            (SrCyrl, Sq) => "Албански",
            (SrCyrl, SrLatn) => "Српски (латиница)",
            (SrCyrl, SrCyrl) => "Српски (ћирилица)",
        }
    }

    /// Parses a stored tag exactly as written (`sr-Latn`, not `sr-latn`).
    pub fn from_stored(tag: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|lang| lang.as_str() == tag)
    }
}

/// Read as a string rather than as an enum, which is what lets
/// `serde_path_to_error` name a map key that is a tag: a problem in a
/// variant is at `variants.en.title`, not somewhere in `variants`.
impl<'de> Deserialize<'de> for Lang {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Tag;

        impl serde::de::Visitor<'_> for Tag {
            type Value = Lang;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a language tag")
            }

            fn visit_str<E: serde::de::Error>(self, tag: &str) -> Result<Lang, E> {
                Lang::from_stored(tag).ok_or_else(|| E::unknown_variant(tag, &TAGS))
            }
        }

        const TAGS: [&str; 4] = ["en", "sq", "sr-Latn", "sr-Cyrl"];
        deserializer.deserialize_str(Tag)
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Lang {
    type Err = String;

    /// Parses a tag case-insensitively, as BCP 47 compares tags.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Lang::ALL
            .into_iter()
            .find(|lang| lang.as_str().eq_ignore_ascii_case(raw))
            .ok_or_else(|| format!("{raw:?} is not one of en, sq, sr-Latn, sr-Cyrl"))
    }
}

/// One language a client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LanguageRange {
    /// A tag arkiv stores (`en-GB` → `en`, `sr-Cyrl-RS` → `sr-Cyrl`).
    Exact(Lang),
    /// `sr` without a script: whichever script exists, Latin first.
    SerbianAnyScript,
    /// `*`: anything.
    Any,
    /// A well-formed tag arkiv has no content in (`de`); skipped when serving.
    Unsupported(String),
}

/// What [`LanguageRange::parse`] takes for a tag, as the OpenAPI document
/// states it: a primary subtag of letters, then subtags of letters and
/// digits, each 1 to 8 long.
pub const LANGUAGE_TAG_PATTERN: &str = "^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$";

impl LanguageRange {
    /// Parses one BCP 47 language tag (or `*`), rejecting what is not one,
    /// spaces around it included: a list of tags trims its items itself.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw == "*" {
            return Ok(Self::Any);
        }
        let subtags: Vec<&str> = raw.split('-').collect();
        let well_formed = !raw.is_empty()
            && subtags.iter().enumerate().all(|(i, subtag)| {
                let alphabetic = subtag.bytes().all(|b| b.is_ascii_alphabetic());
                let alphanumeric = subtag.bytes().all(|b| b.is_ascii_alphanumeric());
                (1..=8).contains(&subtag.len()) && if i == 0 { alphabetic } else { alphanumeric }
            });
        if !well_formed {
            return Err(format!(
                "{raw:?} is not a language tag such as en, sq, sr, sr-Latn or sr-Cyrl"
            ));
        }
        let primary = subtags[0].to_ascii_lowercase();
        let script = subtags
            .iter()
            .skip(1)
            .find(|subtag| subtag.len() == 4)
            .map(|s| s.to_ascii_lowercase());
        Ok(match (primary.as_str(), script.as_deref()) {
            ("en", _) => Self::Exact(Lang::En),
            ("sq", _) => Self::Exact(Lang::Sq),
            ("sr", Some("latn")) => Self::Exact(Lang::SrLatn),
            ("sr", Some("cyrl")) => Self::Exact(Lang::SrCyrl),
            ("sr", None) => Self::SerbianAnyScript,
            _ => Self::Unsupported(raw.to_owned()),
        })
    }

    /// Returns the tag as the response reports it back.
    pub fn tag(&self) -> String {
        match self {
            Self::Exact(lang) => lang.as_str().to_owned(),
            Self::SerbianAnyScript => "sr".to_owned(),
            Self::Any => "*".to_owned(),
            Self::Unsupported(tag) => tag.clone(),
        }
    }
}

/// Returns the language of a response's labels (kinds, roles, vocabulary
/// names) for `ranges`: the first language asked for, Latin for "Serbian in
/// any script", else English. Unlike an item's text it never falls back,
/// since every label exists in every tag.
pub fn label_language(ranges: &[LanguageRange]) -> Lang {
    ranges
        .iter()
        .find_map(|range| match range {
            LanguageRange::Exact(lang) => Some(*lang),
            LanguageRange::SerbianAnyScript => Some(Lang::SrLatn),
            _ => None,
        })
        .unwrap_or(Lang::En)
}

/// Parses an `Accept-Language` header into ranges by descending q-value.
/// Malformed entries are skipped rather than failing the request: browsers
/// send what they send, and `en` is always a fine answer.
pub fn parse_accept_language(header: &str) -> Vec<LanguageRange> {
    let mut weighted: Vec<(u16, usize, LanguageRange)> = header
        .split(',')
        .enumerate()
        .filter_map(|(position, entry)| {
            let mut parts = entry.split(';');
            let range = LanguageRange::parse(parts.next()?.trim()).ok()?;
            let mut quality = 1000u16;
            for param in parts {
                let (key, value) = param.split_once('=')?;
                if key.trim().eq_ignore_ascii_case("q") {
                    let q: f32 = value.trim().parse().ok()?;
                    if !(0.0..=1.0).contains(&q) {
                        return None;
                    }
                    quality = (q * 1000.0).round() as u16;
                }
            }
            (quality > 0).then_some((quality, position, range))
        })
        .collect();
    weighted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    weighted.into_iter().map(|(_, _, range)| range).collect()
}

/// What a response is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    /// The tag of the text in the response.
    pub lang: Lang,
    /// Set when the text was derived from another stored variant
    /// (`sr-Latn` transliterated from `sr-Cyrl`).
    pub derived_from: Option<Lang>,
}

impl Served {
    fn stored(lang: Lang) -> Self {
        Self {
            lang,
            derived_from: None,
        }
    }

    /// Returns the stored variant the text comes from.
    pub fn source(self) -> Lang {
        self.derived_from.unwrap_or(self.lang)
    }
}

/// Returns every tag a resource can be served in: what is stored, plus
/// `sr-Latn` derived from a Cyrillic-only Serbian text. Sorted.
pub fn available(stored: &[Lang]) -> Vec<Lang> {
    let mut tags: Vec<Lang> = stored.to_vec();
    if stored.contains(&Lang::SrCyrl) && !stored.contains(&Lang::SrLatn) {
        tags.push(Lang::SrLatn);
    }
    tags.sort();
    tags.dedup();
    tags
}

/// Picks what to serve from what is stored, for a client asking for `ranges`
/// in order of preference. Returns `None` only when nothing is stored.
pub fn negotiate(ranges: &[LanguageRange], stored: &[Lang]) -> Option<Served> {
    let has = |lang: Lang| stored.contains(&lang);
    // 1. What was asked for, including Latin derived from Cyrillic.
    for range in ranges {
        match range {
            LanguageRange::Exact(lang) if has(*lang) => return Some(Served::stored(*lang)),
            LanguageRange::Exact(Lang::SrLatn) if has(Lang::SrCyrl) => {
                return Some(Served {
                    lang: Lang::SrLatn,
                    derived_from: Some(Lang::SrCyrl),
                })
            }
            LanguageRange::SerbianAnyScript => {
                if let Some(lang) = [Lang::SrLatn, Lang::SrCyrl].into_iter().find(|l| has(*l)) {
                    return Some(Served::stored(lang));
                }
            }
            _ => {}
        }
    }
    // 2. The other script of a language asked for (Cyrillic asked, Latin stored).
    if ranges.contains(&LanguageRange::Exact(Lang::SrCyrl)) && has(Lang::SrLatn) {
        return Some(Served::stored(Lang::SrLatn));
    }
    // 3. English, then 4. anything.
    Lang::ALL
        .into_iter()
        .find(|lang| has(*lang))
        .map(Served::stored)
}

/// Picks a text from a per-language map (names, labels, titles), deriving
/// Latin from Cyrillic where that is what is served.
pub fn pick_text<'a, F>(
    ranges: &[LanguageRange],
    stored: &[Lang],
    text_of: F,
) -> Option<(Served, String)>
where
    F: Fn(Lang) -> Option<&'a str>,
{
    let served = negotiate(ranges, stored)?;
    let text = text_of(served.source())?;
    let text = match served.derived_from {
        Some(_) => super::translit::cyrillic_to_latin(text),
        None => text.to_owned(),
    };
    Some((served, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(tags: &[&str]) -> Vec<LanguageRange> {
        tags.iter()
            .map(|t| LanguageRange::parse(t).unwrap_or(LanguageRange::Any))
            .collect()
    }

    #[test]
    fn stored_tags_read_back_as_strings_and_others_are_named() {
        for lang in Lang::ALL {
            let json = serde_json::to_string(&lang).expect("JSON");
            assert_eq!(serde_json::from_str::<Lang>(&json).ok(), Some(lang));
        }
        let error = serde_json::from_str::<Lang>("\"sr-latn\"")
            .expect_err("tags are exact")
            .to_string();
        let listed: Vec<String> = Lang::ALL.iter().map(|l| format!("`{l}`")).collect();
        assert!(error.contains(&listed.join(", ")), "{error}");
        // A tag as a map key is named in the path of an error after it.
        let value = serde_json::json!({"sq": {"title": 1}});
        let error =
            serde_path_to_error::deserialize::<_, std::collections::BTreeMap<Lang, Titled>>(value)
                .expect_err("a number is no title");
        assert_eq!(error.path().to_string(), "sq.title");
    }

    #[derive(Debug, serde::Deserialize)]
    struct Titled {
        #[expect(dead_code, reason = "only read to fail")]
        title: String,
    }

    #[test]
    fn parses_tags_and_regions() {
        assert_eq!(
            LanguageRange::parse("en-GB"),
            Ok(LanguageRange::Exact(Lang::En))
        );
        assert_eq!(
            LanguageRange::parse("SR-latn-RS"),
            Ok(LanguageRange::Exact(Lang::SrLatn))
        );
        assert_eq!(
            LanguageRange::parse("sr"),
            Ok(LanguageRange::SerbianAnyScript)
        );
        assert_eq!(
            LanguageRange::parse("de"),
            Ok(LanguageRange::Unsupported("de".into()))
        );
        for bad in [
            "",
            "e n",
            " en",
            "en\t",
            "123",
            "en_US",
            "toolongtag",
            "en--x",
        ] {
            assert!(
                LanguageRange::parse(bad).is_err(),
                "{bad:?} must be rejected"
            );
        }
    }

    #[test]
    fn accept_language_orders_by_quality_and_drops_zero() {
        let parsed = parse_accept_language("de;q=0.9, sq;q=0.95, en;q=0, sr-Cyrl");
        assert_eq!(
            parsed,
            vec![
                LanguageRange::Exact(Lang::SrCyrl),
                LanguageRange::Exact(Lang::Sq),
                LanguageRange::Unsupported("de".into())
            ]
        );
        assert!(parse_accept_language("garbage;;;==").is_empty());
    }

    #[test]
    fn falls_back_through_the_chain() {
        let all = [Lang::En, Lang::Sq, Lang::SrCyrl];
        assert_eq!(
            negotiate(&ranges(&["sq"]), &all),
            Some(Served::stored(Lang::Sq))
        );
        // Latin is derived from Cyrillic.
        assert_eq!(
            negotiate(&ranges(&["sr-Latn"]), &all),
            Some(Served {
                lang: Lang::SrLatn,
                derived_from: Some(Lang::SrCyrl)
            })
        );
        // `sr` alone takes whichever script is stored, Latin first.
        assert_eq!(
            negotiate(&ranges(&["sr"]), &all),
            Some(Served::stored(Lang::SrCyrl))
        );
        assert_eq!(
            negotiate(&ranges(&["sr"]), &[Lang::SrLatn, Lang::SrCyrl]),
            Some(Served::stored(Lang::SrLatn))
        );
        // Cyrillic asked, only Latin stored: the other script.
        assert_eq!(
            negotiate(&ranges(&["sr-Cyrl"]), &[Lang::En, Lang::SrLatn]),
            Some(Served::stored(Lang::SrLatn))
        );
        // Unsupported and missing languages fall back to English, then anything.
        assert_eq!(
            negotiate(&ranges(&["de", "sq"]), &[Lang::En]),
            Some(Served::stored(Lang::En))
        );
        assert_eq!(
            negotiate(&ranges(&["sq"]), &[Lang::SrCyrl]),
            Some(Served::stored(Lang::SrCyrl))
        );
        assert_eq!(negotiate(&ranges(&["sq"]), &[]), None);
    }

    #[test]
    fn derived_latin_is_available() {
        assert_eq!(
            available(&[Lang::SrCyrl, Lang::En]),
            vec![Lang::En, Lang::SrLatn, Lang::SrCyrl]
        );
    }
}
