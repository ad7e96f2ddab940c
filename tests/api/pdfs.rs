//! PDFs made in code for the tests: well-formed ones with text, and the
//! hostile ones an attacker or a broken printer driver sends. Nothing here
//! comes from outside; every file is built from its objects.

use std::io::Write;

/// A PDF of `objects` (numbered from 1, object 1 the catalog) with a
/// correct cross-reference table; `trailer` is added to the trailer.
pub fn document(objects: &[Vec<u8>], trailer: &str) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R {trailer}>>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// An object written as text.
fn object(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

/// A stream object with `dictionary` entries and a true `/Length`.
pub fn stream(dictionary: &str, data: &[u8]) -> Vec<u8> {
    let mut object = format!("<< {dictionary} /Length {} >>\nstream\n", data.len()).into_bytes();
    object.extend_from_slice(data);
    object.extend_from_slice(b"\nendstream");
    object
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).expect("deflate");
    encoder.finish().expect("deflate")
}

const CATALOG: &str = "<< /Type /Catalog /Pages 2 0 R >>";
const PAGES: &str = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>";
const FONT: &str =
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>";

/// A one-page PDF showing `text` in Helvetica.
pub fn with_text(text: &str) -> Vec<u8> {
    let content = format!("BT /F1 18 Tf 72 720 Td ({text}) Tj ET");
    document(
        &[
            object(CATALOG),
            object(PAGES),
            object(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
                 /Resources << /Font << /F1 5 0 R >> >> >>",
            ),
            stream("", content.as_bytes()),
            object(FONT),
        ],
        "",
    )
}

/// A page whose Form XObject draws itself: unbounded recursion.
pub fn self_drawing_form() -> Vec<u8> {
    document(
        &[
            object(CATALOG),
            object(PAGES),
            object(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
                 /Resources << /XObject << /X1 5 0 R >> >> >>",
            ),
            stream("", b"/X1 Do"),
            stream(
                "/Type /XObject /Subtype /Form /BBox [0 0 10 10] \
                 /Resources << /XObject << /X1 5 0 R >> >>",
                b"/X1 Do",
            ),
        ],
        "",
    )
}

/// A page that is its own /Parent, without the resources it would inherit.
pub fn page_its_own_parent() -> Vec<u8> {
    document(
        &[
            object(CATALOG),
            object(PAGES),
            object("<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"),
            stream("", b"BT /F1 12 Tf (hi) Tj ET"),
        ],
        "",
    )
}

/// A page tree whose /Kids lead back to where they started.
pub fn kids_cycle() -> Vec<u8> {
    document(
        &[
            object(CATALOG),
            object("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
            object("<< /Type /Pages /Kids [2 0 R] /Count 1 >>"),
        ],
        "",
    )
}

/// A page with an entry nested `depth` deep: arrays, or dictionaries.
pub fn deeply_nested(depth: usize, dictionaries: bool) -> Vec<u8> {
    let (open, close) = if dictionaries {
        ("<< /A ", ">>")
    } else {
        ("[", "]")
    };
    let page = format!(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Deep {}{} >>",
        open.repeat(depth),
        close.repeat(depth)
    );
    document(&[object(CATALOG), object(PAGES), object(&page)], "")
}

/// Bits written least significant first, as DEFLATE packs them.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    used: u32,
}

impl Bits {
    /// Appends the low `count` bits of `value`, least significant first.
    fn push(&mut self, value: u32, count: u32) {
        for bit in 0..count {
            if self.used % 8 == 0 {
                self.bytes.push(0);
            }
            if value >> bit & 1 == 1 {
                if let Some(last) = self.bytes.last_mut() {
                    *last |= 1 << (self.used % 8);
                }
            }
            self.used += 1;
        }
    }

    /// Appends a Huffman code, which DEFLATE packs most significant first.
    fn code(&mut self, code: u32, count: u32) {
        for bit in (0..count).rev() {
            self.push(code >> bit & 1, 1);
        }
    }
}

