//! The codes of every listing (kind, industries, 技术领域, stage, district) in plain arrays, built
//! once per segment, before a searcher that contains the segment serves its first search.
//!
//! Counting facets and checking filters read these codes for every match of a search (thousands
//! per query). Read through tantivy's dictionary-encoded columns that cost about 40 ns per matching
//! listing, most of it resolving a multi-valued column's row range; a bit mask per listing is one
//! load and a few bit operations. The tables take 4 bytes per listing and column (20 MB at a
//! million listings), and a segment is only read once, when a commit or a merge makes it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::{DocId, Searcher, SearcherGeneration, SegmentReader, Warmer};

/// The fast columns of codes, in the order of [`SegmentCodes::column`]'s argument.
pub(crate) const CODE_COLUMNS: [&str; 5] = [
    "kind",
    "industry_codes",
    "tech_field_code",
    "stage_code",
    "district_codes",
];

/// A column of [`CODE_COLUMNS`] by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeColumn {
    /// `result` or `demand`.
    Kind = 0,
    /// Industry codes (several per listing).
    Industry = 1,
    /// 技术领域.
    TechField = 2,
    /// Maturity stage.
    Stage = 3,
    /// District and development-zone codes.
    District = 4,
}

/// One segment's codes of one column.
#[derive(Debug, Default)]
pub(crate) struct Codes {
    /// The codes present in the segment, by ordinal (sorted, as tantivy's dictionary is).
    names: Vec<String>,
    /// Each listing's ordinals.
    per_doc: PerDoc,
    /// How many listings (deleted ones included) have each ordinal.
    holders: Vec<u64>,
}

/// Each listing's ordinals: a bit mask while a column has at most 32 codes in the segment (all of
/// the market's taxonomies do), otherwise lists.
#[derive(Debug)]
enum PerDoc {
    Masks(Vec<u32>),
    Lists {
        starts: Vec<u32>,
        ordinals: Vec<u32>,
    },
}

impl Default for PerDoc {
    fn default() -> Self {
        Self::Masks(Vec::new())
    }
}

impl Codes {
    fn read(column: Option<StrColumn>, max_doc: DocId) -> tantivy::Result<Self> {
        let Some(column) = column else {
            return Ok(Self::default());
        };
        let mut names = Vec::with_capacity(column.num_terms());
        for ord in 0..column.num_terms() as u64 {
            let mut name = String::new();
            column.ord_to_str(ord, &mut name)?;
            names.push(name);
        }
        let ords = column.ords();
        let per_doc = if names.len() <= 32 {
            PerDoc::Masks(
                (0..max_doc)
                    .map(|doc| {
                        ords.values_for_doc(doc)
                            .fold(0u32, |mask, ord| mask | (1 << ord))
                    })
                    .collect(),
            )
        } else {
            let mut starts = Vec::with_capacity(max_doc as usize + 1);
            let mut ordinals = Vec::new();
            for doc in 0..max_doc {
                starts.push(ordinals.len() as u32);
                ordinals.extend(ords.values_for_doc(doc).map(|ord| ord as u32));
            }
            starts.push(ordinals.len() as u32);
            PerDoc::Lists { starts, ordinals }
        };
        let mut codes = Self {
            names,
            per_doc,
            holders: Vec::new(),
        };
        let mut holders = vec![0; codes.len()];
        codes.count(&(0..max_doc).collect::<Vec<_>>(), &mut holders);
        codes.holders = holders;
        Ok(codes)
    }

    /// The number of codes in the segment.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// The code of an ordinal.
    pub(crate) fn name(&self, ordinal: usize) -> Option<&str> {
        self.names.get(ordinal).map(String::as_str)
    }

    /// The ordinal of a code, if any listing of the segment has it.
    pub(crate) fn ordinal(&self, code: &str) -> Option<u32> {
        self.names
            .binary_search_by(|name| name.as_str().cmp(code))
            .ok()
            .map(|i| i as u32)
    }

    /// Whether every listing of the segment (`max_doc` of them) has the code of `ordinal`.
    pub(crate) fn all_have(&self, ordinal: u32, max_doc: DocId) -> bool {
        self.holders.get(ordinal as usize) == Some(&u64::from(max_doc))
    }

