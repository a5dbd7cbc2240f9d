//! The `techmarket` binary as an operator runs it: commands, servers on their own port, signals.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::TestApp;

pub fn techmarket(data_dir: &std::path::Path, database_url: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_techmarket"));
    command.arg("--data-dir").arg(data_dir);
    if let Some(url) = database_url {
        command.arg("--database-url").arg(url);
    }
    command.env_remove("DATABASE_URL").env("RUST_LOG", "warn");
    command
}

/// Runs `create-registrar` with `password` on standard input.
pub fn create_registrar(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    password: &[u8],
) -> std::process::Output {
    let mut create = techmarket(data_dir, database_url)
        .args([
            "create-registrar",
            "--email",
            "op@market.test",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn create-registrar");
    create
        .stdin
        .take()
        .expect("stdin")
        .write_all(password)
        .expect("write password");
    create.wait_with_output().expect("create-registrar")
}

/// Starts `techmarket serve`; returns the process, its address and the lines it printed before.
pub fn start_server(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    args: &[&str],
) -> (std::process::Child, String, Vec<String>) {
    start_server_with_env(data_dir, database_url, args, &[], Stdio::inherit())
}

/// [`start_server`] with extra environment variables, its log (standard error) going to `log`.
pub fn start_server_with_env(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    args: &[&str],
    env: &[(&str, &str)],
    log: Stdio,
) -> (std::process::Child, String, Vec<String>) {
    let mut server = techmarket(data_dir, database_url)
        .arg("serve")
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("spawn serve");
    let stdout = server.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut printed = Vec::new();
    // A first start loads the demo data before it prints the address: about a minute for a debug
    // build on PostgreSQL, more on a loaded machine.
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(240)) {
        if let Some(rest) = line.strip_prefix("listening on ") {
            return (server, rest.to_owned(), printed);
        }
        printed.push(line);
    }
    let _ = server.kill();
    let _ = server.wait();
    panic!("the server did not print its address: {printed:?}");
}

/// Waits until the server is ready (its search index built).
pub async fn wait_ready(client: &reqwest::Client, address: &str) {
    for _ in 0..600 {
        if client
            .get(format!("{address}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{address} never became ready");
}

pub fn stop(mut server: std::process::Child) {
    let pid = server.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let _ = server.wait();
}

/// Sends SIGTERM to `server`, as an operator's `systemctl stop` or `docker stop` does.
pub fn sigterm(server: &std::process::Child) {
    let pid = server.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success(), "kill -TERM {pid}: {killed:?}");
}

/// Waits for `server` to exit, without blocking the test's runtime; returns its exit status.
pub async fn exit_status(mut server: std::process::Child) -> std::process::ExitStatus {
    tokio::task::spawn_blocking(move || server.wait())
        .await
        .expect("join")
        .expect("wait")
}

/// Sends `body` as JSON with an optional bearer token; returns the status and the answer.
pub async fn call(
    client: &reqwest::Client,
    url: String,
    body: &Value,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = client.post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn search_total(client: &reqwest::Client, address: &str, q: &str) -> u64 {
    let answer: Value = client
        .get(format!("{address}/api/v1/search"))
        .query(&[("q", q)])
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    answer["total"].as_u64().unwrap_or(0)
}

/// `techmarket` pointed at the test app's database.
pub fn techmarket_for(app: &TestApp) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_techmarket"));
    command
        .arg("--data-dir")
        .arg(&app.settings.data_dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn");
    if let Some(url) = &app.settings.database_url {
        command.arg("--database-url").arg(url);
    }
    command
}