/// A zlib stream of `count` zero bytes, written by hand in fixed Huffman
/// codes: one literal zero, then copies of 258 bytes from one byte back.
/// About 13 bits for every 258 bytes, without spending the time to
/// compress them.
fn zlib_zeros(count: usize) -> Vec<u8> {
    let mut bits = Bits::default();
    bits.push(1, 1); // the final block
    bits.push(1, 2); // fixed Huffman codes
    let literal_zero = |bits: &mut Bits| bits.code(0x30, 8);
    literal_zero(&mut bits);
    let rest = count.saturating_sub(1);
    for _ in 0..rest / 258 {
        bits.code(0b1100_0101, 8); // length code 285: 258 bytes
        bits.code(0, 5); // distance code 0: one byte back
    }
    for _ in 0..rest % 258 {
        literal_zero(&mut bits);
    }
    bits.code(0, 7); // end of block
    let mut zlib = vec![0x78, 0x01];
    zlib.extend_from_slice(&bits.bytes);
    // Adler-32 of zeros: the first sum stays 1, the second adds it each byte.
    let adler = ((count % 65521) as u32) << 16 | 1;
    zlib.extend_from_slice(&adler.to_be_bytes());
    zlib
}

/// A content stream compressed twice that inflates to `inflated` zero
/// bytes: a few kilobytes on disk.
pub fn flate_in_flate(inflated: usize) -> Vec<u8> {
    let twice = deflate(&zlib_zeros(inflated));
    document(
        &[
            object(CATALOG),
            object(PAGES),
            object("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"),
            stream("/Filter [/FlateDecode /FlateDecode]", &twice),
        ],
        "",
    )
}

/// A content stream whose /Length claims far more than there is.
pub fn lying_length() -> Vec<u8> {
    let content = b"BT /F1 12 Tf 72 720 Td (lying) Tj ET";
    let mut stream = b"<< /Length 999999 >>\nstream\n".to_vec();
    stream.extend_from_slice(content);
    stream.extend_from_slice(b"\nendstream");
    document(
        &[
            object(CATALOG),
            object(PAGES),
            object(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
                 /Resources << /Font << /F1 5 0 R >> >> >>",
            ),
            stream,
            object(FONT),
        ],
        "",
    )
}

#[test]
fn hand_written_zeros_inflate_to_zeros() {
    use std::io::Read;
    for count in [1, 258, 259, 1000, 70_000] {
        let mut inflated = Vec::new();
        flate2::read::ZlibDecoder::new(&zlib_zeros(count)[..])
            .read_to_end(&mut inflated)
            .expect("a valid zlib stream");
        assert_eq!(inflated.len(), count);
        assert!(inflated.iter().all(|byte| *byte == 0));
    }
}

/// A PDF cut off in its middle, cross-reference table and all.
pub fn truncated() -> Vec<u8> {
    let whole = with_text("cut off");
    whole[..whole.len() / 2].to_vec()
}

/// A PDF encrypted (standard security handler) with a password that is
/// not the empty one.
pub fn encrypted() -> Vec<u8> {
    document(
        &[
            object(CATALOG),
            object(PAGES),
            object("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"),
            stream("", b"xx"),
            object(&format!(
                "<< /Filter /Standard /V 1 /R 2 /O <{}> /U <{}> /P -4 >>",
                "11".repeat(32),
                "22".repeat(32)
            )),
        ],
        "/Encrypt 5 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>] ",
    )
}

/// Form XObjects `levels` deep, each drawing the next ten times, the last
/// drawing `leaf`: 10^levels draws from a file of a few hundred bytes.
pub fn billion_laughs(levels: usize, leaf: &str) -> Vec<u8> {
    let first_form = 5;
    let font = first_form + levels;
    let mut objects = vec![
        object(CATALOG),
        object(PAGES),
        object(&format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
             /Resources << /XObject << /X {first_form} 0 R >> /Font << /F1 {font} 0 R >> >> >>"
        )),
        stream("", b"/X Do"),
    ];
    for level in 0..levels {
        let number = first_form + level;
        let (resources, body) = if level + 1 == levels {
            (format!("/Font << /F1 {font} 0 R >>"), leaf.to_owned())
        } else {
            (
                format!("/XObject << /X {} 0 R >>", number + 1),
                "/X Do ".repeat(10),
            )
        };
        objects.push(stream(
            &format!(
                "/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << {resources} >>"
            ),
            body.as_bytes(),
        ));
    }
    objects.push(object(FONT));
    document(&objects, "")
}

/// Ten to the ninth strokes and no text: work without end, in no memory.
pub fn endless_drawing() -> Vec<u8> {
    billion_laughs(9, "0 0 m 1 1 l S")
}

/// A hundred draws of a line of 1,800 characters: about 180 KB of text
/// from a file of under 3 KB.
pub fn much_text() -> Vec<u8> {
    billion_laughs(
        3,
        &format!("BT /F1 12 Tf ({}) Tj ET", "abcdefgh ".repeat(200)),
    )
}
