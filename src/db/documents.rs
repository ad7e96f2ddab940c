//! Rendered publication details (D88): a detail's JSON in one language,
//! kept compressed beside the publication it was made from. A row is read
//! only together with its publication, and only while it still matches it
//! (content hash and update time) and the server's render key, so a row
//! can be stale in the table but is never served stale.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::{publication_documents as documents, publications};
use super::AnyConnection;
use crate::domain::PublicationStatus;

/// A document as read: the publication it shows and the compressed JSON.
#[derive(Debug, Clone)]
pub struct Current {
    pub publication_id: String,
    pub content_hash: String,
    pub document: Vec<u8>,
}

/// A freshly rendered document to keep.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub publication_id: String,
    pub lang: String,
    pub content_hash: String,
    pub updated_at: String,
    pub render_key: String,
    pub document: Vec<u8>,
}

/// The stored `lang` document of the published publication with this id
/// or slug, if it is current: made from the publication as it is now and
/// with `render_key`. None otherwise (no such publication, not published,
/// no document, or a stale one).
pub fn current(
    conn: &mut AnyConnection,
    id: Option<&str>,
    slug: Option<&str>,
    lang: &str,
    render_key: &str,
) -> QueryResult<Option<Current>> {
    // Two static queries, so that diesel keeps both prepared; the row is
    // joined on its key alone and compared here, which keeps the statement
    // diesel walks to bind it small.
    let columns = (
        publications::id,
        publications::content_hash,
        publications::updated_at,
        documents::content_hash,
        documents::updated_at,
        documents::render_key,
        documents::document,
    );
    let joined = publications::table
        .inner_join(documents::table.on(documents::publication_id.eq(publications::id)));
    let published = publications::status.eq(PublicationStatus::Published);
    type Row = (String, String, String, String, String, String, Vec<u8>);
    let row: Option<Row> = match (id, slug) {
        (Some(id), _) => joined
            .filter(publications::id.eq(id))
            .filter(documents::lang.eq(lang))
            .filter(published)
            .select(columns)
            .first(conn)
            .optional()?,
        (None, Some(slug)) => joined
            .filter(publications::slug.eq(slug))
            .filter(documents::lang.eq(lang))
            .filter(published)
            .select(columns)
            .first(conn)
            .optional()?,
        (None, None) => None,
    };
    Ok(row.and_then(
        |(publication_id, hash, updated, doc_hash, doc_updated, doc_key, document)| {
            (doc_hash == hash && doc_updated == updated && doc_key == render_key).then_some(
                Current {
                    publication_id,
                    content_hash: hash,
                    document,
                },
            )
        },
    ))
}

/// Keeps documents, replacing those of the same publication and language,
/// in one transaction. A document of a publication that changed (or went)
/// since it was rendered is dropped: it could never be served. Returns how
/// many were kept.
pub fn keep(conn: &mut AnyConnection, rendered: &[Rendered]) -> QueryResult<usize> {
    if rendered.is_empty() {
        return Ok(0);
    }
    super::write::write_transaction(conn, |conn| {
        let mut ids: Vec<&str> = rendered.iter().map(|r| r.publication_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut now: HashMap<String, (String, String)> = HashMap::new();
        for chunk in ids.chunks(500) {
            now.extend(
                publications::table
                    .filter(publications::id.eq_any(chunk))
                    .select((
                        publications::id,
                        publications::content_hash,
                        publications::updated_at,
                    ))
                    .load::<(String, String, String)>(conn)?
                    .into_iter()
                    .map(|(id, hash, updated)| (id, (hash, updated))),
            );
        }
        let mut kept = 0;
        for doc in rendered {
            let still = now.get(&doc.publication_id).is_some_and(|(hash, updated)| {
                *hash == doc.content_hash && *updated == doc.updated_at
            });
            if !still {
                continue;
            }
            let row = (
                documents::publication_id.eq(&doc.publication_id),
                documents::lang.eq(&doc.lang),
                documents::content_hash.eq(&doc.content_hash),
                documents::updated_at.eq(&doc.updated_at),
                documents::render_key.eq(&doc.render_key),
                documents::document.eq(&doc.document),
            );
            // diesel's multi-backend connection has no upsert: each arm
            // names its own, the same statement.
            macro_rules! upsert {
                ($conn:expr) => {
                    diesel::insert_into(documents::table)
                        .values(row)
                        .on_conflict((documents::publication_id, documents::lang))
                        .do_update()
                        .set((
                            documents::content_hash.eq(excluded(documents::content_hash)),
                            documents::updated_at.eq(excluded(documents::updated_at)),
                            documents::render_key.eq(excluded(documents::render_key)),
                            documents::document.eq(excluded(documents::document)),
                        ))
                        .execute($conn)?
                };
            }
            kept += match conn {
                AnyConnection::Postgres(conn) => upsert!(conn),
                AnyConnection::Sqlite(conn) => upsert!(conn),
            };
        }
        Ok(kept)
    })
}
