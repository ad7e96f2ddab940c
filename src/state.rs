//! What every request handler shares: the database and the catalog snapshot.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::catalog::Catalog;
use crate::db::{changes, vocabulary, Db};
use crate::error::ApiError;

/// How stale the catalog may be before a request checks the change log:
/// this bounds how long a vocabulary write by another process (`arkiv
/// import`, another replica) takes to show.
const CATALOG_CHECK_INTERVAL: Duration = Duration::from_millis(500);

pub struct AppState {
    pub db: Db,
    catalog: RwLock<Arc<Catalog>>,
    checked_at: Mutex<Option<Instant>>,
}

impl AppState {
    /// Builds the state and loads the first catalog snapshot.
    pub fn new(db: Db) -> anyhow::Result<Self> {
        let catalog = vocabulary::load_catalog(&mut *db.conn()?)?;
        Ok(Self {
            db,
            catalog: RwLock::new(Arc::new(catalog)),
            checked_at: Mutex::new(Some(Instant::now())),
        })
    }

    fn current(&self) -> Arc<Catalog> {
        match self.catalog.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Returns the catalog, reloading it first when the change log shows a
    /// vocabulary change it does not reflect.
    pub async fn catalog(&self) -> Result<Arc<Catalog>, ApiError> {
        let due = {
            let mut checked_at = self
                .checked_at
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let due = checked_at.is_none_or(|at| at.elapsed() >= CATALOG_CHECK_INTERVAL);
            if due {
                *checked_at = Some(Instant::now());
            }
            due
        };
        let current = self.current();
        if !due {
            return Ok(current);
        }
        let known_seq = current.seq;
        let fresh = self
            .db
            .run(move |conn| -> Result<Option<Catalog>, ApiError> {
                if changes::latest_vocabulary_seq(conn)? == known_seq {
                    return Ok(None);
                }
                Ok(Some(vocabulary::load_catalog(conn)?))
            })
            .await?;
        match fresh {
            None => Ok(current),
            Some(catalog) => {
                let catalog = Arc::new(catalog);
                if let Ok(mut guard) = self.catalog.write() {
                    *guard = Arc::clone(&catalog);
                }
                Ok(catalog)
            }
        }
    }
}
