//! The public vocabulary of a search: what the caller asks ([`SearchRequest`], its [`Sort`], the
//! [`Ranking`] that weights the words) and what it gets back ([`SearchResults`], [`SearchHit`]).
//! A request is turned once into the typed query of [`super::query`], which everything else reads.

use std::collections::BTreeMap;

/// The order of hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
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
    /// Weight of a typed word's parts (燃料 and 电池 of 燃料电池) beside the word itself: below
    /// 1, a listing with the whole term ranks above one sharing only a part of it (核燃料).
    pub parts: f32,
    /// Boost of the domain terms one edit away from a typed word that looks misspelt (锂电尺
    /// finds 锂电池); 0 turns typo tolerance off.
    pub typos: f32,
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
            parts: 0.2,
            typos: 0.5,
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
