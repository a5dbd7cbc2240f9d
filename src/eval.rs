//! `techmarket eval`: the search-quality evaluation over a corpus of paper records (the CSL
//! corpus in `../shared/data/csl/`), and over the judged queries and demands of the demo
//! catalogue (`seeds/eval/`). The corpus is read at run time and never copied into the product;
//! the scoring itself lives in [`search_index::eval`].

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use anyhow::Context;
use search_index::eval::{Corpus, Judged, JudgedMatch, JudgedQuery, Paper, standard_engines};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// One line of `csl_docs.jsonl` (other fields are ignored).
#[derive(Debug, Deserialize)]
struct CslRecord {
    id: String,
    title: Option<String>,
    #[serde(rename = "abstract")]
    abstract_text: Option<String>,
    #[serde(default)]
    keywords: Vec<String>,
}

/// Reads the papers of a CSL-format JSON-lines file.
pub fn read_papers(path: &Path) -> anyhow::Result<Vec<Paper>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut papers = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: CslRecord = serde_json::from_str(&line)
            .with_context(|| format!("{} line {}", path.display(), n + 1))?;
        papers.push(Paper {
            id: record.id,
            title: record.title.unwrap_or_default(),
            abstract_text: record.abstract_text.unwrap_or_default(),
            keywords: record.keywords,
            shown_keywords: Vec::new(),
        });
    }
    Ok(papers)
}

/// The rows of a JSON-lines file.
fn read_lines<T: DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line).with_context(|| format!("{} line {}", path.display(), n + 1))
        })
        .collect()
}

/// A demo listing, as the judged evaluation reads it.
#[derive(Debug, Deserialize)]
struct DemoListing {
    external_id: String,
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    description: String,
    details: Option<String>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    ip: Vec<DemoIp>,
    challenge: Option<DemoChallenge>,
}

#[derive(Debug, Deserialize)]
struct DemoIp {
    number: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DemoChallenge {
    indicators: Option<String>,
}

impl DemoListing {
    /// The listing as a paper: its title, its keywords as shown keywords, and the rest of what
    /// the index holds of it (summary or description, details or indicators, IP numbers) as the
    /// abstract.
    fn into_paper(self) -> Paper {
        let details = self
            .details
            .or(self.challenge.and_then(|c| c.indicators))
            .unwrap_or_default();
        let numbers: Vec<String> = self.ip.into_iter().filter_map(|ip| ip.number).collect();
        Paper {
            id: self.external_id,
            title: self.title,
            abstract_text: format!(
                "{}{}\n{}\n{}",
                self.summary,
                self.description,
                details,
                numbers.join(" ")
            ),
            keywords: Vec::new(),
            shown_keywords: self.keywords,
        }
    }
}

#[derive(Debug, Deserialize)]
struct QueryLine {
    id: String,
    kind: String,
    category: String,
    q: String,
    grades: HashMap<String, u32>,
}

#[derive(Debug, Deserialize)]
struct MatchLine {
    demand: String,
    grades: HashMap<String, u32>,
}

/// The judged set under `seeds` (`seeds/demo/` and `seeds/eval/`).
pub fn read_judged(seeds: &Path) -> anyhow::Result<Judged> {
    let papers = |files: &[&str]| -> anyhow::Result<Vec<Paper>> {
        let mut papers = Vec::new();
        for file in files {
            let rows: Vec<DemoListing> = read_lines(&seeds.join("demo").join(file))?;
            papers.extend(rows.into_iter().map(DemoListing::into_paper));
        }
        Ok(papers)
    };
    let queries: Vec<QueryLine> = read_lines(&seeds.join("eval/queries.jsonl"))?;
    let matches: Vec<MatchLine> = read_lines(&seeds.join("eval/matching.jsonl"))?;
    Ok(Judged {
        results: papers(&["results_a.jsonl", "results_b.jsonl"])?,
        demands: papers(&["demands.jsonl"])?,
        queries: queries
            .into_iter()
            .map(|q| JudgedQuery {
                id: q.id,
                kind: q.kind,
                category: q.category,
                q: q.q,
                grades: q.grades,
            })
            .collect(),
        matches: matches
            .into_iter()
            .map(|m| JudgedMatch {
                demand: m.demand,
                grades: m.grades,
            })
            .collect(),
    })
}

/// Runs every standard engine over the judged set under `seeds` and prints a Markdown table.
pub fn run_judged(seeds: &Path) -> anyhow::Result<()> {
    let judged = read_judged(seeds)?;
    let work = tempfile::tempdir().context("creating a temporary directory for the indexes")?;
    println!(
        "judged: {} queries and {} demands over {} results and {} demands\n",
        judged.queries.len(),
        judged.matches.len(),
        judged.results.len(),
        judged.demands.len()
    );
    let engines = standard_engines();
    let mut categories: Vec<String> = judged.queries.iter().map(|q| q.category.clone()).collect();
    categories.sort();
    categories.dedup();
    println!(
        "| engine | search nDCG@10 | search P@5 | {} | invented hits | matching nDCG@10 | matching P@5 |",
        categories.join(" | ")
    );
    println!("|{}", " --- |".repeat(categories.len() + 6));
    for (i, engine) in engines.iter().enumerate() {
        let report = judged.evaluate(engine, &work.path().join(i.to_string()))?;
        let figure = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.4}"));
        let by_category: Vec<String> = categories
            .iter()
            .map(|c| figure(report.by_category.get(c).copied()))
            .collect();
        println!(
            "| {} | {} | {} | {} | {} | {:.4} | {:.4} |",
            report.engine,
            figure(report.search_ndcg),
            figure(report.search_p5),
            by_category.join(" | "),
            report.invented_hits,
            report.matching_ndcg,
            report.matching_p5
        );
    }
    println!();
    Ok(())
}

