//! The tantivy queries of a [`SearchQuery`]: its words analyzed as each field indexes them (with
//! their synonyms), weighted by field, split by how common they are into what decides a match and
//! what only adds to the score; its phrases and exclusions; and the terms its snippets mark.
//!
//! Words are matched in the title, keywords, body and organization name with boosts; at least one
//! must match. Filters are not part of these queries: they are checked on the code tables
//! ([`super::filter`]).

use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};

use super::query::{ParsedQuery, SearchQuery};
use super::request::{PROXIMITY_SLOP, Ranking, Sort};
use super::stats::TermStats;
use crate::index::SearchIndex;

/// The text part of a search: what a listing must match, and what only adds to the score.
pub(crate) struct TextQuery {
    /// The words (a pure disjunction of terms, which block-max WAND can prune), with quoted phrases
    /// and exclusions when there are any: what finds the page and, unscored, what is counted.
    pub(crate) matching: Box<dyn Query>,
    /// Clauses that add to the score of matching listings without deciding whether they match,
    /// one term or phrase each (see [`super::top::add_scores`]).
    pub(crate) extra: Vec<Box<dyn Query>>,
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

impl SearchIndex {
    /// The text query of a search; `None` when it has no text to search.
    pub(crate) fn text_query(&self, stats: &TermStats, query: &SearchQuery) -> Option<TextQuery> {
        let f = self.fields;
        let (parsed, ranking) = (&query.text, &query.ranking);
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
        if query.sort != Sort::Relevance {
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
    pub(crate) fn highlight_terms(&self, parsed: &ParsedQuery) -> Vec<String> {
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

/// An unscored query for one exact term.
pub(crate) fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}
