//! The tantivy queries of a [`SearchQuery`]: its words analyzed as each field indexes them (with
//! their synonyms), weighted by field, split by how common they are into what decides a match and
//! what only adds to the score; its phrases and exclusions; and the terms its snippets mark.
//!
//! Words are matched in the title, keywords, body and organization name with boosts; at least one
//! must match. Filters are not part of these queries: they are checked on the code tables
//! ([`super::filter`]).

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EmptyQuery, Occur, PhraseQuery, Query, RegexQuery,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

use super::query::{ParsedQuery, SearchQuery};
use super::request::{PROXIMITY_SLOP, Ranking, Sort};
use super::stats::TermStats;
use crate::analyzers::{CHINESE_PRECISE, CJK_BIGRAM};
use crate::index::SearchIndex;

/// The longest query text, in characters, read as keywords rather than as a sentence.
const KEYWORD_QUERY_CHARS: usize = 12;

/// Exclusions of one query that are applied; the rest are ignored. Each walks the term dictionary
/// (see [`SearchIndex::containing`]), so a query of hundreds of `-x` must not walk it hundreds
/// of times.
const MAX_EXCLUSIONS: usize = 8;

/// The text part of a search: what a listing must match, and what only adds to the score.
pub(crate) struct TextQuery {
    /// The words (a pure disjunction of terms, which block-max WAND can prune), with quoted phrases
    /// and exclusions when there are any: what finds the page and, unscored, what is counted.
    pub(crate) matching: Box<dyn Query>,
    /// Clauses that add to the score of matching listings without deciding whether they match,
    /// one term or phrase each (see [`super::top::add_scores`]).
    pub(crate) extra: Vec<Box<dyn Query>>,
    /// Whether the text can order the hits by relevance; a text of only exclusions cannot, and
    /// its hits come in the order of a search without text.
    pub(crate) ranks: bool,
}

