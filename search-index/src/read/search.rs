//! Running a [`SearchQuery`]: a page of hits with their snippets, the total and the facet counts;
//! and which of a few listings a saved search matches.
//!
//! The total and facet counts come from one pass over every match (kept until the next commit, so
//! that paging does not count again); the page of a relevance search comes from a second, pruned
//! pass that scores only what can still reach the top ([`super::top`]).

use std::sync::Arc;

use tantivy::collector::{Count, DocSetCollector, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query};
use tantivy::schema::Value;
use tantivy::{DocAddress, Order, Searcher, TantivyDocument};

use super::counts::CodeCounts;
use super::filter::{DocFilter, Filtered};
use super::query::{Filters, Page, SearchQuery};
use super::request::{Ranking, SearchHit, SearchRequest, SearchResults, Sort};
use super::snippet::Snippets;
use super::stats::TermStats;
use super::stored::StoredTexts;
use super::terms::term;
use super::top::{TopCounted, TopScored, add_scores};
use crate::codes::CodeColumn;
use crate::error::SearchError;
use crate::index::SearchIndex;

/// Candidates of a relevance search whose scores the score-only clauses complete. Every page
/// within this depth is cut from the same re-ranked list, so paging never repeats or skips a hit.
const RERANK_DEPTH: usize = 100;

impl SearchIndex {
    /// The exact conditions of a search, checked on the code tables.
    fn filter_of(&self, filters: &Filters) -> DocFilter {
        let mut filter = DocFilter::new(&self.codes).require(CodeColumn::Kind, &filters.kind);
        for (column, code) in [
            (CodeColumn::Industry, &filters.industry),
            (CodeColumn::TechField, &filters.tech_field),
            (CodeColumn::Stage, &filters.maturity_stage),
            (CodeColumn::District, &filters.district),
        ] {
            if let Some(code) = code {
                filter = filter.require(column, code);
            }
        }
        filter
    }

