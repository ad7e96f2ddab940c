//! arkiv: the publications archive API of a civil-society think tank.
//!
//! The map of the code is `ARCHITECTURE.md`; in short: `routes/` is HTTP,
//! `db/` is diesel, `domain/` holds I/O-free types (the records editors
//! write among them), `write/` writes one record, `import/` reads and
//! writes NDJSON files of them, `cli/` the command line, and `app.rs`
//! builds the one application that both `arkiv serve` and the tests run.

pub mod app;

pub mod bounded;

pub mod cli;
pub mod config;

pub mod db;
pub mod demo;
pub mod documents;
pub mod domain;

pub mod extract;
pub mod files;
pub mod http;
pub mod images;
pub mod import;
pub mod memory;

pub mod openapi;
pub mod progress;

pub mod routes;
pub mod search;
pub mod state;
pub mod stats;
pub mod webhooks;
pub mod write;
