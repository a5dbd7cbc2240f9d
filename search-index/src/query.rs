//! Searching: any string is a valid query.
//!
//! The text is read as words, `"quoted phrases"` (which must appear) and `-excluded` words. Words
//! are analyzed with the index's own Chinese analyzer and matched in the title, keywords, body and
//! organization name with boosts; at least one must match. Filters are exact facet terms. Nothing a
//! user types can make the query fail: there is no query syntax to get wrong.

use std::collections::BTreeMap;
use std::sync::Arc;

use tantivy::collector::{Count, DocSetCollector, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Order, Searcher, TantivyDocument, Term};

use crate::codes::CodeColumn;
use crate::counts::CodeCounts;
use crate::filter::{DocFilter, Filtered};
use crate::index::{SearchError, SearchIndex};
use crate::snippet::Snippets;
use crate::stats::TermStats;
use crate::stored::StoredTexts;
use crate::top::{TopCounted, TopScored, add_scores};

/// Longest query text considered, in characters; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 500;

/// The order of hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Best match first.
    #[default]
    Relevance,
    /// Most recently published first.
    Newest,
    /// Cheapest first; 面议 last.
    PriceAsc,
    /// Most expensive first; 面议 last.
    PriceDesc,
}

/// How the words of a query are weighted. [`Ranking::default`] is the product's choice, made on the
/// numbers of `techmarket eval` (see `BENCHMARKS.md`); the evaluation measures the alternatives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranking {
    /// Boost of a match in the title.
    pub title: f32,
    /// Boost of a match in the keywords.
    pub keywords: f32,
    /// Boost of a match anywhere in the listing's text (title, keywords, summary and details).
    pub text: f32,
    /// Boost of the query's Han-character bigrams in the listing's text.
    pub bigram: f32,
    /// Boost of a match in the owner's name.
    pub org_name: f32,
    /// Whether a word also finds the members of its synonym groups.
    pub synonyms: bool,
    /// Boost of the query's words appearing near each other (within [`PROXIMITY_SLOP`] words) in
    /// the title or body; 0 turns it off.
    pub proximity: f32,
    /// Share of the listings above which a word is common: it then only adds to the score of
    /// listings that match by the query's rarer words (when it has any).
    pub common_share: f32,
    /// A word is common only if it is in more listings than this too: small catalogues match
    /// every word.
    pub common_min_docs: u64,
}

impl Ranking {
    /// The number of listings a word may be in, out of `num_docs`, before it is common.
    pub fn common_limit(&self, num_docs: u64) -> u64 {
        ((num_docs as f64 * f64::from(self.common_share)) as u64).max(self.common_min_docs)
    }
}

/// How many words apart the query's words may stand for the proximity boost.
pub const PROXIMITY_SLOP: u32 = 3;

impl Default for Ranking {
    fn default() -> Self {
        Self {
            title: 0.5,
            keywords: 2.0,
            text: 1.0,
            bigram: 1.0,
            org_name: 0.5,
            synonyms: true,
            proximity: 0.0,
            common_share: 0.1,
            common_min_docs: 10_000,
        }
    }
}

/// A search.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// What the user typed.
    pub q: String,
    /// `result` or `demand`.
    pub kind: String,
    /// Industry code.
    pub industry: Option<String>,
    /// 技术领域 code.
    pub tech_field: Option<String>,
    /// Maturity stage code.
    pub maturity_stage: Option<String>,
    /// 6-digit region code or development-zone code.
    pub district: Option<String>,
    /// Order.
    pub sort: Sort,
    /// Hits to skip.
    pub offset: usize,
    /// Hits to return.
    pub limit: usize,
}

/// One hit.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// Listing UUID.
    pub id: String,
    /// `result` or `demand`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// About 80 characters of the body around the matches, HTML-escaped, matches in `<em>`.
    pub snippet: String,
    /// Relevance score (0 when sorted by something else).
    pub score: f32,
    /// Industry codes.
    pub industry_codes: Vec<String>,
    /// Owner UUID.
    pub org_id: String,
    /// Owner name.
    pub org_name: String,
}

