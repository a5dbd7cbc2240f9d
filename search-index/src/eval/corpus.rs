//! The papers of the evaluation, its fixed query sample and the relevance judgements (shared
//! keywords), and the scoring of an engine on the two tasks.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use super::CUTOFF;
use super::engines::Engine;
use super::metrics::{EngineReport, ndcg};
use super::paper_index::PaperIndex;
use crate::SearchError;

/// One paper of the evaluation corpus.
#[derive(Debug, Clone, Default)]
pub struct Paper {
    /// Stable id.
    pub id: String,
    /// Title (may be empty).
    pub title: String,
    /// Abstract.
    pub abstract_text: String,
    /// The paper's own keywords: the relevance judgements, never indexed.
    pub keywords: Vec<String>,
    /// Keywords the listing shows, indexed as a listing's keywords (the judged set's listings;
    /// empty for papers, whose keywords are the judgements).
    pub shown_keywords: Vec<String>,
}

/// The papers the evaluation uses and its fixed query sample.
pub struct Corpus {
    papers: Vec<Paper>,
    sample: Vec<usize>,
    by_keyword: HashMap<String, Vec<usize>>,
}

impl Corpus {
    /// Keeps the papers that have keywords and an abstract, and draws the sample: papers with a
    /// title and at least one neighbour, ordered by a fixed hash of their id, the first `size`.
    pub fn new(papers: Vec<Paper>, size: usize) -> Self {
        let papers: Vec<Paper> = papers
            .into_iter()
            .filter(|p| !p.keywords.is_empty() && !p.abstract_text.trim().is_empty())
            .collect();
        let mut by_keyword: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, paper) in papers.iter().enumerate() {
            let mut own = paper.keywords.clone();
            own.sort();
            own.dedup();
            for keyword in own {
                by_keyword.entry(keyword).or_default().push(i);
            }
        }
        let mut candidates: Vec<usize> = (0..papers.len())
            .filter(|&i| !papers[i].title.trim().is_empty())
            .collect();
        let mut corpus = Self {
            papers,
            sample: Vec::new(),
            by_keyword,
        };
        candidates.retain(|&i| !corpus.gains(i).is_empty());
        candidates.sort_by_key(|&i| (fnv1a(&corpus.papers[i].id), i));
        candidates.truncate(size);
        corpus.sample = candidates;
        corpus
    }

    /// Papers indexed.
    pub fn len(&self) -> usize {
        self.papers.len()
    }

    /// Whether no paper qualified.
    pub fn is_empty(&self) -> bool {
        self.papers.is_empty()
    }

    /// Queries in the sample.
    pub fn sample_len(&self) -> usize {
        self.sample.len()
    }

    /// Gain of every other paper for `query`: the number of keywords it shares.
    fn gains(&self, query: usize) -> HashMap<usize, u32> {
        let mut own = self.papers[query].keywords.clone();
        own.sort();
        own.dedup();
        let mut gains: HashMap<usize, u32> = HashMap::new();
        for keyword in &own {
            for &other in self.by_keyword.get(keyword).into_iter().flatten() {
                if other != query {
                    *gains.entry(other).or_default() += 1;
                }
            }
        }
        gains
    }

    /// Scores `engine`, building its indexes under `work_dir`.
    pub fn evaluate(&self, engine: &Engine, work_dir: &Path) -> Result<EngineReport, SearchError> {
        let started = Instant::now();
        let neighbours =
            PaperIndex::build(engine, &self.papers, true, &work_dir.join("with-titles"))?;
        let build_secs = started.elapsed().as_secs_f64();
        let mut report = EngineReport {
            engine: engine.describe(),
            build_docs_per_sec: self.papers.len() as f64 / build_secs.max(1e-9),
            ..EngineReport::default()
        };
        let mut times = Vec::with_capacity(self.sample.len());
        for &query in &self.sample {
            let started = Instant::now();
            let paper = &self.papers[query];
            let ranked = neighbours.top(&paper.title, &paper.abstract_text, query)?;
            times.push(started.elapsed());
            let gains = self.gains(query);
            let found: Vec<u32> = ranked
                .iter()
                .map(|d| gains.get(d).copied().unwrap_or(0))
                .collect();
            let mut ideal: Vec<u32> = gains.values().copied().collect();
            ideal.sort_unstable_by(|a, b| b.cmp(a));
            report.ndcg_at_10 += ndcg(&found, &ideal);
            report.precision_at_10 +=
                found.iter().filter(|g| **g > 0).count() as f64 / CUTOFF as f64;
        }
        drop(neighbours);
        let known = PaperIndex::build(engine, &self.papers, false, &work_dir.join("no-titles"))?;
        for &query in &self.sample {
            let ranked = known.top(&self.papers[query].title, "", usize::MAX)?;
            if let Some(rank) = ranked.iter().position(|d| *d == query) {
                report.recall_at_10 += 1.0;
                report.mrr_at_10 += 1.0 / (rank + 1) as f64;
            }
        }
        let n = self.sample.len().max(1) as f64;
        report.ndcg_at_10 /= n;
        report.precision_at_10 /= n;
        report.recall_at_10 /= n;
        report.mrr_at_10 /= n;
        times.sort();
        report.query_p50_ms = times
            .get(times.len() / 2)
            .copied()
            .unwrap_or(Duration::ZERO)
            .as_secs_f64()
            * 1e3;
        Ok(report)
    }
}

/// 64-bit FNV-1a: a fixed, platform-independent order for drawing the sample.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ranking;
    use crate::eval::BareAnalyzer;

    fn paper(id: &str, title: &str, text: &str, keywords: &[&str]) -> Paper {
        Paper {
            id: id.into(),
            title: title.into(),
            abstract_text: text.into(),
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            ..Paper::default()
        }
    }

    #[test]
    fn a_tiny_corpus_scores_as_expected_on_every_engine_kind() -> Result<(), SearchError> {
        let papers = vec![
            paper(
                "a",
                "机器视觉缺陷检测",
                "基于深度学习的机器视觉表面缺陷检测方法",
                &["机器视觉", "缺陷检测"],
            ),
            paper(
                "b",
                "机器视觉相机标定",
                "机器视觉系统中工业相机的标定与缺陷识别",
                &["机器视觉"],
            ),
            paper(
                "c",
                "小麦抗旱育种",
                "小麦品种抗旱性评价与分子育种",
                &["小麦", "育种"],
            ),
            paper("d", "玉米育种进展", "玉米杂交育种的研究进展", &["育种"]),
            paper("e", "无关键词", "没有关键词的论文不参与", &[]),
        ];
        let corpus = Corpus::new(papers, 10);
        assert_eq!(corpus.len(), 4, "the paper without keywords is left out");
        assert_eq!(corpus.sample_len(), 4);
        let tmp = tempfile::tempdir().map_err(|source| SearchError::Io {
            path: "tmp".into(),
            source,
        })?;
        for engine in [
            Engine::Product(Ranking::default()),
            Engine::Matching,
            Engine::Bare(vec![BareAnalyzer::JiebaSearch]),
        ] {
            let report = corpus.evaluate(&engine, tmp.path())?;
            // Each paper's only neighbour shares a word with it and is found first.
            assert!(report.ndcg_at_10 > 0.99, "{report:?}");
            assert!((report.recall_at_10 - 1.0).abs() < 1e-9, "{report:?}");
            assert!(report.precision_at_10 > 0.0 && report.precision_at_10 <= 0.1 + 1e-9);
        }
        Ok(())
    }
}
