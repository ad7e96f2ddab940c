//! `arkiv export`: writes the whole archive, every status included, in the
//! import format, so that export → import into an empty database
//! reproduces it.

use std::io::Write;

use crate::db::publications::{self, Full};
use crate::db::records::{catalog_records, publication_record, Corrupt};
use crate::db::AnyConnection;
use crate::domain::records::Record;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Corrupt(#[from] Corrupt),
}

fn write_line(out: &mut dyn Write, record: &Record) -> Result<(), ExportError> {
    serde_json::to_writer(&mut *out, record).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Writes the whole archive to `out`; returns the number of lines.
pub fn export(conn: &mut AnyConnection, out: &mut dyn Write) -> Result<usize, ExportError> {
    export_where(conn, out, |_| true)
}

/// Writes the vocabulary and the publications `keep` accepts to `out`;
/// returns the number of lines.
pub fn export_where(
    conn: &mut AnyConnection,
    out: &mut dyn Write,
    keep: impl Fn(&Full) -> bool,
) -> Result<usize, ExportError> {
    let catalog = crate::db::vocabulary::load_catalog(conn)?;
    let mut lines = 0;
    for record in catalog_records(&catalog)? {
        write_line(out, &record)?;
        lines += 1;
    }
    let mut failure = None;
    publications::all_in_batches(conn, 500, |full| -> Result<(), ExportError> {
        if !keep(&full) {
            return Ok(());
        }
        let record = match publication_record(&catalog, full) {
            Ok(record) => record,
            Err(error) => {
                failure.get_or_insert(ExportError::from(error));
                return Ok(());
            }
        };
        match write_line(out, &Record::Publication(record)) {
            Ok(()) => {
                lines += 1;
                Ok(())
            }
            Err(error @ ExportError::Io(_)) => Err(error),
            Err(other) => {
                failure.get_or_insert(other);
                Ok(())
            }
        }
    })?;
    match failure {
        Some(error) => Err(error),
        None => {
            out.flush()?;
            Ok(lines)
        }
    }
}
