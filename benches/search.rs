//! Search benchmark driver, run by `bench/search.sh` (see bench/README.md).
//!
//! ```text
//! search text-size CORPUS                      text bytes of the published variants
//! search arkiv BASE_URL QUERIES                /v1/search latency over raw HTTP/1.1
//! search pg DATABASE_URL QUERIES CORPUS        load, then PostgreSQL FTS latency
//! search fts5 DB_FILE QUERIES CORPUS           load, then SQLite FTS5 latency
//! search visibility BASE_URL ARKIV_BIN TRIES   write-to-search-visibility time
//! search suggest BASE_URL CORPUS               /v1/search/suggest latency, keystroke by keystroke
//! ```
//!
//! The latency runs use `SEARCH_CLIENTS` threads (4), each with its own
//! connection, each walking the rotating query set from its own offset, for
//! `SEARCH_WARMUP` unmeasured seconds (3) and then `SEARCH_DURATION`
//! measured seconds (20). Each prints a `RESULT key=value ...` line.
//! Everything loaded comes from the corpus file (drafts skipped).
//! `cargo bench` appends `--bench` to the arguments: it is ignored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::SqliteConnection;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let arg = |i: usize| -> &str {
        args.get(i).map(String::as_str).unwrap_or_else(|| {
            eprintln!("usage: see the top of benches/search.rs");
            std::process::exit(2)
        })
    };
    match arg(0) {
        "text-size" => text_size(arg(1)),
        "arkiv" => bench_arkiv(arg(1), arg(2)),
        "pg" => bench_pg(arg(1), arg(2), arg(3)),
        "fts5" => bench_fts5(arg(1), arg(2), arg(3)),
        "suggest" => bench_suggest(arg(1), arg(2)),
        "visibility" => visibility(arg(1), arg(2), arg(3).parse().expect("TRIES")),
        other => {
            eprintln!("unknown mode {other:?}: see the top of benches/search.rs");
            std::process::exit(2)
        }
    }
}

// --- corpus -------------------------------------------------------------------

/// One published publication: its id and the text of all its variants.
struct Doc {
    id: String,
    text: String,
}

/// Reads the published publications of an NDJSON corpus. Returns them with
/// the sum of the byte lengths of every variant's title, summary and body.
fn read_corpus(path: &str) -> (Vec<Doc>, u64, u64) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut docs = Vec::new();
    let (mut bytes, mut variants) = (0u64, 0u64);
    for line in BufReader::with_capacity(1 << 20, file).lines() {
        let line = line.unwrap();
        if line.trim().is_empty() {
            continue;
        }
        let record: serde_json::Value = serde_json::from_str(&line).unwrap();
        if record["type"] != "publication" || record["status"] != "published" {
            continue;
        }
        let mut text = String::new();
        if let Some(all) = record["variants"].as_object() {
            for variant in all.values() {
                variants += 1;
                for field in ["title", "summary", "body"] {
                    let part = variant[field].as_str().unwrap_or("");
                    bytes += part.len() as u64;
                    text.push_str(part);
                    text.push('\n');
                }
            }
        }
        let id = record["id"].as_str().unwrap_or_default().to_owned();
        docs.push(Doc { id, text });
    }
    (docs, bytes, variants)
}

fn read_queries(path: &str) -> Vec<String> {
    let queries: Vec<String> = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    assert!(!queries.is_empty(), "no queries in {path}");
    queries
}

fn text_size(corpus: &str) {
    let (docs, bytes, variants) = read_corpus(corpus);
    println!(
        "RESULT name=text publications={} variants={variants} bytes={bytes}",
        docs.len()
    );
}

// --- the load loop --------------------------------------------------------------

struct Sample {
    micros: Vec<u64>,
    errors: u64,
    zero_hits: u64,
    first_error: Option<String>,
}

