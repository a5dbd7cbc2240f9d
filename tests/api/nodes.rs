//! Several `techmarket serve` processes on one database, as an operator scales past one
//! machine: each keeps its own index from the outbox, and registration numbers stay unique and
//! gapless when they all register at once. On SQLite the processes share one file; on
//! PostgreSQL (`TEST_DATABASE_URL`) one fresh database.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::fresh_database_url;
use crate::helpers::market::{account, publish};
use crate::helpers::process::{
    call, create_registrar, search_total, start_server, stop, wait_ready,
};

/// How long a listing published through one node may take to be found through another. The
/// indexers poll every 200 ms and commit within a second; the rest is slack for a loaded test
/// machine.
const FRESHNESS_BOUND: Duration = Duration::from_secs(6);

/// Searches `node` until `q` finds something or the bound passes; returns the time it took.
async fn found_within(client: &reqwest::Client, node: &str, q: &str) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < FRESHNESS_BOUND {
        if search_total(client, node, q).await > 0 {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

fn contract(seller_org: &str, n: usize) -> Value {
    json!({
        "project_name": format!("多节点登记测试合同{n}"),
        "contract_type": "service",
        "sub_type": "technical_training",
        "seller": {"organization_id": seller_org, "name": "西安多节点大学", "nature_code": "022", "region_code": "610113"},
        "buyer": {"name": "陕西某企业", "nature_code": "150", "region_code": "610116"},
        "signed_on": "2026-01-05",
        "valid_from": "2026-01-05",
        "valid_to": "2026-12-31",
        "total_amount_fen": 1_000_000 + n as i64,
        "non_technical_fen": 0,
        "tech_field": "advanced_manufacturing",
        "industry_codes": [],
        "ip_types": []
    })
}

#[tokio::test]
async fn two_nodes_share_listings_and_number_concurrent_registrations_without_gaps() {
    let tmp = tempfile::tempdir().expect("tmp");
    let database_url = fresh_database_url().await.unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            tmp.path().join("shared.db").display()
        )
    });
    let (dir_a, dir_b, dir_c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    let created = create_registrar(&dir_a, Some(&database_url), b"operator-password-1\n");
    assert!(created.status.success(), "{created:?}");
    let listen = ["--listen", "127.0.0.1:0"];
    let (node_a, a, _) = start_server(&dir_a, Some(&database_url), &listen);
    let (node_b, b, _) = start_server(&dir_b, Some(&database_url), &listen);
    let client = reqwest::Client::new();
    wait_ready(&client, &a).await;
    wait_ready(&client, &b).await;

    let (researcher, researcher_user) = account(
        &client,
        &a,
        "r@multi.edu.cn",
        "researcher",
        "西安多节点大学",
        "university",
    )
    .await;
    let (broker, _) = account(
        &client,
        &b,
        "k@multi.test",
        "broker",
        "多节点技术转移中心",
        "transfer_agency",
    )
    .await;
    // A session opened on one node is valid on the other: sessions live in the database.
    let (status, login) = call(
        &client,
        format!("{b}/api/v1/auth/login"),
        &json!({"email": "op@market.test", "password": "operator-password-1"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let registrar = login["token"].as_str().expect("token").to_owned();

    // Published through A, found through B.
    publish(&client, &a, &researcher, &registrar, "磁悬浮轴承高速电主轴").await;
    let took = found_within(&client, &b, "磁悬浮轴承").await;
    assert!(took.is_some(), "node B never found what node A published");

    // Both nodes register at once: one number each, serials 1…n without gap or repeat.
    let seller_org = researcher_user["organization_id"].as_str().expect("org");
    let mut ids = Vec::new();
    for n in 0..24 {
        let node = if n % 2 == 0 { &a } else { &b };
        let (status, body) = call(
            &client,
            format!("{node}/api/v1/contracts"),
            &contract(seller_org, n),
            Some(&broker),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(body["id"].as_str().expect("id").to_owned());
    }
    let registrations = ids.iter().enumerate().map(|(n, id)| {
        let node = if n % 2 == 0 { b.clone() } else { a.clone() };
        let (client, registrar) = (client.clone(), registrar.clone());
        let id = id.clone();
        tokio::spawn(async move {
            call(
                &client,
                format!("{node}/api/v1/contracts/{id}/register"),
                &json!({}),
                Some(&registrar),
            )
            .await
        })
    });
    let mut serials = Vec::new();
    for handle in futures_util::future::join_all(registrations).await {
        let (status, body) = handle.expect("join");
        assert_eq!(status, StatusCode::OK, "{body}");
        let number = body["registration_no"].as_str().expect("number");
        assert_eq!(number.len(), 16);
        assert_eq!(
            &number[4..10],
            "610101",
            "region prefix and point: {number}"
        );
        serials.push(number[10..].parse::<u32>().expect("serial"));
    }
    serials.sort_unstable();
    assert_eq!(serials, (1..=24).collect::<Vec<_>>());

    // A node started later builds its index from the database; killing another leaves it be.
    let (node_c, c, _) = start_server(&dir_c, Some(&database_url), &listen);
    wait_ready(&client, &c).await;
    assert!(search_total(&client, &c, "磁悬浮轴承").await > 0);
    let mut node_a = node_a;
    node_a.kill().expect("kill -9 node A");
    let _ = node_a.wait();
    publish(&client, &c, &researcher, &registrar, "碳化硅功率模块封装").await;
    assert!(found_within(&client, &b, "碳化硅功率模块").await.is_some());
    assert!(found_within(&client, &c, "碳化硅功率模块").await.is_some());
    stop(node_b);
    stop(node_c);
}
