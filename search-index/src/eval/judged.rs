//! The judged evaluation: queries and demands whose every listing a person graded 0–3 by reading
//! it (`seeds/eval/`, over the demo catalogue). Unlike the paper tasks, whose relevance is a
//! proxy (shared keywords), these grades say what a searcher wanted, so they decide between
//! rankings that the proxy scores alike.
//!
//! Search: each query runs over its kind's listings; nDCG@10 with the grades as gains, and P@5
//! counting grade 2 and 3 as relevant. Matching: each demand's text is the source (for search
//! engines, the query) over the results. Queries graded with no relevant listing are kept apart:
//! for them the measure is how many hits an engine invents.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::corpus::Paper;
use super::engines::Engine;
use super::metrics::ndcg;
use super::paper_index::PaperIndex;
use crate::SearchError;

/// Hits that count for P@5.
const PRECISION_CUTOFF: usize = 5;
/// The least grade that counts as relevant for P@5.
const RELEVANT_GRADE: u32 = 2;

/// One judged query.
#[derive(Debug, Clone)]
pub struct JudgedQuery {
    /// `q01` …
    pub id: String,
    /// `result` or `demand`: the listings it searches.
    pub kind: String,
    /// `keyword`, `compound`, `english`, `mixed`, `typo`, `exclusion`, `identifier`, `long`.
    pub category: String,
    /// What the person typed.
    pub q: String,
    /// Grade 1–3 of each listing (by id) that is relevant at all; the others are 0.
    pub grades: HashMap<String, u32>,
}

/// One judged demand: the results a person would want it matched with.
#[derive(Debug, Clone)]
pub struct JudgedMatch {
    /// The demand's id.
    pub demand: String,
    /// Grade 1–3 of each relevant result, by id.
    pub grades: HashMap<String, u32>,
}

/// A judged catalogue: its listings, as papers (id, title, and the rest of their text as the
/// abstract), and the judgements.
#[derive(Debug, Clone, Default)]
pub struct Judged {
    /// The results.
    pub results: Vec<Paper>,
    /// The demands.
    pub demands: Vec<Paper>,
    /// The judged queries.
    pub queries: Vec<JudgedQuery>,
    /// The judged demands.
    pub matches: Vec<JudgedMatch>,
}

/// The scores of one engine on the judged set.
#[derive(Debug, Clone, Default)]
pub struct JudgedReport {
    /// [`Engine::describe`].
    pub engine: String,
    /// Mean nDCG@10 over the queries with a relevant listing (`None` for matching engines).
    pub search_ndcg: Option<f64>,
    /// Mean P@5 over the same queries.
    pub search_p5: Option<f64>,
    /// Mean nDCG@10 per query category.
    pub by_category: BTreeMap<String, f64>,
    /// Hits returned, in all, for the queries that have no relevant listing.
    pub invented_hits: usize,
    /// Mean nDCG@10 of the judged demands' matches.
    pub matching_ndcg: f64,
    /// Mean P@5 of the same.
    pub matching_p5: f64,
}

/// nDCG@10 and P@5 of `ranked` ids against `grades`.
fn score(ranked: &[String], grades: &HashMap<String, u32>) -> (f64, f64) {
    let found: Vec<u32> = ranked
        .iter()
        .map(|id| grades.get(id).copied().unwrap_or(0))
        .collect();
    let mut ideal: Vec<u32> = grades.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let relevant = found
        .iter()
        .take(PRECISION_CUTOFF)
        .filter(|g| **g >= RELEVANT_GRADE)
        .count();
    (
        ndcg(&found, &ideal),
        relevant as f64 / PRECISION_CUTOFF as f64,
    )
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        // Folded from +0.0: an empty `sum` of floats is -0.0, which would print as "-0.0000".
        values.iter().fold(0.0, |sum, v| sum + v) / values.len() as f64
    }
}

impl Judged {
    /// Scores `engine`, building its indexes under `work_dir`.
    pub fn evaluate(&self, engine: &Engine, work_dir: &Path) -> Result<JudgedReport, SearchError> {
        let results = PaperIndex::build(engine, &self.results, true, &work_dir.join("results"))?;
        let mut report = JudgedReport {
            engine: engine.describe(),
            ..JudgedReport::default()
        };
        let ids = |papers: &[Paper], ranked: Vec<usize>| -> Vec<String> {
            ranked
                .into_iter()
                .filter_map(|n| papers.get(n).map(|p| p.id.clone()))
                .collect()
        };
        if !matches!(engine, Engine::Matching) {
            let demands =
                PaperIndex::build(engine, &self.demands, true, &work_dir.join("demands"))?;
            let (mut ndcgs, mut precisions) = (Vec::new(), Vec::new());
            let mut by_category: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            for query in &self.queries {
                let (index, papers) = if query.kind == "demand" {
                    (&demands, &self.demands)
                } else {
                    (&results, &self.results)
                };
                let ranked = ids(papers, index.top(&query.q, "", usize::MAX)?);
                if query.grades.is_empty() {
                    report.invented_hits += ranked.len();
                    continue;
                }
                let (ndcg, precision) = score(&ranked, &query.grades);
                ndcgs.push(ndcg);
                precisions.push(precision);
                by_category
                    .entry(query.category.clone())
                    .or_default()
                    .push(ndcg);
            }
            report.search_ndcg = Some(mean(&ndcgs));
            report.search_p5 = Some(mean(&precisions));
            report.by_category = by_category
                .into_iter()
                .map(|(category, values)| (category, mean(&values)))
                .collect();
        }
        let (mut ndcgs, mut precisions) = (Vec::new(), Vec::new());
        for judged in &self.matches {
            let Some(demand) = self.demands.iter().find(|d| d.id == judged.demand) else {
                continue;
            };
            // The demand's keywords are words of the demand: both kinds of engine get them, at
            // the head of its text (a listing's keywords are its `shown_keywords`, which the
            // indexes get and a text does not).
            let body = format!(
                "{}\n{}",
                demand.shown_keywords.join("，"),
                demand.abstract_text
            );
            let ranked = match engine {
                Engine::Matching => results.top(&demand.title, &body, usize::MAX)?,
                // A search engine is given the demand's words as a query.
                _ => {
                    let text = format!("{} {}", demand.title, body);
                    results.top(&text, "", usize::MAX)?
                }
            };
            let (ndcg, precision) = score(&ids(&self.results, ranked), &judged.grades);
            ndcgs.push(ndcg);
            precisions.push(precision);
        }
        report.matching_ndcg = mean(&ndcgs);
        report.matching_p5 = mean(&precisions);
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_score_as_gains_and_grade_two_is_relevant() {
        let grades = HashMap::from([("a".to_owned(), 3), ("b".to_owned(), 1)]);
        let ranked = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (ideal, p5) = score(&ranked(&["a", "b", "x"]), &grades);
        assert!((ideal - 1.0).abs() < 1e-12);
        assert!((p5 - 0.2).abs() < 1e-12, "only grade 3 counts of a and b");
        let (worse, _) = score(&ranked(&["x", "b", "a"]), &grades);
        assert!(worse < ideal);
        assert_eq!(score(&[], &grades), (0.0, 0.0));
    }
}