/// Runs `clients` threads, each with its own connection from `connect`,
/// each walking `queries` from its own offset: an unmeasured warm-up, then
/// the measured run. `query` returns the number of hits (at most 10).
fn drive<C, T: Sync>(
    name: &str,
    how: &str,
    queries: &[T],
    connect: impl Fn() -> C + Sync,
    query: impl Fn(&mut C, &T) -> Result<usize, String> + Sync,
) {
    let clients = env_u64("SEARCH_CLIENTS", 4) as usize;
    let warmup = Duration::from_secs(env_u64("SEARCH_WARMUP", 3));
    let duration = Duration::from_secs(env_u64("SEARCH_DURATION", 20));
    let barrier = Barrier::new(clients);
    let mut samples = Vec::new();
    let measured = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|t| {
                let (barrier, connect, query) = (&barrier, &connect, &query);
                scope.spawn(move || {
                    let mut conn = connect();
                    let mut i = t * queries.len() / clients;
                    let mut sample = Sample {
                        micros: Vec::with_capacity(1 << 16),
                        errors: 0,
                        zero_hits: 0,
                        first_error: None,
                    };
                    barrier.wait();
                    let start = Instant::now();
                    let (measure_from, end) = (start + warmup, start + warmup + duration);
                    loop {
                        let q = &queries[i % queries.len()];
                        i += 1;
                        let t0 = Instant::now();
                        if t0 >= end {
                            break;
                        }
                        let result = query(&mut conn, q);
                        let took = t0.elapsed();
                        if t0 < measure_from {
                            continue;
                        }
                        match result {
                            Ok(hits) => {
                                sample.micros.push(took.as_micros() as u64);
                                if hits == 0 {
                                    sample.zero_hits += 1;
                                }
                            }
                            Err(e) => {
                                sample.errors += 1;
                                sample.first_error.get_or_insert(e);
                            }
                        }
                    }
                    sample
                })
            })
            .collect();
        for handle in handles {
            samples.push(handle.join().unwrap());
        }
        duration
    });
    let mut micros: Vec<u64> = samples.iter().flat_map(|s| s.micros.clone()).collect();
    micros.sort_unstable();
    let errors: u64 = samples.iter().map(|s| s.errors).sum();
    let zero: u64 = samples.iter().map(|s| s.zero_hits).sum();
    if let Some(e) = samples.iter().find_map(|s| s.first_error.as_ref()) {
        eprintln!("{name}: {errors} errors, the first: {e}");
    }
    let pct = |p: f64| -> f64 {
        if micros.is_empty() {
            return f64::NAN;
        }
        let rank = ((p * micros.len() as f64).ceil() as usize).clamp(1, micros.len());
        micros[rank - 1] as f64 / 1000.0
    };
    let n = micros.len();
    let mean = micros.iter().sum::<u64>() as f64 / n.max(1) as f64 / 1000.0;
    println!(
        "RESULT name={name} client={how} clients={clients} seconds={} queries={n} qps={:.0} \
         p50_ms={:.3} p90_ms={:.3} p99_ms={:.3} max_ms={:.3} mean_ms={mean:.3} errors={errors} \
         zero_hit_pct={:.1}",
        measured.as_secs(),
        n as f64 / measured.as_secs_f64(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0),
        100.0 * zero as f64 / n.max(1) as f64,
    );
}

// --- arkiv over HTTP/1.1 --------------------------------------------------------

/// A keep-alive HTTP/1.1 connection: enough of the protocol for GET.
struct Http {
    addr: String,
    conn: Option<BufReader<TcpStream>>,
}

impl Http {
    fn new(base: &str) -> Self {
        let addr = base
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        Http { addr, conn: None }
    }

    /// GETs `path`: the status and the body. Reconnects once when the
    /// server closed the kept-alive connection.
    fn get(&mut self, path: &str) -> Result<(u16, Vec<u8>), String> {
        match self.try_get(path) {
            Ok(answer) => Ok(answer),
            Err(_) => {
                self.conn = None;
                self.try_get(path).map_err(|e| e.to_string())
            }
        }
    }

