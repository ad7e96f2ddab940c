//! What the read endpoints of the vocabulary share (projects,
//! organisations, fields, events): the query and language read first, the
//! catalog snapshot, an entity found by `{id_or_slug}`, and lists that come
//! whole in one envelope.

use actix_web::{HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::Serialize;
use utoipa::IntoParams;

use super::render::Render;
use crate::domain::catalog::Table;
use crate::domain::Lang;
use crate::http::error::ApiError;
use crate::http::negotiate::Requested;
use crate::http::params;
use crate::http::params::{cursor_at, offset_of};
use crate::http::respond;
use crate::state::{AppState, Snapshot};

/// A parameter struct with the `?lang=` parameter.
pub trait Localised {
    /// The `?lang=` value, if given.
    fn lang(&self) -> Option<&str>;
}

/// A view served in one language.
pub trait Served {
    fn language(&self) -> Lang;
}

/// A list parameter struct's `limit` and `cursor`.
pub trait Paged {
    fn limit(&self) -> Option<i64>;
    fn cursor(&self) -> Option<&str>;
}

/// Implements [`Localised`] and [`Paged`] for a list's parameter struct,
/// whose `lang`, `limit` and `cursor` fields they read.
macro_rules! list_params {
    ($name:ident) => {
        impl $crate::routes::vocabulary::Localised for $name {
            fn lang(&self) -> Option<&str> {
                self.lang.as_deref()
            }
        }

        impl $crate::routes::vocabulary::Paged for $name {
            fn limit(&self) -> Option<i64> {
                self.limit
            }

            fn cursor(&self) -> Option<&str> {
                self.cursor.as_deref()
            }
        }
    };
}
pub(crate) use list_params;

/// The page size of a vocabulary list when `limit` is not given: most
/// vocabularies come whole.
pub const DEFAULT_LIMIT: usize = 100;

/// A list envelope (`ProjectList`, …): one page of the matching items.
pub trait Envelope: Serialize {
    type Item: Served;
    fn new(
        page: Vec<Self::Item>,
        total: usize,
        next_cursor: Option<String>,
        requested_languages: Vec<String>,
    ) -> Self;
}

/// A read of the vocabulary, once its query is read and the snapshot taken.
pub struct VocabularyRead<P> {
    pub params: P,
    pub requested: Requested,
    pub snapshot: Snapshot,
}

impl<P> VocabularyRead<P>
where
    P: IntoParams + DeserializeOwned + Localised + 'static,
{
    /// Reads the query into `P` and the language asked for, then takes the
    /// catalog snapshot.
    pub async fn open(req: &HttpRequest, state: &AppState) -> Result<Self, ApiError> {
        let params: P = params::read(req)?;
        let requested = Requested::new(req, params.lang(), false)?;
        let snapshot = state.snapshot().await?;
        Ok(Self {
            params,
            requested,
            snapshot,
        })
    }

    /// As [`Self::open`], for one entity: `raw`, the `{id_or_slug}` segment,
    /// is checked before the snapshot is taken. Returns the canonical key.
    pub async fn open_one(
        req: &HttpRequest,
        state: &AppState,
        raw: &str,
    ) -> Result<(Self, String), ApiError> {
        let params: P = params::read(req)?;
        let requested = Requested::new(req, params.lang(), false)?;
        let key = params::path_key(raw)?;
        let snapshot = state.snapshot().await?;
        let read = Self {
            params,
            requested,
            snapshot,
        };
        Ok((read, key))
    }

    /// Renders in the language asked for.
    pub fn render<'s>(&'s self, state: &'s AppState) -> Render<'s> {
        Render::new(state, &self.snapshot.catalog, &self.requested.ranges)
    }
}

impl<P: Paged> VocabularyRead<P> {
    /// Answers the page of `items` that `limit` and `cursor` ask for, with
    /// `Link: rel="next"` when there is more, and its `Content-Language`.
    pub fn list<L: Envelope>(
        &self,
        req: &HttpRequest,
        items: Vec<L::Item>,
    ) -> Result<HttpResponse, ApiError> {
        let limit = self
            .params
            .limit()
            .and_then(|limit| usize::try_from(limit).ok())
            .unwrap_or(DEFAULT_LIMIT);
        let offset = self
            .params
            .cursor()
            .map(offset_of)
            .transpose()?
            .unwrap_or(0);
        let total = items.len();
        let page: Vec<L::Item> = items.into_iter().skip(offset).take(limit).collect();
        let end = offset.saturating_add(limit);
        let next_cursor = (end < total).then(|| cursor_at(end));
        let languages = self
            .requested
            .list_languages(page.iter().map(Served::language));
        let body = L::new(page, total, next_cursor.clone(), self.requested.tags());
        let mut encoded = respond::encode(&body, &languages)?;
        encoded.link = next_cursor.and_then(|cursor| respond::next_link(req, &cursor, &[]));
        Ok(respond::send(req, &encoded))
    }
}

/// Finds the entity `key` names in `table`, or a 404 naming `what` and the
/// segment as the client wrote it.
pub fn find<'a, T>(
    table: &'a Table<T>,
    key: &str,
    what: &str,
    raw: &str,
) -> Result<&'a T, ApiError> {
    table
        .find(key)
        .ok_or_else(|| ApiError::not_found(what, raw))
}