    /// Which of the listings `ids` (of the request's kind) the request matches: for saved searches,
    /// run over just-published listings.
    pub fn matching_among(
        &self,
        request: &SearchRequest,
        ids: &[String],
    ) -> Result<Vec<String>, SearchError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = SearchQuery::new(request, &Ranking::default());
        let searcher = self.reader.searcher();
        let keys: Vec<(Occur, Box<dyn Query>)> = ids
            .iter()
            .map(|id| {
                (
                    Occur::Should,
                    term(
                        self.fields.key,
                        &crate::ListingDoc::key_of(&query.filters.kind, id),
                    ),
                )
            })
            .collect();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(keys)))];
        if let Some(text) = self.text_query(&TermStats::new(&searcher), &query) {
            clauses.push((Occur::Must, text.matching));
        }
        let found = searcher.search(
            &BooleanQuery::new(clauses),
            &Filtered {
                filter: self.filter_of(&query.filters),
                inner: DocSetCollector,
            },
        )?;
        let mut matched = Vec::with_capacity(found.len());
        for address in found {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = doc.get_first(self.fields.id).and_then(|v| v.as_str()) {
                matched.push(id.to_owned());
            }
        }
        matched.sort();
        Ok(matched)
    }

    /// Runs a search with the product's ranking; a search repeated before the next commit is
    /// answered from memory.
    pub fn search(&self, request: &SearchRequest) -> Result<Arc<SearchResults>, SearchError> {
        let searcher = self.reader.searcher();
        let generation = searcher.generation().generation_id();
        let query = SearchQuery::new(request, &Ranking::default());
        let key = query.results_key();
        if let Some(results) = self.results_cache.get(&key, generation) {
            return Ok(results);
        }
        let results = Arc::new(self.search_with(&searcher, &query)?);
        self.results_cache.put(key, generation, &results);
        Ok(results)
    }

    /// Runs a search with the given ranking.
    ///
    /// The total and facet counts come from one pass over every match without scoring (kept until
    /// the next commit, so that paging does not count again); the page of a relevance search comes
    /// from a second, pruned pass that scores only what can still reach the top.
    pub fn search_ranked(
        &self,
        request: &SearchRequest,
        ranking: &Ranking,
    ) -> Result<SearchResults, SearchError> {
        let query = SearchQuery::new(request, ranking);
        self.search_with(&self.reader.searcher(), &query)
    }

    /// Runs `query` on `searcher`: the page, and the total and counts unless they are kept.
    fn search_with(
        &self,
        searcher: &Searcher,
        query: &SearchQuery,
    ) -> Result<SearchResults, SearchError> {
        let stats = TermStats::new(searcher);
        let text = self.text_query(&stats, query);
        let filter = self.filter_of(&query.filters);
        let Page { offset, limit } = query.page;
        let generation = searcher.generation().generation_id();
        // What matches depends on the text, the filters and the ranking (its common-word rule),
        // not on the order or the page.
        let counts_key = query.match_key();
        let cached = self.counts_cache.get(&counts_key, generation);
        let code_counts = || {
            CodeCounts::of(
                &self.codes,
                &[
                    CodeColumn::Industry,
                    CodeColumn::TechField,
                    CodeColumn::Stage,
                ],
            )
        };
        let facets = || (Count, code_counts());

        let mut counted = None;
        let addresses: Vec<(f32, DocAddress)> = match (&text, query.sort) {
            (Some(text), Sort::Relevance) if text.ranks => {
                let wanted = offset.saturating_add(limit).max(RERANK_DEPTH);
                let mut top = if cached.is_none() {
                    // The counts are needed: one pass scores and counts every match.
                    let (top, facets) = searcher.search_with_statistics_provider(
                        &*text.matching,
                        &TopCounted {
                            filter,
                            limit: wanted,
                            counts: code_counts(),
                        },
                        &stats,
                    )?;
                    counted = Some(facets);
                    top
                } else {
                    // Only the page: block-max WAND skips what cannot reach it.
                    searcher.search_with_statistics_provider(
                        &*text.matching,
                        &TopScored {
                            filter,
                            limit: wanted,
                        },
                        &stats,
                    )?
                };
                let depth = top.len().min(RERANK_DEPTH);
                add_scores(searcher, &stats, &text.extra, &mut top[..depth])?;
                top.into_iter().skip(offset).take(limit).collect()
            }
            (_, sort) => {
                let all: Box<dyn Query> = Box::new(AllQuery);
                let matching = text.as_ref().map_or(&all, |t| &t.matching);
                let (field, order) = match sort {
                    Sort::Relevance | Sort::Newest => ("published_at", Order::Desc),
                    Sort::PriceAsc => ("price_fen", Order::Asc),
                    Sort::PriceDesc => ("price_fen_desc", Order::Desc),
                };
                let top = TopDocs::with_limit(limit)
                    .and_offset(offset)
                    .order_by_fast_field::<i64>(field, order);
                let hits = if cached.is_some() {
                    searcher.search(&**matching, &Filtered { filter, inner: top })?
                } else {
                    let (hits, facets) = searcher.search(
                        &**matching,
                        &Filtered {
                            filter,
                            inner: (top, facets()),
                        },
                    )?;
                    counted = Some(facets);
                    hits
                };
                hits.into_iter().map(|(_, a)| (0.0, a)).collect()
            }
        };
        let (total, counts) = match (counted, cached) {
            (Some(counted), _) => {
                self.counts_cache.put(counts_key, generation, &counted);
                counted
            }
            (None, Some(cached)) => cached,
            (None, None) => (0, Vec::new()),
        };
        let mut counts = counts.into_iter();

        let terms = if text.is_some() {
            self.highlight_terms(&query.text)
        } else {
            Vec::new()
        };
        let snippets = Snippets::new(&terms);
        let mut hits = Vec::with_capacity(addresses.len());
        for (score, address) in addresses {
            hits.push(self.hit(searcher, address, score, &snippets)?);
        }
        Ok(SearchResults {
            hits,
            total,
            industry: counts.next().unwrap_or_default(),
            tech_field: counts.next().unwrap_or_default(),
            maturity_stage: counts.next().unwrap_or_default(),
        })
    }

    fn hit(
        &self,
        searcher: &Searcher,
        address: DocAddress,
        score: f32,
        snippets: &Snippets,
    ) -> Result<SearchHit, SearchError> {
        let f = self.fields;
        let mut doc: StoredTexts = searcher.doc(address)?;
        let snippet = snippets.of(&doc.take(f.body));
        Ok(SearchHit {
            id: doc.take(f.id),
            kind: doc.take(f.kind),
            title: doc.take(f.title),
            snippet,
            score,
            industry_codes: doc.take_all(f.industry_codes),
            org_id: doc.take(f.org_id),
            org_name: doc.take(f.org_name),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// matches, whatever the text, sort and filters.
    #[test]
    fn the_total_is_exactly_the_hits_one_can_page_through() -> Result<(), SearchError> {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let index = SearchIndex::open_or_create(&tmp.path().join("index"))?;
        let mut docs = Vec::new();
        for (i, title) in [
            "机器视觉缺陷检测系统",
            "人工智能芯片设计",
            "AI 视觉质检平台",
            "增材制造钛合金构件",
            "3D打印随形冷却模具",
            "锂电池热失控预警",
            "集成电路封装测试",
        ]
        .iter()
        .enumerate()
        {
            let mut doc = crate::tests::doc(&format!("r{i}"), title);
            doc.keywords = vec![title.chars().take(4).collect()];
            if i % 2 == 0 {
                doc.org_name = "西北工业大学视觉实验室".into();
                doc.industries = vec![("robotics".into(), "emerging".into())];
            }
            if i == 3 {
                doc.kind = "demand".into();
            }
            docs.push(doc);
        }
        index.apply(&docs, &[])?;
        index.commit(1)?;
        // Words in more than one of the seven listings are common here.
        let few_are_rare = Ranking {
            common_share: 0.2,
            common_min_docs: 0,
            ..Ranking::default()
        };
        for q in [
            "视觉",
            "AI",
            "人工智能",
            "芯片 打印",
            "实验室",
            "\"缺陷检测\"",
            "视觉 -芯片",
            "不存在的词",
        ] {
            for (sort, ranking) in [Sort::Relevance, Sort::Newest, Sort::PriceAsc]
                .into_iter()
                .flat_map(|sort| [(sort, Ranking::default()), (sort, few_are_rare)])
            {
                for industry in [None, Some("robotics".to_owned())] {
                    let request = SearchRequest {
                        q: q.into(),
                        kind: "result".into(),
                        industry,
                        sort,
                        limit: 100,
                        ..SearchRequest::default()
                    };
                    let found = index.search_ranked(&request, &ranking)?;
                    assert_eq!(found.total, found.hits.len(), "{request:?}");
                    let counted: u64 = found.tech_field.values().sum();
                    assert_eq!(counted as usize, found.total, "{request:?}");
                    assert!(found.hits.iter().all(|h| h.kind == "result"));
                }
            }
        }
        let vision = SearchRequest {
            q: "视觉".into(),
            kind: "result".into(),
            limit: 100,
            ..SearchRequest::default()
        };
        assert_eq!(
            index.search(&vision)?.total,
            4,
            "two titles, two more by the owner's name"
        );
        // 视觉 is in two texts and four owners' names: common. With a rarer word beside it (芯片, and
        // its synonym 集成电路), it decides nothing…
        let chips = SearchRequest {
            q: "视觉 芯片".into(),
            ..vision.clone()
        };
        let found = index.search_ranked(&chips, &few_are_rare)?;
        let mut titles: Vec<&str> = found.hits.iter().map(|h| h.title.as_str()).collect();
        titles.sort();
        assert_eq!(titles, ["人工智能芯片设计", "集成电路封装测试"]);
        assert_eq!(found.total, 2);
        assert_eq!(
            index.search(&chips)?.total,
            5,
            "small catalogues match every word"
        );
        // … and alone, it still finds everything it is in.
        assert_eq!(index.search_ranked(&vision, &few_are_rare)?.total, 4);
        // A word no listing has (a typo, a number) is not a rarer word: the common one still finds.
        let typo = SearchRequest {
            q: "视觉 90000123".into(),
            ..vision.clone()
        };
        assert_eq!(index.search_ranked(&typo, &few_are_rare)?.total, 4);
        Ok(())
    }
}
