//! The papers indexed for one engine: by the product's own index, or by a bare tantivy index with
//! the baseline's analyzers; either answers a query with paper numbers.

use std::path::Path;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, TantivyDocument, Term};

use super::CUTOFF;
use super::corpus::Paper;
use super::engines::Engine;
use crate::{ListingDoc, MatchRequest, Ranking, SearchError, SearchIndex, SearchRequest};

/// A built index of the papers, answering with paper numbers.
pub(super) enum PaperIndex {
    Product(Box<SearchIndex>, Ranking),
    Matching(Box<SearchIndex>),
    Bare {
        reader: IndexReader,
        fields: Vec<(Field, TextAnalyzer)>,
        paper: Field,
    },
}

impl PaperIndex {
    /// The papers indexed for `engine` in `dir`, with their titles or without.
    pub(super) fn build(
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
                    let text = format!(
                        "{}\n{}\n{}",
                        title(p),
                        p.shown_keywords.join("，"),
                        p.abstract_text
                    );
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
    pub(super) fn top(
        &self,
        text: &str,
        body: &str,
        skip: usize,
    ) -> Result<Vec<usize>, SearchError> {
        let mut found = match self {
            Self::Matching(index) => {
                // A paper of the index is matched as `/results/{id}/matches` matches a published
                // result: under its own id, so that it is left out and its words count it once.
                // Any other text (a judged demand, a known item's title) is a listing not in the
                // index.
                let mut source = paper_doc(
                    skip,
                    text.to_owned(),
                    &Paper {
                        abstract_text: body.to_owned(),
                        ..Paper::default()
                    },
                );
                if skip == usize::MAX {
                    source.kind = "demand".into();
                }
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

/// A paper as a published result: its number as id, only the keywords it shows, no owner details that could
/// help or hurt the ranking.
fn paper_doc(number: usize, title: String, paper: &Paper) -> ListingDoc {
    ListingDoc {
        kind: "result".into(),
        id: number.to_string(),
        title,
        summary: paper.abstract_text.clone(),
        details: String::new(),
        keywords: paper.shown_keywords.clone(),
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
        identifiers: Vec::new(),
    }
}
