//! Throughput of the registrar's two busiest moves over HTTP: reviews of submitted results and
//! registrations of submitted contracts, by 8 concurrent callers, against a server started from a
//! binary. Because it speaks only the public API, the same bench measures two builds side by side:
//! `BENCH_BINARY=path/to/other/techmarket` runs it against another build (e.g. an earlier commit's
//! release binary) for an A/B in one sitting.
//!
//! `cargo bench --bench transitions` (SQLite, 2,000 of each); `BENCH_TRANSITIONS=N` changes the
//! number, `BENCH_DATABASE_URL=postgres://…/DB` (an empty database) runs it on PostgreSQL. The
//! server starts with the demo data (its accounts and organizations) and no search limit.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CALLERS: usize = 8;

struct Server {
    child: Child,
    address: String,
    client: reqwest::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

async fn start(binary: &str, data: &std::path::Path) -> Server {
    let mut command = Command::new(binary);
    command.arg("--data-dir").arg(data);
    if let Ok(url) = std::env::var("BENCH_DATABASE_URL") {
        command.arg("--database-url").arg(url);
    }
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TECHMARKET_SEARCH_RATE_PER_SECOND", "0")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve");
    // Read every line the server prints, not only up to its address: a pipe closed early made
    // the server's later lines fail, and a server that died of it left the bench waiting.
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("listening on ") {
                let _ = tx.send(rest.to_owned());
            }
        }
    });
    let address = rx
        .recv_timeout(Duration::from_secs(600))
        .unwrap_or_else(|_| panic!("{binary} did not listen: {:?}", child.try_wait()));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(60))
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
    Server {
        child,
        address,
        client,
    }
}

impl Server {
    async fn login(&self, role: &str) -> String {
        let answer = self
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"email": format!("{role}@demo.techmarket.cn"), "password": format!("demo-{role}-2026")}),
            )
            .await;
        answer["token"].as_str().expect("token").to_owned()
    }

    async fn send(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Value {
        let (status, answer) = self.send(path, token, body).await;
        assert!((200..300).contains(&status), "{path}: {status} {answer}");
        answer
    }

    async fn me(&self, token: &str) -> Value {
        self.client
            .get(format!("{}/api/v1/me", self.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("me")
            .json()
            .await
            .expect("json")
    }

    /// Sends `paths[i]` with `body` as `token` from [`CALLERS`] callers; returns requests per
    /// second, asserting each answer is a success.
    async fn drive(self: &Arc<Self>, paths: Vec<String>, token: &str, body: Value) -> f64 {
        let paths = Arc::new(paths);
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let callers: Vec<_> = (0..CALLERS)
            .map(|_| {
                let (server, paths, next) = (self.clone(), paths.clone(), next.clone());
                let (token, body) = (token.to_owned(), body.clone());
                tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = paths.get(i) else { break };
                        server.post(path, Some(&token), &body).await;
                    }
                })
            })
            .collect();
        for caller in callers {
            caller.await.expect("caller");
        }
        paths.len() as f64 / started.elapsed().as_secs_f64()
    }
}

fn result_body(i: usize) -> Value {
    json!({
        "title": format!("风电齿轮箱早期故障诊断系统（第{i}号）"),
        "summary": "基于深度学习的风电齿轮箱早期故障诊断，提前两周预警，误报率低于2%。",
        "industry_codes": ["high_end_equipment"],
        "tech_field": "new_energy",
        "maturity_stage": "pilot_scale",
        "cooperation_modes": ["licence"]
    })
}

fn contract_body(i: usize, seller: &Value, buyer: &Value) -> Value {
    let party = |org: &Value, nature: &str| {
        json!({"organization_id": org["id"], "name": org["name"], "nature_code": nature,
               "region_code": org["region_code"]})
    };
    json!({
        "project_name": format!("高性能伺服电机控制技术开发（第{i}号）"),
        "contract_type": "development",
        "sub_type": "commissioned_development",
        "seller": party(seller, "022"),
        "buyer": party(buyer, "150"),
        "signed_on": "2026-03-02",
        "valid_from": "2026-03-02",
        "valid_to": "2027-03-01",
        "total_amount_fen": 10_000_000 + i as i64,
        "non_technical_fen": 0,
        "tech_field": "advanced_manufacturing",
        "industry_codes": ["high_end_equipment"],
        "ip_types": ["invention_patent"]
    })
}

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("transitions benchmark: run it with `cargo bench --bench transitions`");
        return;
    }
    let count: usize = std::env::var("BENCH_TRANSITIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let binary =
        std::env::var("BENCH_BINARY").unwrap_or_else(|_| env!("CARGO_BIN_EXE_techmarket").into());
    let data = tempfile::tempdir().expect("tmp");
    let server = Arc::new(start(&binary, data.path()).await);
    let researcher = server.login("researcher").await;
    let enterprise = server.login("enterprise").await;
    let registrar = server.login("registrar").await;
    let seller = server.me(&researcher).await["organization"].clone();
    let buyer = server.me(&enterprise).await["organization"].clone();

    let mut reviews = Vec::with_capacity(count);
    let mut registrations = Vec::with_capacity(count);
    for i in 0..count {
        let result = server
            .post("/api/v1/results", Some(&researcher), &result_body(i))
            .await;
        let id = result["id"].as_str().expect("result id");
        server
            .post(
                &format!("/api/v1/results/{id}/submit"),
                Some(&researcher),
                &json!({}),
            )
            .await;
        reviews.push(format!("/api/v1/results/{id}/review"));
        let contract = server
            .client
            .post(format!("{}/api/v1/contracts", server.address))
            .bearer_auth(&researcher)
            .header("Idempotency-Key", format!("bench-{i}"))
            .json(&contract_body(i, &seller, &buyer))
            .send()
            .await
            .expect("contract");
        assert!(contract.status().is_success(), "{}", contract.status());
        let contract: Value = contract.json().await.expect("json");
        let id = contract["id"].as_str().expect("contract id");
        registrations.push(format!("/api/v1/contracts/{id}/register"));
    }

    // Registrations first: each approval queues the result for the search index, and the indexer
    // works on after the reviews end, so registrations measured after reviews would share the
    // cores with it. A pause lets the setup's own background work finish before each phase.
    let settle = Duration::from_secs(3);
    tokio::time::sleep(settle).await;
    let registered = server.drive(registrations, &registrar, json!({})).await;
    tokio::time::sleep(settle).await;
    let reviewed = server
        .drive(reviews, &registrar, json!({"decision": "approve"}))
        .await;
    let database = if std::env::var("BENCH_DATABASE_URL").is_ok() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("| binary | database | n | reviews/s | registrations/s |");
    println!("|---|---|---:|---:|---:|");
    println!("| {binary} | {database} | {count} | {reviewed:.0} | {registered:.0} |");
}
