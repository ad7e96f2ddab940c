//! Full-text search with tantivy, as a service the routes call: the
//! analyzers that let a query find a publication in English, Albanian or
//! Serbian in either script, the index and its queries, highlights from the
//! index's positions, the search itself ([`service`]), and the threads that
//! keep the index in step with the change log and rebuild it ([`sync`]).

pub mod albanian;
pub mod analyzers;
pub mod document;
pub mod facets;
pub mod fuzzy;
pub mod highlight;
pub mod index;
pub mod merge;
pub mod pairs;
pub mod queries;
pub mod query;
pub mod schema;
pub mod service;
pub mod suggest;
pub mod sync;
