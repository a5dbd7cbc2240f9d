//! Mixed load over loopback: 80% searches, 20% writes (drafts of results by a researcher and
//! contract submissions by a broker), sent open-loop at a fixed rate so that a slow server cannot
//! slow the load down. Latency is measured from the moment each request was due, not from when it
//! was sent, so queueing shows.
//!
//! `cargo bench --bench load`: a ramp of 20-second steps to find where p99 crosses 100 ms, then
//! the sustained run at `LOAD_RATE` requests/s (default 1000) for `LOAD_SECS` seconds (default 300).
//! The server is the release binary on SQLite with the demo data, its search limit off.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Mutex;

const WORDS: [&str; 40] = [
    "机器视觉",
    "缺陷检测",
    "锂电池",
    "储能",
    "氢能",
    "燃料电池",
    "碳化硅",
    "功率器件",
    "集成电路",
    "芯片",
    "人工智能",
    "深度学习",
    "无人机",
    "卫星",
    "航空发动机",
    "叶片",
    "增材制造",
    "3D打印",
    "机器人",
    "数控机床",
    "新材料",
    "复合材料",
    "钛合金",
    "医疗器械",
    "疫苗",
    "中药",
    "农业",
    "节水灌溉",
    "污水处理",
    "光伏",
    "风电",
    "智能电网",
    "5G",
    "物联网",
    "大数据",
    "区块链",
    "自动驾驶",
    "新能源汽车",
    "传感器",
    "激光",
];

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[(((sorted.len() - 1) as f64) * p).round() as usize]
}

struct Outcome {
    search: Vec<f64>,
    write: Vec<f64>,
    errors: u64,
    sent: u64,
}

