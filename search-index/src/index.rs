//! Opening (or creating) the index directory, and writing to it.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tantivy::indexer::{LogMergePolicy, NoMergePolicy};
use tantivy::store::Compressor;
use tantivy::{Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Term};

use crate::analyzers;
use crate::cache::GenerationCache;
use crate::codes::CodeTables;
use crate::counts::Counts;
use crate::document::ListingDoc;
use crate::query::SearchResults;
use crate::schema::{self, Fields};

/// Version of the index layout (schema and analyzers). When the directory holds another version, it is
/// recreated empty and must be rebuilt from the database.
pub const SCHEMA_VERSION: u32 = 10;

const VERSION_FILE: &str = "techmarket-schema-version";
/// Searches whose total and counts are kept until the next commit.
const CACHED_COUNTS: usize = 4096;
/// Searches whose answer is kept until the next commit (about 5 KB each).
const CACHED_RESULTS: usize = 1024;
/// Size of the blocks of stored documents. Showing a hit reads its whole block: tantivy's 16 KB
/// default holds about eight listings, seven of them read for nothing. The blocks are not
/// compressed: decompressing twenty blocks was a tenth of a search, and the index only grows by a
/// fifth (157 → 185 MB at 100,000 listings).
const DOCSTORE_BLOCK_BYTES: usize = 4096;
/// Up to this many listings, a rebuild ends with one segment: searching it costs an eighth less
/// than searching two (100,000 listings: 0.41 against 0.47 ms per search), and merging it on one
/// core takes a few seconds. Above, one segment per core keeps the merge of a rebuild parallel
/// (1,000,000 listings: 21 s into two segments).
const SINGLE_SEGMENT_DOCS: u64 = 300_000;
/// Memory of the single writer, split over its threads: a thread writes its segment out when its
/// share is full. Only a rebuild fills it (everyday commits come every second); bigger segments
/// there mean fewer to write and merge: a rebuild of 1M listings takes about 5% less CPU than with
/// 64 MB, for about 300 MB more memory while it runs.
const WRITER_BUDGET_BYTES: usize = 384 * 1024 * 1024;

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

/// An open index: its directory, schema, the one writer and a reader.
pub struct SearchIndex {
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    pub(crate) fields: Fields,
    writer: Mutex<IndexWriter>,
    dir: PathBuf,
    created: bool,
    /// Who the index belongs to (the database installation it projects), stored with every commit.
    owner: Mutex<String>,
    /// Totals and counts of recent searches (text and filters, any page), until the next commit.
    pub(crate) counts_cache: GenerationCache<(usize, Counts)>,
    /// Answers of recent searches, until the next commit.
    pub(crate) results_cache: GenerationCache<Arc<SearchResults>>,
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

    /// Adds or replaces listings and removes others; visible after [`Self::commit`].
    pub fn apply(
        &self,
        upserts: &[ListingDoc],
        deletes: &[(String, String)],
    ) -> Result<(), SearchError> {
        let writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        for (kind, id) in deletes {
            writer.delete_term(Term::from_field_text(
                self.fields.key,
                &ListingDoc::key_of(kind, id),
            ));
        }
        for doc in upserts {
            writer.delete_term(Term::from_field_text(
                self.fields.key,
                &ListingDoc::key_of(&doc.kind, &doc.id),
            ));
            writer.add_document(doc.to_document(&self.fields))?;
        }
        Ok(())
    }

    /// Adds listings known not to be in the index (a rebuild after [`Self::clear`]): without the
    /// delete of an older version that [`Self::apply`] issues for each, which a commit would
    /// otherwise look up in every segment.
    pub fn add_new(&self, docs: &[ListingDoc]) -> Result<(), SearchError> {
        let writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        for doc in docs {
            writer.add_document(doc.to_document(&self.fields))?;
        }
        Ok(())
    }

    /// Removes every document; visible after [`Self::commit`].
    pub fn clear(&self) -> Result<(), SearchError> {
        let writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        writer.delete_all_documents()?;
        Ok(())
    }

    /// Starts a bulk load (a rebuild): segments are no longer merged while documents stream in, so
    /// that no work is spent merging segments that will be merged again.
    pub fn begin_bulk(&self) -> Result<(), SearchError> {
        let writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        writer.set_merge_policy(Box::new(NoMergePolicy));
        Ok(())
    }

