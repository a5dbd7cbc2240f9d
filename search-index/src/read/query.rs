//! The typed query: a search request read once, before anything runs.
//!
//! Any string is a valid query. The text is read as words, `"quoted phrases"` (which must appear)
//! and `-excluded` words ([`parse`]): there is no query syntax to get wrong. A [`SearchQuery`] holds
//! the parsed text with everything else of the request that changes the answer (filters, ranking,
//! order, page); building the tantivy queries ([`super::terms`]), running them ([`super::search`])
//! and marking the snippets all read it, and its parts are the keys of the answers kept until the
//! next commit ([`MatchKey`], [`ResultsKey`]).

use super::request::{Ranking, SearchRequest, Sort};

/// Longest query text considered, in characters; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 500;

/// The parts of a query text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
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

/// The exact conditions of a search: the listing's kind and the request's filters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Filters {
    /// `result` or `demand`.
    pub(crate) kind: String,
    /// Industry code.
    pub(crate) industry: Option<String>,
    /// 技术领域 code.
    pub(crate) tech_field: Option<String>,
    /// Maturity stage code.
    pub(crate) maturity_stage: Option<String>,
    /// 6-digit region code or development-zone code.
    pub(crate) district: Option<String>,
}

/// The hits of a search to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Page {
    /// Hits to skip.
    pub(crate) offset: usize,
    /// Hits to return: at least one.
    pub(crate) limit: usize,
}

/// A search as it runs: its request read once, the text parsed, with the ranking it is run with.
#[derive(Debug, Clone)]
pub(crate) struct SearchQuery {
    /// The words, phrases and exclusions of the text.
    pub(crate) text: ParsedQuery,
    /// The exact conditions.
    pub(crate) filters: Filters,
    /// How the words are weighted (and which are too common to decide a match).
    pub(crate) ranking: Ranking,
    /// The order of hits.
    pub(crate) sort: Sort,
    /// The hits wanted.
    pub(crate) page: Page,
}

impl SearchQuery {
    /// `request` read once, to be run with `ranking`.
    pub(crate) fn new(request: &SearchRequest, ranking: &Ranking) -> Self {
        Self {
            text: parse(&request.q),
            filters: Filters {
                kind: request.kind.clone(),
                industry: request.industry.clone(),
                tech_field: request.tech_field.clone(),
                maturity_stage: request.maturity_stage.clone(),
                district: request.district.clone(),
            },
            ranking: *ranking,
            sort: request.sort,
            page: Page {
                offset: request.offset,
                limit: request.limit.max(1),
            },
        }
    }

    /// The key of what this search matches, hence of its total and facet counts.
    pub(crate) fn match_key(&self) -> MatchKey {
        MatchKey {
            text: self.text.clone(),
            filters: self.filters.clone(),
            ranking: RankingKey::from(&self.ranking),
        }
    }

    /// The key of this search's whole answer.
    pub(crate) fn results_key(&self) -> ResultsKey {
        ResultsKey {
            matches: self.match_key(),
            sort: self.sort,
            page: self.page,
        }
    }
}

/// A [`Ranking`] as part of a key: its numbers by their bit patterns, so that it is `Eq` and
/// `Hash` (two rankings are the same key exactly when every number is the same float).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RankingKey {
    boosts: [u32; 8],
    synonyms: bool,
    common_share: u32,
    common_min_docs: u64,
}

impl From<&Ranking> for RankingKey {
    fn from(ranking: &Ranking) -> Self {
        // Destructured, so that a new field of `Ranking` cannot be forgotten here.
        let Ranking {
            title,
            keywords,
            text,
            bigram,
            org_name,
            synonyms,
            proximity,
            parts,
            typos,
            common_share,
            common_min_docs,
        } = *ranking;
        Self {
            boosts: [
                title, keywords, text, bigram, org_name, proximity, parts, typos,
            ]
            .map(f32::to_bits),
            synonyms,
            common_share: common_share.to_bits(),
            common_min_docs,
        }
    }
}

/// What decides which listings a search matches: its text, its filters and its ranking (whose
/// common-word rule decides too), not its order or page. The key of the kept totals and counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct MatchKey {
    text: ParsedQuery,
    filters: Filters,
    ranking: RankingKey,
}

/// Everything that decides a search's answer: what it matches, the order and the page. The key of
/// the kept answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ResultsKey {
    matches: MatchKey,
    sort: Sort,
    page: Page,
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
    fn searches_share_a_key_exactly_when_they_would_give_the_same_answer() {
        let request = SearchRequest {
            q: "机器视觉  缺陷".into(),
            kind: "result".into(),
            limit: 10,
            ..SearchRequest::default()
        };
        let ranking = Ranking::default();
        let query = |request: &SearchRequest| SearchQuery::new(request, &ranking);
        let first = query(&request);
        let respaced = query(&SearchRequest {
            q: " 机器视觉 缺陷 ".into(),
            ..request.clone()
        });
        assert_eq!(first.results_key(), respaced.results_key());
        let next_page = query(&SearchRequest {
            offset: 10,
            ..request.clone()
        });
        assert_ne!(first.results_key(), next_page.results_key());
        assert_eq!(first.match_key(), next_page.match_key(), "pages count once");
        let newest = query(&SearchRequest {
            sort: Sort::Newest,
            ..request.clone()
        });
        assert_ne!(first.results_key(), newest.results_key());
        assert_eq!(first.match_key(), newest.match_key());
        let filtered = query(&SearchRequest {
            industry: Some("robotics".into()),
            ..request.clone()
        });
        assert_ne!(first.match_key(), filtered.match_key());
        let reweighted = SearchQuery::new(
            &request,
            &Ranking {
                common_share: 0.2,
                ..ranking
            },
        );
        assert_ne!(first.match_key(), reweighted.match_key());
    }
}
