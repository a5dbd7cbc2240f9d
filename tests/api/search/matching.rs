//! Matching demands with results (and back), and the possible duplicates a submission lists:
//! what is shared must say what both listings are about.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{eventually, ids, market, publish, result};
use crate::helpers::{TestApp, spawn_app};

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

/// A result of the new-energy and vehicle fixtures below.
fn listing(title: &str, summary: &str, keywords: &[&str], industry: &str, field: &str) -> Value {
    json!({
        "title": title,
        "summary": summary,
        "keywords": keywords,
        "industry_codes": [industry],
        "tech_field": field,
        "maturity_stage": "pilot_scale",
        "cooperation_modes": ["licence"]
    })
}

/// Submits a new result and returns the answer.
async fn submit_new(app: &TestApp, token: &str, body: &Value) -> Value {
    let created: Value = app
        .post_json("/api/v1/results", body, Some(token))
        .await
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id");
    let response = app
        .post_json(
            &format!("/api/v1/results/{id}/submit"),
            &json!({}),
            Some(token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

fn duplicate_ids(submitted: &Value) -> Vec<&str> {
    submitted["possible_duplicates"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|d| d["listing"]["id"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_copy_without_its_details_is_a_possible_duplicate_and_a_neighbour_is_not() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let mut original = listing(
        "锂离子电池储能舱热失控多参量早期预警装置",
        "面向电化学储能舱的热失控早期预警装置，融合一氧化碳、氢气、温度与烟雾多参量探测，\
         在电池热失控前约8分钟发出预警，误报率低于千分之一。",
        &["储能安全", "热失控", "气体探测"],
        "new_materials_new_energy",
        "new_energy",
    );
    original["details"] = json!(
        "装置由分布式气体探测单元、边缘计算网关和云端预警平台组成，采用多参量融合算法识别热失控\
         前兆。已在三座储能电站完成试点，累计运行超过一万小时，可与站内消防系统联动，触发全氟\
         己酮灭火。合作方需具备储能系统集成资质，双方可共建示范工程，优先面向陕北新能源基地。"
    );
    let original_id = publish(&app, &m, &original).await;
    let (_, _) = eventually(&app, "q=", |a| a["total"] == 1).await;

    // Another result on the same subject, in other words: not a duplicate.
    let neighbour = listing(
        "电化学储能电站电池热失控早期预警与安全评估",
        "针对储能电站磷酸铁锂电池热失控风险，建立基于电压、温度与产气特征的早期预警模型和电站\
         安全评估方法，预警时间提前到热失控前10分钟以上，已在两座电站应用。",
        &["储能安全", "热失控预警", "安全评估"],
        "new_materials_new_energy",
        "new_energy",
    );
    let submitted = submit_new(&app, &m.researcher, &neighbour).await;
    assert_eq!(submitted["possible_duplicates"], json!([]), "{submitted}");
    let neighbour_id = submitted["id"].as_str().expect("id").to_owned();
    let review = app
        .post_json(
            &format!("/api/v1/results/{neighbour_id}/review"),
            &json!({"decision": "approve"}),
            Some(&m.registrar),
        )
        .await;
    assert_eq!(review.status(), StatusCode::OK);
    let (_, _) = eventually(&app, "q=", |a| a["total"] == 2).await;

    // The original's title and summary without its details: the same result.
    let mut copy = original.clone();
    copy["details"] = Value::Null;
    let submitted = submit_new(&app, &m.researcher, &copy).await;
    assert_eq!(
        duplicate_ids(&submitted),
        vec![original_id.as_str()],
        "{submitted}"
    );
    let similarity = submitted["possible_duplicates"][0]["similarity"]
        .as_f64()
        .unwrap_or_default();
    assert!(similarity > 0.95, "{submitted}");
}
