//! The images that rows name: what the file store must keep of image
//! sources, and what renditions must exist.

use std::collections::HashSet;

use diesel::prelude::*;

use super::schema::{events, organisations, projects, publications};
use super::AnyConnection;
use crate::domain::records::ImageRecord;

/// Every stored image (of publications, organisations, projects and
/// events), with the id of its owner; one that cannot be read is skipped.
pub fn all(conn: &mut AnyConnection) -> QueryResult<Vec<(String, ImageRecord)>> {
    let mut stored: Vec<(String, Option<String>)> = Vec::new();
    stored.extend(
        publications::table
            .filter(publications::image.is_not_null())
            .select((publications::id, publications::image))
            .load::<(String, Option<String>)>(conn)?,
    );
    stored.extend(
        organisations::table
            .filter(organisations::image.is_not_null())
            .select((organisations::id, organisations::image))
            .load::<(String, Option<String>)>(conn)?,
    );
    stored.extend(
        projects::table
            .filter(projects::image.is_not_null())
            .select((projects::id, projects::image))
            .load::<(String, Option<String>)>(conn)?,
    );
    stored.extend(
        events::table
            .filter(events::image.is_not_null())
            .select((events::id, events::image))
            .load::<(String, Option<String>)>(conn)?,
    );
    Ok(stored
        .into_iter()
        .filter_map(|(id, image)| {
            let image = super::vocabulary::stored_image(image.as_deref(), &id)?;
            Some((id, image))
        })
        .collect())
}

/// The SHA-256 of every image source a row names.
pub fn referenced_sources(conn: &mut AnyConnection) -> QueryResult<HashSet<String>> {
    Ok(all(conn)?
        .into_iter()
        .map(|(_, image)| image.sha256)
        .collect())
}
