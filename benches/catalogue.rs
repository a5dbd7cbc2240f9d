//! Catalogue benchmark: bulk-import rate and peak memory for generated results, and the latency of
//! the list and search endpoints over HTTP at that size (latency, and throughput with concurrent clients),
//! each beside a baseline measured in the same run.
//!
//! `cargo bench --bench catalogue` (100,000 rows on SQLite); `BENCH_ROWS=N` changes the size and
//! `BENCH_DATABASE_URL=postgres://…/DB` (an empty database) runs it on PostgreSQL.
//! `BENCH_KEEP=DIR` keeps the generated file, database and index in DIR; `BENCH_SERVER=URL` only
//! runs the throughput part against a server already running (on such a kept directory: to profile
//! it, or to compare two builds on the same data). It prints a Markdown report for BENCHMARKS.md.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ActiveValue::Set, Database, EntityTrait};
use search_index::eval::Paper;
use serde_json::{Value, json};
use techmarket::domain::{ListingStatus, OrgKind};
use techmarket::entity::{organizations, results};
use techmarket::eval::read_papers;

const DEMO: [&str; 2] = [
    include_str!("../seeds/demo/results_a.jsonl"),
    include_str!("../seeds/demo/results_b.jsonl"),
];

/// Concurrent clients of the throughput measurement.
const CLIENTS: usize = 32;

/// A small deterministic generator, so every run imports the same rows.
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

const INDUSTRIES: [&str; 18] = [
    "electronic_information",
    "automotive",
    "aerospace",
    "high_end_equipment",
    "new_materials_new_energy",
    "food_biomedicine",
    "artificial_intelligence",
    "five_g",
    "additive_manufacturing",
    "robotics",
    "big_data_cloud",
    "modern_finance",
    "modern_logistics",
    "rd_design",
    "testing_certification",
    "software_info_services",
    "conventions_exhibitions",
    "culture_tourism",
];
const FIELDS: [&str; 11] = [
    "electronic_information",
    "aerospace",
    "advanced_manufacturing",
    "biomedicine",
    "new_materials",
    "new_energy",
    "environmental_protection",
    "nuclear_applications",
    "agriculture",
    "modern_transport",
    "urban_social_development",
];
const STAGES: [&str; 5] = [
    "in_research",
    "has_sample",
    "lab_scale",
    "pilot_scale",
    "mass_production",
];

/// Paper records of a CSL-format file, read at run time: with `BENCH_CSL=path`, listings carry these
/// real texts instead of recombined demo texts, and the throughput run adds real keyword queries, a
/// different one on every request.
fn csl_papers() -> Vec<Paper> {
    let Ok(path) = std::env::var("BENCH_CSL") else {
        return Vec::new();
    };
    let mut papers = read_papers(Path::new(&path)).unwrap_or_else(|e| panic!("{e:#}"));
    papers.retain(|p| !p.title.is_empty());
    papers
}

/// Writes `rows` generated results (demo texts recombined, or paper texts) as JSON lines.
fn generate(path: &Path, rows: usize, papers: &[Paper]) -> std::io::Result<()> {
    let templates: Vec<Value> = DEMO
        .iter()
        .flat_map(|f| f.lines())
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("demo row"))
        .collect();
    let mut rng = Lcg(2026);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for i in 0..rows {
        let a = rng.pick(&templates);
        let b = rng.pick(&templates);
        let mut row = a.clone();
        row["external_id"] = json!(format!("gen-{i:07}"));
        row["title"] = json!(format!(
            "{}（第{}号）",
            a["title"].as_str().unwrap_or("成果"),
            i
        ));
        row["summary"] = json!(format!(
            "{}{}",
            a["summary"].as_str().unwrap_or_default(),
            b["summary"].as_str().unwrap_or_default()
        ));
        row["organization"] = b["organization"].clone();
        if !papers.is_empty() {
            // One paper's title and keywords with another's abstract, as in the search benchmark.
            let head = &papers[i % papers.len()];
            let (title, keywords) = (&head.title, &head.keywords);
            let body = &papers[(i / papers.len() * 7_919 + i) % papers.len()].abstract_text;
            // Within the listing rules: summary 10–2,000 characters, keywords up to 30.
            let summary: String = format!("{title}。{body}").chars().take(2000).collect();
            row["title"] = json!(title.chars().take(120).collect::<String>());
            row["summary"] = json!(if summary.chars().count() < 10 {
                format!("{summary}（论文摘要从略）")
            } else {
                summary
            });
            row["keywords"] = json!(
                keywords
                    .iter()
                    .filter(|k| k.chars().count() <= 30)
                    .take(10)
                    .collect::<Vec<_>>()
            );
        }
        row["industry_codes"] = json!(
            [rng.pick(&INDUSTRIES), rng.pick(&INDUSTRIES)]
                .into_iter()
                .collect::<std::collections::BTreeSet<_>>()
        );
        row["tech_field"] = json!(rng.pick(&FIELDS));
        row["maturity_stage"] = json!(rng.pick(&STAGES));
        row["trl"] = json!(1 + rng.next() % 9);
        writeln!(out, "{row}")?;
    }
    out.flush()
}

