//! Opening (or creating) the index directory.

use std::fs;
use std::path::{Path, PathBuf};

use tantivy::schema::{STORED, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::{Index, IndexReader, ReloadPolicy};

use crate::analyzers;

/// Version of the index layout (schema and analyzers). When the directory holds another version, it is
/// recreated empty and must be rebuilt from the database.
pub const SCHEMA_VERSION: u32 = 1;

const VERSION_FILE: &str = "techmarket-schema-version";

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
}

/// An open index: its directory, schema and a reader.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    dir: PathBuf,
    created: bool,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating the directory and an empty index when missing, and recreating
    /// it empty when it was written with another [`SCHEMA_VERSION`]. Analyzers are registered on
    /// every open (tantivy does not persist them).
    pub fn open_or_create(dir: &Path) -> Result<Self, SearchError> {
        let io = |source| SearchError::Io {
            path: dir.to_path_buf(),
            source,
        };
        fs::create_dir_all(dir).map_err(io)?;
        let version_path = dir.join(VERSION_FILE);
        let current = fs::read_to_string(&version_path)
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok());
        let has_index = dir.join("meta.json").exists();

        let (index, created) = if has_index && current == Some(SCHEMA_VERSION) {
            (Index::open_in_dir(dir)?, false)
        } else {
            if has_index {
                clear_dir(dir).map_err(io)?;
            }
            let index = Index::create_in_dir(dir, schema())?;
            fs::write(&version_path, SCHEMA_VERSION.to_string()).map_err(io)?;
            (index, true)
        };
        analyzers::register_analyzers(index.tokenizers());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            dir: dir.to_path_buf(),
            created,
        })
    }

    /// Whether this open created the index (new directory or changed schema version), so that the
    /// caller knows the index must be filled from the database.
    pub fn was_created(&self) -> bool {
        self.created
    }

    /// The directory of the index.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The number of documents visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Checks that the index can be used: its files are readable, its directory still exists and is
    /// writable.
    pub fn check(&self) -> Result<(), SearchError> {
        self.reader.reload()?;
        let probe = self.dir.join(".techmarket-ready-probe");
        let io = |source| SearchError::Io {
            path: probe.clone(),
            source,
        };
        fs::write(&probe, b"ok").map_err(io)?;
        fs::remove_file(&probe).map_err(io)?;
        let _ = self.index.searchable_segment_ids()?;
        Ok(())
    }
}

/// The document schema. Listings of every kind share one index; `kind` tells them apart.
fn schema() -> Schema {
    let chinese = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(analyzers::CHINESE_SEARCH)
                .set_index_option(tantivy::schema::IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let mut builder = Schema::builder();
    builder.add_text_field("id", STRING | STORED);
    builder.add_text_field("kind", STRING | STORED);
    builder.add_text_field("title", chinese.clone());
    builder.add_text_field("body", chinese);
    builder.build()
}

fn clear_dir(dir: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            fs::remove_dir_all(&path)?;
        } else {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_then_reopens_and_recreates_on_version_change() -> Result<(), SearchError> {
        let tmp = tempfile::tempdir().map_err(|source| SearchError::Io {
            path: PathBuf::from("tmp"),
            source,
        })?;
        let dir = tmp.path().join("index");
        let first = SearchIndex::open_or_create(&dir)?;
        assert!(first.was_created());
        first.check()?;
        assert_eq!(first.num_docs(), 0);
        drop(first);

        let again = SearchIndex::open_or_create(&dir)?;
        assert!(!again.was_created());
        drop(again);

        fs::write(dir.join(VERSION_FILE), "0").map_err(|source| SearchError::Io {
            path: dir.clone(),
            source,
        })?;
        let rebuilt = SearchIndex::open_or_create(&dir)?;
        assert!(rebuilt.was_created());
        Ok(())
    }

    #[test]
    fn check_fails_when_the_directory_is_gone() -> Result<(), SearchError> {
        let tmp = tempfile::tempdir().map_err(|source| SearchError::Io {
            path: PathBuf::from("tmp"),
            source,
        })?;
        let dir = tmp.path().join("index");
        let index = SearchIndex::open_or_create(&dir)?;
        fs::remove_dir_all(&dir).map_err(|source| SearchError::Io {
            path: dir.clone(),
            source,
        })?;
        assert!(index.check().is_err());
        Ok(())
    }
}