    fn try_get(&mut self, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
        if self.conn.is_none() {
            let stream = TcpStream::connect(&self.addr)?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(Duration::from_secs(30)))?;
            self.conn = Some(BufReader::with_capacity(64 << 10, stream));
        }
        let conn = self.conn.as_mut().unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.addr);
        conn.get_mut().write_all(request.as_bytes())?;
        let bad =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
        let mut line = String::new();
        if conn.read_line(&mut line)? == 0 {
            return Err(bad("connection closed"));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("bad status line"))?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        loop {
            line.clear();
            conn.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.parse::<usize>().ok(),
                    "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                    "connection" => close = value.eq_ignore_ascii_case("close"),
                    _ => {}
                }
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                conn.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| bad("bad chunk size"))?;
                let start = body.len();
                body.resize(start + size, 0);
                conn.read_exact(&mut body[start..])?;
                line.clear();
                conn.read_line(&mut line)?;
                if size == 0 {
                    break;
                }
            }
        } else if let Some(length) = length {
            body.resize(length, 0);
            conn.read_exact(&mut body)?;
        } else {
            conn.read_to_end(&mut body)?;
            close = true;
        }
        if close {
            self.conn = None;
        }
        Ok((status, body))
    }
}

/// The `"total":N` of a search answer, read without parsing the whole body.
fn total_of(body: &[u8]) -> Option<u64> {
    let key = b"\"total\":";
    let at = body.windows(key.len()).position(|w| w == key)? + key.len();
    let digits: String = body[at..]
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| b as char)
        .collect();
    digits.parse().ok()
}

fn search_path(q: &str) -> String {
    format!(
        "/v1/search?q={}&limit=10",
        utf8_percent_encode(q, NON_ALPHANUMERIC)
    )
}

fn bench_arkiv(base: &str, queries: &str) {
    let queries = read_queries(queries);
    let paths: Vec<String> = queries.iter().map(|q| search_path(q)).collect();
    drive(
        "arkiv",
        "rust-http1.1-keepalive",
        &paths,
        || Http::new(base),
        |http, path| {
            let (status, body) = http.get(path)?;
            if status != 200 {
                return Err(format!("{path}: HTTP {status}"));
            }
            let total = total_of(&body).ok_or_else(|| format!("{path}: no total"))?;
            Ok(total.min(10) as usize)
        },
    );
}

/// What a search box sends while a title is typed: for 500 titles spread
/// over the corpus, each prefix of its first three words from two letters
/// on, word by word ("na", "nat", …, "national", "national p", …).
fn keystrokes(corpus: &str) -> Vec<String> {
    let titles: Vec<String> = read_titles(corpus);
    let step = (titles.len() / 500).max(1);
    let mut typed = Vec::new();
    for title in titles.iter().step_by(step).take(500) {
        let words: Vec<&str> = title.split_whitespace().take(3).collect();
        for (k, word) in words.iter().enumerate() {
            let done = words[..k].join(" ");
            let chars: Vec<char> = word.chars().collect();
            for end in 2..=chars.len() {
                let part: String = chars[..end].iter().collect();
                typed.push(if done.is_empty() {
                    part
                } else {
                    format!("{done} {part}")
                });
            }
        }
    }
    assert!(!typed.is_empty(), "no titles in {corpus}");
    typed
}

/// The first variant's title of each published publication.
fn read_titles(path: &str) -> Vec<String> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut titles = Vec::new();
    for line in BufReader::with_capacity(1 << 20, file).lines() {
        let line = line.unwrap();
        let Ok(record) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if record["type"] != "publication" || record["status"] != "published" {
            continue;
        }
        let title = record["variants"]
            .as_object()
            .and_then(|all| all.values().next())
            .and_then(|variant| variant["title"].as_str());
        titles.extend(title.map(str::to_owned));
    }
    titles
}

fn bench_suggest(base: &str, corpus: &str) {
    let paths: Vec<String> = keystrokes(corpus)
        .iter()
        .map(|typed| {
            format!(
                "/v1/search/suggest?q={}",
                utf8_percent_encode(typed, NON_ALPHANUMERIC)
            )
        })
        .collect();
    drive(
        "suggest",
        "rust-http1.1-keepalive",
        &paths,
        || Http::new(base),
        |http, path| {
            let (status, body) = http.get(path)?;
            if status != 200 {
                return Err(format!("{path}: HTTP {status}"));
            }
            let key = b"\"slug\":";
            Ok(body.windows(key.len()).filter(|w| w == key).count())
        },
    );
}

// --- PostgreSQL and SQLite ------------------------------------------------------

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = BigInt)]
    #[allow(dead_code)]
    n: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The documents in batches of 500, each a JSON array to bind as one
