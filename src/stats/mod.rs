//! Reader statistics (D84): views and downloads counted in memory as they
//! happen, added to the database's daily rows every few seconds.
//!
//! A count is made of a publication, the language served and the UTC day.
//! Robots (the COUNTER list) are not counted, nor a second view or download
//! of the same publication in the same language by the same reader within
//! 30 seconds (COUNTER's double-click rule). The reader is a hash of the
//! client's address and user agent under a key that changes every UTC day
//! and never leaves memory: nothing that names a reader is stored, and
//! yesterday's hashes cannot be tied to today's.
//!
//! All-time totals per publication are kept in memory as the database last
//! had them, and read from it again at each flush (those changed since,
//! by this process or another), so a detail shows them without a query.

pub mod robots;

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::stats::{self as stored, Delta};
use crate::db::AnyConnection;
use robots::Robots;

/// A repeat within this many milliseconds of the counted one is not counted.
pub const DOUBLE_CLICK_MS: i64 = 30_000;

/// How many recent (reader, publication, language) sightings are kept for
/// the double-click rule; past that, new readers are not counted until the
/// old sightings age out (a flood of fresh addresses cannot grow memory).
const MAX_RECENT: usize = 1 << 20;

/// The recent sightings are split over this many locks.
const SHARDS: usize = 16;

/// How far back, before its own last look, a process reads totals changed
/// by others, so that a clock a little behind does not hide their counts.
const REFRESH_OVERLAP_S: i64 = 120;

/// What was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// A publication's page in one language (a detail, or a beacon).
    View,
    /// A variant's file.
    Download,
}

/// What became of one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Counted,
    /// Counting is off (`ARKIV_STATS=off`).
    Off,
    /// The user agent is on the robots list.
    Robot,
    /// The same reader read the same thing within 30 seconds.
    Repeat,
    /// Too many readers at once to apply the double-click rule.
    Crowded,
}

/// Views and downloads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Counts {
    #[schema(example = 1240)]
    pub views: i64,
    #[schema(example = 310)]
    pub downloads: i64,
}

impl Counts {
    fn add(&mut self, event: Event) {
        match event {
            Event::View => self.views += 1,
            Event::Download => self.downloads += 1,
        }
    }
}

/// How a process counts.
#[derive(Clone)]
pub struct StatsSettings {
    /// Whether reads are counted at all.
    pub enabled: bool,
    pub robots: std::sync::Arc<Robots>,
}

impl Default for StatsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            robots: std::sync::Arc::new(Robots::counter()),
        }
    }
}

/// The time counts are made at: the system clock, which tests may move.
#[derive(Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock by `by` (tests of the double-click rule and of
    /// day boundaries).
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }

    /// Sets this clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        self.offset_ms
            .store((at - Utc::now()).num_milliseconds(), Ordering::Relaxed);
    }
}

/// The day's key of reader hashes.
struct Salt {
    day: NaiveDate,
    key: RandomState,
}

/// The outcomes so far, for `/metrics`.
#[derive(Default)]
struct Tally {
    views: AtomicU64,
    downloads: AtomicU64,
    robots: AtomicU64,
    repeats: AtomicU64,
    crowded: AtomicU64,
    flushes: AtomicU64,
    flush_failures: AtomicU64,
}

type PendingKey = (String, String, NaiveDate);

pub struct Stats {
    settings: StatsSettings,
    pub clock: Clock,
    salt: Mutex<Salt>,
    recent: Vec<Mutex<HashMap<u64, i64>>>,
    pending: Mutex<HashMap<PendingKey, Counts>>,
    totals: RwLock<HashMap<String, Counts>>,
    /// When this process last read the totals (None: never; the next
    /// refresh reads them all).
    refreshed_at: Mutex<Option<DateTime<Utc>>>,
    tally: Tally,
}

impl Stats {
    pub fn new(settings: StatsSettings) -> Self {
        let clock = Clock::default();
        let salt = Salt {
            day: clock.now().date_naive(),
            key: RandomState::new(),
        };
        Self {
            settings,
            clock,
            salt: Mutex::new(salt),
            recent: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            pending: Mutex::new(HashMap::new()),
            totals: RwLock::new(HashMap::new()),
            refreshed_at: Mutex::new(None),
            tally: Tally::default(),
        }
    }

    /// Whether reads are counted.
    pub fn enabled(&self) -> bool {
        self.settings.enabled
    }

