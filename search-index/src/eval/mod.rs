//! Measured search quality: the evaluation behind `techmarket eval`.
//!
//! Papers (title, abstract, keywords) are indexed as results with their keywords withheld, and two
//! tasks are scored over a fixed sample of titled papers:
//!
//! - **Neighbours**: a paper's title is the query, the paper itself is left out of the ranking, and
//!   every other paper sharing `k` of its keywords has gain `k`: nDCG@10 and P@10.
//! - **Known item**: the title is withheld from the index and must find its own paper: Recall@10
//!   and MRR@10.
//!
//! Each engine is one row of the report. The *product* rows run the real [`crate::SearchIndex`] (schema,
//! analyzers, query building) with a [`crate::Ranking`]; the *bare* rows are plain BM25 over one text
//! field with a given analyzer, the baselines against which the product's choices are judged.
//!
//! A third task is judged by people ([`judged`]): queries and demands over the demo catalogue
//! with every listing graded 0–3, scored by nDCG@10 and P@5.
//!
//! `corpus` holds the papers, the sample and the scoring of the two tasks; `engines` what is
//! compared; `paper_index` the papers indexed for one engine; `metrics` the measures.

mod corpus;
mod engines;
mod judged;
mod metrics;
mod paper_index;

pub use corpus::{Corpus, Paper};
pub use engines::{BareAnalyzer, Engine, standard_engines};
pub use judged::{Judged, JudgedMatch, JudgedQuery, JudgedReport};
pub use metrics::{EngineReport, ndcg};

/// Hits scored per query.
pub const CUTOFF: usize = 10;
