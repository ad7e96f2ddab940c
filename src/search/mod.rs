//! Full-text search with tantivy. So far: the analyzers that let a query
//! find a publication in English, Albanian or Serbian in either script.

pub mod albanian;
pub mod analyzers;
pub mod highlight;
pub mod index;
pub mod sync;