    /// Ends a bulk load: commits with `checkpoint`, merges the segments and restores the usual
    /// merge policy. A search pays for every segment it visits (each term is looked up in each), so
    /// a catalogue of up to `SINGLE_SEGMENT_DOCS` listings is merged into one segment; a larger
    /// one into one segment per core, so that every core merges.
    pub fn finish_bulk(&self, checkpoint: i64) -> Result<(), SearchError> {
        self.commit(checkpoint)?;
        {
            let mut writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
            let mut segments = self.index.searchable_segment_metas()?;
            let docs: u64 = segments.iter().map(|m| u64::from(m.num_docs())).sum();
            let parts = if docs <= SINGLE_SEGMENT_DOCS {
                1
            } else {
                worker_threads()
            };
            // Largest first, each to the group with the fewest documents so far.
            segments.sort_by_key(|m| std::cmp::Reverse(m.num_docs()));
            let mut groups: Vec<(u32, Vec<tantivy::index::SegmentId>)> =
                vec![(0, Vec::new()); parts];
            for segment in segments {
                if let Some(group) = groups.iter_mut().min_by_key(|(docs, _)| *docs) {
                    group.0 += segment.num_docs();
                    group.1.push(segment.id());
                }
            }
            let merges: Vec<_> = groups
                .iter()
                .filter(|(_, ids)| ids.len() > 1)
                .map(|(_, ids)| writer.merge(ids))
                .collect();
            for merge in merges {
                merge.wait()?;
            }
            writer.set_merge_policy(Box::new(LogMergePolicy::default()));
        }
        self.reader.reload()?;
        Ok(())
    }

    /// The number of segments searches visit.
    pub fn num_segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// Sets who the index belongs to (e.g. the id of the database it projects); every later commit
    /// records it, so that an index kept beside a replaced database is recognised as stale.
    pub fn set_owner(&self, owner: &str) -> Result<(), SearchError> {
        let mut current = self.owner.lock().map_err(|_| SearchError::Poisoned)?;
        *current = owner.to_owned();
        Ok(())
    }

    /// The owner recorded by the last commit (`None` for a new index).
    pub fn stored_owner(&self) -> Result<Option<String>, SearchError> {
        Ok(self
            .index
            .load_metas()?
            .payload
            .and_then(|p| p.rsplit_once(':').map(|(owner, _)| owner.to_owned())))
    }

    /// Makes the changes durable and visible, recording `checkpoint` (the last outbox id applied)
    /// and the owner in the same commit, so that the index and its position can never disagree.
    pub fn commit(&self, checkpoint: i64) -> Result<(), SearchError> {
        let owner = self
            .owner
            .lock()
            .map_err(|_| SearchError::Poisoned)?
            .clone();
        {
            let mut writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&format!("{owner}:{checkpoint}"));
            prepared.commit()?;
        }
        self.reader.reload()?;
        Ok(())
    }

    /// The checkpoint of the last commit (0 for a new index).
    pub fn checkpoint(&self) -> Result<i64, SearchError> {
        Ok(self
            .index
            .load_metas()?
            .payload
            .and_then(|p| {
                p.rsplit_once(':')
                    .map_or(p.as_str(), |(_, checkpoint)| checkpoint)
                    .parse()
                    .ok()
            })
            .unwrap_or(0))
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
fn worker_threads() -> usize {
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

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"))
    }

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
    fn a_small_rebuild_ends_in_one_segment() -> Result<(), SearchError> {
        let tmp = tmp();
        let index = SearchIndex::open_or_create(&tmp.path().join("index"))?;
        index.begin_bulk()?;
        for batch in 0..4 {
            let docs: Vec<ListingDoc> = (0..10)
                .map(|i| crate::tests::doc(&format!("{batch}-{i}"), "机器视觉"))
                .collect();
            index.add_new(&docs)?;
            index.commit(batch + 1)?;
        }
        assert!(index.num_segments() > 1, "no merging while loading");
        index.finish_bulk(5)?;
        assert_eq!(index.num_segments(), 1);
        assert_eq!(index.num_docs(), 40);
        assert_eq!(index.checkpoint()?, 5);
        Ok(())
    }

    #[test]
    fn upserts_replace_and_deletes_remove() -> Result<(), SearchError> {
        let tmp = tmp();
        let index = SearchIndex::open_or_create(&tmp.path().join("index"))?;
        index.apply(
            &[
                crate::tests::doc("1", "旧标题"),
                crate::tests::doc("2", "另一个"),
            ],
            &[],
        )?;
        index.commit(1)?;
        index.apply(
            &[crate::tests::doc("1", "新标题")],
            &[("result".into(), "2".into())],
        )?;
        index.commit(2)?;
        assert_eq!(index.num_docs(), 1);
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