/// The answer to a search.
#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    /// This page of hits.
    pub hits: Vec<SearchHit>,
    /// All matching listings.
    pub total: usize,
    /// Matching listings per industry code.
    pub industry: BTreeMap<String, u64>,
    /// Matching listings per 技术领域.
    pub tech_field: BTreeMap<String, u64>,
    /// Matching listings per maturity stage.
    pub maturity_stage: BTreeMap<String, u64>,
}

/// The parts of a query text.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    /// Free words (at least one should match).
    pub words: Vec<String>,
    /// Quoted phrases (each must match).
    pub phrases: Vec<String>,
    /// `-words` (none may match).
    pub excluded: Vec<String>,
}

/// Splits a query text. Unbalanced quotes close at the end; a lone `-` is a word.
pub fn parse(text: &str) -> ParsedQuery {
    let text: String = text.chars().take(MAX_QUERY_CHARS).collect();
    let mut parsed = ParsedQuery::default();
    let mut rest = text.as_str();
    while let Some(start) = rest.find(['"', '“', '”']) {
        let (before, after) = rest.split_at(start);
        push_words(before, &mut parsed);
        let quote_len = after.chars().next().map_or(1, char::len_utf8);
        let after = &after[quote_len..];
        match after.find(['"', '“', '”']) {
            Some(end) => {
                let phrase = after[..end].trim();
                if !phrase.is_empty() {
                    parsed.phrases.push(phrase.to_owned());
                }
                let close_len = after[end..].chars().next().map_or(1, char::len_utf8);
                rest = &after[end + close_len..];
            }
            None => {
                push_words(after, &mut parsed);
                rest = "";
            }
        }
    }
    push_words(rest, &mut parsed);
    parsed
}

fn push_words(text: &str, parsed: &mut ParsedQuery) {
    for word in text.split_whitespace() {
        match word.strip_prefix(['-', '－']) {
            Some(excluded) if !excluded.is_empty() => parsed.excluded.push(excluded.to_owned()),
            _ => parsed.words.push(word.to_owned()),
        }
    }
}

/// The text part of a search: what a listing must match, and what only adds to the score.
struct TextQuery {
    /// The words (a pure disjunction of terms, which block-max WAND can prune), with quoted phrases
    /// and exclusions when there are any: what finds the page and, unscored, what is counted.
    matching: Box<dyn Query>,
    /// Clauses that add to the score of matching listings without deciding whether they match,
    /// one term or phrase each (see [`add_scores`]).
    extra: Vec<Box<dyn Query>>,
}

/// How often a query's term occurs in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frequency {
    /// In no listing.
    Absent,
    /// In at most the common share of the listings.
    Rare,
    /// In more: it only adds to the score when the query has a rare term.
    Common,
}

/// Candidates of a relevance search whose scores the score-only clauses complete. Every page
/// within this depth is cut from the same re-ranked list, so paging never repeats or skips a hit.
const RERANK_DEPTH: usize = 100;

