//! Domain types as column values: the closed vocabularies and key roles
//! are stored as their wire names in text columns, read back through
//! their parsers, so that rows carry the types rather than strings.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::domain::keys::Role as KeyRole;
use crate::domain::markup::BodyFormat;
use crate::domain::{EventKind, PublicationKind, PublicationStatus, Role};

/// Stores a type by `as_str` and reads it back by `parse`; a stored value
/// that does not parse is a deserialization error (the database was
/// changed behind the archive's back).
macro_rules! text_column {
    ($($type:ty),+ $(,)?) => {$(
        impl<DB: Backend> ToSql<Text, DB> for $type
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $type
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let raw = String::from_sql(bytes)?;
                Self::parse(&raw).map_err(Into::into)
            }
        }
    )+};
}

text_column!(
    PublicationKind,
    PublicationStatus,
    EventKind,
    Role,
    KeyRole,
    BodyFormat
);

#[cfg(test)]
mod tests {
    use diesel::dsl::sql;
    use diesel::prelude::*;
    use diesel::sqlite::SqliteConnection;

    use super::*;

    #[test]
    fn values_are_stored_by_their_wire_names_and_unknown_ones_refused() {
        let mut conn = SqliteConnection::establish(":memory:").expect("in-memory SQLite");
        for kind in PublicationKind::ALL {
            let stored: String = diesel::select(kind.into_sql::<Text>())
                .get_result(&mut conn)
                .expect("stored");
            assert_eq!(stored, kind.as_str());
            let read: PublicationKind = diesel::select(sql::<Text>(&format!("'{stored}'")))
                .get_result(&mut conn)
                .expect("read back");
            assert_eq!(read, *kind);
        }
        let read: KeyRole = diesel::select(sql::<Text>("'editor'"))
            .get_result(&mut conn)
            .expect("a key role");
        assert_eq!(read, KeyRole::Editor);
        let unknown =
            diesel::select(sql::<Text>("'book'")).get_result::<PublicationKind>(&mut conn);
        assert!(
            matches!(unknown, Err(diesel::result::Error::DeserializationError(_))),
            "{unknown:?}"
        );
    }
}
