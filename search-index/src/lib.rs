//! Chinese full-text search for techmarket.
//!
//! This crate owns everything tantivy: the analyzers (jieba for Chinese), the index schema and the
//! opening of an index directory. It knows nothing of HTTP or SQL; the application feeds it documents
//! and asks it questions. The database stays the source of truth, so an index can always be thrown
//! away and rebuilt.

pub mod analyzers;
mod index;

pub use index::{SCHEMA_VERSION, SearchError, SearchIndex};
