//! Full-text search with tantivy: the analyzers that let a query find a
//! publication in English, Albanian or Serbian in either script, the index
//! and its queries, highlights from the index's positions, and the indexer
//! that follows the change log.

pub mod albanian;
pub mod analyzers;
pub mod highlight;
pub mod index;
pub mod merge;
pub mod pairs;
pub mod query;
pub mod sync;
