//! Search benchmark, in process: index build rate, search and matching latency, peak memory, each
//! beside a bare BM25 baseline (one jieba field, top 10, nothing else) measured in the same run.
//!
//! `cargo bench -p search-index --bench search`. The texts are the CSL paper records of
//! `../shared/data/csl/csl_docs.jsonl` (read at run time, never copied into the product):
//! `BENCH_DOCS=22874` indexes each record once; larger sizes recombine titles and abstracts.
//! `BENCH_DOCS` takes a comma-separated list (default `22874,100000`); `BENCH_CORPUS` another path.
//! Queries are 1–2 of the records' own keywords ("机器视觉 缺陷检测"), as users type them.
//! `BENCH_INDEX=DIR` instead times the same queries on an existing index (for instance a server's,
//! kept by `BENCH_KEEP` of the catalogue benchmark): the quick way to compare two builds
//! (`BENCH_SORT=newest` times newest-first searches instead of relevance).
//! It prints a Markdown report for BENCHMARKS.md.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use search_index::{ListingDoc, MatchRequest, SearchIndex, SearchRequest, Sort, analyzers};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::{Index, Term};

/// The allocator of the `techmarket` binary, so that figures match the product.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Timed queries per measurement.
const QUERIES: usize = 1000;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() as usize) % items.len()]
    }
}

struct Record {
    title: String,
    text: String,
    keywords: Vec<String>,
}

const INDUSTRIES: [(&str, &str); 8] = [
    ("artificial_intelligence", "emerging"),
    ("robotics", "emerging"),
    ("electronic_information", "pillar"),
    ("aerospace", "pillar"),
    ("new_materials_new_energy", "pillar"),
    ("food_biomedicine", "pillar"),
    ("big_data_cloud", "emerging"),
    ("additive_manufacturing", "emerging"),
];
const FIELDS: [&str; 6] = [
    "electronic_information",
    "aerospace",
    "advanced_manufacturing",
    "biomedicine",
    "new_materials",
    "agriculture",
];
const STAGES: [&str; 5] = [
    "in_research",
    "has_sample",
    "lab_scale",
    "pilot_scale",
    "mass_production",
];
const DISTRICTS: [&str; 5] = ["610102", "610103", "610113", "610116", "610104"];

fn corpus_path() -> PathBuf {
    std::env::var_os("BENCH_CORPUS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/csl/csl_docs.jsonl"),
        PathBuf::from,
    )
}

fn read_records() -> Vec<Record> {
    let path = corpus_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            let (title, abstract_text) = (s("title"), s("abstract"));
            let title = if title.is_empty() {
                abstract_text.chars().take(20).collect()
            } else {
                title
            };
            let text = if abstract_text.is_empty() {
                title.clone()
            } else {
                abstract_text
            };
            let keywords = v["keywords"]
                .as_array()
                .map(|k| {
                    k.iter()
                        .filter_map(|w| w.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            Record {
                title,
                text,
                keywords,
            }
        })
        .collect()
}

/// Listing `i` of a generated catalogue: record `i` itself while there are records, then a title
/// of one record with the abstract of another.
fn listing(i: usize, records: &[Record], rng: &mut Lcg) -> ListingDoc {
    let n = records.len();
    let (head, body) = if i < n {
        (&records[i], &records[i])
    } else {
        (&records[i % n], &records[(i / n * 7_919 + i) % n])
    };
    let mut industries = vec![*rng.pick(&INDUSTRIES)];
    if rng.next().is_multiple_of(4) {
        industries.push(*rng.pick(&INDUSTRIES));
        industries.dedup();
    }
    ListingDoc {
        kind: if rng.next().is_multiple_of(5) {
            "demand"
        } else {
            "result"
        }
        .into(),
        id: format!("{i:08}"),
        title: head.title.clone(),
        summary: body.text.clone(),
        details: String::new(),
        keywords: head.keywords.clone(),
        org_id: format!("org-{}", rng.next() % 50),
        org_name: format!("西安第{}研究院", rng.next() % 50),
        org_kind: "university".into(),
        district: rng.pick(&DISTRICTS).to_string(),
        zone: None,
        industries: industries
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect(),
        tech_field: rng.pick(&FIELDS).to_string(),
        maturity_stage: Some(rng.pick(&STAGES).to_string()),
        published_at: 1_700_000_000_000 + i as i64 * 1000,
        price_fen: (!rng.next().is_multiple_of(3)).then(|| (rng.next() % 100_000) as i64 * 10_000),
        trl: Some(rng.next() % 9 + 1),
        identifiers: Vec::new(),
    }
}

/// Distinct queries, so that no timed search finds its counts cached by an earlier one.
fn queries(records: &[Record], n: usize) -> Vec<String> {
    let mut rng = Lcg(7);
    let with_keywords: Vec<&Record> = records.iter().filter(|r| r.keywords.len() >= 2).collect();
    let mut seen = std::collections::HashSet::new();
    let mut queries = Vec::with_capacity(n);
    while queries.len() < n && seen.len() < with_keywords.len() * 4 {
        let r = rng.pick(&with_keywords);
        let q = if queries.len() % 2 == 0 {
            r.keywords[0].clone()
        } else {
            format!("{} {}", r.keywords[0], r.keywords[1])
        };
        if seen.insert(q.clone()) {
            queries.push(q);
        }
    }
    queries
}

/// A memory figure of this process from `/proc/self/status`, in MiB.
fn status_mib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

fn percentiles(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let at = |q: f64| {
        let i = ((times.len() as f64 - 1.0) * q).round() as usize;
        times.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    (at(0.5), at(0.99))
}

/// Runs `run(0..n)` timed, after `run(n..n + 200)` untimed to warm up.
fn time_each(n: usize, mut run: impl FnMut(usize)) -> (f64, f64) {
    for i in n..n + 200 {
        run(i);
    }
    let times = (0..n)
        .map(|i| {
            let started = Instant::now();
            run(i);
            started.elapsed()
        })
        .collect();
    percentiles(times)
}

/// Plain BM25 over one jieba field: the reference for what the product adds.
struct Bare {
    index: Index,
    field: tantivy::schema::Field,
}

impl Bare {
    fn build(docs: impl Iterator<Item = ListingDoc>) -> (Self, f64) {
        let mut builder = Schema::builder();
        let field = builder.add_text_field(
            "text",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(analyzers::CHINESE_SEARCH)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            ),
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let index = Index::create_in_dir(dir.path(), builder.build()).expect("bare index");
        std::mem::forget(dir);
        analyzers::register_analyzers(index.tokenizers());
        let started = Instant::now();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let mut writer = index
            .writer_with_num_threads(threads, 64 * 1024 * 1024)
            .expect("writer");
        let mut count = 0;
        for doc in docs {
            let mut d = tantivy::TantivyDocument::default();
            d.add_text(field, format!("{}\n{}", doc.title, doc.body()));
            writer.add_document(d).expect("add");
            count += 1;
        }
        writer.commit().expect("commit");
        let rate = f64::from(count) / started.elapsed().as_secs_f64();
        (Self { index, field }, rate)
    }

    fn top10(&self, searcher: &tantivy::Searcher, text: &str) -> usize {
        let words = analyzers::tokenize(analyzers::CHINESE_SEARCH, text).unwrap_or_default();
        let clauses: Vec<(Occur, Box<dyn Query>)> = words
            .iter()
            .map(|w| {
                (
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(self.field, w),
                        IndexRecordOption::WithFreqs,
                    )) as Box<dyn Query>,
                )
            })
            .collect();
        searcher
            .search(
                &BooleanQuery::new(clauses),
                &TopDocs::with_limit(10).order_by_score(),
            )
            .map_or(0, |top| top.len())
    }
}

