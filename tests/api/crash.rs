//! kill -9 in the middle of a bulk import, and in the middle of building the index: after a
//! restart the database holds every row exactly once and the index agrees with it.

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use sea_orm::{Database, EntityTrait, PaginatorTrait};
use techmarket::entity::results;

use crate::helpers::fresh_database_url;
use crate::helpers::process::{search_total, start_server, stop, techmarket, wait_ready};

const ROWS: usize = 3_000;
/// A word every imported row carries and no demo text has.
const MARK: &str = "断电恢复验证";

fn write_rows(path: &std::path::Path) {
    let mut file = std::fs::File::create(path).expect("create");
    for i in 0..ROWS {
        let row = serde_json::json!({
            "external_id": format!("crash-{i:05}"),
            "organization": {"name": format!("崩溃测试研究院{}", i % 7), "kind": "research_institute", "region_code": "610113"},
            "title": format!("{MARK}样品{i}号：高温合金涡轮叶片激光修复工艺"),
            "summary": format!("第{i}项成果。{MARK}：导入中途进程被强制终止后重新导入，每一行只保存一次。"),
            "keywords": ["激光修复", "高温合金"],
            "industry_codes": ["aerospace"],
            "tech_field": "aerospace",
            "maturity_stage": "pilot_scale",
            "cooperation_modes": ["licence"]
        });
        writeln!(file, "{row}").expect("write");
    }
}

#[tokio::test]
async fn kill_9_during_an_import_and_during_indexing_loses_and_doubles_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data_dir = tmp.path().join("data");
    let url = fresh_database_url().await;
    let database = url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("techmarket.db").display()
        )
    });
    let migrated = techmarket(&data_dir, url.as_deref())
        .arg("migrate")
        .output()
        .expect("migrate");
    assert!(migrated.status.success(), "{migrated:?}");
    let file = tmp.path().join("rows.jsonl");
    write_rows(&file);

    // The import is killed once some of its batches are committed.
    let mut import = techmarket(&data_dir, url.as_deref())
        .args(["import", "results", "--publish"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("import");
    let db = Database::connect(&database).await.expect("connect");
    let started = Instant::now();
    let mut seen = 0;
    while started.elapsed() < Duration::from_secs(120) {
        seen = results::Entity::find().count(&db).await.unwrap_or(0);
        if seen > 0 || import.try_wait().expect("wait").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    import.kill().expect("kill -9");
    let _ = import.wait();
    let after_kill = results::Entity::find().count(&db).await.expect("count");
    assert!(seen > 0, "the import wrote nothing before it was killed");
    assert!(
        (after_kill as usize) < ROWS,
        "the import finished before the kill ({after_kill} rows); the test needs more rows"
    );

    // Running the same import again completes it: re-imported rows update, nothing doubles.
    let rerun = techmarket(&data_dir, url.as_deref())
        .args(["import", "results", "--publish"])
        .arg(&file)
        .output()
        .expect("import");
    assert!(rerun.status.success(), "{rerun:?}");
    assert_eq!(
        results::Entity::find().count(&db).await.expect("count"),
        ROWS as u64
    );
    db.close().await.ok();

    // A node killed while building its index from these rows builds it on the next start.
    let listen = ["--listen", "127.0.0.1:0", "--no-demo"];
    let (mut first, _, _) = start_server(&data_dir, url.as_deref(), &listen);
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.kill().expect("kill -9");
    let _ = first.wait();
    let (second, address, _) = start_server(&data_dir, url.as_deref(), &listen);
    let client = reqwest::Client::new();
    wait_ready(&client, &address).await;
    assert_eq!(search_total(&client, &address, MARK).await, ROWS as u64);
    stop(second);
}
