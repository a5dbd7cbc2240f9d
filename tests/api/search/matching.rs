//! Matching demands with results (and back), and the possible duplicates a submission lists:
//! what is shared must say what both listings are about.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{eventually, ids, market, publish, result};
use crate::helpers::spawn_app;

#[tokio::test]
async fn demands_and_results_match_with_reasons() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let vision = publish(
        &app,
        &m,
        &result(
            "冲压件表面缺陷的机器视觉在线检测系统",
            "面向冲压件和轴类零件的机器视觉缺陷检测，识别划伤、压痕和毛刺，漏检率低于千分之一。",
            "artificial_intelligence",
        ),
    )
    .await;
    publish(
        &app,
        &m,
        &result(
            "动力电池热失控预警装置",
            "基于多传感器融合的动力电池热失控早期预警，预警提前量大于五分钟。",
            "new_materials_new_energy",
        ),
    )
    .await;
    let enterprise = app
        .register_with_new_org(
            "e@stamping.cn",
            "enterprise",
            "西安冲压件有限公司",
            "enterprise",
        )
        .await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let demand: Value = app
        .post_json(
            "/api/v1/demands",
            &json!({
                "title": "冲压件表面划伤的在线检测",
                "description": "我公司冲压件表面划伤和压痕依靠人工目检，漏检严重，希望引进机器视觉缺陷检测方案。",
                "keywords": ["机器视觉", "缺陷检测"],
                "industry_codes": ["artificial_intelligence"],
                "tech_field": "electronic_information",
                "demand_type": "result_introduction"
            }),
            Some(&enterprise),
        )
        .await
        .json()
        .await
        .expect("json");
    let demand_id = demand["id"].as_str().expect("id").to_owned();
    // While it is a draft, only its poster (and the registrar) can ask for its matches.
    assert_eq!(
        app.get(&format!("/api/v1/demands/{demand_id}/matches"), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let (_, _) = eventually(&app, "q=冲压件", |a| a["total"] == 1).await;
    let matches: Value = app
        .get(
            &format!("/api/v1/demands/{demand_id}/matches?limit=5"),
            Some(&enterprise),
        )
        .await
        .json()
        .await
        .expect("json");
    let best = &matches["items"][0];
    assert_eq!(best["result"]["id"], vision.as_str(), "{matches}");
    let reasons: Vec<&str> = best["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(reasons.contains(&"同属人工智能产业"), "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("共同关键词：") && r.contains("机器视觉")),
        "{reasons:?}"
    );
    assert!(
        best["matched_terms"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );

    // And back: the result finds the demand once it is published.
    app.post_json(
        &format!("/api/v1/demands/{demand_id}/submit"),
        &json!({}),
        Some(&enterprise),
    )
    .await;
    app.post_json(
        &format!("/api/v1/demands/{demand_id}/review"),
        &json!({"decision": "approve"}),
        Some(&m.registrar),
    )
    .await;
    let (_, _) = eventually(&app, "q=划伤&kind=demand", |a| a["total"] == 1).await;
    let back: Value = app
        .get(&format!("/api/v1/results/{vision}/matches"), None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        back["items"][0]["demand"]["id"],
        demand_id.as_str(),
        "{back}"
    );
    assert_eq!(
        app.get(&format!("/api/v1/results/{vision}/matches?limit=0"), None)
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn submitting_a_near_duplicate_lists_the_published_original() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let body = result(
        "基于机器视觉的PCB缺陷检测系统",
        "采用深度学习的印制电路板表面缺陷检测，漏检率低于千分之一，适用于SMT产线。",
        "artificial_intelligence",
    );
    let original = publish(&app, &m, &body).await;
    let (_, _) = eventually(&app, "q=印制电路板", |a| ids(a).contains(&original)).await;
    let copy: Value = app
        .post_json("/api/v1/results", &body, Some(&m.researcher))
        .await
        .json()
        .await
        .expect("json");
    let submitted: Value = app
        .post_json(
            &format!(
                "/api/v1/results/{}/submit",
                copy["id"].as_str().expect("id")
            ),
            &json!({}),
            Some(&m.researcher),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(
        submitted["possible_duplicates"][0]["listing"]["id"],
        original.as_str(),
        "{submitted}"
    );
    // Something unrelated has none.
    let other: Value = app
        .post_json(
            "/api/v1/results",
            &result(
                "黄土高原苹果园节水灌溉",
                "基于土壤墒情监测的滴灌决策，节水百分之三十。",
                "food_biomedicine",
            ),
            Some(&m.researcher),
        )
        .await
        .json()
        .await
        .expect("json");
    let submitted: Value = app
        .post_json(
            &format!(
                "/api/v1/results/{}/submit",
                other["id"].as_str().expect("id")
            ),
            &json!({}),
            Some(&m.researcher),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(submitted["possible_duplicates"], json!([]));
}
