//! Images: one per publication (its cover), organisation (its logo),
//! project and event. The source is stored as uploaded, by its SHA-256;
//! what readers get are WebP renditions at fixed widths, made once at
//! upload (in a confined child, see [`crate::images`]) and never wider
//! than the source.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::records::LangMap;

/// The widths renditions are made at, narrowest first.
pub const RENDITION_WIDTHS: [u32; 3] = [320, 800, 1600];

/// The most pixels a source may have (about 8,000 × 5,000). A larger one
/// is refused before it is decoded: its header says how big it is.
pub const MAX_PIXELS: u64 = 40_000_000;

/// The longest side a source may have, whatever its area.
pub const MAX_SIDE: u32 = 20_000;

/// The longest credit line accepted.
pub const MAX_CREDIT_CHARS: usize = 300;

/// The longest alt text accepted (per language).
pub const MAX_ALT_CHARS: usize = 1_000;

/// The media type every rendition has.
pub const RENDITION_MEDIA_TYPE: &str = "image/webp";

/// The source formats accepted, by the bytes they start with: PNG, JPEG,
/// and WebP (a RIFF container whose form type, at offset 8, is `WEBP`).
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The bytes [`sniff`] needs to decide.
pub const MAGIC_LEN: usize = 12;

/// Whether `head`, an upload's first bytes so far, can still become an
/// accepted image.
pub fn may_become_image(head: &[u8]) -> bool {
    if head.len() >= MAGIC_LEN {
        return sniff(head).is_some();
    }
    let prefixes: [&[u8]; 3] = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF"];
    prefixes
        .iter()
        .any(|magic| magic.starts_with(head) || head.starts_with(magic))
}

/// The media types a source may have.
pub const SOURCE_MEDIA_TYPES: [&str; 3] = ["image/png", "image/jpeg", "image/webp"];

/// The size of one rendition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Size {
    #[schema(minimum = 1, example = 800)]
    pub width: u32,
    #[schema(minimum = 1, example = 533)]
    pub height: u32,
}

/// The renditions a source of this size gets: each fixed width narrower
/// than the source, and then the source's own width when it is narrower
/// than the widest step (so a 1,000-pixel photo is 320, 800 and 1,000
/// wide, and a 200-pixel logo only 200). Heights keep the aspect ratio.
pub fn plan(width: u32, height: u32) -> Vec<Size> {
    let widest = *RENDITION_WIDTHS.last().unwrap_or(&1600);
    let mut widths: Vec<u32> = RENDITION_WIDTHS
        .iter()
        .copied()
        .filter(|step| *step < width.min(widest))
        .collect();
    widths.push(width.min(widest));
    widths
        .into_iter()
        .map(|w| Size {
            width: w,
            height: scaled_height(width, height, w),
        })
        .collect()
}

fn scaled_height(width: u32, height: u32, to: u32) -> u32 {
    if width == 0 {
        return 1;
    }
    let scaled = (u64::from(height) * u64::from(to) + u64::from(width) / 2) / u64::from(width);
    u32::try_from(scaled.max(1)).unwrap_or(u32::MAX)
}

/// What is stored about an object's image: in the import format and the
/// write API as the object's `image`. Uploading (`PUT …/image`) fills
/// every field but `alt` and `credit`, which editors set like any other
/// text (a `PATCH` with `{"image": {"alt": {"sq": "…"}}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageRecord {
    /// The SHA-256 of the uploaded source, in lowercase hex; it names the
    /// renditions.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    /// The source's media type.
    #[schema(example = "image/jpeg")]
    pub media_type: String,
    /// The source's width and height in pixels, upright.
    #[schema(minimum = 1, example = 2400)]
    pub width: u32,
    #[schema(minimum = 1, example = 1600)]
    pub height: u32,
    /// The text that replaces the image for readers who cannot see it,
    /// per language; empty for a decorative image.
    #[serde(default, skip_serializing_if = "LangMap::is_empty")]
    #[schema(schema_with = super::records::texts)]
    pub alt: LangMap,
    /// Whom to credit, printed under the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "Photo: NSI photo archive")]
    pub credit: Option<String>,
    /// The renditions made at upload, narrowest first.
    pub renditions: Vec<Size>,
}

impl ImageRecord {
    /// Reads an image as a row stores it (JSON): None for none; an error
    /// for a stored value that is not one.
    pub fn from_stored(stored: Option<&str>) -> Result<Option<Self>, serde_json::Error> {
        stored.map(serde_json::from_str).transpose()
    }

    /// The image as a row stores it.
    pub fn to_stored(image: Option<&Self>) -> Option<String> {
        image.and_then(|image| serde_json::to_string(image).ok())
    }

