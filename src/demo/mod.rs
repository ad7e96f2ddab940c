//! The demo archive: the organisation's real publications, projects, funders
//! and events as its website describes them, loaded into an empty database
//! so that a newcomer sees a working archive at once: with PDFs, covers
//! and logos that this code makes at first start.

mod media;
mod pdf;

use crate::db::AnyConnection;
use crate::files::FileStore;
use crate::import::{self, ImportError, ImportReport};

/// The archive, in the import format.
pub const ARCHIVE: &str = include_str!("archive.ndjson");

/// Loads the demo archive (idempotent: a second load changes nothing).
/// With a file store, the archive gets its files and pictures too (see
/// [`media`]), written into it.
pub fn load(
    conn: &mut AnyConnection,
    files: Option<&FileStore>,
) -> Result<ImportReport, ImportError> {
    let mut lines = import::parse(ARCHIVE.as_bytes())?;
    if let Some(files) = files {
        media::attach(&mut lines, files).map_err(ImportError::Io)?;
    }
    import::import(conn, &lines, &crate::progress::Silent)
}

/// Returns true when the archive holds no publication and no organisation.
pub fn database_is_empty(conn: &mut AnyConnection) -> diesel::QueryResult<bool> {
    use crate::db::schema::{organisations, publications};
    use diesel::prelude::*;
    let publications: i64 = publications::table.count().get_result(conn)?;
    let organisations: i64 = organisations::table.count().get_result(conn)?;
    Ok(publications == 0 && organisations == 0)
}
