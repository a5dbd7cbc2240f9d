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
//! Each engine is one row of the report. The *product* rows run the real [`SearchIndex`] (schema,
//! analyzers, query building) with a [`Ranking`]; the *bare* rows are plain BM25 over one text
//! field with a given analyzer, the baselines against which the product's choices are judged.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use jieba_rs::TokenizeMode;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{TextAnalyzer, TokenizerManager};
use tantivy::{Index, IndexReader, TantivyDocument, Term};

use crate::ListingDoc;
use crate::MatchRequest;
use crate::analyzers;
use crate::index::{SearchError, SearchIndex};
use crate::query::{Ranking, SearchRequest};

/// Hits scored per query.
pub const CUTOFF: usize = 10;

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
}

/// An engine under evaluation.
#[derive(Debug, Clone)]
pub enum Engine {
    /// The product's index and query code with this ranking.
    Product(Ranking),
    /// The product's matching (`/results/{id}/matches`): the paper's title and abstract as the
    /// source listing in the neighbours task, its title alone in the known-item task.
    Matching,
    /// Plain BM25 over title and abstract in one field, the query analyzed by the same analyzers;
    /// with several analyzers, each gets its own field and the query any of them.
    Bare(Vec<BareAnalyzer>),
}

/// Analyzers of the bare baselines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareAnalyzer {
    /// tantivy's `default` tokenizer (splits on non-alphanumerics: a Chinese run is one token).
    TantivyDefault,
    /// Overlapping Han character bigrams.
    Bigram,
    /// jieba precise mode with the domain dictionary.
    JiebaPrecise,
    /// jieba search mode with the domain dictionary (the product's analyzer).
    JiebaSearch,
    /// jieba search mode, built-in dictionary only.
    JiebaSearchNoUserDict,
    /// jieba search mode with the domain dictionary and without HMM word guessing.
    JiebaSearchNoHmm,
}

impl BareAnalyzer {
    fn analyzer(self) -> TextAnalyzer {
        let registered = |name: &str| {
            let manager = TokenizerManager::default();
            analyzers::register_analyzers(&manager);
            manager.get(name)
        };
        let fallback = || TokenizerManager::default().get("default");
        let analyzer = match self {
            Self::TantivyDefault => fallback(),
            Self::Bigram => registered(analyzers::CJK_BIGRAM),
            Self::JiebaPrecise => registered(analyzers::CHINESE_PRECISE),
            Self::JiebaSearch => registered(analyzers::CHINESE_SEARCH),
            Self::JiebaSearchNoUserDict => Some(analyzers::jieba_analyzer(
                analyzers::plain_jieba(),
                TokenizeMode::Search,
                true,
            )),
            Self::JiebaSearchNoHmm => Some(analyzers::jieba_analyzer(
                analyzers::domain_jieba(),
                TokenizeMode::Search,
                false,
            )),
        };
        analyzer.unwrap_or_else(|| TextAnalyzer::from(tantivy::tokenizer::RawTokenizer::default()))
    }

    fn name(self) -> &'static str {
        match self {
            Self::TantivyDefault => "tantivy default",
            Self::Bigram => "char bigrams",
            Self::JiebaPrecise => "jieba precise",
            Self::JiebaSearch => "jieba search",
            Self::JiebaSearchNoUserDict => "jieba search, no user dict",
            Self::JiebaSearchNoHmm => "jieba search, no HMM",
        }
    }
}

impl Engine {
    /// A short description for the report.
    pub fn describe(&self) -> String {
        match self {
            Self::Product(r) => format!(
                "product: title {} / keywords {} / text {} / bigrams {} / org {}, synonyms {}, proximity {}, common words above {}% and {} listings",
                r.title,
                r.keywords,
                r.text,
                r.bigram,
                r.org_name,
                if r.synonyms { "on" } else { "off" },
                r.proximity,
                r.common_share * 100.0,
                r.common_min_docs
            ),
            Self::Matching => "product matching: title + abstract as the source listing".into(),
            Self::Bare(analyzers) => format!(
                "bare BM25: {}",
                analyzers
                    .iter()
                    .map(|a| a.name())
                    .collect::<Vec<_>>()
                    .join(" + ")
            ),
        }
    }
}

