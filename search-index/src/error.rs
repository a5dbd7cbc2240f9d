//! The one error type of the crate, shared by the write path and the read path.

use std::path::PathBuf;

/// What can go wrong with the index.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// tantivy failed.
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The index directory could not be read or written.
    #[error("search index directory {path}: {source}")]
    Io {
        /// The directory or file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The writer lock was poisoned by a panic in another thread.
    #[error("search index writer is unusable after a panic")]
    Poisoned,
}
