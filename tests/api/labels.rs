//! Chinese labels beside the codes in the search and matching answers: the codes stay where
//! clients read them (`facets`, `industry_codes`), and `facet_labels` and `industries` name them
//! for people, from the reference data.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::market::{account, publish};
use crate::helpers::process::call;
use crate::helpers::{TestApp, json_of, spawn_app};

/// Generous bound for the indexer to apply a publication (the contract says 2 s).
const FRESHNESS_BOUND: Duration = Duration::from_secs(6);

/// Polls `GET path` until `check` holds or the bound passes; returns the last answer.
async fn eventually(app: &TestApp, path: &str, check: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let answer = json_of(app.get(path, None).await, StatusCode::OK).await;
        if check(&answer) || started.elapsed() > FRESHNESS_BOUND {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The label of every code of one list, from `GET /api/v1/reference`.
async fn reference_labels(app: &TestApp, list: &str) -> Value {
    let reference = json_of(app.get("/api/v1/reference", None).await, StatusCode::OK).await;
    let labels: serde_json::Map<String, Value> = reference[list]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| {
            (
                c["code"].as_str().expect("code").to_owned(),
                c["label"].clone(),
            )
        })
        .collect();
    Value::Object(labels)
}

/// The keys of a JSON object, in order.
fn keys(object: &Value) -> Vec<String> {
    object
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn search_answers_name_every_facet_code_and_each_hits_industries() {
    let app = spawn_app().await;
    let node = app.url("");
    let (researcher, _) = account(
        &app.client,
        &node,
        "r@nwpu.edu.cn",
        "researcher",
        "西北工业大学",
        "university",
    )
    .await;
    let registrar = app.registrar_token().await;
    // The shared fixture publishes in 高端装备, 先进制造, 通过中试.
    publish(
        &app.client,
        &node,
        &researcher,
        &registrar,
        "航空发动机叶片激光熔覆修复",
    )
    .await;
    publish(
        &app.client,
        &node,
        &researcher,
        &registrar,
        "数控机床主轴热误差补偿",
    )
    .await;
    let answer = eventually(&app, "/api/v1/search?q=航空发动机", |a| {
        a["total"] == 1
    })
    .await;

    // The codes and counts clients rely on are unchanged.
    assert_eq!(
        answer["facets"]["industry"],
        json!({"high_end_equipment": 1})
    );
    assert_eq!(
        answer["facets"]["tech_field"],
        json!({"advanced_manufacturing": 1})
    );
    assert_eq!(
        answer["facets"]["maturity_stage"],
        json!({"pilot_scale": 1})
    );
    let hit = &answer["items"][0];
    assert_eq!(hit["industry_codes"], json!(["high_end_equipment"]));

    // Beside them, the labels of exactly the codes the facets hold, as the reference data has them.
    assert_eq!(
        answer["facet_labels"],
        json!({
            "industry": {"high_end_equipment": "高端装备"},
            "tech_field": {"advanced_manufacturing": "先进制造"},
            "maturity_stage": {"pilot_scale": "通过中试"},
        })
    );
    assert_eq!(
        hit["industries"],
        json!([{"code": "high_end_equipment", "label": "高端装备"}])
    );

    // Browsing everything: several codes per facet, every one labelled, nothing more.
    let all = eventually(&app, "/api/v1/search", |a| a["total"] == 2).await;
    for (facet, list) in [
        ("industry", "industries"),
        ("tech_field", "tech_fields"),
        ("maturity_stage", "maturity_stages"),
    ] {
        let labels = reference_labels(&app, list).await;
        assert_eq!(
            keys(&all["facet_labels"][facet]),
            keys(&all["facets"][facet]),
            "{facet}: {all}"
        );
        for code in keys(&all["facets"][facet]) {
            assert_eq!(all["facet_labels"][facet][&code], labels[&code], "{code}");
        }
    }
    for item in all["items"].as_array().expect("items") {
        let codes: Vec<Value> = item["industries"]
            .as_array()
            .expect("industries")
            .iter()
            .map(|i| i["code"].clone())
            .collect();
        assert_eq!(Value::Array(codes), item["industry_codes"], "{item}");
    }

    // A search that finds nothing has empty labels, not missing ones.
    let none = json_of(
        app.get("/api/v1/search?q=不存在的词语组合", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        none["facet_labels"],
        json!({"industry": {}, "tech_field": {}, "maturity_stage": {}})
    );
}

#[tokio::test]
async fn matches_name_the_industries_of_each_matched_listing() {
    let app = spawn_app().await;
    let node = app.url("");
    let (researcher, _) = account(
        &app.client,
        &node,
        "r@xjtu.edu.cn",
        "researcher",
        "西安交通大学",
        "university",
    )
    .await;
    let (enterprise, _) = account(
        &app.client,
        &node,
        "e@equip.cn",
        "enterprise",
        "陕西精密装备有限公司",
        "enterprise",
    )
    .await;
    let registrar = app.registrar_token().await;
    publish(
        &app.client,
        &node,
        &researcher,
        &registrar,
        "精密机床多节点热误差补偿",
    )
    .await;
    let (status, demand) = call(
        &app.client,
        app.url("/api/v1/demands"),
        &json!({
            "title": "数控机床热误差在线补偿",
            "description": "我公司精密机床加工时热变形导致尺寸超差，希望引进多节点热误差补偿技术。",
            "keywords": ["多节点", "热误差补偿"],
            "industry_codes": ["high_end_equipment", "artificial_intelligence"],
            "tech_field": "advanced_manufacturing",
            "demand_type": "result_introduction"
        }),
        Some(&enterprise),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{demand}");
    let demand_id = demand["id"].as_str().expect("id");
    for (path, token) in [
        (format!("/api/v1/demands/{demand_id}/submit"), &enterprise),
        (format!("/api/v1/demands/{demand_id}/review"), &registrar),
    ] {
        let (status, answer) = call(
            &app.client,
            app.url(&path),
            &json!({"decision": "approve"}),
            Some(token),
        )
        .await;
        assert!(status.is_success(), "{path}: {answer}");
    }

    let for_demand = eventually(&app, &format!("/api/v1/demands/{demand_id}/matches"), |a| {
        a["items"].as_array().is_some_and(|i| !i.is_empty())
    })
    .await;
    let result = &for_demand["items"][0]["result"];
    assert_eq!(result["industry_codes"], json!(["high_end_equipment"]));
    assert_eq!(
        result["industries"],
        json!([{"code": "high_end_equipment", "label": "高端装备"}])
    );

    let result_id = result["id"].as_str().expect("id");
    let for_result = eventually(&app, &format!("/api/v1/results/{result_id}/matches"), |a| {
        a["items"].as_array().is_some_and(|i| !i.is_empty())
    })
    .await;
    let matched = &for_result["items"][0]["demand"];
    assert_eq!(matched["id"], demand_id);
    assert_eq!(
        matched["industries"],
        json!([
            {"code": "high_end_equipment", "label": "高端装备"},
            {"code": "artificial_intelligence", "label": "人工智能"},
        ])
    );
    assert_eq!(
        matched["industry_codes"],
        json!(["high_end_equipment", "artificial_intelligence"])
    );
}