/// parameter: `[{"n": 0, "id": "...", "text": "..."}, ...]`.
fn json_batches(docs: &[Doc]) -> impl Iterator<Item = String> + '_ {
    docs.chunks(500).enumerate().map(|(b, batch)| {
        let rows: Vec<serde_json::Value> = batch
            .iter()
            .enumerate()
            .map(|(i, d)| serde_json::json!({"n": b * 500 + i, "id": d.id, "text": d.text}))
            .collect();
        serde_json::to_string(&rows).unwrap()
    })
}

fn bench_pg(url: &str, queries: &str, corpus: &str) {
    let queries = read_queries(queries);
    let (docs, bytes, _) = read_corpus(corpus);
    let mut conn = PgConnection::establish(url).unwrap();
    let started = Instant::now();
    conn.batch_execute(
        "SET maintenance_work_mem = '512MB';
         DROP TABLE IF EXISTS fts_docs;
         CREATE TABLE fts_docs (n bigint PRIMARY KEY, id text NOT NULL, tsv tsvector NOT NULL);",
    )
    .unwrap();
    for json in json_batches(&docs) {
        diesel::sql_query(
            "INSERT INTO fts_docs (n, id, tsv)
             SELECT (r->>'n')::bigint, r->>'id', to_tsvector('simple', r->>'text')
             FROM json_array_elements($1::json) r",
        )
        .bind::<Text, _>(json)
        .execute(&mut conn)
        .unwrap();
    }
    // One statement each: a multi-statement batch is one transaction, and
    // VACUUM refuses to run inside one.
    conn.batch_execute("CREATE INDEX fts_docs_tsv ON fts_docs USING gin (tsv)")
        .unwrap();
    conn.batch_execute("VACUUM ANALYZE fts_docs").unwrap();
    let load_s = started.elapsed().as_secs_f64();
    let size = diesel::sql_query("SELECT pg_total_relation_size('fts_docs') AS n")
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n;
    println!(
        "RESULT name=pg-load publications={} text_bytes={bytes} load_s={load_s:.1} \
         mb_per_s={:.2} size_bytes={size} size_over_text={:.3}",
        docs.len(),
        bytes as f64 / 1e6 / load_s,
        size as f64 / bytes as f64
    );
    drop(docs);
    drive(
        "pg",
        "rust-diesel-pg",
        &queries,
        || PgConnection::establish(url).unwrap(),
        |conn, q| {
            diesel::sql_query(
                "SELECT d.n FROM fts_docs d, websearch_to_tsquery('simple', $1) q
                 WHERE d.tsv @@ q ORDER BY ts_rank_cd(d.tsv, q) DESC LIMIT 10",
            )
            .bind::<Text, _>(q)
            .load::<Hit>(conn)
            .map(|rows| rows.len())
            .map_err(|e| format!("{q:?}: {e}"))
        },
    );
}

/// An FTS5 expression for a query: every word quoted (quotes stripped),
/// joined by spaces (AND). `None` when nothing is left.
fn fts5_expression(q: &str) -> Option<String> {
    let words: Vec<String> = q
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'' || *c == '-' || *c == ',')
                .collect::<String>()
        })
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| format!("\"{w}\""))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

fn open_sqlite(path: &str) -> SqliteConnection {
    let mut conn = SqliteConnection::establish(path).unwrap();
    conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA cache_size = -65536;")
        .unwrap();
    conn
}