async fn login(client: &reqwest::Client, address: &str, role: &str) -> String {
    let answer: Value = client
        .post(format!("{address}/api/v1/auth/login"))
        .json(&json!({"email": format!("{role}@demo.techmarket.cn"), "password": format!("demo-{role}-2026")}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    answer["token"].as_str().expect("token").to_owned()
}

/// Sends `rate` requests a second for `secs` seconds; returns the latencies in ms.
async fn run(
    client: &reqwest::Client,
    address: &str,
    tokens: &(String, String),
    rate: u64,
    secs: u64,
) -> Outcome {
    let outcome = Arc::new(Mutex::new(Outcome {
        search: Vec::new(),
        write: Vec::new(),
        errors: 0,
        sent: 0,
    }));
    let started = Instant::now();
    let total = rate * secs;
    let mut handles = Vec::with_capacity(total as usize);
    for n in 0..total {
        let due = started + Duration::from_nanos(n * 1_000_000_000 / rate);
        tokio::time::sleep_until(due.into()).await;
        let (client, address, outcome) = (client.clone(), address.to_owned(), outcome.clone());
        let (researcher, broker) = tokens.clone();
        handles.push(tokio::spawn(async move {
            let kind = n % 10;
            let request = match kind {
                0 => client
                    .post(format!("{address}/api/v1/results"))
                    .bearer_auth(&researcher)
                    .json(&json!({
                        "title": format!("负载测试草稿成果{n}"),
                        "summary": "负载测试写入的草稿，不发布。",
                        "keywords": ["负载测试"],
                        "industry_codes": ["robotics"],
                        "tech_field": "advanced_manufacturing",
                        "maturity_stage": "pilot_scale",
                        "cooperation_modes": ["licence"]
                    })),
                1 => client
                    .post(format!("{address}/api/v1/contracts"))
                    .bearer_auth(&broker)
                    .json(&json!({
                        "project_name": format!("负载测试合同{n}"),
                        "contract_type": "service", "sub_type": "technical_training",
                        "seller": {"name": "西安某大学", "nature_code": "022", "region_code": "610113"},
                        "buyer": {"name": "陕西某企业", "nature_code": "150", "region_code": "610116"},
                        "signed_on": "2026-01-05", "valid_from": "2026-01-05", "valid_to": "2026-12-31",
                        "total_amount_fen": 100_000 + n, "non_technical_fen": 0,
                        "tech_field": "advanced_manufacturing", "industry_codes": [], "ip_types": []
                    })),
                _ => {
                    let a = WORDS[(n as usize * 7) % WORDS.len()];
                    let b = WORDS[(n as usize * 13 + 5) % WORDS.len()];
                    let page = 1 + n % 3;
                    client
                        .get(format!("{address}/api/v1/search"))
                        .query(&[("q", format!("{a} {b}")), ("page", page.to_string())])
                }
            };
            let ok = match request.send().await {
                Ok(response) => {
                    let ok = response.status().is_success();
                    let _ = response.bytes().await;
                    ok
                }
                Err(_) => false,
            };
            let ms = due.elapsed().as_secs_f64() * 1000.0;
            let mut outcome = outcome.lock().await;
            outcome.sent += 1;
            if !ok {
                outcome.errors += 1;
            }
            if kind <= 1 {
                outcome.write.push(ms);
            } else {
                outcome.search.push(ms);
            }
        }));
    }
    for handle in handles {
        let _ = handle.await;
    }
    let mut outcome = Arc::try_unwrap(outcome)
        .ok()
        .expect("all requests done")
        .into_inner();
    outcome.search.sort_by(f64::total_cmp);
    outcome.write.sort_by(f64::total_cmp);
    outcome
}

fn all(outcome: &Outcome) -> Vec<f64> {
    let mut all: Vec<f64> = outcome
        .search
        .iter()
        .chain(&outcome.write)
        .copied()
        .collect();
    all.sort_by(f64::total_cmp);
    all
}

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("load benchmark: run it with `cargo bench --bench load`");
        return;
    }
    let rate: u64 = std::env::var("LOAD_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let secs: u64 = std::env::var("LOAD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let data = tempfile::tempdir().expect("tmp");
    let mut server = Command::new(env!("CARGO_BIN_EXE_techmarket"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TECHMARKET_SEARCH_RATE_PER_SECOND", "0")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve");
    let pid = server.id();
    let mut address = String::new();
    for line in BufReader::new(server.stdout.take().expect("stdout"))
        .lines()
        .map_while(Result::ok)
    {
        if let Some(rest) = line.strip_prefix("listening on ") {
            address = rest.to_owned();
            break;
        }
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    while !client
        .get(format!("{address}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let tokens = (
        login(&client, &address, "researcher").await,
        login(&client, &address, "broker").await,
    );

    println!("| offered rate (req/s, 20 s) | p50 ms | p99 ms | errors |");
    println!("|---:|---:|---:|---:|");
    let mut crossing = None;
    for step in [200, 800, 1600, 2400, 3200, 4800, 6400] {
        let outcome = run(&client, &address, &tokens, step, 20).await;
        let latencies = all(&outcome);
        let p99 = percentile(&latencies, 0.99);
        println!(
            "| {step} | {:.1} | {p99:.1} | {} |",
            percentile(&latencies, 0.5),
            outcome.errors
        );
        if p99 > 100.0 {
            crossing = Some(step);
            break;
        }
    }
    match crossing {
        Some(step) => println!("\np99 first crosses 100 ms at **{step} req/s** offered.\n"),
        None => println!("\np99 stayed under 100 ms at every step.\n"),
    }

    let rss_start = rss_kib(pid);
    let started = Instant::now();
    let outcome = run(&client, &address, &tokens, rate, secs).await;
    let elapsed = started.elapsed().as_secs_f64();
    let rss_end = rss_kib(pid);
    let latencies = all(&outcome);
    println!(
        "Sustained: **{rate} req/s offered for {secs} s** ({} sent in {elapsed:.0} s; 80% search, 10% result drafts, 10% contract submissions)\n",
        outcome.sent
    );
    println!("| requests | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|");
    for (name, values) in [
        ("all", &latencies),
        ("searches", &outcome.search),
        ("writes", &outcome.write),
    ] {
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} |",
            percentile(values, 0.5),
            percentile(values, 0.99),
            values.last().copied().unwrap_or(0.0)
        );
    }
    println!(
        "\nErrors: {} of {} ({:.3}%). Server resident memory: {} MiB at the start of the run, {} MiB at the end.",
        outcome.errors,
        outcome.sent,
        outcome.errors as f64 * 100.0 / outcome.sent.max(1) as f64,
        rss_start / 1024,
        rss_end / 1024
    );
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = server.wait();
}
