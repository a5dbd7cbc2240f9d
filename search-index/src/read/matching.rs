//! Matching: the published listings of the other side that best answer a listing's own text.
//!
//! The listing's text is reduced to its most telling words ([`super::match_words`]: no stop
//! words, no measurements; weighted by rarity in the index and count in the listing, as
//! MoreLikeThis does), which are searched in title, keywords and text. A candidate must then share
//! enough of them to be a match at all — two distinct telling words carrying a twentieth of the
//! words' weight, or a fifth of it in one word of its title — so that one generic word in common
//! (储能, 热管理) is not a reason to talk. Shared industries and the same 技术领域 raise the score of
//! a match in proportion, but never make one; a maturity stage the source prefers is reported,
//! not scored. The caller turns what is shared into human-readable reasons.

use tantivy::collector::DocSetCollector;
use tantivy::query::{Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{TantivyDocument, Term};

use super::filter::DocFilter;
use super::match_words::{Shared, clause_masks, shown_words, source_words};
use super::request::Ranking;
use super::similarity::Shingles;
use super::terms::{disjunction, term_queries};
use super::top::{TopScored, add_scores};
use crate::codes::CodeColumn;
use crate::document::{ListingDoc, facet};
use crate::error::SearchError;
use crate::index::SearchIndex;

/// Words taken from the source listing. On the judged demands (`techmarket eval`, BENCHMARKS.md)
/// 30 words gave nDCG@10 0.926, 40 gave 0.935 and 55 gave 0.938: the last few words add little and
/// each costs a term in every matching.
const MAX_QUERY_TERMS: usize = 40;
/// Of those, the most telling find the candidates; the others only add to the candidates' scores.
/// The last words are the most common, whose long postings made a matching at 100,000 listings
/// take 2.7 ms instead of 1.9 (p50) when they found candidates too; finding with 25 changed nothing
/// on the judged demands (with 20, 0.932) and nothing on the CSL papers (0.2550 against 0.2542).
const FINDING_WORDS: usize = 25;
/// The best candidates by words, of which those sharing enough are re-ranked.
const CANDIDATES: usize = 100;
/// Distinct telling words a match must share with the source (with [`MIN_SHARE`])…
const MIN_SHARED_WORDS: usize = 2;
/// …and the least share of the source's word weight they must carry: two of its weakest words
/// in common are chance.
const MIN_SHARE: f32 = 0.05;
/// A match sharing one word only must share a word of the source's title that carries this share
/// of the source's word weight: a listing whose subject is one rare term (猕猴桃溃疡病) is matched
/// by that term, a listing about 储能消防 not by 储能, nor an e-axle by its 热管理. On the judged
/// demands no single word that was a reason to talk carried less than a fifth but for two
/// marginal ones (a tenth), and none that was not carried more than 0.15.
const ALONE_SHARE: f32 = 0.2;
/// Share of a match's word score added when it is in every industry of the source (in part for
/// some); likewise [`FIELD_FIT`] for the same 技术领域. Small on purpose: agreement tells a listing
/// about the same thing from one about a neighbouring thing, it never makes a match. The judged
/// demands run with their real keywords, industries and fields (a scratch run, BENCHMARKS.md)
/// ranked best with 0.2 and 0.1 (nDCG@10 0.936; 0.935 without either, 0.927 with 0.5 and 0.3, 0.922
/// with 1.0 and 0.5). The maturity stage is reported, not scored: it says how far a result is, not
/// whether it answers the demand, and any weight on it ranked worse (0.930 at 0.05).
const INDUSTRY_FIT: f32 = 0.2;
/// See [`INDUSTRY_FIT`].
const FIELD_FIT: f32 = 0.1;
/// Words shown per match.
const SHOWN_WORDS: usize = 8;

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
    /// Telling words of the source found in the match: its keywords first, then the most telling;
    /// never a stop word, a number or a word inside another one shown.
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
        // As in searches, a word in a large share of the catalogue only adds to the score.
        let common_above = Ranking::default().common_limit(searcher.num_docs());
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
        let words = source_words(
            &searcher,
            f.text,
            source,
            common_above,
            source_address.is_some(),
            MAX_QUERY_TERMS,
        );
        let Some(max_weight) = words.first().map(|w| w.weight) else {
            return Ok(Vec::new());
        };

        // The most telling words in `text` find the candidates (it holds the title and keywords
        // too: one term per word keeps block-max WAND fast); the others in `text`, and all of
        // them in the title and keywords, add to the score of the best candidates. Each term is
        // boosted by the square root of its word's weight: BM25 counts the word's rarity again,
        // and the full weight made a few rare words drown the rest (nDCG@10 0.911 against 0.935
        // on the judged demands).
        let any_rare = words.iter().take(FINDING_WORDS).any(|w| !w.common);
        let (mut finding, mut refining) = (Vec::new(), Vec::new());
        for (rank, word) in words.iter().enumerate() {
            for field in [f.title, f.keywords, f.text] {
                let term = (field, (word.weight / max_weight).sqrt(), word.text.clone());
                if field == f.text && rank < FINDING_WORDS && !(word.common && any_rare) {
                    finding.push(term);
                } else {
                    refining.push(term);
                }
            }
        }
        let Some(finding) = disjunction(&finding) else {
            return Ok(Vec::new());
        };
        let filter = DocFilter::new(&self.codes)
            .require(CodeColumn::Kind, &request.target_kind)
            .exclude(source_address);
        let limit = request.limit.max(1);
        let mut top = searcher.search(
            &*finding,
            &TopScored {
                filter,
                limit: limit.max(CANDIDATES),
            },
        )?;
        add_scores(&searcher, &searcher, &term_queries(&refining), &mut top)?;

        // What each candidate shares with the source: which words, and which of the source's
        // industries, its 技术领域, and which preferred stage.
        let word_clauses: Vec<Box<dyn Query>> =
            words.iter().map(|w| term(f.text, &w.text)).collect();
        let word_masks = clause_masks(&searcher, &word_clauses, &top)?;
        let agreement = Agreement::of(request);
        let fit_masks = clause_masks(&searcher, &agreement.clauses(self), &top)?;
        let mut kept = Vec::with_capacity(top.len());
        for ((score, address), (word_mask, fit_mask)) in
            top.into_iter().zip(word_masks.into_iter().zip(fit_masks))
        {
            if !shares_enough(Shared::of(&words, word_mask)) {
                continue;
            }
            let (shared_industries, same_field, fitting_stage) = agreement.read(fit_mask);
            let fit = INDUSTRY_FIT * shared_industries.len() as f32
                / agreement.industries.len().max(1) as f32
                + if same_field { FIELD_FIT } else { 0.0 };
            kept.push(Candidate {
                score: score * (1.0 + fit),
                address,
                word_mask,
                shared_industries,
                same_field,
                fitting_stage,
            });
        }
        kept.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.address.cmp(&b.address))
        });
        kept.truncate(limit);

        let source_shingles = Shingles::of(&format!("{}\n{}", source.title, source.body()));
        let mut hits = Vec::with_capacity(kept.len());
        for candidate in kept {
            let doc: TantivyDocument = searcher.doc(candidate.address)?;
            let text = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let industry_codes = doc
                .get_all(f.industry_codes)
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            let shingles = Shingles::of(&format!("{}\n{}", text(f.title), text(f.body)));
            hits.push(MatchHit {
                similarity: shingles.containment(&source_shingles),
                id: text(f.id),
                title: text(f.title),
                score: candidate.score,
                industry_codes,
                org_id: text(f.org_id),
                org_name: text(f.org_name),
                matched_terms: shown_words(&words, candidate.word_mask, SHOWN_WORDS),
                shared_industries: candidate.shared_industries,
                same_tech_field: candidate.same_field,
                fitting_stage: candidate.fitting_stage,
            });
        }
        Ok(hits)
    }
}

