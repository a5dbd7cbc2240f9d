//! The binary as a user runs it: create-registrar from standard input, serve on port 0, SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::fresh_database_url;
use crate::helpers::process::{
    call, create_registrar, exit_status, search_total, sigterm, start_server,
    start_server_with_env, stop, techmarket, wait_ready,
};

/// kill -9 after a listing is published in the database and before the index has committed it:
/// the restarted process catches up from the outbox and finds it.
#[tokio::test]
async fn a_kill_between_the_database_write_and_the_index_commit_loses_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data_dir = tmp.path().join("data");
    let db = fresh_database_url().await;
    let client = reqwest::Client::new();
    let created = create_registrar(&data_dir, db.as_deref(), b"registrar-password-1\n");
    assert!(created.status.success(), "{created:?}");
    // The indexer's first round runs at start; the next would be ten minutes later.
    let (mut server, address, _) = start_server_with_env(
        &data_dir,
        db.as_deref(),
        &["--listen", "127.0.0.1:0", "--no-demo"],
        &[("TECHMARKET_INDEXER_POLL_MS", "600000")],
        Stdio::inherit(),
    );
    wait_ready(&client, &address).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let api = |path: &str| format!("{address}/api/v1{path}");
    let (status, researcher) = call(
        &client,
        api("/auth/register"),
        &json!({
            "email": "r@nwpu.edu.cn",
            "password": "a-long-password-1",
            "display_name": "研究员",
            "role": "researcher",
            "organization": {"name": "西北工业大学", "kind": "university", "region_code": "610113"}
        }),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{researcher}");
    let researcher = researcher["token"].as_str().expect("token").to_owned();
    let (status, registrar) = call(
        &client,
        api("/auth/login"),
        &json!({"email": "op@market.test", "password": "registrar-password-1"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{registrar}");
    let registrar = registrar["token"].as_str().expect("token").to_owned();
    let (status, result) = call(
        &client,
        api("/results"),
        &json!({
            "title": "钛合金叶片激光冲击强化工艺",
            "summary": "激光冲击强化提高航空发动机钛合金叶片的疲劳寿命。",
            "keywords": ["激光冲击强化"],
            "industry_codes": ["aerospace"],
            "tech_field": "aerospace",
            "maturity_stage": "pilot_scale",
            "cooperation_modes": ["licence"]
        }),
        Some(&researcher),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{result}");
    let id = result["id"].as_str().expect("id");
    let (status, _) = call(
        &client,
        api(&format!("/results/{id}/submit")),
        &json!({}),
        Some(&researcher),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &client,
        api(&format!("/results/{id}/review")),
        &json!({"decision": "approve"}),
        Some(&registrar),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Published in the database, not yet in the index.
    assert_eq!(search_total(&client, &address, "激光冲击强化").await, 0);
    server.kill().expect("kill -9");
    let _ = server.wait();

    let (server, address, _) = start_server(
        &data_dir,
        db.as_deref(),
        &["--listen", "127.0.0.1:0", "--no-demo"],
    );
    wait_ready(&client, &address).await;
    let mut found = 0;
    for _ in 0..40 {
        found = search_total(&client, &address, "激光冲击强化").await;
        if found == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(found, 1, "the listing was lost by the crash");
    stop(server);
}

#[tokio::test]
async fn an_index_left_beside_another_database_is_rebuilt() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data_dir = tmp.path().join("data");
    let client = reqwest::Client::new();
    let first_db = fresh_database_url().await;
    let (server, address, _) =
        start_server(&data_dir, first_db.as_deref(), &["--listen", "127.0.0.1:0"]);
    wait_ready(&client, &address).await;
    let demo: Value = client
        .get(format!("{address}/api/v1/search"))
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    assert!(demo["total"].as_u64().is_some_and(|n| n > 0), "{demo}");
    stop(server);

    // Replace the database, keep the data directory (and its index).
    if first_db.is_none() {
        for name in ["techmarket.db", "techmarket.db-wal", "techmarket.db-shm"] {
            let _ = std::fs::remove_file(data_dir.join(name));
        }
    }
    let second_db = fresh_database_url().await;
    let (server, address, _) = start_server(
        &data_dir,
        second_db.as_deref(),
        &["--listen", "127.0.0.1:0", "--no-demo"],
    );
    wait_ready(&client, &address).await;
    let empty: Value = client
        .get(format!("{address}/api/v1/search"))
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    assert_eq!(
        empty["total"], 0,
        "listings of the old database are still found: {empty}"
    );
    stop(server);
}

#[tokio::test]
async fn create_registrar_then_serve_on_port_zero_then_stop_gracefully() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data_dir = tmp.path().join("data");
    let database_url = fresh_database_url().await;

    let output = create_registrar(&data_dir, database_url.as_deref(), b"operator-password-1\n");
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("created"));

    let (server, address, printed) = start_server(
        &data_dir,
        database_url.as_deref(),
        &["--listen", "127.0.0.1:0"],
    );
    assert!(address.starts_with("http://127.0.0.1:") && !address.ends_with(":0"));
    // An empty database got the demo accounts, printed with their passwords… but this database
    // already had the registrar, so it is not empty and no demo data was added.
    assert!(
        !printed.iter().any(|l| l.contains("demo accounts")),
        "{printed:?}"
    );

    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(format!("{address}/healthz"))
            .send()
            .await
            .expect("healthz")
            .status(),
        StatusCode::OK
    );
    let login = client
        .post(format!("{address}/api/v1/auth/login"))
        .json(&json!({"email": "op@market.test", "password": "operator-password-1"}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), StatusCode::OK);
    let body: Value = login.json().await.expect("json");
    assert_eq!(body["user"]["role"], "registrar");

    sigterm(&server);
    let status = exit_status(server).await;
    assert!(
        status.success(),
        "graceful shutdown exits 0, got {status:?}"
    );
}

#[tokio::test]
async fn serve_loads_demo_accounts_into_an_empty_database() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data_dir = tmp.path().join("data");
    let database_url = fresh_database_url().await;
    let output = techmarket(&data_dir, database_url.as_deref())
        .arg("seed")
        .output()
        .expect("seed");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    for role in ["researcher", "enterprise", "broker", "registrar"] {
        assert!(
            stdout.contains(&format!("{role}@demo.techmarket.cn")),
            "{stdout}"
        );
    }
    // The demo contracts put each policy year near its target, through the real indicator.
    let url = database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("techmarket.db").display()));
    let db = sea_orm::Database::connect(&url).await.expect("connect");
    let reference = techmarket::reference::ReferenceData::read(&db)
        .await
        .expect("reference");
    let mut registered = 0;
    for year in [2021, 2022, 2023] {
        let value = techmarket::services::indicators::transaction_value(
            &db,
            &reference,
            year,
            Default::default(),
            Default::default(),
            Default::default(),
        )
        .await
        .expect("indicator");
        let progress = value.progress.expect("a policy year has a target");
        assert!((0.9..1.15).contains(&progress), "{year}: {progress}");
        registered += value.count;
    }
    assert!(registered >= 1_900, "{registered}");
    // The demo's qualifications and contracts feed every organization count of the summary.
    let summary = techmarket::services::indicators::summary(&db, &reference, 2022)
        .await
        .expect("summary");
    for code in [
        "high_tech_enterprises",
        "tech_smes",
        "rd_platforms",
        "transfer_agencies",
        "local_transformation_projects",
    ] {
        let actual = summary
            .indicators
            .iter()
            .find(|i| i.code == code)
            .and_then(|i| i.actual);
        assert!(actual.is_some_and(|n| n > 0), "{code}: {actual:?}");
    }
    // `export contracts` writes every contract registered in the year; those sold from Xi'an
    // add up, to the fen, to the indicator.
    let csv_file = tmp.path().join("contracts.csv");
    let exported = techmarket(&data_dir, database_url.as_deref())
        .args(["export", "contracts", "--year", "2022", "--out"])
        .arg(&csv_file)
        .output()
        .expect("export");
    assert!(exported.status.success(), "{exported:?}");
    let text = std::fs::read_to_string(&csv_file).expect("csv");
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().expect("headers").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (region, total) = (column("卖方行政区划代码"), column("合同成交额（元）"));
    let (mut rows, mut xian_fen) = (0u64, 0i64);
    for record in reader.records() {
        let record = record.expect("row");
        rows += 1;
        if record[region].starts_with("6101") {
            let (whole, cents) = record[total].split_once('.').expect("yuan");
            xian_fen +=
                whole.parse::<i64>().expect("yuan") * 100 + cents.parse::<i64>().expect("fen");
        }
    }
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use techmarket::entity::contracts;
    let registered_2022 = contracts::Entity::find()
        .filter(contracts::Column::Status.eq("registered"))
        .filter(contracts::Column::RegistrationNo.starts_with("2022"))
        .count(&db)
        .await
        .expect("count");
    assert_eq!(rows, registered_2022);
    let value_2022 = techmarket::services::indicators::transaction_value(
        &db,
        &reference,
        2022,
        Default::default(),
        Default::default(),
        Default::default(),
    )
    .await
    .expect("indicator");
    assert_eq!(xian_fen, value_2022.value_fen);
    let xlsx_file = tmp.path().join("indicators.xlsx");
    let exported = techmarket(&data_dir, database_url.as_deref())
        .args([
            "export",
            "indicators",
            "--year",
            "2022",
            "--format",
            "xlsx",
            "--out",
        ])
        .arg(&xlsx_file)
        .output()
        .expect("export");
    assert!(exported.status.success(), "{exported:?}");
    use calamine::Reader;
    let workbook: calamine::Xlsx<_> = calamine::open_workbook(&xlsx_file).expect("xlsx");
    // The long table, one sheet per breakdown (按园区 included) and the policy summary.
    assert_eq!(workbook.sheet_names().len(), 10);
    db.close().await.ok();
    // Seeding again adds nothing.
    let again = techmarket(&data_dir, database_url.as_deref())
        .arg("seed")
        .output()
        .expect("seed");
    assert!(again.status.success());
    assert!(!String::from_utf8_lossy(&again.stdout).contains("demo.techmarket.cn"));
    if database_url.is_none() {
        assert!(data_dir.join("techmarket.db").exists());
    }
}

