//! The demo archive's files and pictures, made by this code when the demo
//! is loaded (nothing is downloaded, nothing binary is in the
//! repository): a PDF of the English edition of one publication of each
//! kind, a cover for each of those publications, and logos and pictures
//! for some organisations, a project and an event. The PDFs' text is read
//! back by the same extractor uploads go through, so search finds it.

use std::io::{self, Write as _};

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

use crate::domain::images::ImageRecord;
use crate::domain::records::{FileRecord, LangMap, Record};
use crate::domain::text::TextStatus;
use crate::domain::{Lang, PublicationKind};
use crate::files::FileStore;
use crate::images::ImageStore;
use crate::import::Line;

/// The credit printed under every demo picture.
const CREDIT: &str = "Illustration: arkiv demo archive";

/// Gives the demo's records their files and images, writing the bytes
/// into `files` (and the renditions beside them).
pub fn attach(lines: &mut [Line], files: &FileStore) -> io::Result<()> {
    let mut kinds_done: Vec<PublicationKind> = Vec::new();
    for (index, line) in lines.iter_mut().enumerate() {
        let seed = index as u32;
        match &mut line.record {
            Record::Publication(publication) if !kinds_done.contains(&publication.kind) => {
                kinds_done.push(publication.kind);
                let slug = publication.slug.as_str().to_owned();
                let Some((lang, variant)) = publication
                    .variants
                    .iter_mut()
                    .find(|(lang, _)| **lang == Lang::En)
                else {
                    continue;
                };
                let paragraphs: Vec<&str> = [variant.summary.as_str()]
                    .into_iter()
                    .chain(variant.body.split("\n\n"))
                    .filter(|text| !text.trim().is_empty())
                    .collect();
                let pdf = super::pdf::document(&variant.title, &paragraphs);
                let mut text = Vec::new();
                crate::extract::child::extract(&pdf, 64 << 20, 16 << 20, &mut text);
                let text = String::from_utf8_lossy(&text).trim().to_owned();
                let sha256 = store(files, &pdf)?;
                variant.file = Some(FileRecord {
                    sha256,
                    size: i64::try_from(pdf.len()).unwrap_or(i64::MAX),
                    media_type: "application/pdf".into(),
                    name: format!("{slug}-{}.pdf", lang.as_str()),
                    text_status: Some(if text.is_empty() {
                        TextStatus::NoText
                    } else {
                        TextStatus::Extracted
                    }),
                    text_error: None,
                });
                variant.file_text = (!text.is_empty()).then_some(text);
                let cover = cover(1600, 1000, seed);
                publication.image = Some(picture(files, &cover, cover_alt())?);
            }
            Record::Organisation(organisation)
                if ["new-social-initiative", "isp-musine-kokalari"]
                    .contains(&organisation.slug.as_str()) =>
            {
                let logo = logo(480, seed);
                let alt = organisation
                    .name
                    .iter()
                    .map(|(lang, name)| (*lang, logo_alt(*lang, name)))
                    .collect();
                organisation.image = Some(picture(files, &logo, alt)?);
            }
            Record::Project(project)
                if project.slug.as_str() == "kosovo-peace-and-democracy-summit" =>
            {
                project.image = Some(picture(files, &cover(1200, 800, seed), cover_alt())?);
            }
            Record::Event(event)
                if event.slug.as_str() == "kosovo-peace-and-democracy-summit-2024" =>
            {
                event.image = Some(picture(files, &cover(2000, 1125, seed), cover_alt())?);
            }
            _ => {}
        }
    }
    Ok(())
}

/// Stores bytes in the file store; returns their SHA-256.
fn store(files: &FileStore, bytes: &[u8]) -> io::Result<String> {
    use sha2::Digest as _;
    let sha256: String = sha2::Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let temporary = files.temporary()?;
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    files.install(&temporary, &sha256)?;
    Ok(sha256)
}

/// Stores a picture as PNG with its renditions; returns its image record.
fn picture(files: &FileStore, pixels: &RgbImage, alt: LangMap) -> io::Result<ImageRecord> {
    let mut png = Vec::new();
    DynamicImage::ImageRgb8(pixels.clone())
        .write_to(&mut io::Cursor::new(&mut png), ImageFormat::Png)
        .map_err(io::Error::other)?;
    let sha256 = store(files, &png)?;
    let rendered = ImageStore::of(files).render_own(&png, &sha256)?;
    Ok(ImageRecord {
        sha256,
        media_type: "image/png".into(),
        width: rendered.width,
        height: rendered.height,
        alt,
        credit: Some(CREDIT.into()),
        renditions: rendered.renditions,
    })
}

fn cover_alt() -> LangMap {
    LangMap::from([
        (
            Lang::En,
            "An abstract illustration in bands of colour".into(),
        ),
        (Lang::Sq, "Një ilustrim abstrakt me breza ngjyrash".into()),
        (Lang::SrLatn, "Apstraktna ilustracija u trakama boja".into()),
        (Lang::SrCyrl, "Апстрактна илустрација у тракама боја".into()),
    ])
}

fn logo_alt(lang: Lang, name: &str) -> String {
    match lang {
        Lang::En => format!("The logo of {name}"),
        Lang::Sq => format!("Logoja e {name}"),
        Lang::SrLatn => format!("Logo: {name}"),
        Lang::SrCyrl => format!("Лого: {name}"),
    }
}

/// Two colours picked by `seed` from a muted palette.
fn palette(seed: u32) -> ([f32; 3], [f32; 3]) {
    const COLOURS: [[f32; 3]; 6] = [
        [32.0, 62.0, 110.0],
        [180.0, 64.0, 54.0],
        [46.0, 120.0, 98.0],
        [214.0, 158.0, 46.0],
        [96.0, 72.0, 140.0],
        [60.0, 60.0, 66.0],
    ];
    let first = COLOURS[seed as usize % COLOURS.len()];
    let second = COLOURS[(seed as usize * 7 + 3) % COLOURS.len()];
    (first, second)
}

/// A cover: a diagonal blend of two colours crossed by lighter bands.
fn cover(width: u32, height: u32, seed: u32) -> RgbImage {
    let (from, to) = palette(seed);
    let span = (width + height) as f32;
    RgbImage::from_fn(width, height, |x, y| {
        let t = (x + y) as f32 / span;
        let band = ((x as f32 * 0.6 - y as f32) / 90.0 + seed as f32).rem_euclid(4.0) < 1.0;
        let light = if band { 28.0 } else { 0.0 };
        let mix = |i: usize| (from[i] * (1.0 - t) + to[i] * t + light).clamp(0.0, 255.0) as u8;
        Rgb([mix(0), mix(1), mix(2)])
    })
}

/// A logo: concentric rings on white.
fn logo(side: u32, seed: u32) -> RgbImage {
    let (ink, accent) = palette(seed);
    let centre = side as f32 / 2.0;
    RgbImage::from_fn(side, side, |x, y| {
        let distance = ((x as f32 - centre).powi(2) + (y as f32 - centre).powi(2)).sqrt();
        let ring = (distance / (side as f32 / 12.0)) as u32;
        let colour = match ring {
            0 | 1 => accent,
            2 | 4 => ink,
            3 => [255.0, 255.0, 255.0],
            _ => [255.0, 255.0, 255.0],
        };
        Rgb(colour.map(|c| c as u8))
    })
}
