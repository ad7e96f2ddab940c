//! Keeps the search index in step with the change log, and rebuilds it:
//! the indexer thread the server runs, and the rebuild thread an admin
//! starts ([`Rebuilds`]).
//!
//! The indexer reads changes after the sequence number of the index's last
//! commit, in batches; for each batch it deletes every touched publication
//! by id, re-adds the ones that are public, and commits with the batch's
//! last sequence number as the payload. A kill between batches loses
//! nothing: the next start resumes from the payload, and re-applying a
//! change is harmless (delete, then add).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use diesel::prelude::*;

use super::index::SearchIndex;
use crate::db::schema::{
    changes, project_funders, project_partners, publication_fields, publications,
};
use crate::db::{publications as queries, vocabulary, AnyConnection, Db};
use crate::progress::Progress;

/// How many change-log entries one commit applies.
pub const BATCH: i64 = 1_000;

/// How long the indexer waits between looks at the change log.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Returns the publications a vocabulary change touches: those of a changed
/// project or event, in a changed field, or under a project a changed
/// organisation funds or implements.
fn publications_touched_by(
    conn: &mut AnyConnection,
    entity: &str,
    id: &str,
) -> QueryResult<Vec<String>> {
    match entity {
        "project" => publications::table
            .filter(publications::project_id.eq(id))
            .select(publications::id)
            .load(conn),
        "event" => publications::table
            .filter(publications::event_id.eq(id))
            .select(publications::id)
            .load(conn),
        "field" => publication_fields::table
            .filter(publication_fields::field_id.eq(id))
            .select(publication_fields::publication_id)
            .load(conn),
        "organisation" => {
            let mut projects: Vec<String> = project_funders::table
                .filter(project_funders::organisation_id.eq(id))
                .select(project_funders::project_id)
                .load(conn)?;
            projects.extend(
                project_partners::table
                    .filter(project_partners::organisation_id.eq(id))
                    .select(project_partners::project_id)
                    .load::<String>(conn)?,
            );
            // Organisers are not in the index; funders and partners are.
            publications::table
                .filter(publications::project_id.eq_any(projects))
                .select(publications::id)
                .load(conn)
        }
        _ => Ok(Vec::new()),
    }
}

/// Applies every change after the index's payload, a batch per commit.
/// Returns how many change-log entries were applied.
pub fn catch_up(conn: &mut AnyConnection, index: &SearchIndex) -> anyhow::Result<usize> {
    let mut applied = 0;
    loop {
        match apply_next_batch(conn, index, BATCH)? {
            0 => return Ok(applied),
            count => applied += count,
        }
    }
}

/// Applies the next `size` changes after the index's payload in one
/// commit; returns how many there were (0: the index is up to date).
pub fn apply_next_batch(
    conn: &mut AnyConnection,
    index: &SearchIndex,
    size: i64,
) -> anyhow::Result<usize> {
    let from = index.applied_seq() as i64;
    let batch: Vec<(i64, String, String)> = changes::table
        .filter(changes::seq.gt(from))
        .order(changes::seq)
        .limit(size)
        .select((changes::seq, changes::entity, changes::entity_id))
        .load(conn)?;
    let Some(&(last_seq, _, _)) = batch.last() else {
        return Ok(0);
    };
    let mut touched = BTreeSet::new();
    for (_, entity, id) in &batch {
        if entity == "publication" {
            touched.insert(id.clone());
        } else {
            touched.extend(publications_touched_by(conn, entity, id)?);
        }
    }
    let catalog = vocabulary::load_catalog(conn)?;
    let ids: Vec<String> = touched.into_iter().collect();
    let mut docs = Vec::new();
    for id in &ids {
        if let Some(full) = queries::find(conn, Some(id), None)? {
            docs.extend(index.document(&full, &catalog));
        }
    }
    index.apply(&ids, docs, last_seq as u64)?;
    Ok(batch.len())
}

/// Rebuilds the index from the database: every published publication, in
/// one commit whose payload is the change-log position read first (so a
/// change made meanwhile is applied again by the next catch-up).
pub fn rebuild(
    conn: &mut AnyConnection,
    index: &SearchIndex,
    progress: &dyn Progress,
) -> anyhow::Result<u64> {
    let seq = crate::db::changes::latest_seq(conn)?;
    let total: i64 = publications::table.count().get_result(conn)?;
    progress.set_total(total as u64);
    let catalog = vocabulary::load_catalog(conn)?;
    let mut added = 0;
    index.rebuild(seq as u64, |add| -> anyhow::Result<()> {
        queries::all_in_batches(conn, 500, |full| -> anyhow::Result<()> {
            if let Some(doc) = index.document(&full, &catalog) {
                add(doc).map_err(std::io::Error::other)?;
                added += 1;
            }
            progress.advance(1);
            Ok(())
        })?;
        Ok(())
    })?;
    Ok(added)
}

