//! The registrars' audit trail: every registrar action leaves one entry, readable by the registrar
//! only, newest first.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::json_of;
use crate::helpers::market::{contract_body, market, submit};
use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn every_registrar_action_is_in_the_audit_log_which_only_the_registrar_reads() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let registrar_id = json_of(
        app.get("/api/v1/me", Some(&m.registrar)).await,
        StatusCode::OK,
    )
    .await["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // Two contracts: one registered, one rejected.
    let mut contract_ids = Vec::new();
    for _ in 0..2 {
        let contract = json_of(
            submit(&app, &m.seller, None, &contract_body(&m, 1_000_000, 0)).await,
            StatusCode::CREATED,
        )
        .await;
        contract_ids.push(contract["id"].as_str().expect("id").to_owned());
    }
    let registered = &contract_ids[0];
    let rejected = &contract_ids[1];
    app.post_expecting(
        &format!("/api/v1/contracts/{registered}/register"),
        &json!({}),
        &m.registrar,
        StatusCode::OK,
    )
    .await;
    app.post_expecting(
        &format!("/api/v1/contracts/{rejected}/reject"),
        &json!({"reason_code": "unclear_price", "detail": "价款约定不明确"}),
        &m.registrar,
        StatusCode::OK,
    )
    .await;
    // A qualification of the seller, and a result of the seller approved for publication.
    app.post_expecting(
        &format!("/api/v1/organizations/{}/qualifications", m.seller_org),
        &json!({"qualification": "tech_sme", "valid_from": "2022-01-01"}),
        &m.registrar,
        StatusCode::CREATED,
    )
    .await;
    let result = app
        .post_expecting(
            "/api/v1/results",
            &json!({
                "title": "审计追踪验证：伺服电机高精度控制算法",
                "summary": "伺服电机高精度控制算法，已完成样机验证。",
                "keywords": ["伺服电机"],
                "industry_codes": ["high_end_equipment"],
                "tech_field": "advanced_manufacturing",
                "maturity_stage": "has_sample",
                "cooperation_modes": ["licence"]
            }),
            &m.seller,
            StatusCode::CREATED,
        )
        .await;
    let result_id = result["id"].as_str().expect("id").to_owned();
    app.post_expecting(
        &format!("/api/v1/results/{result_id}/submit"),
        &json!({}),
        &m.seller,
        StatusCode::OK,
    )
    .await;
    app.post_expecting(
        &format!("/api/v1/results/{result_id}/review"),
        &json!({"decision": "approve"}),
        &m.registrar,
        StatusCode::OK,
    )
    .await;

    let log = json_of(
        app.get("/api/v1/audit-log", Some(&m.registrar)).await,
        StatusCode::OK,
    )
    .await;
    let items = log["items"].as_array().expect("items");
    assert_eq!(log["total"], 4, "{log}");
    let entries: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|e| {
            assert_eq!(e["actor_id"], registrar_id.as_str(), "{e}");
            (
                e["action"].as_str().unwrap_or_default(),
                e["subject_kind"].as_str().unwrap_or_default(),
                e["subject_id"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    // Newest first.
    assert_eq!(
        entries,
        vec![
            ("result.published", "result", result_id.as_str()),
            (
                "qualification.record",
                "organization",
                m.seller_org.as_str()
            ),
            ("contract.reject", "contract", rejected.as_str()),
            ("contract.register", "contract", registered.as_str()),
        ]
    );
    let ids: Vec<i64> = items.iter().filter_map(|e| e["id"].as_i64()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    assert!(
        items[3]["detail"]["registration_no"].is_string(),
        "{}",
        items[3]
    );

    // Filters and pages.
    let one = json_of(
        app.get(
            &format!("/api/v1/audit-log?subject_id={rejected}"),
            Some(&m.registrar),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(one["total"], 1);
    assert_eq!(one["items"][0]["detail"]["reason_code"], "unclear_price");
    let by_action = json_of(
        app.get(
            "/api/v1/audit-log?action=contract.register&per_page=1",
            Some(&m.registrar),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            by_action["total"].clone(),
            by_action["items"][0]["subject_id"].clone()
        ),
        (json!(1), Value::from(registered.as_str()))
    );
    let page = json_of(
        app.get("/api/v1/audit-log?per_page=3&page=2", Some(&m.registrar))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));

    // Nobody else reads it.
    for token in [&m.seller, &m.buyer, &m.broker, &m.outsider] {
        assert_problem(
            app.get("/api/v1/audit-log", Some(token)).await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    assert_problem(
        app.get("/api/v1/audit-log", None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let bad = assert_problem(
        app.get("/api/v1/audit-log?subject_id=nope", Some(&m.registrar))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(bad.to_string().contains("subject_id"), "{bad}");
}