#[tokio::test]
async fn create_registrar_rejects_a_short_password() {
    let tmp = tempfile::tempdir().expect("tmp");
    let database_url = fresh_database_url().await;
    let output = create_registrar(
        &tmp.path().join("data"),
        database_url.as_deref(),
        b"short\n",
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("password"));
}

/// A SIGTERM sent as soon as the address is printed (before the server has polled anything)
/// still stops it gracefully: the handlers are installed before the address is printed.
#[tokio::test]
async fn sigterm_right_after_the_address_is_printed_stops_gracefully() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data_dir = tmp.path().join("data");
    let database_url = fresh_database_url().await;
    for _ in 0..3 {
        let (server, _, _) = start_server(
            &data_dir,
            database_url.as_deref(),
            &["--listen", "127.0.0.1:0", "--no-demo"],
        );
        sigterm(&server);
        let status = exit_status(server).await;
        assert!(
            status.success(),
            "exit 0 after an early SIGTERM, got {status:?}"
        );
    }
}

/// A supervisor or a script may read the server's first lines and close the pipe (`serve | head
/// -1`), or start it with its output closed: the server goes on serving and stops gracefully.
/// (It panicked at its first `println!` on the closed pipe, and the bench that read only the
/// address hung on a dead server.)
#[tokio::test]
async fn a_server_whose_output_nobody_reads_goes_on_serving() {
    let tmp = tempfile::tempdir().expect("tmp");
    let database_url = fresh_database_url().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut server = techmarket(tmp.path(), database_url.as_deref())
        .args([
            "serve",
            "--no-demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    // Closed before the server prints anything: every line it prints meets a closed pipe.
    drop(server.stdout.take());
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..2400 {
        if let Some(status) = server.try_wait().expect("try_wait") {
            panic!("the server ended with {status:?} when its output was closed");
        }
        if client
            .get(format!("{address}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let healthz = client
        .get(format!("{address}/healthz"))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(healthz.status(), StatusCode::OK);
    sigterm(&server);
    let status = exit_status(server).await;
    assert!(
        status.success(),
        "graceful shutdown exits 0, got {status:?}"
    );
}
