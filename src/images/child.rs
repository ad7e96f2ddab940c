//! The renderer's side: `arkiv render-image SOURCE OUT_DIR`, run only as
//! a child of the server. It confines itself (address space, CPU time, no
//! core file) before it reads a byte, decodes the source under the `image`
//! crate's limits (sides, pixels, allocation), writes one WebP file per
//! rendition (`OUT_DIR/<width>.webp`) and prints what it made as JSON. An
//! image that would take more than its budget ends this process only.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader};
use serde::{Deserialize, Serialize};

use crate::domain::images::{self, Size, MAX_PIXELS, MAX_SIDE};

/// How the child ends, as its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// The renditions are written; their sizes are on standard output.
    Done = 0,
    /// Not an image the decoder can read (corrupt, truncated, unsupported).
    Refused = 11,
    /// The limits could not be set, so nothing was decoded.
    NoLimits = 13,
    /// The source or the output directory could not be used.
    Unreadable = 14,
    /// Past the pixel, side or memory limits (a decompression bomb).
    TooLarge = 16,
}

impl ExitKind {
    pub fn of_code(code: i32) -> Option<Self> {
        [
            Self::Done,
            Self::Refused,
            Self::NoLimits,
            Self::Unreadable,
            Self::TooLarge,
        ]
        .into_iter()
        .find(|kind| *kind as i32 == code)
    }
}

impl From<ExitKind> for ExitCode {
    fn from(kind: ExitKind) -> Self {
        ExitCode::from(kind as u8)
    }
}

/// What the child reports on standard output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    /// The source's upright size.
    pub width: u32,
    pub height: u32,
    pub renditions: Vec<Size>,
}

/// Why a source could not be rendered.
#[derive(Debug)]
pub struct Failure {
    pub kind: ExitKind,
    pub reason: String,
}

impl Failure {
    fn new(kind: ExitKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
        }
    }

    fn of(error: ImageError) -> Self {
        match error {
            ImageError::Limits(limit) => Self::new(ExitKind::TooLarge, limit.to_string()),
            // The bytes are in memory: a read that fails is a file cut short.
            ImageError::IoError(error) => Self::new(ExitKind::Refused, error.to_string()),
            other => Self::new(ExitKind::Refused, other.to_string()),
        }
    }
}

/// The WebP quality of every rendition (libwebp's scale, 0–100).
const QUALITY: f32 = 80.0;

/// Decodes `bytes` with at most `max_alloc` bytes of decoder memory and
/// hands each rendition, widest first, to `write` as WebP bytes.
pub fn render(
    bytes: &[u8],
    max_alloc: u64,
    mut write: impl FnMut(Size, &[u8]) -> std::io::Result<()>,
) -> Result<Rendered, Failure> {
    let format = match images::sniff(bytes) {
        Some("image/png") => ImageFormat::Png,
        Some("image/jpeg") => ImageFormat::Jpeg,
        Some("image/webp") => ImageFormat::WebP,
        _ => return Err(Failure::new(ExitKind::Refused, "not a PNG, JPEG or WebP")),
    };
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes));
    reader.set_format(format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(max_alloc);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(Failure::of)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Failure::new(
            ExitKind::TooLarge,
            format!("{width} × {height} pixels is more than {MAX_PIXELS}"),
        ));
    }
    // The decoded pixels are one allocation of this size, which the
    // decoders do not count against `max_alloc` themselves.
    if decoder.total_bytes() > max_alloc {
        return Err(Failure::new(
            ExitKind::TooLarge,
            format!(
                "{width} × {height} pixels need {} MiB decoded, more than the {} MiB allowed",
                decoder.total_bytes() >> 20,
                max_alloc >> 20
            ),
        ));
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut source = DynamicImage::from_decoder(decoder).map_err(Failure::of)?;
    source.apply_orientation(orientation);
    let (width, height) = (source.width(), source.height());
    let plan = images::plan(width, height);
    // Widest first, each made from the one before: the full-size source
    // is scaled once, the rest from a rendition a few times their size.
    let mut previous: Option<DynamicImage> = None;
    for size in plan.iter().rev() {
        let from = previous.as_ref().unwrap_or(&source);
        let scaled = if (from.width(), from.height()) == (size.width, size.height) {
            from.clone()
        } else {
            from.thumbnail_exact(size.width, size.height)
        };
        let webp = encode(&scaled)?;
        write(*size, &webp)
            .map_err(|error| Failure::new(ExitKind::Unreadable, error.to_string()))?;
        previous = Some(scaled);
    }
    Ok(Rendered {
        width,
        height,
        renditions: plan,
    })
}

