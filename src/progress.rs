//! How long work reports its progress: a small trait the library calls and
//! the command line implements with a progress bar, so no library signature
//! names a terminal type.

/// Receives the progress of one piece of long work (an import, a reindex).
pub trait Progress {
    /// Says how many steps the work has in all, once it is known.
    fn set_total(&self, total: u64);
    /// Says `steps` more steps are done.
    fn advance(&self, steps: u64);
}

/// Progress nobody watches: the server's and the tests' work.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn set_total(&self, _total: u64) {}
    fn advance(&self, _steps: u64) {}
}
