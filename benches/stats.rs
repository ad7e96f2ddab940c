//! What one reader count costs, in process: `cargo bench --bench stats`
//! (or `--profile dist`). Prints nanoseconds per `Stats::record` for a new
//! reader each time (robots check on an unseen user agent, hash, sighting
//! table, pending counts), for a repeat within 30 s, for a browser whose
//! user agent was seen before, and for a robot, on two threads at once as
//! the server's two workers would; bench/stats.sh measures the same cost
//! as HTTP throughput against `ARKIV_STATS=off`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::time::Instant;

use arkiv::stats::{Event, Outcome, Stats, StatsSettings};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const PER_THREAD: u32 = 200_000;

/// Runs `each` PER_THREAD times on each of two threads; returns ns per call.
fn timed(each: impl Fn(u32, u32) -> Outcome + Sync) -> f64 {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for thread in 0..2u32 {
            let each = &each;
            scope.spawn(move || {
                for i in 0..PER_THREAD {
                    std::hint::black_box(each(thread, i));
                }
            });
        }
    });
    started.elapsed().as_nanos() as f64 / f64::from(2 * PER_THREAD)
}

fn main() {
    let stats = Stats::new(StatsSettings::default());
    let address = |thread: u32, i: u32| Some(IpAddr::from((thread << 24 | i).to_be_bytes()));
    let publications: Vec<String> = (0..1000)
        .map(|i| format!("0190f0aa-0000-7000-8000-{i:012}"))
        .collect();

    let new_agents = timed(|thread, i| {
        let agent = format!("{FIREFOX} reader/{thread}/{i}");
        stats.record(
            Event::View,
            &publications[i as usize % 1000],
            "sq",
            address(thread, i),
            Some(&agent),
        )
    });
    let new_readers = timed(|thread, i| {
        stats.record(
            Event::View,
            &publications[i as usize % 1000],
            "en",
            address(thread, i),
            Some(FIREFOX),
        )
    });
    let repeats = timed(|thread, _| {
        stats.record(
            Event::View,
            &publications[0],
            "en",
            address(thread, 0),
            Some(FIREFOX),
        )
    });
    let robots = timed(|thread, i| {
        stats.record(
            Event::View,
            &publications[0],
            "en",
            address(thread, i),
            Some("curl/8.5.0"),
        )
    });
    let baseline = timed(|thread, i| {
        // What any request does anyway: format a small string.
        std::hint::black_box(format!("{thread}/{i}"));
        Outcome::Off
    });
    println!("RESULT record_ns new_reader_new_agent={new_agents:.0} new_reader_known_agent={new_readers:.0} repeat={repeats:.0} robot={robots:.0} format_baseline={baseline:.0}");
}