/// The generated catalogue, produced lazily (a million listings would not fit comfortably).
fn catalogue(size: usize, records: &[Record]) -> impl Iterator<Item = ListingDoc> + '_ {
    let mut rng = Lcg(size as u64);
    (0..size).map(move |i| listing(i, records, &mut rng))
}

fn run(size: usize, records: &[Record], queries: &[String]) {
    // The kernel keeps the peak of all resident memory (`VmHWM`), which includes index files
    // mapped from disk; the peak of the process's own memory is sampled here.
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        std::thread::spawn(move || {
            let mut peak: f64 = 0.0;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(status_mib("RssAnon:"));
                std::thread::sleep(Duration::from_millis(50));
            }
            peak
        })
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let index = SearchIndex::open_or_create(&dir.path().join("index")).expect("open");
    let started = Instant::now();
    index.begin_bulk().expect("bulk");
    let mut sources = Vec::new();
    let mut chunk = Vec::with_capacity(1000);
    for (i, doc) in catalogue(size, records).enumerate() {
        if i % (size / 200).max(1) == 0 {
            sources.push(doc.clone());
        }
        chunk.push(doc);
        if chunk.len() == 1000 {
            index.add_new(&chunk).expect("add");
            chunk.clear();
        }
    }
    index.add_new(&chunk).expect("add");
    index.commit(1).expect("commit");
    let build_secs = started.elapsed().as_secs_f64();
    let segments_before = index.num_segments();
    let merging = Instant::now();
    index.finish_bulk(1).expect("merge");
    let merge_secs = merging.elapsed().as_secs_f64();
    let mb = |bytes: u64| bytes as f64 / 1024.0 / 1024.0;
    let index_size: u64 = std::fs::read_dir(dir.path().join("index"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);

    let search = |q: &str, sort: Sort, kind: &str| {
        let request = SearchRequest {
            q: q.to_owned(),
            kind: kind.to_owned(),
            sort,
            limit: 20,
            ..SearchRequest::default()
        };
        index.search(&request).expect("search").total
    };
    // Each measurement has its own queries: a repeated search finds its counts cached.
    let slice = |m: usize, i: usize| &queries[(m * (QUERIES + 200) + i) % queries.len()];
    let relevance = time_each(QUERIES, |i| {
        search(slice(0, i), Sort::Relevance, "result");
    });
    let repeated = time_each(QUERIES, |i| {
        search(slice(0, i % 100), Sort::Relevance, "result");
    });
    let newest = time_each(QUERIES, |i| {
        search(slice(1, i), Sort::Newest, "result");
    });
    let filtered = time_each(QUERIES, |i| {
        let request = SearchRequest {
            q: slice(2, i).clone(),
            kind: "result".into(),
            industry: Some("artificial_intelligence".into()),
            limit: 20,
            ..SearchRequest::default()
        };
        index.search(&request).expect("search");
    });
    let browse = time_each(QUERIES, |_| {
        search("", Sort::Newest, "result");
    });
    let matching = time_each(QUERIES / 2, |i| {
        let source = &sources[i % sources.len()];
        index
            .matches(&MatchRequest {
                source: source.clone(),
                target_kind: if source.kind == "result" {
                    "demand"
                } else {
                    "result"
                }
                .into(),
                preferred_stages: vec!["pilot_scale".into()],
                limit: 20,
            })
            .expect("matches");
    });
    let totals: usize = queries
        .iter()
        .take(50)
        .map(|q| search(q, Sort::Relevance, "result"))
        .sum();
    let rss_product = peak_rss_mib();
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let anon_peak = sampler.join().unwrap_or(0.0);
    // Resident now, split into the process's own memory and the index files mapped from disk
    // (page cache, which the kernel reclaims under pressure).
    let (rss_now, rss_anon, rss_file) = (
        status_mib("VmRSS:"),
        status_mib("RssAnon:"),
        status_mib("RssFile:"),
    );

    let (bare, bare_rate) = Bare::build(catalogue(size, records));
    let reader = bare.index.reader().expect("reader");
    let searcher = reader.searcher();
    let bare_times = time_each(QUERIES, |i| {
        bare.top10(&searcher, slice(0, i));
    });

    println!("\n### {size} listings\n");
    println!(
        "Index: built in {build_secs:.1} s = **{:.0} listings/s** (bare BM25 baseline, one jieba field: {bare_rate:.0}/s), then {segments_before} segments merged into {} (one per core) in {merge_secs:.1} s ({:.0} listings/s in all); {:.0} MiB on disk; peak RSS of the process after build and queries {rss_product:.0} MiB, of which at most {anon_peak:.0} MiB its own memory (the rest index files mapped from disk); resident after the queries {rss_now:.0} MiB = {rss_anon:.0} MiB own memory + {rss_file:.0} MiB of mapped index files. Mean hits per query: {}.\n",
        size as f64 / build_secs,
        index.num_segments(),
        size as f64 / (build_secs + merge_secs),
        mb(index_size),
        totals / 50
    );
    println!("| in process | p50 ms | p99 ms |");
    println!("| --- | --- | --- |");
    for (name, (p50, p99)) in [
        ("baseline: bare BM25 top 10", bare_times),
        (
            "search, relevance, 20 hits + 3 facets + snippets",
            relevance,
        ),
        (
            "the same, a repeated query (answer kept until the next commit)",
            repeated,
        ),
        ("search, newest first", newest),
        ("search with industry filter", filtered),
        ("browse (no text), newest first", browse),
        ("matching (listing → other side), top 20", matching),
    ] {
        println!("| {name} | {p50:.2} | {p99:.2} |");
    }
}