/// Encodes an image as lossy WebP (with its alpha channel, if any).
fn encode(image: &DynamicImage) -> Result<Vec<u8>, Failure> {
    let (width, height) = (image.width(), image.height());
    let encoded = if image.color().has_alpha() {
        let pixels = image.to_rgba8();
        webp::Encoder::from_rgba(&pixels, width, height).encode_simple(false, QUALITY)
    } else {
        let pixels = image.to_rgb8();
        webp::Encoder::from_rgb(&pixels, width, height).encode_simple(false, QUALITY)
    };
    encoded
        .map(|memory| memory.to_vec())
        .map_err(|error| Failure::new(ExitKind::Refused, format!("cannot encode WebP: {error:?}")))
}

/// Renders `source` into `out_dir` under the limits; the exit code says
/// how it went, the sizes go to standard output.
pub fn run(source: &Path, out_dir: &Path, memory_bytes: u64, cpu_seconds: u64) -> ExitCode {
    if let Err(error) = crate::extract::child::confine(memory_bytes, cpu_seconds) {
        eprintln!("cannot set the renderer's limits: {error}");
        return ExitKind::NoLimits.into();
    }
    let bytes = match std::fs::read(source) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("cannot read the image: {error}");
            return ExitKind::Unreadable.into();
        }
    };
    // Half the address space for the decoder; the rest holds the source's
    // bytes, the renditions and the encoder.
    let rendered = render(&bytes, memory_bytes / 2, |size, webp| {
        std::fs::write(out_dir.join(format!("{}.webp", size.width)), webp)
    });
    match rendered {
        Ok(rendered) => {
            let json = serde_json::to_string(&rendered).unwrap_or_default();
            let mut stdout = std::io::stdout().lock();
            if writeln!(stdout, "{json}").is_err() {
                return ExitKind::Unreadable.into();
            }
            ExitKind::Done.into()
        }
        Err(failure) => {
            eprintln!("{}", failure.reason);
            failure.kind.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut bytes = Vec::new();
        DynamicImage::ImageRgb8(image)
            .write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap_or_default();
        bytes
    }

    #[test]
    fn renders_every_planned_width_as_webp() {
        let mut written = Vec::new();
        let rendered = render(&png(1000, 400), 64 << 20, |size, webp| {
            written.push((size, webp.to_vec()));
            Ok(())
        })
        .map_err(|failure| failure.reason)
        .unwrap_or_else(|reason| panic!("{reason}"));
        assert_eq!((rendered.width, rendered.height), (1000, 400));
        let widths: Vec<u32> = written.iter().map(|(size, _)| size.width).collect();
        assert_eq!(widths, [1000, 800, 320]);
        for (size, webp) in &written {
            assert_eq!(images::sniff(webp), Some("image/webp"));
            let decoded = image::load_from_memory_with_format(webp, ImageFormat::WebP)
                .unwrap_or_else(|error| panic!("{error}"));
            assert_eq!(
                (decoded.width(), decoded.height()),
                (size.width, size.height)
            );
        }
    }

    #[test]
    fn a_header_claiming_a_huge_image_is_refused_before_decoding() {
        // A valid PNG signature and IHDR chunk saying 60,000 × 60,000, and
        // nothing after it: the claim alone is refused.
        let claiming = |side: u32| {
            let mut bomb = png(1, 1);
            bomb[16..20].copy_from_slice(&side.to_be_bytes());
            bomb[20..24].copy_from_slice(&side.to_be_bytes());
            let mut crc = flate2::Crc::new();
            crc.update(&bomb[12..29]);
            bomb[29..33].copy_from_slice(&crc.sum().to_be_bytes());
            bomb
        };
        let failure = render(&claiming(60_000), 64 << 20, |_, _| Ok(())).err();
        assert_eq!(failure.map(|f| f.kind), Some(ExitKind::TooLarge));
        // Within the sides but past the pixel budget.
        let failure = render(&claiming(10_000), 64 << 20, |_, _| Ok(())).err();
        assert_eq!(failure.map(|f| f.kind), Some(ExitKind::TooLarge));
        // Within the pixels, but 4,000 × 4,000 RGB is 48 MiB decoded.
        let failure = render(&claiming(4_000), 32 << 20, |_, _| Ok(())).err();
        assert_eq!(failure.map(|f| f.kind), Some(ExitKind::TooLarge));
    }

    #[test]
    fn garbage_is_refused() {
        let mut broken = png(10, 10);
        broken.truncate(40);
        let failure = render(&broken, 64 << 20, |_, _| Ok(())).err();
        assert_eq!(failure.map(|f| f.kind), Some(ExitKind::Refused));
        let failure = render(b"GIF89a....", 64 << 20, |_, _| Ok(())).err();
        assert_eq!(failure.map(|f| f.kind), Some(ExitKind::Refused));
    }
}
