//! The index itself: the [`SearchIndex`] struct, opening (or creating) its directory, and the state
//! the write path ([`crate::write`]) and the read path ([`crate::read`]) share.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tantivy::store::Compressor;
use tantivy::{Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy};

use crate::analyzers;
use crate::cache::GenerationCache;
use crate::codes::CodeTables;
use crate::error::SearchError;
use crate::read::counts::Counts;
use crate::read::query::{MatchKey, ResultsKey};
use crate::read::request::SearchResults;
use crate::schema::{self, Fields};

/// Version of the index layout (schema and analyzers). When the directory holds another version, it is
/// recreated empty and must be rebuilt from the database.
pub const SCHEMA_VERSION: u32 = 11;

pub(crate) const VERSION_FILE: &str = "techmarket-schema-version";
/// Searches whose total and counts are kept until the next commit.
const CACHED_COUNTS: usize = 4096;
/// Searches whose answer is kept until the next commit (about 5 KB each).
const CACHED_RESULTS: usize = 1024;
/// Size of the blocks of stored documents. Showing a hit reads its whole block: tantivy's 16 KB
/// default holds about eight listings, seven of them read for nothing. The blocks are not
/// compressed: decompressing twenty blocks was a tenth of a search, and the index only grows by a
/// fifth (157 → 185 MB at 100,000 listings).
const DOCSTORE_BLOCK_BYTES: usize = 4096;
/// Memory of the single writer, split over its threads: a thread writes its segment out when its
/// share is full. Only a rebuild fills it (everyday commits come every second); bigger segments
/// there mean fewer to write and merge: a rebuild of 1M listings takes about 5% less CPU than with
/// 64 MB, for about 300 MB more memory while it runs.
const WRITER_BUDGET_BYTES: usize = 384 * 1024 * 1024;

/// An open index: its directory, schema, the one writer and a reader.
pub struct SearchIndex {
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    pub(crate) fields: Fields,
    pub(crate) writer: Mutex<IndexWriter>,
    dir: PathBuf,
    created: bool,
    /// Who the index belongs to (the database installation it projects), stored with every commit.
    pub(crate) owner: Mutex<String>,
    /// Totals and counts of recent searches (text, filters and ranking, any order and page), until
    /// the next commit.
    pub(crate) counts_cache: GenerationCache<MatchKey, (usize, Counts)>,
    /// Answers of recent searches, until the next commit.
    pub(crate) results_cache: GenerationCache<ResultsKey, Arc<SearchResults>>,
    /// The listings' codes per segment, for filters and facet counts (the reader's warmer).
    pub(crate) codes: Arc<CodeTables>,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating the directory and an empty index when missing, and recreating
    /// it empty when it was written with another [`SCHEMA_VERSION`]. Analyzers are registered on
    /// every open (tantivy does not persist them). Takes the directory's writer lock: one process per
    /// index directory.
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
            let index = Index::builder()
                .schema(schema::build().0)
                .settings(IndexSettings {
                    docstore_blocksize: DOCSTORE_BLOCK_BYTES,
                    docstore_compression: Compressor::None,
                    ..IndexSettings::default()
                })
                .create_in_dir(dir)?;
            fs::write(&version_path, SCHEMA_VERSION.to_string()).map_err(io)?;
            (index, true)
        };
        analyzers::register_analyzers(index.tokenizers());
        let fields = schema::resolve(&index.schema())?;
        let writer = index.writer_with_num_threads(worker_threads(), WRITER_BUDGET_BYTES)?;
        let codes = Arc::new(CodeTables::default());
        let warmer: Arc<dyn tantivy::Warmer> = codes.clone();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .warmers(vec![Arc::downgrade(&warmer)])
            .try_into()?;
        Ok(Self {
            index,
            reader,
            fields,
            writer: Mutex::new(writer),
            dir: dir.to_path_buf(),
            created,
            owner: Mutex::new(String::new()),
            counts_cache: GenerationCache::new(CACHED_COUNTS),
            results_cache: GenerationCache::new(CACHED_RESULTS),
            codes,
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

    /// The number of segments searches visit.
    pub fn num_segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
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

/// Threads for indexing and for the merges that end a bulk load: jieba segmentation and merging
/// both parallelise.
pub(crate) fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4))
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
    use crate::tests::tmp;

    #[test]
    fn creates_then_reopens_and_recreates_on_version_change() -> Result<(), SearchError> {
        let tmp = tmp();
        let dir = tmp.path().join("index");
        let first = SearchIndex::open_or_create(&dir)?;
        assert!(first.was_created());
        first.check()?;
        assert_eq!(first.num_docs(), 0);
        first.set_owner("db-1")?;
        first.apply(&[crate::tests::doc("1", "人工智能视觉检测")], &[])?;
        first.commit(42)?;
        drop(first);

        let again = SearchIndex::open_or_create(&dir)?;
        assert!(!again.was_created());
        assert_eq!(again.num_docs(), 1);
        assert_eq!(again.checkpoint()?, 42);
        assert_eq!(again.stored_owner()?.as_deref(), Some("db-1"));
        drop(again);

        fs::write(dir.join(VERSION_FILE), "0").map_err(|source| SearchError::Io {
            path: dir.clone(),
            source,
        })?;
        let rebuilt = SearchIndex::open_or_create(&dir)?;
        assert!(rebuilt.was_created());
        assert_eq!(rebuilt.num_docs(), 0);
        assert_eq!(rebuilt.checkpoint()?, 0);
        Ok(())
    }

    #[test]
    fn check_fails_when_the_directory_is_gone() -> Result<(), SearchError> {
        let tmp = tmp();
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