/// Times distinct searches (20 hits, facets, snippets) on the index in `dir`, in rounds
/// of different queries so that the caches never answer, and prints p50 / p99 / mean per round.
fn on_existing(dir: &std::path::Path, queries: &[String]) {
    let index = SearchIndex::open_or_create(dir).expect("open the index");
    let sort = match std::env::var("BENCH_SORT").as_deref() {
        Ok("newest") => Sort::Newest,
        _ => Sort::Relevance,
    };
    println!(
        "{} listings in {}, {sort:?}",
        index.num_docs(),
        dir.display()
    );
    let rounds = queries.len() / (QUERIES + 200);
    for round in 0..rounds {
        let started = Instant::now();
        let mut total = 0;
        let times = time_each(QUERIES, |i| {
            let request = SearchRequest {
                q: queries[round * (QUERIES + 200) + i].clone(),
                kind: "result".into(),
                sort,
                limit: 20,
                ..SearchRequest::default()
            };
            total += index.search(&request).expect("search").total;
        });
        let mean = started.elapsed().as_secs_f64() * 1e3 / (QUERIES + 200) as f64;
        println!(
            "round {round}: p50 {:.3} ms, p99 {:.3} ms, mean {mean:.3} ms, mean hits {}",
            times.0,
            times.1,
            total / (QUERIES + 200)
        );
    }
}

fn main() {
    // `cargo test` runs benches too (with `--benches`); only measure under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let records = read_records();
    let queries = queries(&records, 4 * (QUERIES + 200));
    analyzers::warm_up();
    if let Some(dir) = std::env::var_os("BENCH_INDEX") {
        on_existing(&PathBuf::from(dir), &queries);
        return;
    }
    let sizes = std::env::var("BENCH_DOCS").unwrap_or_else(|_| "22874,100000".into());
    println!(
        "{} CSL records, {} queries, {} cores",
        records.len(),
        queries.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for size in sizes.split(',').filter_map(|s| s.trim().parse().ok()) {
        run(size, &records, &queries);
    }
}
