//! The write path: listings added, replaced and removed, bulk loads (a rebuild) and their merges,
//! and commits with the checkpoint and owner they record. Changes become visible to the read path
//! ([`crate::read`]) when a commit reloads the reader.

use tantivy::Term;
use tantivy::indexer::{LogMergePolicy, NoMergePolicy};

use crate::document::ListingDoc;
use crate::error::SearchError;
use crate::index::{SearchIndex, worker_threads};

/// Up to this many listings, a rebuild ends with one segment: searching it costs an eighth less
/// than searching two (100,000 listings: 0.41 against 0.47 ms per search), and merging it on one
/// core takes a few seconds. Above, one segment per core keeps the merge of a rebuild parallel
/// (1,000,000 listings: 21 s into two segments).
const SINGLE_SEGMENT_DOCS: u64 = 300_000;

impl SearchIndex {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::tmp;

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
}
