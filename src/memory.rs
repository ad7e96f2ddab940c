//! Giving memory back to the system after a burst of work.
//!
//! glibc's allocator keeps what a burst of allocation (a search-index
//! rebuild, the indexing of a large import) freed in its arenas, for reuse:
//! measured on 50,000 publications, the server stayed at 1,026 MB after a
//! rebuild, 816 MB of it freed heap, against a 191 MB index. `malloc_trim`
//! hands the free pages back (268 MB then). See DECISIONS.md (D87).
//!
//! Under a steady load the other cost is the number of arenas: glibc gives
//! threads up to eight arenas a core, each keeping its own freed pages, and
//! the server's threads (workers, the blocking pool, the indexer) spread
//! their allocations over all of them. [`limit_arenas`] caps them (D93).

use std::time::{Duration, Instant};

/// Work that frees at least this many changes' worth of indexing is
/// followed by a trim at once; less, at most once a minute.
const TRIM_AFTER_CHANGES: u64 = 1000;
const TRIM_INTERVAL: Duration = Duration::from_secs(60);

/// Returns the allocator's free memory to the system.
pub fn release() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer and only rearranges the
    // allocator's own free lists under the allocator's locks; glibc
    // documents it as safe to call from any thread at any time.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The most malloc arenas a server process uses: one per core, at least
/// two (glibc's default is eight per core).
pub fn arena_limit() -> usize {
    std::thread::available_parallelism().map_or(2, |cores| cores.get().max(2))
}

/// Caps glibc's malloc arenas at `arenas`. Call it before threads start:
/// arenas already made stay. `MALLOC_ARENA_MAX` in the environment wins.
pub fn limit_arenas(arenas: usize) {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt takes two integers and only changes the allocator's
    // own settings, under its lock; glibc documents it as callable at any
    // time, and M_ARENA_MAX only bounds arenas made later.
    #[allow(unsafe_code)]
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, i32::try_from(arenas).unwrap_or(i32::MAX));
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = arenas;
}

/// Decides when indexing done since the last trim is worth a trim.
#[derive(Debug)]
pub struct Trimmer {
    since: u64,
    last: Instant,
}

impl Default for Trimmer {
    fn default() -> Self {
        Self {
            since: 0,
            last: Instant::now(),
        }
    }
}

impl Trimmer {
    /// Notes `changes` applied; when the work then pauses (`idle`), trims
    /// if enough was done, or if anything was and a minute has passed.
    /// Returns whether it trimmed.
    pub fn note(&mut self, changes: u64, idle: bool) -> bool {
        self.since += changes;
        let due = idle
            && self.since > 0
            && (self.since >= TRIM_AFTER_CHANGES || self.last.elapsed() >= TRIM_INTERVAL);
        if due {
            release();
            self.since = 0;
            self.last = Instant::now();
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trim_waits_for_a_pause_after_enough_work() {
        let mut trimmer = Trimmer::default();
        assert!(!trimmer.note(5000, false), "not while busy");
        assert!(trimmer.note(0, true), "at the pause after 5,000 changes");
        assert!(!trimmer.note(0, true), "nothing new");
        assert!(!trimmer.note(3, true), "three changes wait for the minute");
        trimmer.last -= TRIM_INTERVAL;
        assert!(trimmer.note(0, true), "and are trimmed after it");
    }
}
