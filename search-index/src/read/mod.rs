//! The read path: everything that answers a question without changing the index.
//!
//! A search request is read once into a typed [`query::SearchQuery`], from which [`terms`] builds
//! the tantivy queries and [`search`] runs them: the filters are checked on the code tables
//! ([`filter`]), the best hits are found with block-max WAND ([`top`]) on statistics looked up once
//! per term ([`stats`]), the facets are counted ([`counts`]) and each hit is read from the store
//! ([`stored`]) with its [`snippet`]. [`matching`] finds the listings of the other side that best
//! answer a listing, by the words of [`match_words`], and tells copies by [`similarity`].

pub(crate) mod counts;
pub(crate) mod filter;
pub(crate) mod match_words;
pub(crate) mod matching;
pub(crate) mod query;
pub(crate) mod request;
pub(crate) mod search;
pub(crate) mod similarity;
pub(crate) mod snippet;
pub(crate) mod stats;
pub(crate) mod stored;
pub(crate) mod terms;
pub(crate) mod top;
