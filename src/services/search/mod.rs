//! Search: the published catalogue projected into the local index, and its use.
//! - `documents`: what the index holds of a listing.
//! - `indexer`: the write path, the outbox applied to the index and the full rebuild.
//! - here, the read path: the index's queries run on the blocking pool (a search is CPU work
//!   that must not hold an async worker), used by the search route, `matching` (demands with
//!   results and back, duplicates) and `saved_searches` (alerts on new listings).

pub mod documents;
pub mod indexer;
pub mod matching;
pub mod saved_searches;

use std::sync::Arc;

use search_index::{MatchHit, MatchRequest, SearchIndex, SearchRequest, SearchResults};

use crate::error::{AppError, AppResult};

pub use documents::Indexed;
pub use indexer::{Indexer, rebuild};

/// One page of hits with totals and facet counts.
pub async fn search(
    index: &Arc<SearchIndex>,
    request: SearchRequest,
) -> AppResult<Arc<SearchResults>> {
    on_blocking_pool(index, move |index| index.search(&request)).await
}

/// The listings most like a source listing.
pub async fn matches(index: &Arc<SearchIndex>, request: MatchRequest) -> AppResult<Vec<MatchHit>> {
    on_blocking_pool(index, move |index| index.matches(&request)).await
}

/// Which of the listings `ids` a search finds.
pub async fn matching_among(
    index: &Arc<SearchIndex>,
    request: SearchRequest,
    ids: Vec<String>,
) -> AppResult<Vec<String>> {
    on_blocking_pool(index, move |index| index.matching_among(&request, &ids)).await
}

/// A failure of the index is the server's, never the caller's.
async fn on_blocking_pool<T: Send + 'static>(
    index: &Arc<SearchIndex>,
    work: impl FnOnce(&SearchIndex) -> Result<T, search_index::SearchError> + Send + 'static,
) -> AppResult<T> {
    let index = index.clone();
    tokio::task::spawn_blocking(move || work(&index))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::Internal(e.into()))
}
