//! Chinese full-text search for techmarket.
//!
//! This crate owns everything tantivy: the analyzers (jieba for Chinese), the index schema and the
//! opening of an index directory. It knows nothing of HTTP or SQL; the application feeds it documents
//! and asks it questions. The database stays the source of truth, so an index can always be thrown
//! away and rebuilt.

pub mod analyzers;
mod cache;
mod codes;
mod counts;
mod document;
pub mod eval;
mod filter;
mod index;
mod matching;
mod query;
mod schema;
mod snippet;
mod stats;
mod stored;
mod top;

pub use document::ListingDoc;
pub use index::{SCHEMA_VERSION, SearchError, SearchIndex};
pub use matching::{MatchHit, MatchRequest};
pub use query::{
    MAX_QUERY_CHARS, PROXIMITY_SLOP, Ranking, SearchHit, SearchRequest, SearchResults, Sort,
    parse as parse_query,
};

#[cfg(test)]
pub(crate) mod tests {
    use super::ListingDoc;

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
        }
    }
}