/// The scores of one engine.
#[derive(Debug, Clone, Default)]
pub struct EngineReport {
    /// [`Engine::describe`].
    pub engine: String,
    /// Neighbours: mean nDCG@10.
    pub ndcg_at_10: f64,
    /// Neighbours: mean precision@10 (share of the top 10 sharing a keyword).
    pub precision_at_10: f64,
    /// Known item: share of queries whose paper is in the top 10.
    pub recall_at_10: f64,
    /// Known item: mean reciprocal rank within the top 10.
    pub mrr_at_10: f64,
    /// Documents indexed per second when building the neighbours index.
    pub build_docs_per_sec: f64,
    /// Median query time of the neighbours task, milliseconds.
    pub query_p50_ms: f64,
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
            Searcher::build(engine, &self.papers, true, &work_dir.join("with-titles"))?;
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
        let known = Searcher::build(engine, &self.papers, false, &work_dir.join("no-titles"))?;
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

/// nDCG of the gains found (in rank order) against the best possible order of all gains, both cut
/// at [`CUTOFF`]. Linear gains, log2 discount.
pub fn ndcg(found: &[u32], ideal_sorted: &[u32]) -> f64 {
    let dcg = |gains: &[u32]| -> f64 {
        gains
            .iter()
            .take(CUTOFF)
            .enumerate()
            .map(|(i, g)| f64::from(*g) / ((i + 2) as f64).log2())
            .sum()
    };
    let best = dcg(ideal_sorted);
    if best == 0.0 { 0.0 } else { dcg(found) / best }
}

/// 64-bit FNV-1a: a fixed, platform-independent order for drawing the sample.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A built index of the papers, answering with paper numbers.
enum Searcher {
    Product(Box<SearchIndex>, Ranking),
    Matching(Box<SearchIndex>),
    Bare {
        reader: IndexReader,
        fields: Vec<(Field, TextAnalyzer)>,
        paper: Field,
    },
}

impl Searcher {
    fn build(
        engine: &Engine,
        papers: &[Paper],
        with_titles: bool,
        dir: &Path,
    ) -> Result<Self, SearchError> {
        let title = |p: &Paper| {
            if with_titles {
                p.title.clone()
            } else {
                String::new()
            }
        };
        match engine {
            Engine::Product(_) | Engine::Matching => {
                let index = SearchIndex::open_or_create(dir)?;
                index.clear()?;
                for (chunk_no, chunk) in papers.chunks(1000).enumerate() {
                    let docs: Vec<ListingDoc> = chunk
                        .iter()
                        .enumerate()
                        .map(|(i, p)| paper_doc(chunk_no * 1000 + i, title(p), p))
                        .collect();
                    index.apply(&docs, &[])?;
                }
                index.commit(0)?;
                Ok(match engine {
                    Engine::Product(ranking) => Self::Product(Box::new(index), *ranking),
                    _ => Self::Matching(Box::new(index)),
                })
            }
            Engine::Bare(analyzers) => {
                let mut builder = Schema::builder();
                let fields: Vec<Field> = analyzers
                    .iter()
                    .enumerate()
                    .map(|(i, _)| {
                        builder.add_text_field(
                            &format!("text{i}"),
                            TextOptions::default().set_indexing_options(
                                TextFieldIndexing::default()
                                    .set_tokenizer(&format!("analyzer{i}"))
                                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
                            ),
                        )
                    })
                    .collect();
                let paper = builder.add_u64_field("paper", INDEXED | STORED);
                let index = Index::create_in_ram(builder.build());
                for (i, analyzer) in analyzers.iter().enumerate() {
                    index
                        .tokenizers()
                        .register(&format!("analyzer{i}"), analyzer.analyzer());
                }
                let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
                let mut writer = index.writer_with_num_threads(threads, 64 * 1024 * 1024)?;
                for (i, p) in papers.iter().enumerate() {
                    let text = format!("{}\n{}", title(p), p.abstract_text);
                    let mut doc = TantivyDocument::default();
                    for field in &fields {
                        doc.add_text(*field, &text);
                    }
                    doc.add_u64(paper, i as u64);
                    writer.add_document(doc)?;
                }
                writer.commit()?;
                let reader = index.reader()?;
                Ok(Self::Bare {
                    reader,
                    fields: fields
                        .into_iter()
                        .zip(analyzers.iter().map(|a| a.analyzer()))
                        .collect(),
                    paper,
                })
            }
        }
    }

    /// The top [`CUTOFF`] papers for a title (and, for matching, a body), leaving out paper `skip`.
    fn top(&self, text: &str, body: &str, skip: usize) -> Result<Vec<usize>, SearchError> {
        let mut found = match self {
            Self::Matching(index) => {
                let mut source = paper_doc(
                    usize::MAX,
                    text.to_owned(),
                    &Paper {
                        abstract_text: body.to_owned(),
                        ..Paper::default()
                    },
                );
                source.kind = "demand".into();
                index
                    .matches(&MatchRequest {
                        source,
                        target_kind: "result".into(),
                        preferred_stages: Vec::new(),
                        limit: CUTOFF + 1,
                    })?
                    .into_iter()
                    .filter_map(|h| h.id.parse::<usize>().ok())
                    .collect::<Vec<_>>()
            }
            Self::Product(index, ranking) => {
                let request = SearchRequest {
                    q: text.to_owned(),
                    kind: "result".into(),
                    limit: CUTOFF + 1,
                    ..SearchRequest::default()
                };
                index
                    .search_ranked(&request, ranking)?
                    .hits
                    .into_iter()
                    .filter_map(|h| h.id.parse::<usize>().ok())
                    .collect::<Vec<_>>()
            }
            Self::Bare {
                reader,
                fields,
                paper,
            } => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for (field, analyzer) in fields {
                    let mut analyzer = analyzer.clone();
                    let mut stream = analyzer.token_stream(text);
                    let mut terms = Vec::new();
                    while let Some(token) = stream.next() {
                        terms.push(token.text.clone());
                    }
                    terms.sort();
                    terms.dedup();
                    for term in terms {
                        clauses.push((
                            Occur::Should,
                            Box::new(TermQuery::new(
                                Term::from_field_text(*field, &term),
                                IndexRecordOption::WithFreqs,
                            )),
                        ));
                    }
                }
                let searcher = reader.searcher();
                let top = searcher.search(
                    &BooleanQuery::new(clauses),
                    &TopDocs::with_limit(CUTOFF + 1).order_by_score(),
                )?;
                let mut found = Vec::with_capacity(top.len());
                for (_, address) in top {
                    let doc: TantivyDocument = searcher.doc(address)?;
                    if let Some(n) = doc.get_first(*paper).and_then(|v| v.as_u64()) {
                        found.push(usize::try_from(n).unwrap_or(usize::MAX));
                    }
                }
                found
            }
        };
        found.retain(|d| *d != skip);
        found.truncate(CUTOFF);
        Ok(found)
    }
}

