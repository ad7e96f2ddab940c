//! PDF text extraction, out of process. A PDF is untrusted input, and the
//! parser can recurse without bound (a Form XObject that draws itself),
//! loop for ever (a page that is its own parent) or allocate without bound
//! (a stream compressed twice). So the server never parses one in its own
//! address space: each extraction runs `arkiv extract-text` as a child
//! with a wall-time limit (enforced here), and address-space, CPU-time and
//! output limits (set by the child on itself before it parses; see
//! [`child`]). At most `concurrency` children run at once; at most `queue`
//! more wait; past that a caller hears [`Busy`] (a 503 with `Retry-After`).
//! [`Extractor::stop`] kills every child, so a shutdown never waits on one.

pub mod child;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::watch;

use crate::bounded::BoundedQueue;
pub use crate::bounded::{Busy, Ticket};
use crate::domain::text::{TextError, TextStatus};
use child::ExitKind;

/// What an extraction came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The file's text, whitespace collapsed.
    Extracted(String),
    /// The file was read and holds no text.
    NoText,
    /// The file could not be read; the file itself is kept.
    Failed(TextError),
}

impl Outcome {
    /// The status, error and text a variant stores for this outcome.
    pub fn into_parts(self) -> (TextStatus, Option<TextError>, Option<String>) {
        match self {
            Self::Extracted(text) => (TextStatus::Extracted, None, Some(text)),
            Self::NoText => (TextStatus::NoText, None, None),
            Self::Failed(error) => (TextStatus::Failed, Some(error), None),
        }
    }
}

/// The limits and sizes of the extractor (`ARKIV_EXTRACT_*`).
#[derive(Debug, Clone)]
pub struct ExtractSettings {
    /// The `arkiv` binary to run as `arkiv extract-text`.
    pub program: PathBuf,
    /// Wall time of one extraction; the child's CPU limit is the same.
    pub timeout: Duration,
    /// The child's address space, in MiB.
    pub memory_mb: u64,
    /// Text one extraction may return, in bytes.
    pub max_text_bytes: usize,
    /// Extractions running at once.
    pub concurrency: usize,
    /// Extractions that may wait for a slot.
    pub queue: usize,
}

impl ExtractSettings {
    /// The defaults, running this very executable as the child.
    pub fn for_this_executable() -> Self {
        Self {
            program: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("arkiv")),
            timeout: Duration::from_secs(30),
            memory_mb: 512,
            max_text_bytes: 16 << 20,
            concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            queue: 8,
        }
    }
}

/// Runs extractions in children, a bounded number at once.
pub struct Extractor {
    settings: ExtractSettings,
    queue: Arc<BoundedQueue>,
    stopping: watch::Sender<bool>,
}

/// What a child left behind: its exit, what it wrote, and whether we
/// stopped it.
pub(crate) struct Finished {
    pub status: Option<std::process::ExitStatus>,
    pub stdout: Vec<u8>,
    pub stdout_overflowed: bool,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
}

/// How much of the child's standard error is kept for the log.
const STDERR_KEPT: usize = 4096;

impl Extractor {
    pub fn new(settings: ExtractSettings) -> Arc<Self> {
        let queue = BoundedQueue::new(settings.concurrency, settings.queue);
        Arc::new(Self {
            settings,
            queue,
            stopping: watch::Sender::new(false),
        })
    }

    pub fn settings(&self) -> &ExtractSettings {
        &self.settings
    }

    /// Seconds a refused caller is told to wait: about one extraction.
    pub fn retry_after_seconds(&self) -> u32 {
        u32::try_from(self.settings.timeout.as_secs().clamp(1, 60)).unwrap_or(30)
    }

    /// Takes a place among the admitted extractions, or says the queue is
    /// full. Callers take it before reading an upload, so a refused client
    /// sends nothing in vain.
    pub fn admit(&self) -> Result<Ticket, Busy> {
        self.queue.admit()
    }

