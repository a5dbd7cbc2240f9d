//! Exact conditions (a listing's kind, the request's filters) checked per document on the code
//! tables of [`crate::codes`].
//!
//! As `Must` clauses of the query, these conditions would make tantivy intersect every match with a
//! long posting list and, worse, turn off block-max WAND, which only prunes a pure disjunction of
//! terms. Checked on the codes of each candidate instead, they cost a few nanoseconds
//! and leave the text query free to prune.

use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::fastfield::AliveBitSet;
use tantivy::query::Weight;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use crate::codes::{CodeColumn, CodeTables, SegmentCodes};

/// The conditions a document must meet besides the text: codes it must carry, and one document
/// (the source of a matching) it must not be.
#[derive(Debug, Clone)]
pub(crate) struct DocFilter {
    tables: Arc<CodeTables>,
    conditions: Vec<(CodeColumn, String)>,
    excluded: Option<DocAddress>,
}

impl DocFilter {
    /// No condition yet, reading codes from `tables`.
    pub(crate) fn new(tables: &Arc<CodeTables>) -> Self {
        Self {
            tables: tables.clone(),
            conditions: Vec::new(),
            excluded: None,
        }
    }

    /// Documents must carry `code` in `column`.
    pub(crate) fn require(mut self, column: CodeColumn, code: &str) -> Self {
        self.conditions.push((column, code.to_owned()));
        self
    }

    /// The document at `address` never passes.
    pub(crate) fn exclude(mut self, address: Option<DocAddress>) -> Self {
        self.excluded = address;
        self
    }

    /// The filter of one segment; `None` when no document of the segment can pass (a required
    /// code is absent from it).
    pub(crate) fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Option<SegmentFilter>> {
        let codes = self.tables.of(reader)?;
        let mut checks = Vec::with_capacity(self.conditions.len());
        for (column, code) in &self.conditions {
            let Some(ordinal) = codes.column(*column).ordinal(code) else {
                return Ok(None);
            };
            // A condition every listing of the segment meets (results only, say) costs nothing.
            if !codes.column(*column).all_have(ordinal, reader.max_doc()) {
                checks.push((*column, ordinal));
            }
        }
        Ok(Some(SegmentFilter {
            codes,
            checks,
            alive: reader.alive_bitset().cloned(),
            excluded: self
                .excluded
                .filter(|a| a.segment_ord == segment)
                .map(|a| a.doc_id),
        }))
    }
}

/// A [`DocFilter`] for one segment.
pub(crate) struct SegmentFilter {
    codes: Arc<SegmentCodes>,
    checks: Vec<(CodeColumn, u32)>,
    alive: Option<AliveBitSet>,
    excluded: Option<DocId>,
}

impl SegmentFilter {
    /// `out` = the documents of `docs` that pass.
    pub(crate) fn retain(&self, docs: &[DocId], out: &mut Vec<DocId>) {
        out.clear();
        out.extend(docs.iter().copied().filter(|&doc| self.accepts(doc)));
    }

    /// Whether `doc` passes: alive, not the excluded one, and carrying every required code.
    #[inline]
    pub(crate) fn accepts(&self, doc: DocId) -> bool {
        self.alive.as_ref().is_none_or(|a| a.is_alive(doc))
            && self.excluded != Some(doc)
            && self
                .checks
                .iter()
                .all(|&(column, ordinal)| self.codes.column(column).has(doc, ordinal))
    }
}

/// Runs `inner` on the documents that `filter` accepts.
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
            let mut accepted = Vec::new();
            weight.for_each_no_score(reader, &mut |docs| {
                filter.retain(docs, &mut accepted);
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
