//! The best-scoring documents, found with block-max WAND, and extra score added to a few of them.
//!
//! A search needs the top few of tens of thousands of matches. tantivy skips whole blocks of
//! postings that cannot reach the current k-th best score when the query is a pure disjunction of
//! terms; [`TopScored`] keeps that pruning while checking a [`DocFilter`] on every candidate.
//! Clauses that only add to the score (Han bigrams, shared industries) would turn the pruning off if
//! they were part of the query, so [`add_scores`] evaluates them on the candidates alone.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED};

use crate::filter::DocFilter;

/// The `limit` best-scoring documents that the filter accepts, best first.
pub(crate) struct TopScored {
    pub(crate) filter: DocFilter,
    pub(crate) limit: usize,
}

/// A candidate: higher score first; on equal scores, the lower address.
#[derive(Debug, Clone, Copy)]
struct Candidate(Score, DocAddress);

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Candidate {
    /// "Greater" is better, so that a min-heap of `Reverse` keeps the best.
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .total_cmp(&other.0)
            .then_with(|| other.1.cmp(&self.1))
    }
}

/// The unused per-segment collector of [`TopScored`] (its `collect_segment` drives the weight).
pub(crate) struct NoSegmentCollector;

impl SegmentCollector for NoSegmentCollector {
    type Fruit = Vec<(Score, DocAddress)>;
    fn collect(&mut self, _doc: DocId, _score: Score) {}
    fn harvest(self) -> Self::Fruit {
        Vec::new()
    }
}

impl Collector for TopScored {
    type Fruit = Vec<(Score, DocAddress)>;
    type Child = NoSegmentCollector;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        _reader: &SegmentReader,
    ) -> tantivy::Result<NoSegmentCollector> {
        Ok(NoSegmentCollector)
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(
        &self,
        segments: Vec<Vec<(Score, DocAddress)>>,
    ) -> tantivy::Result<Vec<(Score, DocAddress)>> {
        let mut all: Vec<Candidate> = segments
            .into_iter()
            .flatten()
            .map(|(score, address)| Candidate(score, address))
            .collect();
        all.sort_by(|a, b| b.cmp(a));
        all.truncate(self.limit);
        Ok(all.into_iter().map(|c| (c.0, c.1)).collect())
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Vec<(Score, DocAddress)>> {
        let Some(filter) = self.filter.for_segment(segment, reader)? else {
            return Ok(Vec::new());
        };
        let limit = self.limit.max(1);
        let mut heap: BinaryHeap<std::cmp::Reverse<Candidate>> = BinaryHeap::with_capacity(limit);
        let mut threshold = Score::MIN;
        // `for_each_pruning` only offers documents scoring above the threshold it is given back,
        // so a rejected document must hand back the unchanged threshold.
        weight.for_each_pruning(Score::MIN, reader, &mut |doc, score| {
            if !filter.accepts(doc) {
                return threshold;
            }
            heap.push(std::cmp::Reverse(Candidate(
                score,
                DocAddress::new(segment, doc),
            )));
            if heap.len() > limit {
                heap.pop();
            }
            if heap.len() == limit {
                threshold = heap.peek().map_or(Score::MIN, |c| c.0.0);
            }
            threshold
        })?;
        Ok(heap.into_iter().map(|c| (c.0.0, c.0.1)).collect())
    }
}

/// Adds to each candidate's score what each of the `extra` clauses scores for it (nothing where
/// one does not match), with the statistics of the whole searcher, exactly as if they had been
/// `Should` clauses of the query; then sorts best first.
///
/// Each clause gets a scorer of its own that skips from candidate to candidate. One union of all
/// the clauses would cost far more: a union advances in windows of thousands of documents and
/// scores every posting of every clause inside each window it enters.
pub(crate) fn add_scores(
    searcher: &Searcher,
    extra: &[Box<dyn Query>],
    candidates: &mut [(Score, DocAddress)],
) -> tantivy::Result<()> {
    if candidates.is_empty() || extra.is_empty() {
        return Ok(());
    }
    let scoring = EnableScoring::enabled_from_searcher(searcher);
    let weights = extra
        .iter()
        .map(|clause| clause.weight(scoring))
        .collect::<tantivy::Result<Vec<_>>>()?;
    // Scorers only move forward: visit the candidates segment by segment in document order.
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by_key(|&i| candidates[i].1);
    let mut current: Option<(SegmentOrdinal, Vec<Box<dyn tantivy::query::Scorer>>)> = None;
    for i in order {
        let address = candidates[i].1;
        if current
            .as_ref()
            .is_none_or(|(s, _)| *s != address.segment_ord)
        {
            let reader = searcher.segment_reader(address.segment_ord);
            let scorers = weights
                .iter()
                .map(|weight| weight.scorer(reader, 1.0))
                .collect::<tantivy::Result<Vec<_>>>()?;
            current = Some((address.segment_ord, scorers));
        }
        if let Some((_, scorers)) = current.as_mut() {
            for scorer in scorers.iter_mut() {
                if scorer.doc() != TERMINATED && scorer.doc() < address.doc_id {
                    scorer.seek(address.doc_id);
                }
                if scorer.doc() == address.doc_id {
                    candidates[i].0 += scorer.score();
                }
            }
        }
    }
    candidates.sort_by_key(|c| std::cmp::Reverse(Candidate(c.0, c.1)));
    Ok(())
}
