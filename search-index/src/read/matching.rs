//! Matching: the published listings of the other side that best answer a listing's own text.
//!
//! The listing's text is reduced to its most telling words (term frequency in the listing × rarity in
//! the index, as MoreLikeThis does), which are searched in title, keywords and body; shared industries,
//! the same 技术领域 and a fitting maturity stage add to the score. The caller turns what is shared
//! into human-readable reasons.

use std::collections::HashMap;

use tantivy::collector::DocSetCollector;
use tantivy::query::{BoostQuery, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{TantivyDocument, Term};

use super::filter::DocFilter;
use super::request::Ranking;
use super::similarity::Shingles;
use super::terms::{disjunction, term_queries};
use super::top::{TopScored, add_scores};
use crate::analyzers;
use crate::codes::CodeColumn;
use crate::document::{ListingDoc, facet};
use crate::error::SearchError;
use crate::index::SearchIndex;
use crate::telling;

/// Words taken from the source listing.
const MAX_QUERY_TERMS: usize = 30;
/// The best candidates by words, re-ranked by how well industry, 技术领域 and stage fit.
const CANDIDATES: usize = 100;
/// What to match.
#[derive(Debug, Clone)]
pub struct MatchRequest {
    /// The listing to find partners for (its own kind and id are excluded).
    pub source: ListingDoc,
    /// `result` or `demand`: the other side.
    pub target_kind: String,
    /// Maturity stages that suit the source (for a demand: stages a result should have reached).
    pub preferred_stages: Vec<String>,
    /// How many matches.
    pub limit: usize,
}

/// One match.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchHit {
    /// Listing UUID.
    pub id: String,
    /// Title.
    pub title: String,
    /// Score.
    pub score: f32,
    /// Industry codes of the match.
    pub industry_codes: Vec<String>,
    /// Owner UUID and name.
    pub org_id: String,
    /// Owner name.
    pub org_name: String,
    /// Words of the source found in the match, most telling first.
    pub matched_terms: Vec<String>,
    /// Industry codes both share.
    pub shared_industries: Vec<String>,
    /// Whether both are in the same 技术领域.
    pub same_tech_field: bool,
    /// The match's maturity stage when it is one of the preferred ones.
    pub fitting_stage: Option<String>,
    /// How much of the shorter of the two listings' whole texts (title, summary and details) the
    /// other contains, 0–1 ([`super::similarity`]): near 1 for a copy, even one that leaves out
    /// the details; for spotting duplicates.
    pub similarity: f32,
}