    /// Kills every running child and refuses new work: for shutdown.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
        self.queue.close();
    }

    /// Extracts the text of the PDF at `path` in a child, waiting for a
    /// slot first. A child that crashes, overruns a limit or is stopped
    /// fails the file, never the caller.
    pub async fn extract(&self, ticket: &Ticket, path: &Path) -> Outcome {
        let Some(_slot) = ticket.slot().await else {
            return Outcome::Failed(TextError::ExtractTimeout);
        };
        let started = std::time::Instant::now();
        let outcome = match self.run_child(path).await {
            Ok(finished) => self.judge(finished),
            Err(error) => {
                tracing::error!(%error, program = %self.settings.program.display(), "cannot start the PDF text extractor");
                Outcome::Failed(TextError::ExtractFailed)
            }
        };
        tracing::info!(
            outcome = match &outcome {
                Outcome::Extracted(_) => "extracted",
                Outcome::NoText => "no_text",
                Outcome::Failed(error) => error.as_str(),
            },
            millis = started.elapsed().as_millis() as u64,
            "extracted a PDF's text"
        );
        outcome
    }

    /// Extracts from a blocking context (`arkiv import`), on a runtime of
    /// its own.
    pub fn extract_blocking(&self, path: &Path) -> std::io::Result<Outcome> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let ticket = self
                .admit()
                .map_err(|Busy| std::io::Error::other("the extractor is busy"))?;
            Ok(self.extract(&ticket, path).await)
        })
    }

    async fn run_child(&self, path: &Path) -> std::io::Result<Finished> {
        let settings = &self.settings;
        let args = [
            "extract-text".into(),
            "--memory-mb".into(),
            settings.memory_mb.to_string().into(),
            "--cpu-seconds".into(),
            self.cpu_seconds().to_string().into(),
            "--max-text-bytes".into(),
            settings.max_text_bytes.to_string().into(),
            "--".into(),
            path.as_os_str().to_owned(),
        ];
        self.run_confined(&args, settings.max_text_bytes).await
    }

    /// CPU seconds a child may use: its wall time.
    pub fn cpu_seconds(&self) -> u64 {
        self.settings.timeout.as_secs().max(1)
    }

    /// Runs this executable with `args` as a child that confines itself
    /// (see [`child::confine`]), within the wall-time limit and until the
    /// server stops, keeping at most `stdout_cap` bytes of its output.
    pub(crate) async fn run_confined(
        &self,
        args: &[std::ffi::OsString],
        stdout_cap: usize,
    ) -> std::io::Result<Finished> {
        let settings = &self.settings;
        let mut child = tokio::process::Command::new(&settings.program)
            .args(args)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let cap = stdout_cap;
        let mut stopping = self.stopping.subscribe();
        let run = async {
            let (out, err, status) = tokio::join!(
                read_capped(stdout, cap),
                read_capped(stderr, STDERR_KEPT),
                child.wait()
            );
            (out, err, status)
        };
        let ended = tokio::select! {
            ended = tokio::time::timeout(settings.timeout, run) => ended.ok(),
            _ = stopping.wait_for(|stopping| *stopping) => None,
        };
        match ended {
            Some(((stdout, stdout_overflowed), (stderr, _), status)) => Ok(Finished {
                status: Some(status?),
                stdout,
                stdout_overflowed,
                stderr,
                timed_out: false,
            }),
            None => {
                // Over time, or the server stops: kill the child and reap it.
                let _ = child.start_kill();
                let status = child.wait().await.ok();
                Ok(Finished {
                    status,
                    stdout: Vec::new(),
                    stdout_overflowed: false,
                    stderr: Vec::new(),
                    timed_out: true,
                })
            }
        }
    }

    /// Turns how the child ended into an outcome.
    fn judge(&self, finished: Finished) -> Outcome {
        use std::os::unix::process::ExitStatusExt;
        if finished.timed_out {
            return Outcome::Failed(TextError::ExtractTimeout);
        }
        let stderr = String::from_utf8_lossy(&finished.stderr);
        let memory =
            stderr.contains("memory allocation of") || stderr.contains("capacity overflow");
        let Some(status) = finished.status else {
            return Outcome::Failed(TextError::ExtractCrashed);
        };
        let failed = |error: TextError| {
            tracing::warn!(%error, status = %status, stderr = %stderr.trim(), "the PDF text extractor failed on a file");
            Outcome::Failed(error)
        };
        if let Some(signal) = status.signal() {
            let cpu = rustix::process::Signal::XCPU.as_raw();
            let kill = rustix::process::Signal::KILL.as_raw();
            return if signal == cpu || signal == kill {
                failed(TextError::ExtractTimeout)
            } else if memory {
                failed(TextError::ExtractMemory)
            } else {
                failed(TextError::ExtractCrashed)
            };
        }
        match status.code().and_then(ExitKind::of_code) {
            Some(ExitKind::Done) if finished.stdout_overflowed => {
                failed(TextError::ExtractTooLarge)
            }
            Some(ExitKind::Done) => {
                let text = String::from_utf8_lossy(&finished.stdout).trim().to_owned();
                if text.is_empty() {
                    Outcome::NoText
                } else {
                    Outcome::Extracted(text)
                }
            }
            Some(ExitKind::Encrypted) => failed(TextError::Encrypted),
            Some(ExitKind::Refused) => failed(TextError::ExtractFailed),
            Some(ExitKind::TooMuchText) => failed(TextError::ExtractTooLarge),
            Some(ExitKind::Bomb) => failed(TextError::ExtractMemory),
            Some(ExitKind::NoLimits | ExitKind::Unreadable) => {
                tracing::error!(stderr = %stderr.trim(), "the PDF text extractor could not start its work");
                Outcome::Failed(TextError::ExtractFailed)
            }
            None if memory => failed(TextError::ExtractMemory),
            // A panic (101) or any other end: the extractor broke on the file.
            None => failed(TextError::ExtractCrashed),
        }
    }
}

/// Reads a stream to its end, keeping at most `cap` bytes; the rest is
/// read and dropped, so the child never blocks on a full pipe. Returns the
/// bytes kept and whether any were dropped.
async fn read_capped(stream: Option<impl AsyncRead + Unpin>, cap: usize) -> (Vec<u8>, bool) {
    let Some(mut stream) = stream else {
        return (Vec::new(), false);
    };
    let mut kept = Vec::new();
    let mut overflowed = false;
    let mut buffer = vec![0u8; 64 << 10];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => {
                let room = cap.saturating_sub(kept.len());
                if read > room {
                    overflowed = true;
                }
                kept.extend_from_slice(&buffer[..read.min(room)]);
            }
        }
    }
    (kept, overflowed)
}