    /// Counts one read of `publication_id` in `lang` by the reader at
    /// `client` with `user_agent`, unless a rule says not to.
    pub fn record(
        &self,
        event: Event,
        publication_id: &str,
        lang: &str,
        client: Option<IpAddr>,
        user_agent: Option<&str>,
    ) -> Outcome {
        if !self.settings.enabled {
            return Outcome::Off;
        }
        if self.settings.robots.is_robot(user_agent) {
            self.tally.robots.fetch_add(1, Ordering::Relaxed);
            return Outcome::Robot;
        }
        let now = self.clock.now();
        let day = now.date_naive();
        let reader = {
            let mut salt = self.salt.lock().unwrap_or_else(PoisonError::into_inner);
            if salt.day != day {
                // A new day, a new key: nothing links today's readers to
                // yesterday's.
                *salt = Salt {
                    day,
                    key: RandomState::new(),
                };
            }
            salt.key
                .hash_one((client, user_agent, event, publication_id, lang))
        };
        let at = now.timestamp_millis();
        {
            let mut recent = self.recent[(reader % SHARDS as u64) as usize]
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match recent.get(&reader) {
                Some(&last) if (at - last).abs() < DOUBLE_CLICK_MS => {
                    self.tally.repeats.fetch_add(1, Ordering::Relaxed);
                    return Outcome::Repeat;
                }
                Some(_) => {}
                None if recent.len() >= MAX_RECENT / SHARDS => {
                    self.tally.crowded.fetch_add(1, Ordering::Relaxed);
                    return Outcome::Crowded;
                }
                None => {}
            }
            recent.insert(reader, at);
        }
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((publication_id.to_owned(), lang.to_owned(), day))
            .or_default()
            .add(event);
        match event {
            Event::View => &self.tally.views,
            Event::Download => &self.tally.downloads,
        }
        .fetch_add(1, Ordering::Relaxed);
        Outcome::Counted
    }

    /// A publication's all-time totals as of the last refresh.
    pub fn totals(&self, publication_id: &str) -> Counts {
        self.totals
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(publication_id)
            .copied()
            .unwrap_or_default()
    }

    /// Adds what was counted since the last flush to the database in one
    /// transaction, then reads back the totals changed since the last look
    /// (by any process) and forgets sightings older than the double-click
    /// window. On failure the counts are kept for the next flush. Returns
    /// the day rows added to.
    pub fn flush(&self, conn: &mut AnyConnection) -> Result<usize, diesel::result::Error> {
        let taken =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        let now = self.clock.now();
        let deltas: Vec<Delta> = taken
            .iter()
            .map(|((publication_id, lang, day), counts)| Delta {
                publication_id: publication_id.clone(),
                lang: lang.clone(),
                day: day.format("%Y-%m-%d").to_string(),
                views: counts.views,
                downloads: counts.downloads,
            })
            .collect();
        // Totals are stamped by the system clock, whatever a test did to
        // the counting clock: other processes read them by that stamp.
        let stamp = crate::domain::format_timestamp(Utc::now());
        let added = match stored::add(conn, &deltas, &stamp) {
            Ok(added) => added,
            Err(error) => {
                self.tally.flush_failures.fetch_add(1, Ordering::Relaxed);
                let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
                for (key, counts) in taken {
                    let kept = pending.entry(key).or_default();
                    kept.views += counts.views;
                    kept.downloads += counts.downloads;
                }
                return Err(error);
            }
        };
        self.tally.flushes.fetch_add(1, Ordering::Relaxed);
        // The counts are in; totals shown stay as they were until a
        // refresh succeeds.
        if let Err(error) = self.refresh(conn) {
            tracing::warn!(%error, "reader totals not read back; they are shown as of the last look");
        }
        let horizon = now.timestamp_millis() - DOUBLE_CLICK_MS;
        for shard in &self.recent {
            shard
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|_, at| *at > horizon);
        }
        Ok(added)
    }

    /// Reads the totals changed since the last look (all of them the first
    /// time) into memory.
    pub fn refresh(&self, conn: &mut AnyConnection) -> Result<(), diesel::result::Error> {
        let now = Utc::now();
        let since = self
            .refreshed_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map(|at| {
                crate::domain::format_timestamp(at - chrono::Duration::seconds(REFRESH_OVERLAP_S))
            });
        let changed = stored::totals_since(conn, since.as_deref())?;
        {
            let mut totals = self.totals.write().unwrap_or_else(PoisonError::into_inner);
            for row in changed {
                totals.insert(
                    row.publication_id,
                    Counts {
                        views: row.views,
                        downloads: row.downloads,
                    },
                );
            }
        }
        *self
            .refreshed_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(now);
        Ok(())
    }

    /// Reads counted and not yet flushed.
    pub fn pending(&self) -> usize {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The counters in the Prometheus text format.
    pub fn render_metrics(&self, out: &mut String) {
        use std::fmt::Write;
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let tally = &self.tally;
        let _ = writeln!(
            out,
            "# HELP arkiv_stats_reads_total Reads of publications by readers, by event and what became of them.\n\
             # TYPE arkiv_stats_reads_total counter\n\
             arkiv_stats_reads_total{{event=\"view\",outcome=\"counted\"}} {}\n\
             arkiv_stats_reads_total{{event=\"download\",outcome=\"counted\"}} {}\n\
             arkiv_stats_reads_total{{event=\"any\",outcome=\"robot\"}} {}\n\
             arkiv_stats_reads_total{{event=\"any\",outcome=\"repeat\"}} {}\n\
             arkiv_stats_reads_total{{event=\"any\",outcome=\"crowded\"}} {}\n\
             # HELP arkiv_stats_flushes_total Flushes of counts to the database, by result.\n\
             # TYPE arkiv_stats_flushes_total counter\n\
             arkiv_stats_flushes_total{{result=\"ok\"}} {}\n\
             arkiv_stats_flushes_total{{result=\"failed\"}} {}\n\
             # HELP arkiv_stats_pending Publication, language and day counts waiting for the next flush.\n\
             # TYPE arkiv_stats_pending gauge\n\
             arkiv_stats_pending {}",
            get(&tally.views),
            get(&tally.downloads),
            get(&tally.robots),
            get(&tally.repeats),
            get(&tally.crowded),
            get(&tally.flushes),
            get(&tally.flush_failures),
            self.pending(),
        );
    }
}

