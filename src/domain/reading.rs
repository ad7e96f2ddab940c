//! What a card shows of a text it has no room for: an excerpt cut at a
//! word, and how long the whole takes to read.

/// The longest excerpt, in characters, its ellipsis included.
pub const EXCERPT_CHARS: usize = 300;

/// Words a minute a reader of reports gets through.
const WORDS_PER_MINUTE: usize = 200;

/// Returns a plain excerpt of `summary`, or of `body` when there is no
/// summary: whitespace collapsed, at most [`EXCERPT_CHARS`] characters, cut
/// at a word boundary with `…` when it had to be cut.
pub fn excerpt(summary: &str, body: &str) -> String {
    let source = if summary.trim().is_empty() {
        body
    } else {
        summary
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

/// Returns the minutes a text takes to read, rounded up; 0 for no text.
pub fn reading_minutes(body: &str) -> u32 {
    let words = body.split_whitespace().count();
    u32::try_from(words.div_ceil(WORDS_PER_MINUTE)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_summary_is_the_excerpt_with_its_spaces_collapsed() {
        assert_eq!(
            excerpt("  Who runs\n the  system. ", "body"),
            "Who runs the system."
        );
        assert_eq!(excerpt("", "The body, then."), "The body, then.");
        assert_eq!(excerpt(" \n", ""), "");
    }

    #[test]
    fn a_long_text_is_cut_at_a_word_within_the_limit() {
        let text = "Dialogu për normalizim, ".repeat(40);
        let cut = excerpt(&text, "");
        assert!(cut.chars().count() <= EXCERPT_CHARS, "{cut}");
        assert!(
            cut.ends_with("normalizim…") || cut.ends_with("për…") || cut.ends_with("Dialogu…"),
            "{cut}"
        );
        assert!(text.starts_with(cut.trim_end_matches('…')));
        // Exactly at the limit: no ellipsis.
        let exact = "a".repeat(EXCERPT_CHARS);
        assert_eq!(excerpt(&exact, ""), exact);
        // One giant word is cut inside.
        let giant = "ж".repeat(1000);
        let cut = excerpt(&giant, "");
        assert_eq!(cut.chars().count(), EXCERPT_CHARS);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn reading_time_rounds_up_by_two_hundred_words() {
        assert_eq!(reading_minutes(""), 0);
        assert_eq!(reading_minutes("one"), 1);
        assert_eq!(reading_minutes(&"word ".repeat(200)), 1);
        assert_eq!(reading_minutes(&"word ".repeat(201)), 2);
    }
}