    /// Whether listing `doc` has the code of `ordinal`.
    #[inline]
    pub(crate) fn has(&self, doc: DocId, ordinal: u32) -> bool {
        match &self.per_doc {
            PerDoc::Masks(masks) => masks
                .get(doc as usize)
                .is_some_and(|mask| mask & (1 << ordinal) != 0),
            PerDoc::Lists { starts, ordinals } => {
                Self::list(starts, ordinals, doc).contains(&ordinal)
            }
        }
    }

    /// Adds one to `counts[ordinal]` for each code of each of `docs`.
    #[inline]
    pub(crate) fn count(&self, docs: &[DocId], counts: &mut [u64]) {
        match &self.per_doc {
            PerDoc::Masks(masks) => {
                for &doc in docs {
                    let mut mask = masks.get(doc as usize).copied().unwrap_or(0);
                    while mask != 0 {
                        if let Some(n) = counts.get_mut(mask.trailing_zeros() as usize) {
                            *n += 1;
                        }
                        mask &= mask - 1;
                    }
                }
            }
            PerDoc::Lists { starts, ordinals } => {
                for &doc in docs {
                    for &ordinal in Self::list(starts, ordinals, doc) {
                        if let Some(n) = counts.get_mut(ordinal as usize) {
                            *n += 1;
                        }
                    }
                }
            }
        }
    }

