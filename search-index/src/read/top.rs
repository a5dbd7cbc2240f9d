//! The best-scoring documents, found with block-max WAND, and extra score added to a few of them.
//!
//! A search needs the top few of tens of thousands of matches. tantivy skips whole blocks of
//! postings that cannot reach the current k-th best score when the query is a pure disjunction of
//! terms; [`TopScored`] keeps that pruning while checking a [`DocFilter`] on every candidate.
//! Clauses that only add to the score (Han bigrams, shared industries) would turn the pruning off if
//! they were part of the query, so [`add_scores`] evaluates them on the candidates alone.

use std::cmp::Ordering;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{Bm25StatisticsProvider, EnableScoring, Query, Weight};
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED};

use super::counts::{CodeCounts, Counts};
use super::filter::DocFilter;

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
    /// "Greater" is better.
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .total_cmp(&other.0)
            .then_with(|| other.1.cmp(&self.1))
    }
}

/// The unused per-segment collector of [`TopScored`] and [`TopCounted`] (their `collect_segment`
/// drives the weight).
pub(crate) struct NoSegmentCollector<F>(std::marker::PhantomData<F>);

impl<F: tantivy::collector::Fruit + Default> SegmentCollector for NoSegmentCollector<F> {
    type Fruit = F;
    fn collect(&mut self, _doc: DocId, _score: Score) {}
    fn harvest(self) -> F {
        F::default()
    }
}

impl Collector for TopScored {
    type Fruit = Vec<(Score, DocAddress)>;
    type Child = NoSegmentCollector<Self::Fruit>;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        _reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        Ok(NoSegmentCollector(std::marker::PhantomData))
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(
        &self,
        segments: Vec<Vec<(Score, DocAddress)>>,
    ) -> tantivy::Result<Vec<(Score, DocAddress)>> {
        Ok(merge_best(segments, self.limit))
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
        let mut best = Best::new(self.limit);
        // `for_each_pruning` only offers documents scoring above the threshold it is given back,
        // so a rejected document must hand back the unchanged threshold.
        weight.for_each_pruning(Score::MIN, reader, &mut |doc, score| {
            if filter.accepts(doc) {
                best.offer(score, DocAddress::new(segment, doc));
            }
            best.threshold
        })?;
        Ok(best.into_vec())
    }
}

/// The `limit` best of the documents offered, and the score a document must beat to enter.
///
/// Candidates pile up in a buffer of twice the limit, which is cut down to the best `limit` when
/// full (a selection, linear time): cheaper than keeping a heap in order on every entry.
struct Best {
    kept: Vec<Candidate>,
    limit: usize,
    threshold: Score,
}

impl Best {
    fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        Self {
            kept: Vec::with_capacity(2 * limit),
            limit,
            threshold: Score::MIN,
        }
    }

    /// Offers a document; documents come in increasing order of address, so one that only ties
    /// the threshold is worse than those that set it.
    #[inline]
    fn offer(&mut self, score: Score, address: DocAddress) {
        if score <= self.threshold {
            return;
        }
        self.kept.push(Candidate(score, address));
        if self.kept.len() == 2 * self.limit {
            self.cut();
            self.threshold = self.kept.last().map_or(Score::MIN, |c| c.0);
        }
    }

    /// Keeps the best `limit`: after the selection, the worst of them is last.
    fn cut(&mut self) {
        if self.kept.len() > self.limit {
            self.kept
                .select_nth_unstable_by(self.limit - 1, |a, b| b.cmp(a));
            self.kept.truncate(self.limit);
        }
    }

    fn into_vec(mut self) -> Vec<(Score, DocAddress)> {
        self.cut();
        self.kept.into_iter().map(|c| (c.0, c.1)).collect()
    }
}

/// Best candidates, best first, from the best of each segment.
fn merge_best(segments: Vec<Vec<(Score, DocAddress)>>, limit: usize) -> Vec<(Score, DocAddress)> {
    let mut all: Vec<Candidate> = segments
        .into_iter()
        .flatten()
        .map(|(score, address)| Candidate(score, address))
        .collect();
    all.sort_by(|a, b| b.cmp(a));
    all.truncate(limit);
    all.into_iter().map(|c| (c.0, c.1)).collect()
}

