//! Chinese full-text search for techmarket.
//!
//! This crate owns everything tantivy: the analyzers (jieba for Chinese), the index schema and the
//! opening of an index directory. It knows nothing of HTTP or SQL; the application feeds it documents
//! and asks it questions. The database stays the source of truth, so an index can always be thrown
//! away and rebuilt.
//!
//! [`SearchIndex`] is defined and opened in `index`; its methods are split by path: `write` adds,
//! replaces and removes listings and commits, `read` answers searches and matchings. Both share the
//! schema, the documents' layout, the code tables and the error type, and neither imports the other.

pub mod analyzers;
mod cache;
mod codes;
mod document;
mod error;
pub mod eval;
pub mod glossary;
mod index;
mod read;
mod schema;
mod spelling;
pub mod telling;
mod write;

pub use document::ListingDoc;
pub use error::SearchError;
pub use index::{SCHEMA_VERSION, SearchIndex};
pub use read::matching::{MatchHit, MatchRequest};
pub use read::query::{MAX_QUERY_CHARS, ParsedQuery, parse as parse_query};
pub use read::request::{PROXIMITY_SLOP, Ranking, SearchHit, SearchRequest, SearchResults, Sort};

#[cfg(test)]
pub(crate) mod tests {
    use super::ListingDoc;

    /// A temporary directory, removed when dropped.
    pub fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"))
    }

    /// A published result with this title, for tests.
    pub fn doc(id: &str, title: &str) -> ListingDoc {
        ListingDoc {
            kind: "result".into(),
            id: id.into(),
            title: title.into(),
            summary: format!("{title}的详细介绍"),
            details: String::new(),
            keywords: vec![],
            org_id: "org".into(),
            org_name: "西安交通大学".into(),
            org_kind: "university".into(),
            district: "610103".into(),
            zone: None,
            industries: vec![("artificial_intelligence".into(), "emerging".into())],
            tech_field: "electronic_information".into(),
            maturity_stage: Some("pilot_scale".into()),
            published_at: 1_700_000_000,
            price_fen: None,
            trl: Some(6),
            identifiers: vec![],
        }
    }
}