/// A paper as a published result: its number as id, no keywords, no owner details that could
/// help or hurt the ranking.
fn paper_doc(number: usize, title: String, paper: &Paper) -> ListingDoc {
    ListingDoc {
        kind: "result".into(),
        id: number.to_string(),
        title,
        summary: paper.abstract_text.clone(),
        details: String::new(),
        keywords: Vec::new(),
        org_id: "eval".into(),
        org_name: String::new(),
        org_kind: "university".into(),
        district: "610100".into(),
        zone: None,
        industries: Vec::new(),
        tech_field: "eval".into(),
        maturity_stage: None,
        published_at: 0,
        price_fen: None,
        trl: None,
    }
}

/// The engines `techmarket eval` compares: the baselines, the analyzer choices, and the product's
/// ranking with each of its choices turned off or changed in turn.
pub fn standard_engines() -> Vec<Engine> {
    let product = Ranking::default();
    let mut engines = vec![
        Engine::Bare(vec![BareAnalyzer::TantivyDefault]),
        Engine::Bare(vec![BareAnalyzer::Bigram]),
        Engine::Bare(vec![BareAnalyzer::JiebaPrecise]),
        Engine::Bare(vec![BareAnalyzer::JiebaSearchNoUserDict]),
        Engine::Bare(vec![BareAnalyzer::JiebaSearchNoHmm]),
        Engine::Bare(vec![BareAnalyzer::JiebaSearch]),
        Engine::Bare(vec![BareAnalyzer::JiebaSearch, BareAnalyzer::Bigram]),
        Engine::Product(product),
        Engine::Matching,
    ];
    for variant in [
        Ranking {
            synonyms: !product.synonyms,
            ..product
        },
        Ranking {
            title: 0.0,
            keywords: 0.0,
            org_name: 0.0,
            ..product
        },
        Ranking {
            title: 1.0,
            ..product
        },
        Ranking {
            title: 0.5,
            ..product
        },
        Ranking {
            bigram: 1.0,
            ..product
        },
        Ranking {
            bigram: 0.5,
            ..product
        },
        Ranking {
            bigram: 0.0,
            ..product
        },
        Ranking {
            proximity: 2.0,
            ..product
        },
        Ranking {
            title: 0.5,
            bigram: 1.0,
            ..product
        },
        Ranking {
            title: 0.0,
            bigram: 1.0,
            ..product
        },
        Ranking {
            title: 0.5,
            bigram: 2.0,
            ..product
        },
        // The common-word rule applies from 10,000 listings on; here it is forced on, to see
        // what it costs in quality where it matters for speed.
        Ranking {
            common_min_docs: 0,
            ..product
        },
        Ranking {
            common_min_docs: 0,
            common_share: 0.05,
            ..product
        },
    ] {
        if variant != product {
            engines.push(Engine::Product(variant));
        }
    }
    engines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paper(id: &str, title: &str, text: &str, keywords: &[&str]) -> Paper {
        Paper {
            id: id.into(),
            title: title.into(),
            abstract_text: text.into(),
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
        }
    }

    #[test]
    fn ndcg_is_one_for_the_ideal_order_and_less_otherwise() {
        assert!((ndcg(&[3, 2, 1], &[3, 2, 1]) - 1.0).abs() < 1e-12);
        assert!(ndcg(&[1, 2, 3], &[3, 2, 1]) < 1.0);
        assert_eq!(ndcg(&[0, 0], &[2]), 0.0);
        assert_eq!(ndcg(&[], &[]), 0.0);
        // One relevant document of gain 1 at rank 2: 1/log2(3).
        assert!((ndcg(&[0, 1], &[1]) - 1.0 / 3f64.log2()).abs() < 1e-12);
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