impl SearchIndex {
    /// Finds the best matches of the other side for a listing.
    pub fn matches(&self, request: &MatchRequest) -> Result<Vec<MatchHit>, SearchError> {
        let searcher = self.reader.searcher();
        let f = self.fields;
        let source = &request.source;

        // Telling words: frequent in the listing, rare in the index.
        let text = format!(
            "{} {} {} {}",
            source.title,
            source.title,
            source.keywords.join(" "),
            source.body()
        );
        let mut frequency: HashMap<String, u32> = HashMap::new();
        // No stop word (seeds/search/stop_words.txt) and no measurement (10万公里) is telling.
        for word in analyzers::tokenize(analyzers::CHINESE_PRECISE, &text).unwrap_or_default() {
            if telling::is_telling(&word) {
                *frequency.entry(word).or_default() += 1;
            }
        }
        for keyword in &source.keywords {
            let keyword = keyword.to_lowercase();
            if telling::is_telling(&keyword) {
                *frequency.entry(keyword).or_default() += 3;
            }
        }
        let documents = searcher.num_docs().max(1) as f32;
        // As in searches, a word in a large share of the catalogue only adds to the score.
        let common_above = Ranking::default().common_limit(searcher.num_docs()) as f32;
        // (word, weight, common, shared: in at least one listing besides the source)
        let mut weighted: Vec<(String, f32, bool, bool)> = frequency
            .into_iter()
            .map(|(word, tf)| {
                let df = searcher
                    .doc_freq(&Term::from_field_text(f.text, &word))
                    .unwrap_or(0) as f32;
                let idf = (1.0 + (documents - df + 0.5) / (df + 0.5)).ln();
                (word, tf as f32 * idf, df > common_above, df >= 2.0)
            })
            .filter(|(_, weight, _, _)| *weight > 0.0)
            .collect();
        weighted.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        weighted.truncate(MAX_QUERY_TERMS);
        if weighted.is_empty() {
            return Ok(Vec::new());
        }
        let max_weight = weighted[0].1;

        // The words in `text` find the candidates (it holds the title and keywords too: one term
        // per word keeps block-max WAND fast); the same words in the title and keywords, and the
        // fit of industry, 技术领域 and stage, add to the score of the best candidates.
        // A word no other listing has is not a rarer word: it finds nothing.
        let any_rare = weighted
            .iter()
            .any(|(_, _, common, shared)| !common && *shared);
        let mut words = Vec::new();
        let mut refining = Vec::new();
        for (word, weight, common, _) in &weighted {
            for field in [f.title, f.keywords, f.text] {
                let term = (field, weight / max_weight, word.clone());
                if field == f.text && !(*common && any_rare) {
                    words.push(term);
                } else {
                    refining.push(term);
                }
            }
        }
        let mut fit = term_queries(&refining);
        // The source itself, when it is in the index, is never its own match.
        let source_key =
            Term::from_field_text(f.key, &ListingDoc::key_of(&source.kind, &source.id));
        let source_address = searcher
            .search(
                &TermQuery::new(source_key, IndexRecordOption::Basic),
                &DocSetCollector,
            )?
            .into_iter()
            .next();
        let filter = DocFilter::new(&self.codes)
            .require(CodeColumn::Kind, &request.target_kind)
            .exclude(source_address);
        for (industry, _) in &source.industries {
            fit.push(facet_boost(f.industry, industry, 1.5));
        }
        fit.push(facet_boost(f.tech_field, &source.tech_field, 1.0));
        for stage in &request.preferred_stages {
            fit.push(facet_boost(f.maturity_stage, stage, 0.5));
        }
        let Some(words) = disjunction(&words) else {
            return Ok(Vec::new());
        };
        let limit = request.limit.max(1);
        let mut top = searcher.search(
            &*words,
            &TopScored {
                filter,
                limit: limit.max(CANDIDATES),
            },
        )?;
        add_scores(&searcher, &searcher, &fit, &mut top)?;
        top.truncate(limit);

        let source_shingles = Shingles::of(&format!("{}\n{}", source.title, source.body()));
        let declared: Vec<String> = source.keywords.iter().map(|k| k.to_lowercase()).collect();
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let text = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let all = |field| {
                doc.get_all(field)
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            };
            let haystack = format!(
                "{} {} {}",
                text(f.title),
                all(f.keywords).join(" "),
                text(f.body)
            )
            .to_lowercase();
            // The source's own keywords first (what its poster said matters), then by weight.
            let mut matched_terms: Vec<String> = weighted
                .iter()
                .filter(|(word, _, _, _)| haystack.contains(word.as_str()))
                .map(|(word, _, _, _)| word.clone())
                .collect();
            matched_terms.sort_by_key(|word| !declared.contains(word));
            matched_terms.truncate(8);
            let industry_codes = all(f.industry_codes);
            let shared_industries = source
                .industries
                .iter()
                .map(|(code, _)| code.clone())
                .filter(|code| industry_codes.contains(code))
                .collect();
            let facets = |field| {
                doc.get_all(field)
                    .filter_map(|v| {
                        v.as_facet()
                            .map(|p| p.trim_start_matches(['/', '\0']).to_owned())
                    })
                    .collect::<Vec<_>>()
            };
            let stages = facets(f.maturity_stage);
            let shingles = Shingles::of(&format!("{}\n{}", text(f.title), text(f.body)));
            hits.push(MatchHit {
                similarity: shingles.containment(&source_shingles),
                id: text(f.id),
                title: text(f.title),
                score,
                same_tech_field: facets(f.tech_field).contains(&source.tech_field),
                fitting_stage: stages
                    .into_iter()
                    .find(|s| request.preferred_stages.contains(s)),
                industry_codes,
                org_id: text(f.org_id),
                org_name: text(f.org_name),
                matched_terms,
                shared_industries,
            });
        }
        Ok(hits)
    }
}

fn facet_boost(field: tantivy::schema::Field, code: &str, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(
        Box::new(TermQuery::new(
            Term::from_facet(field, &facet(code)),
            IndexRecordOption::Basic,
        )),
        boost,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::doc;

    #[test]
    fn a_demand_finds_the_result_that_shares_its_words_and_industry() -> Result<(), SearchError> {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let index = SearchIndex::open_or_create(&tmp.path().join("index"))?;
        let mut vision = doc("r1", "机器视觉表面缺陷检测系统");
        vision.keywords = vec!["机器视觉".into(), "缺陷检测".into()];
        let mut battery = doc("r2", "锂电池热失控预警装置");
        battery.industries = vec![("new_materials_new_energy".into(), "pillar".into())];
        index.apply(&[vision, battery], &[])?;
        index.commit(1)?;
        let mut demand = doc("d1", "冲压件表面划伤的机器视觉在线检测");
        demand.kind = "demand".into();
        demand.summary = "我公司冲压件表面缺陷依靠人工目检，希望引进机器视觉缺陷检测方案。".into();
        let hits = index.matches(&MatchRequest {
            source: demand,
            target_kind: "result".into(),
            preferred_stages: vec!["pilot_scale".into()],
            limit: 5,
        })?;
        assert_eq!(hits.first().map(|h| h.id.as_str()), Some("r1"), "{hits:?}");
        let best = &hits[0];
        assert!(
            best.matched_terms.iter().any(|t| t == "机器视觉"),
            "{best:?}"
        );
        assert_eq!(
            best.shared_industries,
            vec!["artificial_intelligence".to_owned()]
        );
        assert!(best.same_tech_field);
        assert_eq!(best.fitting_stage.as_deref(), Some("pilot_scale"));
        assert!(hits.iter().all(|h| h.id != "d1"));
        Ok(())
    }
}