impl SearchIndex {
    /// The text query of a request; `None` when it has no text to search.
    fn text_query(
        &self,
        stats: &TermStats,
        request: &SearchRequest,
        ranking: &Ranking,
    ) -> Option<TextQuery> {
        let f = self.fields;
        let parsed = parse(&request.q);
        let words = parsed.words.join(" ");
        // What a listing may match: words as jieba segments them, in any of these fields. The
        // `text` field holds the title and keywords too, so it alone decides phrases and exclusions.
        let match_fields = [
            (f.title, ranking.title),
            (f.keywords, ranking.keywords),
            (f.text, ranking.text),
            (f.org_name, ranking.org_name),
        ];
        let mut terms = self.field_terms(&words, &match_fields, ranking.synonyms);
        // A word in a large share of the catalogue (研究, 技术 …) decides nothing: it only adds to
        // the score of listings that match by rarer words, unless the query has no rarer word.
        // A word no listing has (a typo, a number) is not a rarer word: it finds nothing.
        let mut frequency = self.term_frequencies(stats, ranking, &terms);
        // Terms no listing has only cost lookups, unless they are all the query has (then it
        // must find nothing).
        if frequency.iter().any(|f| *f != Frequency::Absent) {
            let present: Vec<_> = terms
                .into_iter()
                .zip(frequency)
                .filter(|(_, f)| *f != Frequency::Absent)
                .collect();
            (terms, frequency) = present.into_iter().unzip();
        }
        let mut scoring_only = Vec::new();
        if frequency.contains(&Frequency::Rare) {
            let (frequent, rare): (Vec<_>, Vec<_>) = terms
                .into_iter()
                .zip(frequency)
                .partition(|(_, frequency)| *frequency == Frequency::Common);
            terms = rare.into_iter().map(|(t, _)| t).collect();
            scoring_only = frequent.into_iter().map(|(t, _)| t).collect();
        }
        // The words in `text` (which holds the title and keywords) and in the owner's name decide
        // what matches, find the candidates and are counted; the same words in the title and
        // keywords only add to the score of the best candidates: a quarter of the terms for
        // block-max WAND to juggle, and half the postings for counting.
        let (mut deciding, mut refining): (Vec<_>, Vec<_>) = terms
            .into_iter()
            .partition(|(field, _, _)| *field == f.text || *field == f.org_name);
        if deciding.is_empty() {
            std::mem::swap(&mut deciding, &mut refining);
        }
        scoring_only.extend(refining);
        let words_query = disjunction(&deciding);
        let mut required: Vec<Box<dyn Query>> = Vec::new();
        for phrase in &parsed.phrases {
            if let Some(query) = self.phrase_query(phrase, f.text, ranking.text.max(1.0), 0) {
                required.push(query);
            }
        }
        if words_query.is_none() && required.is_empty() {
            return None;
        }
        let mut excluded: Vec<Box<dyn Query>> = Vec::new();
        for word in &parsed.excluded {
            if let Some(query) = self.words_query(word, &[(f.text, 1.0)], ranking.synonyms) {
                excluded.push(query);
            }
        }
        // Without phrases or exclusions the words stay a flat disjunction: the fast path.
        let matching: Box<dyn Query> = match words_query {
            Some(words) if required.is_empty() && excluded.is_empty() => words,
            words => {
                let clauses: Vec<(Occur, Box<dyn Query>)> = required
                    .into_iter()
                    .map(|q| (Occur::Must, q))
                    .chain(words.map(|w| (Occur::Must, w)))
                    .chain(excluded.into_iter().map(|q| (Occur::MustNot, q)))
                    .collect();
                Box::new(BooleanQuery::new(clauses))
            }
        };
        // What only refines the order of relevance is not built (nor its terms looked up) for
        // another order.
        if request.sort != Sort::Relevance {
            return Some(TextQuery {
                matching,
                extra: Vec::new(),
            });
        }
        let mut extra = term_queries(&scoring_only);
        // Bigrams only add to the score of listings that match by words: as a condition of their
        // own, a common bigram would match a large part of the catalogue.
        if ranking.bigram > 0.0 {
            let mut bigrams = self.field_terms(&words, &[(f.text_bigram, ranking.bigram)], false);
            bigrams.retain(|(field, _, bigram)| stats.doc_freq_of(*field, bigram) > 0);
            extra.extend(term_queries(&bigrams));
        }
        if ranking.proximity > 0.0
            && let Some(query) =
                self.phrase_query(&words, f.text, ranking.proximity, PROXIMITY_SLOP)
        {
            extra.push(query);
        }
        Some(TextQuery { matching, extra })
    }