/// Samples a process's own memory (`RssAnon`: heap and stacks, not the pages of files it maps,
/// which the kernel can drop and read again) every 50 ms until it exits. Returns the peak, and the
/// last own and total resident sizes seen, in KiB.
fn sample_own_memory(pid: u32) -> std::thread::JoinHandle<(u64, u64, u64)> {
    std::thread::spawn(move || {
        let (mut peak, mut own, mut resident) = (0, 0, 0);
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            match (
                status_kib(&status, "RssAnon:"),
                status_kib(&status, "VmRSS:"),
            ) {
                (Some(anon), Some(rss)) => {
                    peak = peak.max(anon);
                    (own, resident) = (anon, rss);
                }
                _ => break,
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        (peak, own, resident)
    })
}

/// The value in KiB of the line `name` (e.g. `VmHWM:`) of a `/proc/PID/status` text.
fn status_kib(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Runs a command and samples its peak resident memory (VmHWM) until it exits.
fn run_measured(command: &mut Command) -> (std::process::Output, u64, Duration) {
    let started = Instant::now();
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let status_path = format!("/proc/{pid}/status");
    let sampler = std::thread::spawn(move || {
        let mut peak_kib = 0u64;
        while let Ok(status) = std::fs::read_to_string(&status_path) {
            if let Some(kib) = status_kib(&status, "VmHWM:") {
                peak_kib = peak_kib.max(kib);
            }
            if status.contains("State:\tZ") {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        peak_kib
    });
    let output = child.wait_with_output().expect("wait");
    let elapsed = started.elapsed();
    (output, sampler.join().unwrap_or(0), elapsed)
}

/// `count` draws from `queries` by Zipf's law with exponent 1 (the `r`-th most asked query is asked
/// in proportion to 1/r), the shape of real search logs; the ranks are the queries' order in a fixed
/// shuffle, so popularity has nothing to do with the text.
fn zipf_sample(queries: &[String], count: usize) -> Vec<String> {
    let mut rng = Lcg(7);
    let mut ranked: Vec<&String> = queries.iter().collect();
    for i in (1..ranked.len()).rev() {
        ranked.swap(i, (rng.next() as usize) % (i + 1));
    }
    let mut cumulative = Vec::with_capacity(ranked.len());
    let mut sum = 0.0;
    for rank in 1..=ranked.len() {
        sum += 1.0 / rank as f64;
        cumulative.push(sum);
    }
    (0..count)
        .map(|_| {
            let u = (rng.next() as f64 / (1u64 << 31) as f64) * sum;
            let at = cumulative.partition_point(|&c| c < u);
            ranked[at.min(ranked.len() - 1)].clone()
        })
        .collect()
}

/// Throughput of the server at `address`: [`CLIENTS`] concurrent keep-alive clients for 10 s per
/// run, rotating over each run's requests. Returns each run's name, requests per second and number
/// of different requests asked.
async fn throughput_runs(address: &str, papers: &[Paper]) -> Vec<(&'static str, f64, usize)> {
    let searches: Vec<String> = [
        "机器视觉%20缺陷检测",
        "新能源电池",
        "人工智能",
        "检测",
        "激光",
        "智能制造%20机器人",
        "材料",
        "无人机",
    ]
    .iter()
    .map(|q| format!("{address}/api/v1/search?q={q}"))
    .collect();
    let mut throughput = Vec::new();
    // The server keeps answers until the next commit; a number no listing contains makes every
    // request of the last run different (same work, nothing answered from memory).
    let uncached: Vec<String> = searches.iter().map(|url| format!("{url}%20")).collect();
    // With paper texts, real keyword queries too: 50,000 different ones, none asked twice.
    let mut real_queries = Vec::new();
    for (i, paper) in papers.iter().enumerate() {
        let q = match paper.keywords.as_slice() {
            [] => continue,
            [one] => one.clone(),
            [first, second, ..] if i % 2 == 0 => format!("{first} {second}"),
            [first, ..] => first.clone(),
        };
        if let Ok(url) =
            reqwest::Url::parse_with_params(&format!("{address}/api/v1/search"), &[("q", q)])
        {
            real_queries.push(url.to_string());
        }
    }
    real_queries.sort();
    real_queries.dedup();
    let mut runs = vec![
        (
            "baseline: GET /healthz",
            vec![format!("{address}/healthz")],
            false,
        ),
        (
            "GET /api/v1/search (8 queries in turn; answers kept until the next commit)",
            searches,
            false,
        ),
        (
            "GET /api/v1/search (the same, every request different: nothing kept)",
            uncached,
            true,
        ),
    ];
    if !real_queries.is_empty() {
        runs.push((
            "GET /api/v1/search (the papers' keyword queries drawn by Zipf's law, s = 1, as from a query log; answers kept until the next commit)",
            zipf_sample(&real_queries, 400_000),
            false,
        ));
        runs.push((
            "GET /api/v1/search (papers' own keywords, a different query on every request)",
            real_queries,
            false,
        ));
    }
    for (name, urls, unique) in runs {
        let deadline = Instant::now() + Duration::from_secs(10);
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|n| {
                let client = reqwest::Client::new();
                let urls = urls.clone();
                tokio::spawn(async move {
                    let mut done = 0u64;
                    let mut i = n;
                    while Instant::now() < deadline {
                        let url = if unique {
                            format!("{}{}", urls[i % urls.len()], 90_000_000 + i)
                        } else {
                            urls[i % urls.len()].clone()
                        };
                        i += CLIENTS;
                        if let Ok(response) = client.get(&url).send().await
                            && response.status().is_success()
                            && response.bytes().await.is_ok()
                        {
                            done += 1;
                        }
                    }
                    done
                })
            })
            .collect();
        let mut done = 0;
        for task in tasks {
            done += task.await.unwrap_or(0);
        }
        // The requests went out in the order of `urls` (client n took n, n + CLIENTS, …).
        let asked = if unique {
            done as usize
        } else {
            let mut seen: Vec<&String> = urls.iter().take(done as usize).collect();
            seen.sort();
            seen.dedup();
            seen.len()
        };
        throughput.push((name, done as f64 / 10.0, asked));
    }
    throughput
}

fn print_throughput(throughput: &[(&str, f64, usize)]) {
    println!(
        "\n| throughput over HTTP ({CLIENTS} concurrent clients, 10 s, same machine) | requests/s | different requests |\n| --- | --- | --- |"
    );
    for (name, rate, asked) in throughput {
        println!("| {name} | {rate:.0} | {asked} |");
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` also runs benchmarks without `--bench`: compile-check only then.
    if !std::env::args().any(|a| a == "--bench") {
        println!("catalogue benchmark: run it with `cargo bench --bench catalogue`");
        return;
    }
    // `BENCH_SERVER=URL`: only the throughput runs, against a server already running (for
    // profiling it, or comparing two builds on the same data).
    if let Ok(address) = std::env::var("BENCH_SERVER") {
        print_throughput(&throughput_runs(&address, &csl_papers()).await);
        return;
    }
    let rows: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let tmp = tempfile::tempdir().expect("tmp");
    // `BENCH_KEEP=DIR` keeps the database and index in DIR afterwards, for profiling a server on them.
    let work_dir = std::env::var_os("BENCH_KEEP").map_or_else(|| tmp.path().to_owned(), Into::into);
    std::fs::create_dir_all(&work_dir).expect("BENCH_KEEP directory");
    let data_dir = work_dir.join("data");
    let database_url = std::env::var("BENCH_DATABASE_URL").ok();
    let backend = if database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let file = work_dir.join("results.jsonl");
    let papers = csl_papers();
    generate(&file, rows, &papers).expect("generate");
    let megabytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    let binary = env!("CARGO_BIN_EXE_techmarket");
    let with_db = |command: &mut Command| {
        command
            .arg("--data-dir")
            .arg(&data_dir)
            .env("RUST_LOG", "warn");
        if let Some(url) = &database_url {
            command.arg("--database-url").arg(url);
        }
    };

    // Migrate first, so that the import measures rows only.
    let mut migrate = Command::new(binary);
    migrate.arg("migrate");
    with_db(&mut migrate);
    assert!(migrate.output().expect("migrate").status.success());

    let mut import = Command::new(binary);
    import
        .args(["import", "results"])
        .arg(&file)
        .arg("--publish");
    with_db(&mut import);
    let (output, peak_kib, elapsed) = run_measured(&mut import);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "import failed: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let import_rate = rows as f64 / elapsed.as_secs_f64();

    // Baseline: the same number of rows written with bare batched INSERTs (no parsing, checks,
    // industry rows, history or outbox), into a fresh SQLite file.
    let baseline_dir = tempfile::tempdir().expect("tmp");
    let baseline_url = format!(
        "sqlite://{}?mode=rwc",
        baseline_dir.path().join("b.db").display()
    );
    let mut baseline_migrate = Command::new(binary);
    baseline_migrate
        .arg("migrate")
        .arg("--database-url")
        .arg(&baseline_url)
        .arg("--data-dir")
        .arg(baseline_dir.path());
    assert!(baseline_migrate.output().expect("migrate").status.success());
    let db = Database::connect(&baseline_url).await.expect("connect");
    let org = uuid::Uuid::now_v7();
    let now = chrono::Utc::now();
    organizations::Entity::insert(organizations::ActiveModel {
        id: Set(org),
        name: Set("基线大学".into()),
        name_key: Set("基线大学".into()),
        kind: Set(OrgKind::University),
        region_code: Set("610113".into()),
        nature_code: Set(None),
        zone: Set(None),
        created_at: Set(now),
    })
    .exec_without_returning(&db)
    .await
    .expect("baseline organization");
    let started = Instant::now();
    for chunk in (0..rows).collect::<Vec<_>>().chunks(500) {
        let models = chunk.iter().map(|i| results::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            organization_id: Set(org),
            created_by: Set(None),
            external_id: Set(Some(format!("b-{i}"))),
            title: Set(format!("基线成果{i}")),
            summary: Set("基线成果简介，用于对照导入速度。".repeat(4)),
            details: Set(None),
            keywords: Set(json!(["基线"])),
            industry_codes: Set(json!(["robotics"])),
            tech_field: Set("aerospace".into()),
            trl: Set(Some(5)),
            maturity_stage: Set("pilot_scale".into()),
            cooperation_modes: Set(json!(["licence"])),
            ip: Set(json!([])),
            price_fen: Set(None),
            confidential_details: Set(None),
            contact: Set(None),
            status: Set(ListingStatus::Published),
            rejection_reason: Set(None),
            published_at: Set(Some(now)),
            created_at: Set(now),
            updated_at: Set(now),
            revision: Set(1),
            submitted_revision: Set(1),
        });
        results::Entity::insert_many(models)
            .exec_without_returning(&db)
            .await
            .expect("baseline insert");
    }
    let baseline_rate = rows as f64 / started.elapsed().as_secs_f64();

    // The list endpoint over HTTP at this size.
    let mut serve = Command::new(binary);
    serve.args(["serve", "--listen", "127.0.0.1:0", "--no-demo"]);
    // The load comes from one address: the per-client search limit would measure itself.
    serve.env("TECHMARKET_SEARCH_RATE_PER_SECOND", "0");
    with_db(&mut serve);
    let mut server = serve.stdout(Stdio::piped()).spawn().expect("serve");
    let own_memory = sample_own_memory(server.id());
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let address = loop {
        let line = lines.next().expect("server output").expect("line");
        if let Some(address) = line.strip_prefix("listening on ") {
            break address.to_owned();
        }
    };
    let client = reqwest::Client::new();
    // A new index is built from the database first; measure once the node says it is ready.
    let building = Instant::now();
    while !client
        .get(format!("{address}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let index_build = building.elapsed();
    let queries = [
        (
            "first page, 20 newest (baseline: /healthz)",
            "/api/v1/results?per_page=20",
        ),
        (
            "industry filter",
            "/api/v1/results?industry=artificial_intelligence",
        ),
        (
            "技术领域 + maturity filter",
            "/api/v1/results?tech_field=new_energy&maturity_stage=pilot_scale",
        ),
        (
            "district filter, page 50",
            "/api/v1/results?district=610113&page=50",
        ),
        ("catalogue counts", "/api/v1/catalogue"),
        (
            "search: 机器视觉 缺陷检测",
            "/api/v1/search?q=机器视觉%20缺陷检测",
        ),
        (
            "search: 新能源电池, newest",
            "/api/v1/search?q=新能源电池&sort=newest",
        ),
        (
            "search: 人工智能 + industry filter",
            "/api/v1/search?q=人工智能&industry=robotics",
        ),
        ("search: no text (browse)", "/api/v1/search?kind=result"),
        ("search: demands, 检测", "/api/v1/search?q=检测&kind=demand"),
        (
            "search: 机器视觉 缺陷检测, repeated (answer kept until the next commit)",
            "/api/v1/search?q=机器视觉%20缺陷检测&repeat",
        ),
    ];
    let mut table = Vec::new();
    for (name, path) in std::iter::once(("baseline: GET /healthz", "/healthz")).chain(queries) {
        // `&repeat` marks a query to send unchanged; it is not a parameter of the API (which
        // refuses unknown ones), so it is not sent.
        let unique = path.contains("q=") && !path.ends_with("&repeat");
        let url = format!("{address}{}", path.trim_end_matches("&repeat"));
        for _ in 0..20 {
            client.get(&url).send().await.expect("warm up");
        }
        let mut samples = Vec::new();
        let iterations = if path.contains("catalogue") { 100 } else { 400 };
        // Searches with text are made different each time (a number no listing contains), so
        // that none is answered from memory; the "repeated" one is the same every time.
        for i in 0..iterations {
            let url = if unique {
                url.replacen("q=", &format!("q={}%20", 80_000_000 + i), 1)
            } else {
                url.clone()
            };
            let started = Instant::now();
            let response = client.get(&url).send().await.expect("request");
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            response.bytes().await.expect("body");
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        samples.sort_by(|a, b| a.total_cmp(b));
        table.push((name, percentile(&samples, 0.5), percentile(&samples, 0.99)));
    }
    let throughput = throughput_runs(&address, &papers).await;
    let server_peak_mib = std::fs::read_to_string(format!("/proc/{}/status", server.id()))
        .ok()
        .and_then(|s| status_kib(&s, "VmHWM:"))
        .map_or(0.0, |kib| kib as f64 / 1024.0);
    let _ = server.kill();
    let _ = server.wait();
    let (own_peak_kib, own_end_kib, resident_end_kib) = own_memory.join().unwrap_or_default();

    println!(
        "## Catalogue ({backend}, {rows} generated results with {} texts, {megabytes:.0} MB of JSON lines)\n",
        if papers.is_empty() { "demo" } else { "paper" }
    );
    println!("| measure | value |\n| --- | --- |");
    println!(
        "| `techmarket import results --publish` (parse, check, organizations, industry rows, history, outbox) | {import_rate:.0} rows/s ({:.1} s) |",
        elapsed.as_secs_f64()
    );
    println!(
        "| baseline: bare batched INSERT of the same number of rows (SQLite) | {baseline_rate:.0} rows/s |"
    );
    println!(
        "| peak resident memory of the import process | {:.0} MiB |",
        peak_kib as f64 / 1024.0
    );
    println!(
        "| search index built from the database on first start (until /readyz) | {:.1} s |",
        index_build.as_secs_f64()
    );
    println!("\n| GET over HTTP (one client, keep-alive) | p50 ms | p99 ms |\n| --- | --- | --- |");
    for (name, p50, p99) in table {
        println!("| {name} | {p50:.2} | {p99:.2} |");
    }
    print_throughput(&throughput);
    println!(
        "\npeak resident memory of the server: {server_peak_mib:.0} MiB; its own memory (RssAnon, without the index and database files it maps) peaked at {:.0} MiB; at the end {:.0} MiB own, {:.0} MiB resident in all",
        own_peak_kib as f64 / 1024.0,
        own_end_kib as f64 / 1024.0,
        resident_end_kib as f64 / 1024.0
    );
    println!(
        "\nimport said: {}",
        stdout.lines().next().unwrap_or_default()
    );
}