/// A candidate that shares enough, with what it shares.
struct Candidate {
    score: f32,
    address: tantivy::DocAddress,
    word_mask: u64,
    shared_industries: Vec<String>,
    same_field: bool,
    fitting_stage: Option<String>,
}

/// What of the source's classification a candidate can agree with, as clauses whose matches
/// [`clause_masks`] tells apart: bit 0 the 技术领域, then each industry, then each preferred stage.
struct Agreement<'a> {
    field: &'a str,
    industries: Vec<&'a str>,
    stages: Vec<&'a str>,
}

impl<'a> Agreement<'a> {
    fn of(request: &'a MatchRequest) -> Self {
        // The reference lists hold 18 industries and 5 stages; the caps only keep every clause
        // within the 64 bits of a mask whatever a caller sends.
        Self {
            field: &request.source.tech_field,
            industries: (request.source.industries.iter())
                .map(|(code, _)| code.as_str())
                .take(32)
                .collect(),
            stages: (request.preferred_stages.iter())
                .map(String::as_str)
                .take(8)
                .collect(),
        }
    }

    fn clauses(&self, index: &SearchIndex) -> Vec<Box<dyn Query>> {
        let f = index.fields;
        let mut clauses = vec![facet_term(f.tech_field, self.field)];
        clauses.extend(self.industries.iter().map(|c| facet_term(f.industry, c)));
        clauses.extend(self.stages.iter().map(|c| facet_term(f.maturity_stage, c)));
        clauses
    }

