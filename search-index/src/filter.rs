//! Exact conditions (a listing's kind, the request's filters) checked per document on fast columns.
//!
//! As `Must` clauses of the query, these conditions would make tantivy intersect every match with a
//! long posting list and, worse, turn off block-max WAND, which only prunes a pure disjunction of
//! terms. Checked on the column values of each candidate instead, they cost a few nanoseconds
//! and leave the text query free to prune.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Cardinality, Column};
use tantivy::fastfield::AliveBitSet;
use tantivy::query::Weight;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

/// Conditions every document must meet: `column` (a `STRING | FAST` field) holds `value`; and
/// optionally one document left out.
#[derive(Debug, Clone, Default)]
pub(crate) struct DocFilter {
    conditions: Vec<(&'static str, String)>,
    excluded: Option<DocAddress>,
}

impl DocFilter {
    /// Requires `column` to hold `value`.
    pub(crate) fn require(mut self, column: &'static str, value: &str) -> Self {
        self.conditions.push((column, value.to_owned()));
        self
    }

    /// Leaves out one document (the source of a match).
    pub(crate) fn exclude(mut self, address: Option<DocAddress>) -> Self {
        self.excluded = address;
        self
    }

    /// The conditions resolved for one segment: `None` when no document of the segment can pass
    /// (a wanted value the segment has never seen), so that the segment is skipped.
    pub(crate) fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Option<SegmentFilter>> {
        let mut checks = Vec::with_capacity(self.conditions.len());
        for (name, value) in &self.conditions {
            let Some(column) = reader.fast_fields().str(name)? else {
                return Ok(None);
            };
            let Some(ord) = column.dictionary().term_ord(value.as_bytes())? else {
                return Ok(None);
            };
            checks.push((column.ords().clone(), ord));
        }
        Ok(Some(SegmentFilter {
            checks,
            alive: reader.alive_bitset().cloned(),
            excluded: self
                .excluded
                .filter(|a| a.segment_ord == segment)
                .map(|a| a.doc_id),
        }))
    }
}

/// A [`DocFilter`] for one segment; also drops deleted documents.
pub(crate) struct SegmentFilter {
    checks: Vec<(Column<u64>, u64)>,
    alive: Option<AliveBitSet>,
    excluded: Option<DocId>,
}

impl SegmentFilter {
    /// Keeps in `out` the documents of `docs` that [`Self::accepts`], reading each column once for
    /// the whole block (`scratch` is reused between blocks).
    pub(crate) fn retain(
        &self,
        docs: &[DocId],
        out: &mut Vec<DocId>,
        scratch: &mut Vec<Option<u64>>,
    ) {
        out.clear();
        out.extend(docs.iter().copied().filter(|&doc| {
            self.alive.as_ref().is_none_or(|a| a.is_alive(doc)) && self.excluded != Some(doc)
        }));
        for (column, ord) in &self.checks {
            if column.get_cardinality() == Cardinality::Multivalued {
                out.retain(|&doc| column.values_for_doc(doc).any(|v| v == *ord));
            } else {
                scratch.clear();
                scratch.resize(out.len(), None);
                column.first_vals(out, scratch);
                let mut values = scratch.iter();
                out.retain(|_| values.next().is_some_and(|v| *v == Some(*ord)));
            }
        }
    }

    /// Whether the document is alive and meets every condition.
    #[inline]
    pub(crate) fn accepts(&self, doc: DocId) -> bool {
        self.alive.as_ref().is_none_or(|a| a.is_alive(doc))
            && self.excluded != Some(doc)
            && self
                .checks
                .iter()
                .all(|(column, ord)| column.values_for_doc(doc).any(|v| v == *ord))
    }
}

/// Runs any collector over the documents a [`DocFilter`] accepts, without scoring.
pub(crate) struct Filtered<C> {
    pub(crate) filter: DocFilter,
    pub(crate) inner: C,
}

/// The per-segment part of [`Filtered`].
pub(crate) struct FilteredSegment<S> {
    filter: Option<SegmentFilter>,
    inner: S,
}

impl<C: Collector> Collector for Filtered<C> {
    type Fruit = C::Fruit;
    type Child = FilteredSegment<C::Child>;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        Ok(FilteredSegment {
            filter: self.filter.for_segment(segment, reader)?,
            inner: self.inner.for_segment(segment, reader)?,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<<Self::Child as SegmentCollector>::Fruit>,
    ) -> tantivy::Result<Self::Fruit> {
        self.inner.merge_fruits(fruits)
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<<Self::Child as SegmentCollector>::Fruit> {
        let mut child = self.for_segment(segment, reader)?;
        // A segment no document of which can pass is not iterated at all.
        if let Some(filter) = &child.filter {
            let inner = &mut child.inner;
            let (mut accepted, mut scratch) = (Vec::new(), Vec::new());
            weight.for_each_no_score(reader, &mut |docs| {
                filter.retain(docs, &mut accepted, &mut scratch);
                inner.collect_block(&accepted);
            })?;
        }
        Ok(child.inner.harvest())
    }
}

impl<S: SegmentCollector> SegmentCollector for FilteredSegment<S> {
    type Fruit = S::Fruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        if self.filter.as_ref().is_some_and(|f| f.accepts(doc)) {
            self.inner.collect(doc, score);
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.inner.harvest()
    }
}