/// [`TopScored`] and the total and facet counts of all the matches the filter accepts, in one
/// pass that scores every match: what a search costs when its counts are not known yet.
///
/// Counting visits every match anyway; scoring each one on the way costs less than a second,
/// pruned pass over the same postings.
pub(crate) struct TopCounted {
    pub(crate) filter: DocFilter,
    pub(crate) limit: usize,
    pub(crate) counts: CodeCounts,
}

impl Collector for TopCounted {
    type Fruit = (Vec<(Score, DocAddress)>, (usize, Counts));
    type Child = NoSegmentCollector<Self::Fruit>;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        _reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        Ok(NoSegmentCollector(std::marker::PhantomData))
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, segments: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut best = Vec::with_capacity(segments.len());
        let mut counts = Vec::with_capacity(segments.len());
        let mut total = 0;
        for (segment_best, (segment_total, segment_counts)) in segments {
            best.push(segment_best);
            total += segment_total;
            counts.push(segment_counts);
        }
        Ok((
            merge_best(best, self.limit),
            (total, self.counts.merge_fruits(counts)?),
        ))
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Fruit> {
        let mut counts = self.counts.for_segment(segment, reader)?;
        let Some(filter) = self.filter.for_segment(segment, reader)? else {
            return Ok((Vec::new(), (0, counts.harvest())));
        };
        let mut best = Best::new(self.limit);
        let mut total = 0;
        // Accepted documents are counted a block at a time.
        let mut accepted: Vec<DocId> = Vec::with_capacity(COUNT_BLOCK);
        weight.for_each(reader, &mut |doc, score| {
            if filter.accepts(doc) {
                best.offer(score, DocAddress::new(segment, doc));
                accepted.push(doc);
                if accepted.len() == COUNT_BLOCK {
                    counts.collect_block(&accepted);
                    total += accepted.len();
                    accepted.clear();
                }
            }
        })?;
        counts.collect_block(&accepted);
        total += accepted.len();
        Ok((best.into_vec(), (total, counts.harvest())))
    }
}

/// Documents counted at a time by [`TopCounted`].
const COUNT_BLOCK: usize = 64;

/// Adds to each candidate's score what each of the `extra` clauses scores for it (nothing where
/// one does not match), with the statistics of the whole searcher, exactly as if they had been
/// `Should` clauses of the query; then sorts best first.
///
/// Each clause gets a scorer of its own that skips from candidate to candidate. One union of all
/// the clauses would cost far more: a union advances in windows of thousands of documents and
/// scores every posting of every clause inside each window it enters.
pub(crate) fn add_scores(
    searcher: &Searcher,
    stats: &dyn Bm25StatisticsProvider,
    extra: &[Box<dyn Query>],
    candidates: &mut [(Score, DocAddress)],
) -> tantivy::Result<()> {
    if candidates.is_empty() || extra.is_empty() {
        return Ok(());
    }
    let scoring = EnableScoring::enabled_from_statistics_provider(stats, searcher);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_are_those_a_full_sort_finds_ties_to_the_lower_address() {
        for limit in [1, 3, 7, 100] {
            let mut best = Best::new(limit);
            let mut all = Vec::new();
            let mut seed: u32 = 12_345;
            for doc in 0..1_000 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                // Few distinct scores: many ties.
                let score = ((seed >> 16) % 13) as Score;
                let address = DocAddress::new(0, doc);
                best.offer(score, address);
                all.push(Candidate(score, address));
            }
            all.sort_by(|a, b| b.cmp(a));
            let expected: Vec<(Score, DocAddress)> =
                all.iter().take(limit).map(|c| (c.0, c.1)).collect();
            assert_eq!(merge_best(vec![best.into_vec()], limit), expected);
        }
    }
}
