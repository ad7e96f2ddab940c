//! The demo archive: the organisation's real publications, projects, funders
//! and events as its website describes them, loaded into an empty database
//! so that a newcomer sees a working archive at once.

use crate::db::AnyConnection;
use crate::import::{self, ImportError, ImportReport};

/// The archive, in the import format.
pub const ARCHIVE: &str = include_str!("archive.ndjson");

/// Loads the demo archive (idempotent: a second load changes nothing).
pub fn load(conn: &mut AnyConnection) -> Result<ImportReport, ImportError> {
    let lines = import::parse(ARCHIVE.as_bytes())?;
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