fn bench_fts5(path: &str, queries: &str, corpus: &str) {
    let queries = read_queries(queries);
    let (docs, bytes, _) = read_corpus(corpus);
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    let mut conn = open_sqlite(path);
    let started = Instant::now();
    conn.batch_execute(
        "CREATE TABLE fts_ids (n INTEGER PRIMARY KEY, id TEXT NOT NULL);
         CREATE VIRTUAL TABLE fts USING fts5(body, content='');
         BEGIN;",
    )
    .unwrap();
    for json in json_batches(&docs) {
        for insert in [
            "INSERT INTO fts_ids (n, id) SELECT value->>'n', value->>'id' FROM json_each(?1)",
            "INSERT INTO fts (rowid, body) SELECT value->>'n', value->>'text' FROM json_each(?1)",
        ] {
            diesel::sql_query(insert)
                .bind::<Text, _>(&json)
                .execute(&mut conn)
                .unwrap();
        }
    }
    conn.batch_execute("COMMIT; INSERT INTO fts(fts) VALUES ('optimize');")
        .unwrap();
    let load_s = started.elapsed().as_secs_f64();
    drop(conn);
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!(
        "RESULT name=fts5-load publications={} text_bytes={bytes} load_s={load_s:.1} \
         mb_per_s={:.2} size_bytes={size} size_over_text={:.3}",
        docs.len(),
        bytes as f64 / 1e6 / load_s,
        size as f64 / bytes as f64
    );
    drop(docs);
    let expressions: Vec<Option<String>> = queries.iter().map(|q| fts5_expression(q)).collect();
    drive(
        "fts5",
        "rust-diesel-sqlite",
        &expressions,
        || open_sqlite(path),
        |conn, expression| {
            let Some(expression) = expression else {
                return Ok(0);
            };
            diesel::sql_query(
                "SELECT rowid AS n FROM fts WHERE fts MATCH ?1 ORDER BY bm25(fts) LIMIT 10",
            )
            .bind::<Text, _>(expression)
            .load::<Hit>(conn)
            .map(|rows| rows.len())
            .map_err(|e| format!("{expression:?}: {e}"))
        },
    );
}

// --- write-to-search visibility ------------------------------------------------

/// A made-up word: letters only, so every analyzer keeps it whole.
fn made_up_word(seed: u128) -> String {
    let mut x = seed;
    let mut word = String::from("zqx");
    for _ in 0..10 {
        word.push((b'a' + (x % 26) as u8) as char);
        x /= 26;
    }
    word
}

fn visibility(base: &str, arkiv: &str, tries: usize) {
    let dir = std::env::temp_dir();
    let mut http = Http::new(base);
    let (mut from_exit, mut from_start, mut imports) = (Vec::new(), Vec::new(), Vec::new());
    for t in 0..tries {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let word = made_up_word(nanos ^ ((t as u128) << 64));
        let record = serde_json::json!({
            "type": "publication", "id": uuid::Uuid::now_v7(), "slug": format!("probe-{word}"),
            "kind": "report", "status": "published", "published_on": "2026-01-01",
            "variants": {"en": {"title": format!("Visibility probe {word}"),
                                "summary": "A probe.", "body": "A probe."}},
        });
        let file = dir.join(format!("arkiv-probe-{word}.ndjson"));
        std::fs::write(&file, format!("{record}\n")).unwrap();
        let path = search_path(&word);
        let (status, body) = http.get(&path).unwrap();
        assert!(
            status == 200 && total_of(&body) == Some(0),
            "{word} already found"
        );
        let t0 = Instant::now();
        let out = Command::new(arkiv)
            .arg("import")
            .arg(&file)
            .output()
            .unwrap();
        let t1 = Instant::now();
        assert!(
            out.status.success(),
            "import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = std::fs::remove_file(&file);
        loop {
            let (status, body) = http.get(&path).unwrap();
            if status == 200 && total_of(&body) == Some(1) {
                break;
            }
            assert!(
                t1.elapsed() < Duration::from_secs(10),
                "{word}: not visible after 10 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let seen = Instant::now();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        eprintln!(
            "visibility try {}: import took {:.0} ms, visible {:.0} ms after it ended ({:.0} ms after it started)",
            t + 1,
            ms(t1 - t0),
            ms(seen - t1),
            ms(seen - t0)
        );
        imports.push(ms(t1 - t0));
        from_exit.push(ms(seen - t1));
        from_start.push(ms(seen - t0));
        std::thread::sleep(Duration::from_millis(137));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let max = from_exit.iter().copied().fold(0.0, f64::max);
    println!(
        "RESULT name=visibility tries={tries} median_after_import_ms={:.0} max_after_import_ms={max:.0} \
         median_from_import_start_ms={:.0} median_import_ms={:.0}",
        median(&mut from_exit),
        median(&mut from_start),
        median(&mut imports)
    );
}