/// Runs the indexer until the process ends: catch up, wait, repeat. Errors
/// are logged and retried after a pause; the index never moves past a
/// change it has not applied.
pub fn spawn_indexer(
    db: Db,
    index: Arc<SearchIndex>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("indexer".into())
        .spawn(move || {
            // Indexing a large import leaves hundreds of megabytes freed
            // but kept by the allocator: given back when it pauses.
            let mut trimmer = crate::memory::Trimmer::default();
            loop {
                let result = db
                    .conn()
                    .map_err(anyhow::Error::from)
                    .and_then(|mut conn| catch_up(&mut conn, &index));
                match result {
                    Ok(0) => {
                        trimmer.note(0, true);
                        std::thread::sleep(POLL_INTERVAL)
                    }
                    Ok(applied) => {
                        trimmer.note(applied as u64, false);
                        tracing::debug!(applied, seq = index.applied_seq(), "indexed changes")
                    }
                    Err(error) => {
                        tracing::error!(%error, "indexing failed; retrying in a second");
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            }
        })
}

/// The state of the server's search index rebuild (`POST /v1/admin/reindex`).
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct RebuildStatus {
    /// Whether a rebuild runs now.
    pub running: bool,
    /// When the last rebuild started and finished (null before the first).
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Published publications the last finished rebuild indexed.
    pub indexed: Option<u64>,
    /// Why the last rebuild failed, when it did (the old index stayed).
    pub error: Option<String>,
}

/// Why a rebuild did not start.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// One runs already, since this time.
    #[error("a rebuild has been running since {0}")]
    Running(String),
    #[error("cannot start the rebuild thread: {0}")]
    Spawn(#[from] std::io::Error),
}

/// The server's rebuilds of its search index: at most one at a time, on a
/// thread of its own, and how the last one went.
#[derive(Debug, Default)]
pub struct Rebuilds {
    status: Arc<Mutex<RebuildStatus>>,
}

impl Rebuilds {
    /// How the last rebuild went, or that one runs.
    pub fn status(&self) -> RebuildStatus {
        lock(&self.status).clone()
    }

    /// Starts rebuilding `index` from the database on a thread of its own,
    /// unless one runs already. The indexer waits for the rebuild's commit
    /// (they share the index writer), then goes on from there.
    pub fn start(&self, db: Db, index: Arc<SearchIndex>) -> Result<RebuildStatus, RebuildError> {
        let started = {
            let mut status = lock(&self.status);
            if status.running {
                let since = status.started_at.as_deref().unwrap_or("a moment ago");
                return Err(RebuildError::Running(since.to_owned()));
            }
            *status = RebuildStatus {
                running: true,
                started_at: Some(crate::domain::now_timestamp()),
                ..RebuildStatus::default()
            };
            status.clone()
        };
        let shared = Arc::clone(&self.status);
        let spawned = std::thread::Builder::new()
            .name("rebuild".into())
            .spawn(move || {
                // A panic must not leave `running` set for ever.
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    db.conn()
                        .map_err(anyhow::Error::from)
                        .and_then(|mut conn| rebuild(&mut conn, &index, &crate::progress::Silent))
                }))
                .unwrap_or_else(|_| Err(anyhow::anyhow!("the rebuild panicked")));
                // A rebuild frees most of what it allocated: give it back.
                crate::memory::release();
                let mut status = lock(&shared);
                status.running = false;
                status.finished_at = Some(crate::domain::now_timestamp());
                match result {
                    Ok(indexed) => {
                        tracing::info!(indexed, "search index rebuilt");
                        status.indexed = Some(indexed);
                    }
                    Err(error) => {
                        tracing::error!(%error, "search index rebuild failed");
                        status.error = Some(error.to_string());
                    }
                }
            });
        if let Err(error) = spawned {
            lock(&self.status).running = false;
            return Err(RebuildError::Spawn(error));
        }
        Ok(started)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