    /// The exact conditions of a request, checked on the code tables.
    fn filter_of(&self, request: &SearchRequest) -> DocFilter {
        let mut filter = DocFilter::new(&self.codes).require(CodeColumn::Kind, &request.kind);
        for (column, code) in [
            (CodeColumn::Industry, &request.industry),
            (CodeColumn::TechField, &request.tech_field),
            (CodeColumn::Stage, &request.maturity_stage),
            (CodeColumn::District, &request.district),
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
        let searcher = self.reader.searcher();
        let keys: Vec<(Occur, Box<dyn Query>)> = ids
            .iter()
            .map(|id| {
                (
                    Occur::Should,
                    term(
                        self.fields.key,
                        &crate::ListingDoc::key_of(&request.kind, id),
                    ),
                )
            })
            .collect();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(keys)))];
        if let Some(text) =
            self.text_query(&TermStats::new(&searcher), request, &Ranking::default())
        {
            clauses.push((Occur::Must, text.matching));
        }
        let found = searcher.search(
            &BooleanQuery::new(clauses),
            &Filtered {
                filter: self.filter_of(request),
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
        let key = format!("{request:?}");
        if let Some(results) = self.results_cache.get(&key, generation) {
            return Ok(results);
        }
        let results = Arc::new(self.search_with(&searcher, request, &Ranking::default())?);
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
        self.search_with(&self.reader.searcher(), request, ranking)
    }

    fn search_with(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        ranking: &Ranking,
    ) -> Result<SearchResults, SearchError> {
        let stats = TermStats::new(searcher);
        let text = self.text_query(&stats, request, ranking);
        let filter = self.filter_of(request);
        let limit = request.limit.max(1);
        let generation = searcher.generation().generation_id();
        // What matches depends on the text, the filters and the ranking (its common-word rule),
        // not on the order or the page.
        let counts_key = format!(
            "{ranking:?}|{}|{}|{:?}|{:?}|{:?}|{:?}",
            request.q,
            request.kind,
            request.industry,
            request.tech_field,
            request.maturity_stage,
            request.district
        );
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
        let addresses: Vec<(f32, DocAddress)> = match (&text, request.sort) {
            (Some(text), Sort::Relevance) => {
                let wanted = request.offset.saturating_add(limit).max(RERANK_DEPTH);
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
                top.into_iter().skip(request.offset).take(limit).collect()
            }
            (_, sort) => {
                let all: Box<dyn Query> = Box::new(AllQuery);
                let query = text.as_ref().map_or(&all, |t| &t.matching);
                let (field, order) = match sort {
                    Sort::Relevance | Sort::Newest => ("published_at", Order::Desc),
                    Sort::PriceAsc => ("price_fen", Order::Asc),
                    Sort::PriceDesc => ("price_fen_desc", Order::Desc),
                };
                let top = TopDocs::with_limit(limit)
                    .and_offset(request.offset)
                    .order_by_fast_field::<i64>(field, order);
                let hits = if cached.is_some() {
                    searcher.search(&**query, &Filtered { filter, inner: top })?
                } else {
                    let (hits, facets) = searcher.search(
                        &**query,
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
            self.highlight_terms(&request.q)
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

    /// Words: each field's analyzed terms (and their synonyms), any of which may match, weighted
    /// by field; one flat disjunction of terms, which block-max WAND can prune.
    fn words_query(
        &self,
        text: &str,
        fields: &[(Field, f32)],
        synonyms: bool,
    ) -> Option<Box<dyn Query>> {
        disjunction(&self.field_terms(text, fields, synonyms))
    }

    /// Each field's analyzed terms of `text` (and of their synonyms), with the field's boost.
    fn field_terms(
        &self,
        text: &str,
        fields: &[(Field, f32)],
        synonyms: bool,
    ) -> Vec<(Field, f32, String)> {
        let mut all = Vec::new();
        for (field, boost) in fields {
            if *boost <= 0.0 {
                continue;
            }
            let mut terms = self.analyze(*field, text);
            if synonyms {
                // A word also finds the other members of its groups (AI ↔ 人工智能).
                let others: Vec<String> = terms
                    .iter()
                    .flat_map(|t| crate::analyzers::synonyms_of(t))
                    .flat_map(|s| self.analyze(*field, &s))
                    .collect();
                terms.extend(others);
            }
            terms.sort();
            terms.dedup();
            all.extend(terms.into_iter().map(|t| (*field, *boost, t)));
        }
        all
    }

    /// How frequent each term is: common when in more listings than [`Ranking::common_share`] of
    /// the index (and than [`Ranking::common_min_docs`]). A word of the title or keywords is judged by
    /// its frequency in `text`, which holds them, so that all three fields agree on it.
    fn term_frequencies(
        &self,
        stats: &TermStats,
        ranking: &Ranking,
        terms: &[(Field, f32, String)],
    ) -> Vec<Frequency> {
        let f = self.fields;
        let limit = ranking.common_limit(stats.num_docs());
        terms
            .iter()
            .map(|(field, _, term)| {
                let judged_in = if *field == f.org_name {
                    f.org_name
                } else {
                    f.text
                };
                match stats.doc_freq_of(judged_in, term) {
                    0 => Frequency::Absent,
                    df if df > limit => Frequency::Common,
                    _ => Frequency::Rare,
                }
            })
            .collect()
    }

    /// A phrase: its words in order in `field`, at most `slop` words apart.
    fn phrase_query(
        &self,
        text: &str,
        field: Field,
        boost: f32,
        slop: u32,
    ) -> Option<Box<dyn Query>> {
        let terms = self.tokens(text, crate::analyzers::CHINESE_PRECISE);
        let query: Box<dyn Query> = match terms.len() {
            0 => return None,
            1 if slop > 0 => return None,
            1 => Box::new(TermQuery::new(
                Term::from_field_text(field, &terms[0]),
                IndexRecordOption::WithFreqs,
            )),
            _ => {
                let mut phrase = PhraseQuery::new(
                    terms
                        .iter()
                        .map(|t| Term::from_field_text(field, t))
                        .collect(),
                );
                phrase.set_slop(slop);
                Box::new(phrase)
            }
        };
        Some(Box::new(BoostQuery::new(query, boost)))
    }

    /// The terms of `text` as `field` indexes them.
    fn analyze(&self, field: Field, text: &str) -> Vec<String> {
        let analyzer = match self.index.schema().get_field_entry(field).field_type() {
            tantivy::schema::FieldType::Str(options) => options
                .get_indexing_options()
                .map(|i| i.tokenizer().to_owned()),
            _ => None,
        };
        analyzer.map_or_else(Vec::new, |name| self.tokens(text, &name))
    }

    fn tokens(&self, text: &str, analyzer: &str) -> Vec<String> {
        let Some(mut analyzer) = self.index.tokenizers().get(analyzer) else {
            return Vec::new();
        };
        let mut stream = analyzer.token_stream(text);
        let mut words = Vec::new();
        while let Some(token) = stream.next() {
            words.push(token.text.clone());
        }
        words
    }

    /// The words to mark in snippets: the query's words and phrases as the `text` field indexes
    /// them, with their synonyms.
    fn highlight_terms(&self, q: &str) -> Vec<String> {
        let parsed = parse(q);
        let wanted = format!("{} {}", parsed.words.join(" "), parsed.phrases.join(" "));
        let mut terms = self.analyze(self.fields.text, &wanted);
        let synonyms: Vec<String> = terms
            .iter()
            .flat_map(|t| crate::analyzers::synonyms_of(t))
            .flat_map(|s| self.analyze(self.fields.text, &s))
            .collect();
        terms.extend(synonyms);
        terms.sort();
        terms.dedup();
        terms
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

/// One flat disjunction of boosted term queries (`None` for no terms): the shape tantivy prunes
/// with block-max WAND.
pub(crate) fn disjunction(terms: &[(Field, f32, String)]) -> Option<Box<dyn Query>> {
    let any: Vec<(Occur, Box<dyn Query>)> = term_queries(terms)
        .into_iter()
        .map(|query| (Occur::Should, query))
        .collect();
    (!any.is_empty()).then(|| Box::new(BooleanQuery::new(any)) as Box<dyn Query>)
}

/// One boosted term query per term.
pub(crate) fn term_queries(terms: &[(Field, f32, String)]) -> Vec<Box<dyn Query>> {
    terms
        .iter()
        .map(|(field, boost, term)| {
            let query = TermQuery::new(
                Term::from_field_text(*field, term),
                IndexRecordOption::WithFreqs,
            );
            Box::new(BoostQuery::new(Box::new(query), *boost)) as Box<dyn Query>
        })
        .collect()
}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_text_splits_into_words_phrases_and_exclusions() {
        assert_eq!(
            parse(r#"机器视觉 "缺陷 检测" -汽车 AI"#),
            ParsedQuery {
                words: vec!["机器视觉".into(), "AI".into()],
                phrases: vec!["缺陷 检测".into()],
                excluded: vec!["汽车".into()],
            }
        );
        assert_eq!(
            parse(r#"未闭合的"引号 文本"#).words,
            vec!["未闭合的", "引号", "文本"]
        );
        assert_eq!(parse("“中文引号”").phrases, vec!["中文引号"]);
        assert_eq!(parse("- -").words, vec!["-", "-"]);
        assert!(parse(&"字".repeat(20_000)).words[0].chars().count() <= MAX_QUERY_CHARS);
    }

    /// The total and counts come from a cheaper query than the page: both must agree on what
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