impl TextQuery {
    /// A condition on the text that says nothing of relevance.
    fn unranked(matching: Box<dyn Query>) -> Self {
        Self {
            matching,
            extra: Vec::new(),
            ranks: false,
        }
    }
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
        // Parts of words weigh less in a query of keywords, where each word is a term someone
        // chose; in a sentence (a problem described in a company's own words) they are how its
        // words meet the listings' different ones, and weigh fully.
        let parts = if words.chars().count() <= KEYWORD_QUERY_CHARS {
            ranking.parts
        } else {
            1.0
        };
        let mut terms = self.field_terms(&words, &match_fields, ranking.synonyms, parts);
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
        let mut others = if ranking.synonyms {
            self.synonym_phrases(&words, ranking.text)
        } else {
            Vec::new()
        };
        if ranking.typos > 0.0 {
            others.extend(self.typo_queries(stats, &parsed.words, ranking.typos));
        }
        let words_query = disjunction_with(&deciding, others);
        let mut required: Vec<Box<dyn Query>> = Vec::new();
        for phrase in &parsed.phrases {
            if let Some(query) = self.phrase_query(phrase, f.text, ranking.text.max(1.0), 0) {
                required.push(query);
            }
        }
        let excluded: Vec<Box<dyn Query>> = parsed
            .excluded
            .iter()
            .take(MAX_EXCLUSIONS)
            .filter_map(|text| self.containing(text))
            .collect();
        let matching: Box<dyn Query> = match words_query {
            // Without phrases or exclusions the words stay a flat disjunction: the fast path.
            Some(words) if required.is_empty() && excluded.is_empty() => words,
            Some(words) => Box::new(BooleanQuery::new(
                required
                    .into_iter()
                    .chain([words])
                    .map(|q| (Occur::Must, q))
                    .chain(excluded.into_iter().map(|q| (Occur::MustNot, q)))
                    .collect(),
            )),
            None if !required.is_empty() => Box::new(BooleanQuery::new(
                required
                    .into_iter()
                    .map(|q| (Occur::Must, q))
                    .chain(excluded.into_iter().map(|q| (Occur::MustNot, q)))
                    .collect(),
            )),
            // Words or phrases were typed but none can be searched (`!!!`, one overlong token):
            // what the person asked for is in no listing, so nothing is found, not everything.
            None if !parsed.words.is_empty() || !parsed.phrases.is_empty() => {
                return Some(TextQuery::unranked(Box::new(EmptyQuery)));
            }
            None if excluded.is_empty() => return None,
            // Only exclusions: everything but what contains them, in the order of no text.
            None => {
                let all = std::iter::once((Occur::Must, Box::new(AllQuery) as Box<dyn Query>));
                let clauses = all.chain(excluded.into_iter().map(|q| (Occur::MustNot, q)));
                return Some(TextQuery::unranked(Box::new(BooleanQuery::new(
                    clauses.collect(),
                ))));
            }
        };
        // What only refines the order of relevance is not built (nor its terms looked up) for
        // another order.
        if query.sort != Sort::Relevance {
            return Some(TextQuery::unranked(matching));
        }
        let mut extra = term_queries(&scoring_only);
        // Bigrams only add to the score of listings that match by words: as a condition of their
        // own, a common bigram would match a large part of the catalogue.
        if ranking.bigram > 0.0 {
            let mut bigrams =
                self.field_terms(&words, &[(f.text_bigram, ranking.bigram)], false, parts);
            bigrams.retain(|(field, _, bigram)| stats.doc_freq_of(*field, bigram) > 0);
            extra.extend(term_queries(&bigrams));
        }
        if ranking.proximity > 0.0
            && let Some(query) =
                self.phrase_query(&words, f.text, ranking.proximity, PROXIMITY_SLOP)
        {
            extra.push(query);
        }
        Some(TextQuery {
            matching,
            extra,
            ranks: true,
        })
    }

    /// Listings whose text contains `excluded` as it is written, whatever its length (one
    /// character excludes every listing with that character), ignoring case; text separated by
    /// punctuation must all be contained. `None` when it has no letters or digits.
    ///
    /// The index holds words, not characters, so a piece of text is contained in three ways:
    /// inside one word of the whole text (a term of `text` that contains it: 锂 in 锂电池);
    /// across words of the title, keywords and summary (its bigrams in a row in `text_bigram`:
    /// 锂电池 in 磷酸铁锂|电池); or as whole words in a row anywhere (a phrase of `text`).
    fn containing(&self, excluded: &str) -> Option<Box<dyn Query>> {
        let f = self.fields;
        let lower = excluded.to_lowercase();
        let pieces: Vec<Box<dyn Query>> = lower
            .split(|c: char| !crate::analyzers::is_word_char(c))
            .filter(|piece| !piece.is_empty())
            .map(|piece| {
                // A piece has only letters and digits: nothing in it is special to a regex. One
                // longer than any indexed term cannot be inside one: no walk of the dictionary.
                let inside = (piece.len() <= crate::analyzers::MAX_TOKEN_BYTES)
                    .then(|| RegexQuery::from_pattern(&format!(".*{piece}.*"), f.text).ok())
                    .flatten()
                    .map(|q| Box::new(q) as Box<dyn Query>);
                let across_bigrams = self.phrase_of(f.text_bigram, &self.tokens(piece, CJK_BIGRAM));
                let across_words = self.phrase_of(f.text, &self.tokens(piece, CHINESE_PRECISE));
                let ways: Vec<(Occur, Box<dyn Query>)> = [inside, across_bigrams, across_words]
                    .into_iter()
                    .flatten()
                    .map(|q| (Occur::Should, q))
                    .collect();
                Box::new(BooleanQuery::new(ways)) as Box<dyn Query>
            })
            .collect();
        match pieces.len() {
            0 => None,
            1 => pieces.into_iter().next(),
            _ => Some(Box::new(BooleanQuery::new(
                pieces.into_iter().map(|q| (Occur::Must, q)).collect(),
            ))),
        }
    }

    /// Two or more terms in a row in `field`; `None` for fewer (one term is found inside a word).
    fn phrase_of(&self, field: Field, terms: &[String]) -> Option<Box<dyn Query>> {
        (terms.len() > 1).then(|| {
            let terms = terms.iter().map(|t| Term::from_field_text(field, t));
            Box::new(PhraseQuery::new(terms.collect())) as Box<dyn Query>
        })
    }

    /// Each field's analyzed terms of `text` (and of their synonyms), with the field's boost; a
    /// term that is only a part of a typed word (燃料 of 燃料电池, as jieba's search mode adds
    /// it) weighs `parts` of that: the words typed decide the order, their parts add recall.
    fn field_terms(
        &self,
        text: &str,
        fields: &[(Field, f32)],
        synonyms: bool,
        parts: f32,
    ) -> Vec<(Field, f32, String)> {
        // A lone character jieba leaves of a word it does not know (钙, 钛, 旷 of the misspelt
        // 钙钛旷) is a part too, unless it was typed as a word of its own.
        let typed_alone: Vec<&str> = text.split_whitespace().collect();
        let whole: Vec<String> = self
            .tokens(text, CHINESE_PRECISE)
            .into_iter()
            .filter(|t| t.chars().count() > 1 || typed_alone.contains(&t.as_str()))
            .collect();
        let mut all = Vec::new();
        // Fields analyzed alike (title, keywords, text and owner name all are) share one
        // analysis, synonyms included: the query is analyzed once per analyzer, not per field.
        let mut analyzed: Option<(String, Vec<String>, Vec<String>)> = None;
        for (field, boost) in fields {
            if *boost <= 0.0 {
                continue;
            }
            let analyzer = self.analyzer_of(*field);
            if analyzed
                .as_ref()
                .is_none_or(|(name, _, _)| *name != analyzer)
            {
                let mut terms = self.tokens(text, &analyzer);
                terms.sort();
                terms.dedup();
                let (mut typed, inner): (Vec<String>, Vec<String>) = terms
                    .into_iter()
                    .partition(|t| whole.contains(t) || parts >= 1.0);
                if synonyms {
                    // A word also finds the other members of its groups (AI ↔ 人工智能) as whole
                    // terms: 人工智能, never its parts 人工 and 智能. Members of several words are
                    // phrases ([`Self::synonym_phrases`]).
                    let others = self
                        .synonyms(text, &typed)
                        .into_iter()
                        .filter_map(|words| <[String; 1]>::try_from(words).ok())
                        .map(|[word]| word);
                    typed.extend(others.collect::<Vec<_>>());
                    typed.sort();
                    typed.dedup();
                }
                analyzed = Some((analyzer, typed, inner));
            }
            if let Some((_, typed, inner)) = &analyzed {
                let inner = inner.iter().map(|t| (*field, boost * parts, t.clone()));
                let typed = typed.iter().map(|t| (*field, *boost, t.clone()));
                all.extend(inner.chain(typed));
            }
        }
        all
    }

    /// For each typed word that looks misspelt, the domain terms one edit away from it that
    /// listings have ([`crate::spelling`]): 锂电尺 finds 锂电池, 太合金 钛合金. A word looks misspelt
    /// when it is 3 to 8 Han characters, no listing has it as a word, it is not a domain term
    /// (氢燃料电池 is one, though jieba splits it) and jieba can place one of its characters only
    /// as a lone character (锂电|尺); a compound of known words (钢材表面缺陷检测) is not a typo.
    fn typo_queries(&self, stats: &TermStats, words: &[String], boost: f32) -> Vec<Box<dyn Query>> {
        let f = self.fields;
        let misspelt = |word: &&String| {
            (3..=8).contains(&word.chars().count())
                && word.chars().all(crate::analyzers::is_han)
                && stats.doc_freq_of(f.text, word) == 0
                && !crate::spelling::is_known(word)
                && self
                    .tokens(word, CHINESE_PRECISE)
                    .iter()
                    .any(|t| t.chars().count() == 1)
        };
        let mut corrected: Vec<String> = words
            .iter()
            .filter(misspelt)
            .flat_map(|word| crate::spelling::corrections(word))
            .filter(|term| stats.doc_freq_of(f.text, term) > 0)
            .collect();
        corrected.sort();
        corrected.dedup();
        let terms: Vec<(Field, f32, String)> = corrected
            .into_iter()
            .map(|term| (f.text, boost, term))
            .collect();
        term_queries(&terms)
    }

    /// What else `text` (analyzed as `terms`) names, each as the words it is written in: the
    /// other members of its terms' synonym groups, and the Chinese terms of its English terms.
    fn synonyms(&self, text: &str, terms: &[String]) -> Vec<Vec<String>> {
        let mut members: Vec<Vec<String>> = terms
            .iter()
            .flat_map(|t| crate::analyzers::synonyms_of(t))
            .chain(crate::glossary::chinese_terms(text))
            .map(|member| self.tokens(&member, CHINESE_PRECISE))
            .filter(|words| !words.is_empty())
            .collect();
        members.sort();
        members.dedup();
        members
    }

    /// The synonyms of `text`'s words that are written in several words (big data ↔ 大数据), as
    /// phrases of `text`: any of them may match, like a word.
    fn synonym_phrases(&self, text: &str, boost: f32) -> Vec<Box<dyn Query>> {
        let f = self.fields;
        self.synonyms(text, &self.analyze(f.text, text))
            .into_iter()
            .filter_map(|words| self.phrase_of(f.text, &words))
            .map(|q| Box::new(BoostQuery::new(q, boost)) as Box<dyn Query>)
            .collect()
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
        let terms = self.tokens(text, CHINESE_PRECISE);
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
        self.tokens(text, &self.analyzer_of(field))
    }

    /// The name of the analyzer `field` is indexed with (empty for a field that is not text).
    fn analyzer_of(&self, field: Field) -> String {
        match self.index.schema().get_field_entry(field).field_type() {
            tantivy::schema::FieldType::Str(options) => options
                .get_indexing_options()
                .map(|i| i.tokenizer().to_owned())
                .unwrap_or_default(),
            _ => String::new(),
        }
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

    /// The words to mark in snippets: the query's words and phrases as typed (jieba's precise
    /// segmentation), with their synonyms; not their parts, which would mark 功率 inside 成功率
    /// for 功率器件.
    pub(crate) fn highlight_terms(&self, parsed: &ParsedQuery) -> Vec<String> {
        let wanted = format!("{} {}", parsed.words.join(" "), parsed.phrases.join(" "));
        let mut terms = self.tokens(&wanted, CHINESE_PRECISE);
        let synonyms = self.synonyms(&wanted, &terms).into_iter().flatten();
        terms.extend(synonyms.collect::<Vec<_>>());
        terms.sort();
        terms.dedup();
        terms
    }
}

/// One flat disjunction of boosted term queries (`None` for no terms): the shape tantivy prunes
/// with block-max WAND.
pub(crate) fn disjunction(terms: &[(Field, f32, String)]) -> Option<Box<dyn Query>> {
    disjunction_with(terms, Vec::new())
}

/// A disjunction of boosted term queries and other queries (which take it off the pruned path).
fn disjunction_with(
    terms: &[(Field, f32, String)],
    others: Vec<Box<dyn Query>>,
) -> Option<Box<dyn Query>> {
    let any: Vec<(Occur, Box<dyn Query>)> = term_queries(terms)
        .into_iter()
        .chain(others)
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
