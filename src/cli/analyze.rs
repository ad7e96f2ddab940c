//! `arkiv analyze --lang LANG`: the terms the search index makes of text,
//! so that anyone can see why a word matched or did not. Each line of
//! standard input goes through the analyzer of the language's bodies (the
//! chain indexing runs) and comes out as its terms, one output line per
//! input line.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};

use anyhow::Context;

use crate::domain::Lang;
use crate::search::{analyzers, pairs, schema};

/// The longest line read, in bytes. A longer line is refused with an error
/// naming it rather than cut: part of a line's terms would be a wrong
/// answer, and a line of a mebibyte is not text someone is checking.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Reads `--lang`: `en`, `sq`, or `sr` for Serbian in either script
/// (`sr-Latn` and `sr-Cyrl` too, which share its fields).
pub fn parse_lang(raw: &str) -> Result<Lang, String> {
    if raw.eq_ignore_ascii_case("sr") {
        return Ok(Lang::SrLatn);
    }
    raw.parse()
        .map_err(|_| format!("{raw:?} is not one of en, sq, sr (sr-Latn and sr-Cyrl are sr)"))
}

/// Writes the terms of each line of `input` to `output`, separated by
/// single spaces; a pair of common words, which the index holds as one
/// term besides its two words, is written in double quotes (`"of the"`).
/// Output is flushed whenever reading would wait, so it streams. Stops
/// quietly when `output` is closed (`arkiv analyze | head`).
pub fn analyze(lang: Lang, input: impl Read, output: impl Write) -> anyhow::Result<()> {
    let mut analyzer = schema::body_analyzer(lang)
        .with_context(|| format!("no analyzer for the bodies of {lang}"))?;
    let mut input = BufReader::new(input);
    let mut output = std::io::BufWriter::new(output);
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        let read = input
            .by_ref()
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .with_context(|| format!("cannot read line {number}"))?;
        if read == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        } else {
            anyhow::ensure!(
                line.len() <= MAX_LINE_BYTES,
                "line {number} is longer than {MAX_LINE_BYTES} bytes"
            );
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let text =
            std::str::from_utf8(&line).with_context(|| format!("line {number} is not UTF-8"))?;
        let terms: Vec<String> = analyzers::terms(&mut analyzer, text)
            .into_iter()
            .map(|term| {
                if pairs::is_pair(&term) {
                    format!("\"{term}\"")
                } else {
                    term
                }
            })
            .collect();
        let written = writeln!(output, "{}", terms.join(" ")).and_then(|()| {
            if input.buffer().is_empty() {
                output.flush()
            } else {
                Ok(())
            }
        });
        match written {
            Err(error) if error.kind() == ErrorKind::BrokenPipe => return Ok(()),
            other => other.context("cannot write the terms")?,
        }
    }
    match output.flush() {
        Err(error) if error.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write the terms"),
    }
}