    /// The shared industries, whether the 技术领域 is the same, and the fitting stage, from the
    /// bits of `mask`.
    fn read(&self, mask: u64) -> (Vec<String>, bool, Option<String>) {
        let bit = |i: usize| mask & (1 << i) != 0;
        let industries = (self.industries.iter().enumerate())
            .filter(|(i, _)| bit(1 + i))
            .map(|(_, code)| (*code).to_owned())
            .collect();
        let stage = (self.stages.iter().enumerate())
            .find(|(i, _)| bit(1 + self.industries.len() + i))
            .map(|(_, code)| (*code).to_owned());
        (industries, bit(0), stage)
    }
}

/// Whether a candidate shares enough of the source's words to be a match (see the module's
/// comment).
fn shares_enough(shared: Shared) -> bool {
    (shared.words >= MIN_SHARED_WORDS && shared.share >= MIN_SHARE)
        || (shared.words >= 1 && shared.share >= ALONE_SHARE && shared.titled)
}

/// Listings filed under `code` in a facet field.
fn facet_term(field: tantivy::schema::Field, code: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_facet(field, &facet(code)),
        IndexRecordOption::Basic,
    ))
}

/// Listings whose `field` holds `word`.
fn term(field: tantivy::schema::Field, word: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, word),
        IndexRecordOption::Basic,
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

#[cfg(test)]
mod telling_tests {
    use super::*;
    use crate::tests::{doc, tmp};

    fn result(id: &str, title: &str, summary: &str) -> ListingDoc {
        let mut result = doc(id, title);
        result.summary = summary.into();
        result.industries = vec![("new_materials_new_energy".into(), "pillar".into())];
        result
    }

    fn demand(title: &str, description: &str) -> ListingDoc {
        let mut demand = result("d1", title, description);
        demand.kind = "demand".into();
        demand
    }

    /// Results about storage fire safety, storage in general, vehicles and unrelated subjects,
    /// so that the words' rarity is not that of a catalogue of two.
    fn catalogue() -> Result<(tempfile::TempDir, SearchIndex), SearchError> {
        let dir = tmp();
        let index = SearchIndex::open_or_create(&dir.path().join("index"))?;
        let results = [
            result(
                "fire",
                "储能舱热失控早期预警与全氟己酮灭火联动装置",
                "面向储能舱的锂电池热失控早期预警，探测到热失控后联动全氟己酮与细水雾灭火，\
                 灭火后持续喷淋防止复燃，已通过大尺度燃烧试验。",
            ),
            result(
                "grid",
                "光伏储能充电微电网",
                "高速公路服务区光伏发电、储能与充电桩协同运行的微电网，储能容量2兆瓦时，\
                 开展了削峰填谷运行，储能效率大于90%。",
            ),
            result(
                "bus",
                "纯电动公交车动力电池液冷热管理系统",
                "液冷板与热泵结合的电池热管理，在高温工况下电芯温差小于3℃，\
                 累计运行10万公里，开展了整车验证。",
            ),
            result(
                "axle",
                "商用车电驱动桥齿轮修形与啸叫噪声控制",
                "针对电驱桥高速齿轮啸叫，提出齿轮修形与壳体模态优化方法，\
                 NVH台架试验中啸叫降低6dB(A)，可用于重卡电驱桥。",
            ),
            result(
                "soil",
                "黄土高原苹果园节水灌溉",
                "基于土壤墒情监测的滴灌决策，节水百分之三十。",
            ),
            result(
                "vision",
                "机器视觉表面缺陷检测系统",
                "深度学习识别冲压件表面划伤、压痕和毛刺，漏检率小于千分之一。",
            ),
        ];
        index.apply(&results, &[])?;
        index.commit(1)?;
        Ok((dir, index))
    }

    fn matches(index: &SearchIndex, source: ListingDoc) -> Result<Vec<MatchHit>, SearchError> {
        index.matches(&MatchRequest {
            source,
            target_kind: "result".into(),
            preferred_stages: Vec::new(),
            limit: 10,
        })
    }