    fn list<'a>(starts: &[u32], ordinals: &'a [u32], doc: DocId) -> &'a [u32] {
        let doc = doc as usize;
        match (starts.get(doc), starts.get(doc + 1)) {
            (Some(&start), Some(&end)) => ordinals.get(start as usize..end as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// All code columns of one segment.
#[derive(Debug)]
pub(crate) struct SegmentCodes {
    columns: Vec<Codes>,
}

impl SegmentCodes {
    fn read(reader: &SegmentReader) -> tantivy::Result<Self> {
        let columns = CODE_COLUMNS
            .iter()
            .map(|name| Codes::read(reader.fast_fields().str(name)?, reader.max_doc()))
            .collect::<tantivy::Result<_>>()?;
        Ok(Self { columns })
    }

    /// The codes of one column.
    pub(crate) fn column(&self, column: CodeColumn) -> &Codes {
        &self.columns[column as usize]
    }
}

/// The [`SegmentCodes`] of the segments that live searchers use. Registered with the index reader
/// as a [`Warmer`], so that a new segment's table is built before searches see the segment.
#[derive(Debug, Default)]
pub(crate) struct CodeTables {
    segments: Mutex<HashMap<SegmentId, Arc<SegmentCodes>>>,
}

impl CodeTables {
    /// The table of a segment, built now if the warmer has not seen it.
    pub(crate) fn of(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentCodes>> {
        let id = reader.segment_id();
        if let Some(codes) = self.lock().get(&id) {
            return Ok(codes.clone());
        }
        // Built outside the lock: a large segment takes a while, and searches of other segments
        // go on meanwhile.
        let codes = Arc::new(SegmentCodes::read(reader)?);
        self.lock().insert(id, codes.clone());
        Ok(codes)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SegmentId, Arc<SegmentCodes>>> {
        // The map only ever holds complete tables, so a panic elsewhere cannot leave it invalid.
        self.segments.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The number of segments with a table.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

impl Warmer for CodeTables {
    fn warm(&self, searcher: &Searcher) -> tantivy::Result<()> {
        for reader in searcher.segment_readers() {
            self.of(reader)?;
        }
        Ok(())
    }

    fn garbage_collect(&self, live_generations: &[&SearcherGeneration]) {
        self.lock().retain(|id, _| {
            live_generations
                .iter()
                .any(|generation| generation.segments().contains_key(id))
        });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::tests::doc;
    use crate::{ListingDoc, SearchError, SearchIndex, SearchRequest};

    fn listing(i: usize) -> ListingDoc {
        let mut listing = doc(&format!("{i:03}"), "机器视觉缺陷检测");
        // A district each: more than a mask holds. Every third listing has a second industry.
        listing.district = format!("61{i:04}");
        if i.is_multiple_of(3) {
            listing
                .industries
                .push(("robotics".into(), "emerging".into()));
        }
        listing.tech_field = ["electronic_information", "new_energy"][i % 2].into();
        listing
    }

    fn search(
        index: &SearchIndex,
        district: Option<&str>,
    ) -> Result<(usize, BTreeMap<String, u64>), SearchError> {
        let results = index.search(&SearchRequest {
            q: "机器视觉".into(),
            kind: "result".into(),
            district: district.map(str::to_owned),
            limit: 100,
            ..SearchRequest::default()
        })?;
        Ok((results.hits.len(), results.industry.clone()))
    }

    /// An empty index in a temporary directory (kept alive by the returned guard).
    fn empty_index() -> Result<(tempfile::TempDir, SearchIndex), SearchError> {
        let tmp = tempfile::tempdir().map_err(|source| SearchError::Io {
            path: "tmp".into(),
            source,
        })?;
        let index = SearchIndex::open_or_create(tmp.path())?;
        Ok((tmp, index))
    }

    #[test]
    fn filters_and_counts_read_masks_and_lists_alike() -> Result<(), SearchError> {
        let (_tmp, index) = empty_index()?;
        // 70 results and a demand: each of the writer's threads makes a segment of more than 32.
        let mut docs: Vec<ListingDoc> = (0..71).map(listing).collect();
        docs[70].kind = "demand".into();
        index.apply(&docs, &[])?;
        index.commit(1)?;

        let searcher = index.reader.searcher();
        let mut districts = 0;
        for reader in searcher.segment_readers() {
            let codes = index.codes.of(reader)?;
            let district = codes.column(CodeColumn::District);
            assert_eq!(
                matches!(district.per_doc, PerDoc::Lists { .. }),
                district.len() > 32
            );
            assert!(matches!(
                codes.column(CodeColumn::Industry).per_doc,
                PerDoc::Masks(_)
            ));
            assert_eq!(district.ordinal("61ZZZZ"), None);
            let mut counts = vec![0; district.len()];
            let all: Vec<DocId> = (0..reader.max_doc()).collect();
            district.count(&all, &mut counts);
            assert!(counts.iter().all(|&n| n == 1), "{counts:?}");
            districts += district.len();
        }
        assert_eq!(districts, 71);
        // The kind is checked only in the segment that holds both kinds.
        let results_only = searcher
            .segment_readers()
            .iter()
            .filter(|reader| {
                index.codes.of(reader).is_ok_and(|codes| {
                    let kind = codes.column(CodeColumn::Kind);
                    kind.ordinal("result")
                        .is_some_and(|result| kind.all_have(result, reader.max_doc()))
                })
            })
            .count();
        assert_eq!(results_only, searcher.segment_readers().len() - 1);
        assert!(
            searcher.segment_readers().iter().any(|reader| index
                .codes
                .of(reader)
                .is_ok_and(|c| c.column(CodeColumn::District).len() > 32)),
            "no segment needs lists"
        );

        // Filters and counts agree with the listings, whichever way the codes are held.
        for i in [0, 17, 69] {
            assert_eq!(search(&index, Some(&format!("61{i:04}")))?.0, 1);
        }
        assert_eq!(search(&index, Some("610070"))?.0, 0, "a demand");
        assert_eq!(search(&index, Some("999999"))?.0, 0);
        let (hits, industries) = search(&index, None)?;
        assert_eq!(hits, 70);
        assert_eq!(
            industries,
            BTreeMap::from([
                ("artificial_intelligence".to_owned(), 70),
                ("robotics".to_owned(), 24),
            ])
        );
        Ok(())
    }

    #[test]
    fn tables_follow_the_live_segments() -> Result<(), SearchError> {
        let (_tmp, index) = empty_index()?;
        for round in 0..3 {
            index.apply(&[listing(round)], &[])?;
            index.commit(round as i64 + 1)?;
            // The warmer built the new segment's table before any search.
            let segments = index.reader.searcher().segment_readers().len();
            assert!(index.codes.len() >= segments);
        }
        index.clear()?;
        index.commit(10)?;
        // The tables of segments no searcher uses any more are dropped by tantivy's collector
        // thread, which runs every few hundred milliseconds.
        let deadline = Instant::now() + Duration::from_secs(10);
        while index.codes.len() > index.reader.searcher().segment_readers().len() {
            assert!(
                Instant::now() < deadline,
                "{} tables left",
                index.codes.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}