/// Flushes `stats` into `db` every `interval` on a thread of its own, for
/// as long as the process runs (the server flushes once more as it stops).
pub fn spawn_flusher(
    db: crate::db::Db,
    stats: std::sync::Arc<Stats>,
    interval: std::time::Duration,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("stats-flush".into())
        .spawn(move || loop {
            std::thread::sleep(interval);
            let result = db
                .conn()
                .map_err(|error| error.to_string())
                .and_then(|mut conn| stats.flush(&mut conn).map_err(|error| error.to_string()));
            if let Err(error) = result {
                tracing::warn!(%error, pending = stats.pending(), "reader counts not flushed; they are kept for the next try");
            }
        })
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BROWSER: Option<&str> =
        Some("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0");

    fn client(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, last]))
    }

    #[test]
    fn a_repeat_within_thirty_seconds_is_one_read() {
        let stats = Stats::new(StatsSettings::default());
        let read = |who| stats.record(Event::View, "p1", "en", client(who), BROWSER);
        assert_eq!(read(1), Outcome::Counted);
        assert_eq!(read(1), Outcome::Repeat);
        // Another reader, another language, a download: each its own.
        assert_eq!(read(2), Outcome::Counted);
        assert_eq!(
            stats.record(Event::View, "p1", "sq", client(1), BROWSER),
            Outcome::Counted
        );
        assert_eq!(
            stats.record(Event::Download, "p1", "en", client(1), BROWSER),
            Outcome::Counted
        );
        stats
            .clock
            .advance(chrono::Duration::milliseconds(DOUBLE_CLICK_MS - 1));
        assert_eq!(read(1), Outcome::Repeat);
        stats.clock.advance(chrono::Duration::milliseconds(1));
        assert_eq!(read(1), Outcome::Counted);
        let pending = stats.pending.lock().expect("lock");
        let day = stats.clock.now().date_naive();
        assert_eq!(
            pending[&("p1".to_owned(), "en".to_owned(), day)],
            Counts {
                views: 3,
                downloads: 1
            }
        );
    }

    #[test]
    fn robots_and_a_switched_off_counter_count_nothing() {
        let stats = Stats::new(StatsSettings::default());
        assert_eq!(
            stats.record(Event::View, "p1", "en", client(1), Some("curl/8.5.0")),
            Outcome::Robot
        );
        assert_eq!(
            stats.record(Event::View, "p1", "en", client(1), None),
            Outcome::Robot
        );
        let off = Stats::new(StatsSettings {
            enabled: false,
            ..StatsSettings::default()
        });
        assert_eq!(
            off.record(Event::View, "p1", "en", client(1), BROWSER),
            Outcome::Off
        );
        assert_eq!(stats.pending() + off.pending(), 0);
    }
}