/// Runs every standard engine over the corpus and prints a Markdown table.
pub fn run(corpus_path: &Path, sample: usize) -> anyhow::Result<()> {
    let corpus = Corpus::new(read_papers(corpus_path)?, sample);
    anyhow::ensure!(
        !corpus.is_empty(),
        "{} holds no paper with keywords and an abstract",
        corpus_path.display()
    );
    let work = tempfile::tempdir().context("creating a temporary directory for the indexes")?;
    println!(
        "{} papers indexed (keywords withheld), {} sampled title queries\n",
        corpus.len(),
        corpus.sample_len()
    );
    println!(
        "| engine | nDCG@10 | P@10 | known item R@10 | MRR@10 | build docs/s | query p50 ms |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (i, engine) in standard_engines().iter().enumerate() {
        let report = corpus.evaluate(engine, &work.path().join(i.to_string()))?;
        println!(
            "| {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.0} | {:.2} |",
            report.engine,
            report.ndcg_at_10,
            report.precision_at_10,
            report.recall_at_10,
            report.mrr_at_10,
            report.build_docs_per_sec,
            report.query_p50_ms
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The judgements are data a person edits: every graded listing must exist, in the kind the
    /// query searches, with a grade of 1 to 3.
    #[test]
    fn the_judged_set_reads_and_grades_only_listings_it_has() -> anyhow::Result<()> {
        let judged = read_judged(Path::new("seeds"))?;
        let ids =
            |papers: &[Paper]| -> Vec<String> { papers.iter().map(|p| p.id.clone()).collect() };
        let (results, demands) = (ids(&judged.results), ids(&judged.demands));
        assert!(judged.queries.len() >= 60 && judged.matches.len() >= 20);
        for query in &judged.queries {
            let listings = if query.kind == "demand" {
                &demands
            } else {
                &results
            };
            for (id, grade) in &query.grades {
                assert!(listings.contains(id), "{}: unknown {id}", query.id);
                assert!((1..=3).contains(grade), "{}: grade {grade}", query.id);
            }
        }
        for judged_match in &judged.matches {
            assert!(demands.contains(&judged_match.demand));
            assert!(judged_match.grades.keys().all(|id| results.contains(id)));
        }
        Ok(())
    }
}
