//! What a card shows of a text it has no room for: an excerpt cut at a
//! word, and how long the whole takes to read. Both read a body as its
//! reader does: a Markdown body without its syntax.

use crate::domain::markup::{plain_text, BodyFormat};

/// The longest excerpt, in characters, its ellipsis included.
pub const EXCERPT_CHARS: usize = 300;

/// Words a minute a reader of reports gets through.
const WORDS_PER_MINUTE: usize = 200;

/// Returns a plain excerpt of `summary`, or of `body` (written in `format`)
/// when there is no summary: whitespace collapsed, at most
/// [`EXCERPT_CHARS`] characters, cut at a word boundary with `…` when it
/// had to be cut.
///
/// `body` may be only the start of a body (lists read 1,200 characters):
/// a Markdown construct cut off at its end shows as text, which matters
/// only when the 300 characters of an excerpt reach that far.
pub fn excerpt(summary: &str, body: &str, format: BodyFormat) -> String {
    let source = if summary.trim().is_empty() {
        plain_text(format, body)
    } else {
        summary.into()
    };
    let words: Vec<&str> = source.split_whitespace().collect();
    let mut out = String::new();
    let mut chars = 0;
    for (i, word) in words.iter().enumerate() {
        let length = word.chars().count();
        let separator = usize::from(!out.is_empty());
        let last = i + 1 == words.len();
        // Room for the word, and for the ellipsis unless it is the last one.
        let room = EXCERPT_CHARS - usize::from(!last);
        if chars + separator + length > room {
            if out.is_empty() {
                // One word longer than the excerpt: cut inside it.
                out.extend(word.chars().take(EXCERPT_CHARS - 1));
            }
            let trimmed = out.trim_end_matches([',', ';', ':', '.', '-', '–', '—']);
            let mut cut = trimmed.to_owned();
            cut.push('…');
            return cut;
        }
        if separator == 1 {
            out.push(' ');
        }
        out.push_str(word);
        chars += separator + length;
    }
    out
}

/// Returns the minutes a body written in `format` takes to read, rounded
/// up; 0 for no text.
pub fn reading_minutes(body: &str, format: BodyFormat) -> u32 {
    let words = plain_text(format, body).split_whitespace().count();
    u32::try_from(words.div_ceil(WORDS_PER_MINUTE)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: BodyFormat = BodyFormat::Plain;

    #[test]
    fn a_short_summary_is_the_excerpt_with_its_spaces_collapsed() {
        assert_eq!(
            excerpt("  Who runs\n the  system. ", "body", PLAIN),
            "Who runs the system."
        );
        assert_eq!(excerpt("", "The body, then.", PLAIN), "The body, then.");
        assert_eq!(excerpt(" \n", "", PLAIN), "");
    }

    #[test]
    fn a_long_text_is_cut_at_a_word_within_the_limit() {
        let text = "Dialogu për normalizim, ".repeat(40);
        let cut = excerpt(&text, "", PLAIN);
        assert!(cut.chars().count() <= EXCERPT_CHARS, "{cut}");
        assert!(
            cut.ends_with("normalizim…") || cut.ends_with("për…") || cut.ends_with("Dialogu…"),
            "{cut}"
        );
        assert!(text.starts_with(cut.trim_end_matches('…')));
        // Exactly at the limit: no ellipsis.
        let exact = "a".repeat(EXCERPT_CHARS);
        assert_eq!(excerpt(&exact, "", PLAIN), exact);
        // One giant word is cut inside.
        let giant = "ж".repeat(1000);
        let cut = excerpt(&giant, "", PLAIN);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn reading_time_rounds_up_by_two_hundred_words() {
        assert_eq!(reading_minutes("", PLAIN), 0);
        assert_eq!(reading_minutes("one", PLAIN), 1);
        assert_eq!(reading_minutes(&"word ".repeat(200), PLAIN), 1);
        assert_eq!(reading_minutes(&"word ".repeat(201), PLAIN), 2);
    }

    #[test]
    fn a_markdown_body_is_read_without_its_syntax() {
        let body =
            "## Findings\n\nThe **talks** went on; see [the report](https://example.org/r).\n";
        let cut = excerpt("", body, BodyFormat::Markdown);
        assert_eq!(cut, "Findings The talks went on; see the report.");
        // The summary is plain text whatever the body's format.
        assert_eq!(
            excerpt("A *plain* summary", body, BodyFormat::Markdown),
            "A *plain* summary"
        );
        // A link's address and title are not read.
        let links = "[word](https://example.org/a \"a long title\") ".repeat(200);
        assert_eq!(reading_minutes(&links, BodyFormat::Markdown), 1);
        assert_eq!(reading_minutes(&links, PLAIN), 4);
    }
}
