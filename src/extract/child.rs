//! The extractor's side: `arkiv extract-text FILE`, run only as a child of
//! the server (or of `arkiv import`). It caps its own address space, CPU
//! time and core files before it reads a byte, parses the PDF, and writes
//! the text to standard output. What went wrong is told by the exit code
//! (see [`ExitKind`]); a crash, a stack overflow or a failed allocation
//! ends only this process.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use rustix::process::{setrlimit, Resource, Rlimit};

/// How the child ends, as its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// The text (possibly empty) is on standard output.
    Done = 0,
    /// The file is encrypted with a password other than the empty one.
    Encrypted = 10,
    /// The parser refused the file: not a PDF it can read.
    Refused = 11,
    /// The file holds more text than the child may return.
    TooMuchText = 12,
    /// The limits could not be set, so nothing was parsed.
    NoLimits = 13,
    /// The file could not be read.
    Unreadable = 14,
    /// A stream inflates past the memory budget (a decompression bomb).
    Bomb = 15,
}

impl ExitKind {
    pub fn of_code(code: i32) -> Option<Self> {
        [
            Self::Done,
            Self::Encrypted,
            Self::Refused,
            Self::TooMuchText,
            Self::NoLimits,
            Self::Unreadable,
            Self::Bomb,
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

/// The limits the child puts on itself.
#[derive(Debug, Clone, Copy)]
pub struct ChildLimits {
    /// Address space, in bytes.
    pub memory_bytes: u64,
    /// CPU time, in seconds (SIGXCPU at the soft limit, SIGKILL a second later).
    pub cpu_seconds: u64,
    /// Bytes of text the child may write.
    pub max_text_bytes: usize,
}

fn limit(resource: Resource, soft: u64, hard: u64) -> std::io::Result<()> {
    setrlimit(
        resource,
        Rlimit {
            current: Some(soft),
            maximum: Some(hard),
        },
    )
    .map_err(std::io::Error::from)
}

/// Caps this process's address space and CPU time and forbids core
/// files: no untrusted byte is parsed before. Shared by every confined
/// child (PDF text, image renditions).
pub(crate) fn confine(memory_bytes: u64, cpu_seconds: u64) -> std::io::Result<()> {
    limit(Resource::As, memory_bytes, memory_bytes)?;
    limit(Resource::Cpu, cpu_seconds, cpu_seconds.saturating_add(1))?;
    // No core file from a crash.
    limit(Resource::Core, 0, 0)?;
    Ok(())
}

/// A sink that keeps at most `cap` bytes and fails past them, which stops
/// the extractor at once.
struct Capped {
    text: Vec<u8>,
    cap: usize,
    overflowed: bool,
}

impl Write for Capped {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.text.len() + bytes.len() > self.cap {
            self.overflowed = true;
            return Err(std::io::Error::other("too much text"));
        }
        self.text.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs the extraction of `path` under `limits`; the exit code says how it went.
pub fn run(path: &Path, limits: ChildLimits) -> ExitCode {
    if let Err(error) = confine(limits.memory_bytes, limits.cpu_seconds) {
        eprintln!("cannot set the extractor's limits: {error}");
        return ExitKind::NoLimits.into();
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("cannot read the file: {error}");
            return ExitKind::Unreadable.into();
        }
    };
    let kind = extract(
        &bytes,
        limits.memory_bytes / 4,
        limits.max_text_bytes,
        &mut std::io::stdout().lock(),
    );
    kind.into()
}

/// Whether a stream of `document` compressed with Flate (once or more)
/// inflates past `budget` bytes. The parser would inflate it whole, and,
/// refused memory, quietly go on with part of it: so bombs are found
/// here first, by inflating each stream into nothing, counting.
fn holds_a_bomb(document: &pdf_extract::Document, budget: u64) -> bool {
    use std::io::Read;
    document.objects.values().any(|object| {
        let Ok(stream) = object.as_stream() else {
            return false;
        };
        let Ok(filters) = stream.filters() else {
            return false;
        };
        if filters.is_empty() || filters.iter().any(|filter| *filter != b"FlateDecode") {
            return false;
        }
        let mut reader: Box<dyn Read + '_> = Box::new(&stream.content[..]);
        for _ in &filters {
            reader = Box::new(flate2::read::ZlibDecoder::new(reader));
        }
        let inflated = std::io::copy(&mut reader.take(budget + 1), &mut std::io::sink());
        inflated.is_ok_and(|inflated| inflated > budget)
    })
}

/// Extracts the text of a PDF in memory to `out`, whitespace collapsed,
/// refusing one with a stream that inflates past `inflate_budget` bytes.
pub(crate) fn extract(
    bytes: &[u8],
    inflate_budget: u64,
    max_text_bytes: usize,
    out: &mut impl Write,
) -> ExitKind {
    let mut document = match pdf_extract::Document::load_mem(bytes) {
        Ok(document) => document,
        Err(error) => {
            eprintln!("not a readable PDF: {error}");
            return ExitKind::Refused;
        }
    };
    // Many PDFs are "encrypted" with an empty password only to carry
    // permissions; those are read. Any other password is not ours to try.
    if document.is_encrypted() && document.decrypt("").is_err() {
        return ExitKind::Encrypted;
    }
    if holds_a_bomb(&document, inflate_budget) {
        eprintln!("a stream inflates past {inflate_budget} bytes");
        return ExitKind::Bomb;
    }
    let mut sink = Capped {
        text: Vec::new(),
        cap: max_text_bytes,
        overflowed: false,
    };
    let extracted = {
        let writer: &mut dyn Write = &mut sink;
        let mut output = pdf_extract::PlainTextOutput::new(writer);
        pdf_extract::output_doc(&document, &mut output)
    };
    if sink.overflowed {
        return ExitKind::TooMuchText;
    }
    if let Err(error) = extracted {
        eprintln!("the text could not be extracted: {error}");
        return ExitKind::Refused;
    }
    let text = String::from_utf8_lossy(&sink.text);
    let mut words = text.split_whitespace();
    let mut written = Ok(());
    if let Some(first) = words.next() {
        written = out.write_all(first.as_bytes());
        for word in words {
            if written.is_err() {
                break;
            }
            written = out
                .write_all(b" ")
                .and_then(|()| out.write_all(word.as_bytes()));
        }
    }
    match written.and_then(|()| out.flush()) {
        Ok(()) => ExitKind::Done,
        // The parent stopped reading: it has what it wants, or gave up.
        Err(_) => ExitKind::TooMuchText,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_read_back() {
        for kind in [ExitKind::Done, ExitKind::Encrypted, ExitKind::TooMuchText] {
            assert_eq!(ExitKind::of_code(kind as i32), Some(kind));
        }
        assert_eq!(ExitKind::of_code(101), None);
    }

    #[test]
    fn a_non_pdf_is_refused_in_process_without_limits() {
        let mut out = Vec::new();
        assert_eq!(
            extract(b"<html>not a pdf</html>", 1 << 20, 1024, &mut out),
            ExitKind::Refused
        );
        assert!(out.is_empty());
    }
}
