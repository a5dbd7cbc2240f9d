//! `techmarket eval`: the search-quality evaluation over a corpus of paper records (the CSL
//! corpus in `../shared/data/csl/`). The corpus is read at run time and never copied into the
//! product; the scoring itself lives in [`search_index::eval`].

use std::io::BufRead;
use std::path::Path;

use anyhow::Context;
use search_index::eval::{Corpus, Paper, standard_engines};
use serde::Deserialize;

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
        });
    }
    Ok(papers)
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
