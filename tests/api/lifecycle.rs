//! Stopping a server the way an operator does (SIGTERM), and what it writes to its log: a request
//! in flight is answered, the search index is flushed, and no password or token is ever logged.

use std::process::{Child, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::fresh_database_url;
use crate::helpers::market::{account, publish};
use crate::helpers::process::{
    call, create_registrar, exit_status, search_total, sigterm, start_server_with_env, stop,
    wait_ready,
};

const REGISTRAR_PASSWORD: &str = "operator-password-1";

/// A server on a new database with a registrar and no demo data, started with `env` and its log
/// going to `log`, ready to answer. Returns the temporary directory (the data directory is its
/// `data`), the process, its address and what it printed before the address.
async fn start(env: &[(&str, &str)], log: Stdio) -> (TempDir, Child, String, Vec<String>) {
    let tmp = tempfile::tempdir().expect("tmp");
    let data_dir = tmp.path().join("data");
    let db = fresh_database_url().await;
    let created = create_registrar(
        &data_dir,
        db.as_deref(),
        format!("{REGISTRAR_PASSWORD}\n").as_bytes(),
    );
    assert!(created.status.success(), "{created:?}");
    let (server, address, printed) = start_server_with_env(
        &data_dir,
        db.as_deref(),
        &["--listen", "127.0.0.1:0", "--no-demo"],
        env,
        log,
    );
    wait_ready(&reqwest::Client::new(), &address).await;
    (tmp, server, address, printed)
}

/// Logs in as the registrar `create_registrar` made.
async fn registrar_token(client: &reqwest::Client, address: &str) -> String {
    let (status, login) = call(
        client,
        format!("{address}/api/v1/auth/login"),
        &json!({"email": "op@market.test", "password": REGISTRAR_PASSWORD}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    login["token"].as_str().expect("token").to_owned()
}

/// The listing is published while the indexer sleeps (its next round is ten minutes away), and a
/// login is in flight — its body half sent — when SIGTERM arrives: the server waits for the rest,
/// answers it, applies the outbox to the index, commits, and exits 0.
#[tokio::test]
async fn sigterm_answers_the_request_in_flight_and_flushes_the_index() {
    let client = reqwest::Client::new();
    let (tmp, mut server, address, _) = start(
        &[("TECHMARKET_INDEXER_POLL_MS", "600000")],
        Stdio::inherit(),
    )
    .await;
    // The indexer's first round runs at start; after it, only a flush can reach the index.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let registrar = registrar_token(&client, &address).await;
    let (researcher, _) = account(
        &client,
        &address,
        "flush@xjtu.edu.cn",
        "researcher",
        "西安交通大学",
        "university",
    )
    .await;
    publish(
        &client,
        &address,
        &researcher,
        &registrar,
        "停机刷新验证：真空钎焊炉温控系统",
    )
    .await;
    assert_eq!(
        search_total(&client, &address, "停机刷新验证").await,
        0,
        "indexed before the stop: the flush would go untested"
    );

    let host = address.trim_start_matches("http://");
    let mut slow = tokio::net::TcpStream::connect(host).await.expect("connect");
    let body = json!({"email": "flush@xjtu.edu.cn", "password": "a-long-password-1"}).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).await.expect("head");
    slow.write_all(first.as_bytes()).await.expect("first half");
    tokio::time::sleep(Duration::from_millis(300)).await;

    sigterm(&server);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        server.try_wait().expect("try_wait").is_none(),
        "the server exited with a request in flight"
    );
    slow.write_all(rest.as_bytes()).await.expect("second half");
    let mut answer = String::new();
    slow.read_to_string(&mut answer).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"token\""), "{answer}");

    let status = exit_status(server).await;
    assert!(status.success(), "graceful stop exits 0, got {status:?}");
    let index = search_index::SearchIndex::open_or_create(&tmp.path().join("data").join("index"))
        .expect("index");
    assert_eq!(
        index.num_docs(),
        1,
        "the listing published before the stop is in the index the server left"
    );
}

/// Everything a user sends that is secret — passwords (right and wrong), the session token, a
/// forged token, the registrar's password on standard input — never appears in the log, even at
/// the most verbose level; and the log does record the requests, so the check looks at something.
#[tokio::test]
async fn passwords_and_tokens_never_reach_the_log() {
    let client = reqwest::Client::new();
    let logs = tempfile::tempdir().expect("tmp");
    let log_path = logs.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let (_tmp, server, address, printed) = start(&[("RUST_LOG", "trace")], Stdio::from(log)).await;

    let password = "secret-Passw0rd-for-the-log-test";
    let wrong_password = "wrong-Passw0rd-for-the-log-test";
    let forged_token = "forged0token0that0no0session0has0ever0had0000000000";
    let (status, registered) = call(
        &client,
        format!("{address}/api/v1/auth/register"),
        &json!({
            "email": "log@nwpu.edu.cn", "password": password, "display_name": "日志测试",
            "role": "researcher",
            "organization": {"name": "西北工业大学", "kind": "university", "region_code": "610113"}
        }),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let first_token = registered["token"].as_str().expect("token").to_owned();
    let (status, _) = call(
        &client,
        format!("{address}/api/v1/auth/login"),
        &json!({"email": "log@nwpu.edu.cn", "password": wrong_password}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, login) = call(
        &client,
        format!("{address}/api/v1/auth/login"),
        &json!({"email": "log@nwpu.edu.cn", "password": password}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let token = login["token"].as_str().expect("token").to_owned();
    for bearer in [&token, &first_token] {
        let me = client
            .get(format!("{address}/api/v1/me"))
            .bearer_auth(bearer)
            .send()
            .await
            .expect("me");
        assert_eq!(me.status(), StatusCode::OK);
    }
    let forged = client
        .get(format!("{address}/api/v1/me"))
        .bearer_auth(forged_token)
        .send()
        .await
        .expect("me");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = call(
        &client,
        format!("{address}/api/v1/auth/logout"),
        &json!({}),
        Some(&token),
    )
    .await;
    assert!(status.is_success(), "logout: {status}");
    let registrar = registrar_token(&client, &address).await;
    stop(server);

    let logged = std::fs::read_to_string(&log_path).expect("read log");
    assert!(
        logged.contains("/api/v1/auth/login") && logged.contains("/api/v1/me"),
        "the log does not record requests; the check below would look at nothing:\n{logged}"
    );
    let everything = format!("{logged}\n{}", printed.join("\n"));
    for secret in [
        password,
        wrong_password,
        REGISTRAR_PASSWORD,
        &token,
        &first_token,
        &registrar,
        forged_token,
        "$argon2",
    ] {
        assert!(
            !everything.contains(secret),
            "the log holds a secret ({} characters starting {:?})",
            secret.len(),
            secret.chars().take(6).collect::<String>()
        );
    }
}
