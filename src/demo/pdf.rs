//! A small PDF writer for the demo archive's files: A4 pages of text in
//! the standard Helvetica fonts, WinAnsi-encoded, with a correct cross-
//! reference table, so that any reader (and the server's own extractor)
//! reads them. Only what the demo needs: a title, paragraphs, wrapping.

use std::fmt::Write as _;

/// Characters on a line of body text (Helvetica 10.5 pt on A4 with
/// 56 pt margins).
const LINE_CHARS: usize = 88;
/// Lines of body text on a page.
const PAGE_LINES: usize = 52;

/// Writes a PDF with `title` on top of the first page and `paragraphs`
/// below it, wrapped at word boundaries onto as many pages as they need.
pub fn document(title: &str, paragraphs: &[&str]) -> Vec<u8> {
    let mut lines: Vec<(bool, String)> = Vec::new();
    for line in wrap(title, LINE_CHARS * 10 / 16) {
        lines.push((true, line));
    }
    for paragraph in paragraphs {
        lines.push((false, String::new()));
        for line in wrap(paragraph, LINE_CHARS) {
            lines.push((false, line));
        }
    }
    let pages: Vec<&[(bool, String)]> = lines.chunks(PAGE_LINES).collect();

    // Objects: 1 catalog, 2 page tree, 3 and 4 fonts, then a page and its
    // content stream for each page.
    let page_id = |index: usize| 5 + 2 * index;
    let mut objects: Vec<Vec<u8>> = Vec::new();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", page_id(i)))
        .collect();
    objects.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    );
    for font in ["Helvetica", "Helvetica-Bold"] {
        objects.push(
            format!(
                "<< /Type /Font /Subtype /Type1 /BaseFont /{font} /Encoding /WinAnsiEncoding >>"
            )
            .into_bytes(),
        );
    }
    for (index, page) in pages.iter().enumerate() {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
                 /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                page_id(index) + 1
            )
            .into_bytes(),
        );
        let mut content = b"BT\n56 786 Td\n".to_vec();
        for (heading, line) in page.iter() {
            let (font, size, leading) = if *heading {
                ("F2", 16, 20)
            } else {
                ("F1", 10, 14)
            };
            content.extend_from_slice(format!("/{font} {size} Tf {leading} TL\n(").as_bytes());
            content.extend_from_slice(&win_ansi(line));
            content.extend_from_slice(b") Tj T*\n");
        }
        content.extend_from_slice(b"ET\n");
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(&content);
        stream.extend_from_slice(b"endstream");
        objects.push(stream);
    }

    let mut pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", index + 1).as_bytes());
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    pdf.extend_from_slice(table.as_bytes());
    pdf
}

/// Splits `text` into lines of at most `width` characters at spaces (a
/// longer word gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Encodes text for a WinAnsi font inside a PDF string: Latin-1 as it is,
/// the typographic marks and the few Latin letters Windows-1252 adds at
/// their codes, anything else as `?`; `\`, `(` and `)` escaped.
fn win_ansi(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len());
    for c in text.chars() {
        let code = match c {
            '\\' | '(' | ')' => {
                bytes.push(b'\\');
                c as u8
            }
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '…' => 0x85,
            'Š' => 0x8a,
            'Ž' => 0x8e,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            'š' => 0x9a,
            'ž' => 0x9e,
            _ => b'?',
        };
        bytes.push(code);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extractor_reads_back_what_was_written() {
        let body = "Participants agreed that the Association/Community of Serb-majority \
                    municipalities (ASM) is “the” key question; Prishtinë and Štrpce took part. "
            .repeat(40);
        let pdf = document("Conclusions (expert discussion)", &[&body, "Last words."]);
        assert!(pdf.starts_with(b"%PDF-1.4"));
        let mut text = Vec::new();
        let kind = crate::extract::child::extract(&pdf, 64 << 20, 1 << 20, &mut text);
        assert_eq!(kind, crate::extract::child::ExitKind::Done);
        let text = String::from_utf8_lossy(&text);
        assert!(text.contains("Conclusions (expert discussion)"), "{text}");
        assert!(text.contains("Prishtinë and Štrpce took part"), "{text}");
        assert!(text.contains("Last words."), "{text}");
    }

    #[test]
    fn long_texts_wrap_at_words_onto_pages() {
        let lines = wrap(&"word ".repeat(100), 22);
        assert!(lines.iter().all(|line| line.chars().count() <= 22));
        assert_eq!(
            lines.iter().map(|l| l.split(' ').count()).sum::<usize>(),
            100
        );
        let pdf = document("T", &[&"lorem ipsum ".repeat(2_000)]);
        let pages = String::from_utf8_lossy(&pdf)
            .matches("/Type /Page ")
            .count();
        assert!(pages > 1, "{pages} pages");
    }
}
