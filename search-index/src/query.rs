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
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Order, Searcher, TantivyDocument, Term};

use crate::counts::CodeCounts;
use crate::document::facet;
use crate::index::{SearchError, SearchIndex};

/// Longest query text considered, in characters; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 500;
/// Roughly how many Han characters a snippet shows (snippet limits count bytes: 3 per character).
const SNIPPET_HAN_CHARS: usize = 80;

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
        let text_fields = [
            (f.title, ranking.title),
            (f.keywords, ranking.keywords),
            (f.text, ranking.text),
            (f.text_bigram, ranking.bigram),
            (f.org_name, ranking.org_name),
        ];
        // Phrases and exclusions are about words: bigrams would widen them.
        let word_fields = &text_fields[..3];
        let parsed = parse(&request.q);

        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let words = parsed.words.join(" ");
        let mut has_text = false;
        if let Some(query) = self.words_query(&words, &text_fields, ranking.synonyms) {
            clauses.push((Occur::Must, query));
            has_text = true;
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
        let f = self.fields;
        let (query, has_text) = self.build(request, ranking);

        let limit = request.limit.max(1);
        let top = TopDocs::with_limit(limit).and_offset(request.offset);
        let facets = (
            Count,
            CodeCounts::of(&["industry_codes", "tech_field_code", "stage_code"]),
        );

        let (addresses, (total, counts)): (Vec<(f32, DocAddress)>, _) = match request.sort {
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
        let mut counts = counts.into_iter();

        let snippets = if has_text {
            let mut generator = SnippetGenerator::create(&searcher, &query, f.text)?;
            generator.set_max_num_chars(SNIPPET_HAN_CHARS * 3);
            Some(generator)
        } else {
            None
        };
        let mut hits = Vec::with_capacity(addresses.len());
        for (score, address) in addresses {
            hits.push(self.hit(&searcher, address, score, snippets.as_ref())?);
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

    fn hit(
        &self,
        searcher: &Searcher,
        address: DocAddress,
        score: f32,
        snippets: Option<&SnippetGenerator>,
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
        let snippet = snippets
            .map(|g| render_snippet(&g.snippet(&body)))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| escape(&body.chars().take(SNIPPET_HAN_CHARS).collect::<String>()));
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

/// The snippet as HTML: text escaped, matched words in `<em>`, adjacent matches merged into one.
fn render_snippet(snippet: &tantivy::snippet::Snippet) -> String {
    highlight(snippet.fragment(), snippet.highlighted())
}

/// `fragment` as HTML with the byte `ranges` in `<em>`. Ranges are taken with care: with search-mode
/// segmentation a word's inner words can start before the fragment does, and tantivy then reports a
/// range whose start has wrapped below zero; such a range is clamped to the fragment, and anything
/// else that does not fall on character boundaries inside the fragment is ignored.
fn highlight(fragment: &str, ranges: &[std::ops::Range<usize>]) -> String {
    let mut sorted: Vec<std::ops::Range<usize>> = ranges
        .iter()
        .map(|r| if r.start > r.end { 0..r.end } else { r.clone() })
        .filter(|r| {
            r.start < r.end
                && r.end <= fragment.len()
                && fragment.is_char_boundary(r.start)
                && fragment.is_char_boundary(r.end)
        })
        .collect();
    sorted.sort_by_key(|r| r.start);
    let mut merged: Vec<std::ops::Range<usize>> = Vec::new();
    for range in sorted {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    let mut html = String::with_capacity(fragment.len() + merged.len() * 9);
    let mut at = 0;
    for range in merged {
        html.push_str(&escape(&fragment[at..range.start]));
        html.push_str("<em>");
        html.push_str(&escape(&fragment[range.clone()]));
        html.push_str("</em>");
        at = range.end;
    }
    html.push_str(&escape(&fragment[at..]));
    html
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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

    #[test]
    fn highlights_merge_and_bad_ranges_never_panic() {
        let text = "机器视觉缺陷检测<b>";
        assert_eq!(
            highlight(text, &[0..6, 6..12, 15..18]),
            "<em>机器视觉</em>缺<em>陷</em>检测&lt;b&gt;"
        );
        // A range whose start wrapped below zero (an inner word starting before the fragment)
        // is clamped; ranges past the end or inside a character are dropped.
        let wrapped = std::ops::Range {
            start: usize::MAX - 5,
            end: 6,
        };
        assert_eq!(
            highlight(text, &[wrapped]),
            "<em>机器</em>视觉缺陷检测&lt;b&gt;"
        );
        assert_eq!(
            highlight(text, &[1..4, 20..40, std::ops::Range { start: 3, end: 1 }]),
            "机器视觉缺陷检测&lt;b&gt;"
        );
    }

    #[test]
    fn escaping_keeps_markup_out() {
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }
}