    fn ids(hits: &[MatchHit]) -> Vec<&str> {
        hits.iter().map(|h| h.id.as_str()).collect()
    }

    #[test]
    fn one_generic_word_in_common_is_no_match() -> Result<(), SearchError> {
        let (_dir, index) = catalogue()?;
        let hits = matches(
            &index,
            demand(
                "储能舱全氟己酮与细水雾复合消防技术引进",
                "现有储能舱采用七氟丙烷灭火，对锂电池热失控复燃抑制不理想。寻求经过大尺度燃烧\
                 试验验证的早期探测、全氟己酮与细水雾复合灭火技术，要求热失控不蔓延、不复燃。",
            ),
        )?;
        // The microgrid shares 储能 and nothing else.
        assert_eq!(ids(&hits), vec!["fire"], "{hits:?}");

        let hits = matches(
            &index,
            demand(
                "重型商用车中央集成式电驱桥NVH控制",
                "新能源重卡电驱桥齿轮啸叫比竞品高6dB(A)，电机与减速器共用油冷，热管理能力不足。\
                 揭榜团队需完成台架耐久50万公里当量试验，典型工况综合效率大于90%。",
            ),
        )?;
        // The bus shares 热管理 (and 万公里, 工况, 大于, which tell nothing).
        assert_eq!(ids(&hits), vec!["axle"], "{hits:?}");
        Ok(())
    }

    #[test]
    fn shared_words_are_telling_words_only() -> Result<(), SearchError> {
        let (_dir, index) = catalogue()?;
        let hits = matches(
            &index,
            demand(
                "城市公交电池热管理改造",
                "开展纯电动公交车动力电池液冷热管理改造，要求高温工况下电芯温差小于3℃，\
                 满足10万公里运行要求，通过整车验证。",
            ),
        )?;
        assert_eq!(hits.first().map(|h| h.id.as_str()), Some("bus"), "{hits:?}");
        for hit in &hits {
            for word in &hit.matched_terms {
                assert!(crate::telling::is_telling(word), "{word} in {hit:?}");
            }
            assert!(
                hit.matched_terms.iter().all(|w| !w.contains("公里")),
                "{hit:?}"
            );
        }
        let bus = &hits[0].matched_terms;
        for word in ["热管理", "液冷", "动力电池"] {
            assert!(bus.iter().any(|t| t == word), "{word} not in {bus:?}");
        }
        // Inner words of a shown word are not shown again: 管理 is in 热管理.
        assert!(!bus.iter().any(|t| t == "管理"), "{bus:?}");
        Ok(())
    }

    #[test]
    fn a_copy_without_its_details_is_as_similar_as_a_copy() -> Result<(), SearchError> {
        let dir = tmp();
        let index = SearchIndex::open_or_create(&dir.path().join("index"))?;
        let mut original = result(
            "original",
            "锂离子电池储能舱热失控多参量早期预警装置",
            "面向电化学储能舱的热失控早期预警装置，融合一氧化碳、氢气、温度与烟雾多参量探测，\
             在电池热失控前约8分钟发出预警，误报率低于千分之一。",
        );
        original.details = "装置由分布式气体探测单元、边缘计算网关和云端预警平台组成，采用多参量\
            融合算法识别热失控前兆。已在三座储能电站完成试点，累计运行超过一万小时，可与站内消防\
            系统联动。合作方需具备储能系统集成资质，可共建示范工程。"
            .into();
        let neighbour = result(
            "neighbour",
            "电化学储能电站电池热失控早期预警与安全评估",
            "针对储能电站磷酸铁锂电池热失控风险，建立基于电压、温度与产气特征的早期预警模型和\
             电站安全评估方法，预警时间提前到热失控前10分钟以上，已在两座电站应用。",
        );
        index.apply(&[original.clone(), neighbour], &[])?;
        index.commit(1)?;
        let mut copy = original.clone();
        copy.id = "copy".into();
        copy.details = String::new();
        let hits = index.matches(&MatchRequest {
            source: copy,
            target_kind: "result".into(),
            preferred_stages: Vec::new(),
            limit: 5,
        })?;
        let similarity = |id: &str| {
            hits.iter()
                .find(|h| h.id == id)
                .map_or(0.0, |h| h.similarity)
        };
        assert!(similarity("original") > 0.95, "{hits:?}");
        assert!(similarity("neighbour") < 0.3, "{hits:?}");
        Ok(())
    }
}
