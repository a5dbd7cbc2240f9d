//! Searching: any string is a valid query.
//!
//! The text is read as words, `"quoted phrases"` (which must appear) and `-excluded` words. Words
//! are analyzed with the index's own Chinese analyzer and matched in the title, keywords, body and
//! organization name with boosts; at least one must match. Filters are exact facet terms. Nothing a
//! user types can make the query fail: there is no query syntax to get wrong.

use std::collections::BTreeMap;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Order, Searcher, TantivyDocument, Term};

use crate::counts::{CodeCounts, Counts};
use crate::document::facet;
use crate::index::{SearchError, SearchIndex};

/// Longest query text considered, in characters; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 500;

/// Filter combinations whose no-text counts are kept per commit.
const MAX_CACHED_BROWSES: usize = 1024;

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

impl SearchIndex {
    /// The query of a request, and whether it has any text.
    fn build(&self, request: &SearchRequest, ranking: &Ranking) -> (BooleanQuery, bool) {
        let f = self.fields;
        // What a listing must match: words as jieba segments them, in any of these fields.
        let match_fields = [
            (f.title, ranking.title),
            (f.keywords, ranking.keywords),
            (f.text, ranking.text),
            (f.org_name, ranking.org_name),
        ];
        // Phrases and exclusions are about the listing's own words, not its owner's name.
        let word_fields = &match_fields[..3];
        let parsed = parse(&request.q);

        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let words = parsed.words.join(" ");
        let mut has_text = false;
        if let Some(query) = self.words_query(&words, &match_fields, ranking.synonyms) {
            clauses.push((Occur::Must, query));
            has_text = true;
            // Bigrams only add to the score of listings that match by words: as a condition of
            // their own, a common bigram would match a large part of the catalogue.
            if ranking.bigram > 0.0 {
                let bigrams = [(f.text_bigram, ranking.bigram)];
                if let Some(query) = self.words_query(&words, &bigrams, false) {
                    clauses.push((Occur::Should, query));
                }
            }
            if ranking.proximity > 0.0 {
                let near = [(f.text, ranking.proximity)];
                if let Some(query) = self.phrase_query(&words, &near, PROXIMITY_SLOP) {
                    clauses.push((Occur::Should, query));
                }
            }
        }
        for phrase in &parsed.phrases {
            if let Some(query) = self.phrase_query(phrase, word_fields, 0) {
                clauses.push((Occur::Must, query));
                has_text = true;
            }
        }
        for excluded in &parsed.excluded {
            if let Some(query) = self.words_query(excluded, word_fields, ranking.synonyms) {
                clauses.push((Occur::MustNot, query));
            }
        }
        if !has_text {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        clauses.push((Occur::Must, term(f.kind, &request.kind)));
        for (field, code) in [
            (f.industry, &request.industry),
            (f.tech_field, &request.tech_field),
            (f.maturity_stage, &request.maturity_stage),
            (f.district, &request.district),
        ] {
            if let Some(code) = code {
                clauses.push((
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_facet(field, &facet(code)),
                        IndexRecordOption::Basic,
                    )),
                ));
            }
        }
        (BooleanQuery::new(clauses), has_text)
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
        let (query, _) = self.build(request, &Ranking::default());
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
        let restricted = BooleanQuery::new(vec![
            (Occur::Must, Box::new(query) as Box<dyn Query>),
            (Occur::Must, Box::new(BooleanQuery::new(keys))),
        ]);
        let top = searcher.search(
            &restricted,
            &TopDocs::with_limit(ids.len()).order_by_score(),
        )?;
        let mut found = Vec::with_capacity(top.len());
        for (_, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = doc.get_first(self.fields.id).and_then(|v| v.as_str()) {
                found.push(id.to_owned());
            }
        }
        Ok(found)
    }

    /// Runs a search with the product's ranking.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        self.search_ranked(request, &Ranking::default())
    }

    /// Runs a search with the given ranking.
    pub fn search_ranked(
        &self,
        request: &SearchRequest,
        ranking: &Ranking,
    ) -> Result<SearchResults, SearchError> {
        let searcher = self.reader.searcher();
        let (query, has_text) = self.build(request, ranking);

        let limit = request.limit.max(1);
        let top = TopDocs::with_limit(limit).and_offset(request.offset);
        // Without text, the counts depend only on the filters and change only with a commit:
        // browsing the whole catalogue would otherwise count every listing on every page.
        let generation = searcher.generation().generation_id();
        let browse_key = (!has_text).then(|| {
            format!(
                "{}|{:?}|{:?}|{:?}|{:?}",
                request.kind,
                request.industry,
                request.tech_field,
                request.maturity_stage,
                request.district
            )
        });
        let cached = browse_key
            .as_ref()
            .and_then(|key| self.cached_browse_counts(key, generation));
        let facets = cached.is_none().then(|| {
            (
                Count,
                CodeCounts::of(&["industry_codes", "tech_field_code", "stage_code"]),
            )
        });

        let (addresses, counted): (Vec<(f32, DocAddress)>, _) = match request.sort {
            Sort::Relevance if has_text => {
                searcher.search(&query, &(top.order_by_score(), facets))?
            }
            Sort::Relevance | Sort::Newest => {
                let (hits, facets) = searcher.search(
                    &query,
                    &(
                        top.order_by_fast_field::<i64>("published_at", Order::Desc),
                        facets,
                    ),
                )?;
                (hits.into_iter().map(|(_, a)| (0.0, a)).collect(), facets)
            }
            Sort::PriceAsc => {
                let (hits, facets) = searcher.search(
                    &query,
                    &(
                        top.order_by_fast_field::<i64>("price_fen", Order::Asc),
                        facets,
                    ),
                )?;
                (hits.into_iter().map(|(_, a)| (0.0, a)).collect(), facets)
            }
            Sort::PriceDesc => {
                let (hits, facets) = searcher.search(
                    &query,
                    &(
                        top.order_by_fast_field::<i64>("price_fen_desc", Order::Desc),
                        facets,
                    ),
                )?;
                (hits.into_iter().map(|(_, a)| (0.0, a)).collect(), facets)
            }
        };
        let (total, counts) = match (counted, cached) {
            (Some(counted), _) => {
                if let Some(key) = browse_key {
                    self.cache_browse_counts(key, generation, &counted);
                }
                counted
            }
            (None, Some(cached)) => cached,
            (None, None) => (0, Vec::new()),
        };
        let mut counts = counts.into_iter();

        let terms = if has_text {
            self.highlight_terms(&request.q)
        } else {
            Vec::new()
        };
        let mut hits = Vec::with_capacity(addresses.len());
        for (score, address) in addresses {
            hits.push(self.hit(&searcher, address, score, &terms)?);
        }
        Ok(SearchResults {
            hits,
            total,
            industry: counts.next().unwrap_or_default(),
            tech_field: counts.next().unwrap_or_default(),
            maturity_stage: counts.next().unwrap_or_default(),
        })
    }

    /// Words: each field's analyzed terms, any of which may match, weighted by field.
    fn words_query(
        &self,
        text: &str,
        fields: &[(Field, f32)],
        synonyms: bool,
    ) -> Option<Box<dyn Query>> {
        let mut per_field: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, boost) in fields {
            if *boost <= 0.0 {
                continue;
            }
            let mut terms = self.analyze(*field, text);
            if terms.is_empty() {
                continue;
            }
            if synonyms {
                // A word also finds the other members of its groups (AI ↔ 人工智能).
                let others: Vec<String> = terms
                    .iter()
                    .flat_map(|t| crate::analyzers::synonyms_of(t))
                    .flat_map(|s| self.analyze(*field, &s))
                    .collect();
                terms.extend(others);
            }
            let mut unique = terms;
            unique.sort();
            unique.dedup();
            let any: Vec<(Occur, Box<dyn Query>)> = unique
                .into_iter()
                .map(|t| {
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(
                            Term::from_field_text(*field, &t),
                            IndexRecordOption::WithFreqsAndPositions,
                        )) as Box<dyn Query>,
                    )
                })
                .collect();
            per_field.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(BooleanQuery::new(any)), *boost)),
            ));
        }
        (!per_field.is_empty()).then(|| Box::new(BooleanQuery::new(per_field)) as Box<dyn Query>)
    }

    /// A phrase: its words in order in one of the fields, at most `slop` words apart.
    fn phrase_query(
        &self,
        text: &str,
        fields: &[(Field, f32)],
        slop: u32,
    ) -> Option<Box<dyn Query>> {
        let mut per_field: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, boost) in fields {
            let terms = self.analyze_precise(*field, text);
            let query: Box<dyn Query> = match terms.len() {
                0 => continue,
                1 if slop > 0 => continue,
                1 => Box::new(TermQuery::new(
                    Term::from_field_text(*field, &terms[0]),
                    IndexRecordOption::WithFreqsAndPositions,
                )),
                _ => {
                    let mut phrase = PhraseQuery::new(
                        terms
                            .iter()
                            .map(|t| Term::from_field_text(*field, t))
                            .collect(),
                    );
                    phrase.set_slop(slop);
                    Box::new(phrase)
                }
            };
            per_field.push((Occur::Should, Box::new(BoostQuery::new(query, *boost))));
        }
        (!per_field.is_empty()).then(|| Box::new(BooleanQuery::new(per_field)) as Box<dyn Query>)
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

    /// Phrases are matched as the precise segmentation of the phrase, whose words appear in the
    /// search-mode token stream of the document in the same order.
    fn analyze_precise(&self, _field: Field, text: &str) -> Vec<String> {
        self.tokens(text, crate::analyzers::CHINESE_PRECISE)
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

    fn cached_browse_counts(&self, key: &str, generation: u64) -> Option<(usize, Counts)> {
        let cache = self.browse_counts.lock().ok()?;
        cache
            .get(key)
            .filter(|(at, _)| *at == generation)
            .map(|(_, counts)| counts.clone())
    }

    fn cache_browse_counts(&self, key: String, generation: u64, counts: &(usize, Counts)) {
        if let Ok(mut cache) = self.browse_counts.lock() {
            // Entries of older commits are useless; the filter combinations in use are few.
            cache.retain(|_, (at, _)| *at == generation);
            if cache.len() < MAX_CACHED_BROWSES {
                cache.insert(key, (generation, counts.clone()));
            }
        }
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
        terms: &[String],
    ) -> Result<SearchHit, SearchError> {
        let f = self.fields;
        let doc: TantivyDocument = searcher.doc(address)?;
        let text = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let body = text(f.body);
        let snippet = crate::snippet::snippet(&body, terms);
        Ok(SearchHit {
            id: text(f.id),
            kind: text(f.kind),
            title: text(f.title),
            snippet,
            score,
            industry_codes: doc
                .get_all(f.industry_codes)
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            org_id: text(f.org_id),
            org_name: text(f.org_name),
        })
    }
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
}