    /// What is wrong with the image, as (field under `image`, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let mut problem = |field: &str, message: String| {
            problems.push((format!("image.{field}"), message));
        };
        if !super::files::is_sha256(&self.sha256) {
            problem("sha256", "must be 64 lowercase hex digits".into());
        }
        if !SOURCE_MEDIA_TYPES.contains(&self.media_type.as_str()) {
            problem(
                "media_type",
                format!("must be one of {}", SOURCE_MEDIA_TYPES.join(", ")),
            );
        }
        if self.width == 0 || self.height == 0 {
            problem("width", "the width and height must be positive".into());
        }
        if self.renditions.is_empty() {
            problem("renditions", "must list at least one rendition".into());
        }
        for (index, size) in self.renditions.iter().enumerate() {
            if size.width == 0 || size.height == 0 || size.width > self.width {
                problem(
                    &format!("renditions[{index}]"),
                    "must be positive and no wider than the source".into(),
                );
            }
        }
        for (lang, text) in &self.alt {
            if text.trim().is_empty() {
                problem(&format!("alt.{lang}"), "must not be empty".into());
            } else if text.chars().count() > MAX_ALT_CHARS {
                problem(
                    &format!("alt.{lang}"),
                    format!("must be at most {MAX_ALT_CHARS} characters"),
                );
            }
        }
        if let Some(credit) = &self.credit {
            if credit.trim().is_empty() {
                problem("credit", "must not be empty (leave it out instead)".into());
            } else if credit.chars().count() > MAX_CREDIT_CHARS {
                problem(
                    "credit",
                    format!("must be at most {MAX_CREDIT_CHARS} characters"),
                );
            } else if credit.contains(['\n', '\r']) {
                problem("credit", "must be one line".into());
            }
        }
        problems
    }
}

/// Checks an edit's `image` against the stored one: the upload sets the
/// hash, media type, size and renditions, so a body may repeat them as
/// stored, change `alt` and `credit`, or leave the image out (which
/// removes it), and nothing else. Returns (field, message) pairs.
pub fn read_only_problems(
    stored: Option<&ImageRecord>,
    next: Option<&ImageRecord>,
) -> Vec<(String, String)> {
    let Some(next) = next else {
        return Vec::new();
    };
    let Some(stored) = stored else {
        return vec![(
            "image".into(),
            "is attached by uploading it (PUT …/image), not in the body".into(),
        )];
    };
    let mut problems = Vec::new();
    let mut differs = |field: &str, same: bool| {
        if !same {
            problems.push((
                format!("image.{field}"),
                "is set by the server from the uploaded image; send it as stored or upload another"
                    .to_owned(),
            ));
        }
    };
    differs("sha256", next.sha256 == stored.sha256);
    differs("media_type", next.media_type == stored.media_type);
    differs("width", next.width == stored.width);
    differs("height", next.height == stored.height);
    differs("renditions", next.renditions == stored.renditions);
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_told_by_their_first_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF"), Some("image/jpeg"));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), None);
        assert_eq!(sniff(b"<svg xmlns="), None);
        assert!(may_become_image(b"RIF"));
        assert!(may_become_image(b"RIFF\x24\0"));
        assert!(!may_become_image(b"RIFF\x24\0\0\0WAVE"));
        assert!(may_become_image(b"\xff\xd8"));
        assert!(!may_become_image(b"<svg"));
        assert!(!may_become_image(b"%PDF-"));
    }

    #[test]
    fn renditions_never_upscale() {
        let widths = |w, h| plan(w, h).iter().map(|s| s.width).collect::<Vec<_>>();
        assert_eq!(widths(4000, 3000), [320, 800, 1600]);
        assert_eq!(widths(1600, 900), [320, 800, 1600]);
        assert_eq!(widths(1000, 500), [320, 800, 1000]);
        assert_eq!(widths(800, 800), [320, 800]);
        assert_eq!(widths(320, 10), [320]);
        assert_eq!(widths(200, 100), [200]);
        assert_eq!(widths(1, 1), [1]);
        let sizes = plan(1000, 500);
        assert_eq!(
            sizes[0],
            Size {
                width: 320,
                height: 160
            }
        );
        assert_eq!(
            sizes[2],
            Size {
                width: 1000,
                height: 500
            }
        );
        // A very wide strip still gets at least one pixel of height.
        assert_eq!(plan(20_000, 1)[0].height, 1);
    }

    #[test]
    fn every_problem_is_named() {
        let image = ImageRecord {
            sha256: "nope".into(),
            media_type: "image/gif".into(),
            width: 100,
            height: 0,
            alt: LangMap::from([(crate::domain::Lang::En, " ".into())]),
            credit: Some("two\nlines".into()),
            renditions: vec![Size {
                width: 200,
                height: 1,
            }],
        };
        let fields: Vec<String> = image.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "image.sha256",
                "image.media_type",
                "image.width",
                "image.renditions[0]",
                "image.alt.en",
                "image.credit"
            ]
        );
    }
}
