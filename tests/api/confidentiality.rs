//! No endpoint shows another organization's draft, confidential details, deal or contract: every
//! GET route of the OpenAPI document is called, as an outsider and anonymously, with the ids of
//! those things in every path parameter, and no answer may contain any of their marked texts.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::json_of;
use crate::helpers::market::{contract_body, market, submit};
use crate::helpers::spawn_app;

const CONFIDENTIAL: &str = "机密工艺参数甲";
const DRAFT: &str = "未公开草稿乙";
const CONTRACT: &str = "保密合同丙";
const DEAL: &str = "撮合秘密丁";

async fn result(app: &TestApp, token: &str, title: &str, confidential: &str) -> String {
    let created = json_of(
        app.post_json(
            "/api/v1/results",
            &json!({
                "title": title,
                "summary": "面向数控机床的伺服电机控制算法，定位精度提高一倍。",
                "confidential_details": confidential,
                "keywords": ["伺服电机"],
                "industry_codes": ["high_end_equipment"],
                "tech_field": "advanced_manufacturing",
                "maturity_stage": "pilot_scale",
                "cooperation_modes": ["licence"]
            }),
            Some(token),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    created["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn no_get_route_shows_an_outsider_what_is_not_theirs() {
    let app = spawn_app().await;
    let m = market(&app).await;
    // A published result whose confidential details stay with its organization.
    let published = result(&app, &m.seller, "伺服电机高精度控制算法", CONFIDENTIAL).await;
    for (path, token) in [
        (format!("/api/v1/results/{published}/submit"), &m.seller),
        (format!("/api/v1/results/{published}/review"), &m.registrar),
    ] {
        let body = json!({"decision": "approve"});
        assert_eq!(
            app.post_json(&path, &body, Some(token)).await.status(),
            StatusCode::OK
        );
    }
    let draft = result(&app, &m.seller, DRAFT, CONFIDENTIAL).await;
    let mut body = contract_body(&m, 5_000_000, 0);
    body["project_name"] = json!(CONTRACT);
    let contract = json_of(
        submit(&app, &m.broker, None, &body).await,
        StatusCode::CREATED,
    )
    .await;
    let deal = json_of(
        app.post_json(
            "/api/v1/deals",
            &json!({"title": DEAL, "seller_org_id": m.seller_org, "buyer_org_id": m.buyer_org}),
            Some(&m.broker),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let me = json_of(app.get("/api/v1/me", Some(&m.seller)).await, StatusCode::OK).await;
    let ids: Vec<String> = [
        published.clone(),
        draft,
        contract["id"].as_str().expect("id").to_owned(),
        deal["id"].as_str().expect("id").to_owned(),
        m.seller_org.clone(),
        m.buyer_org.clone(),
        m.broker_id.clone(),
        me["id"].as_str().expect("id").to_owned(),
    ]
    .into();
    // The owner does see them: the markers are real.
    let own = app
        .get(&format!("/api/v1/results/{published}"), Some(&m.seller))
        .await
        .text()
        .await
        .expect("text");
    assert!(own.contains(CONFIDENTIAL));

    let document = json_of(app.get("/api/openapi.json", None).await, StatusCode::OK).await;
    let paths = document["paths"].as_object().expect("paths");
    let mut calls = 0;
    for (template, operations) in paths {
        if operations.get("get").is_none() || template.ends_with("/export") {
            continue;
        }
        let parameters = template.matches('{').count();
        let candidates: Vec<String> = if parameters == 0 {
            vec![template.clone()]
        } else {
            // Every parameter gets the same id: each path is tried with each marked thing.
            ids.iter()
                .map(|id| {
                    let mut path = template.clone();
                    while let (Some(open), Some(close)) = (path.find('{'), path.find('}')) {
                        path.replace_range(open..=close, id);
                    }
                    path
                })
                .collect()
        };
        for path in candidates {
            for token in [Some(m.outsider.as_str()), None] {
                let response = app.get(&path, token).await;
                let status = response.status();
                let text = response.text().await.expect("text");
                calls += 1;
                assert!(status.as_u16() < 500, "{path}: {status}");
                for marker in [CONFIDENTIAL, DRAFT, CONTRACT, DEAL] {
                    assert!(
                        !text.contains(marker),
                        "{path} ({}) shows {marker}: {text}",
                        if token.is_some() {
                            "outsider"
                        } else {
                            "anonymous"
                        }
                    );
                }
            }
        }
    }
    assert!(calls > 100, "only {calls} calls");
    // Search and the catalogue do not leak either (they are in the sweep too, but with no text).
    for path in [
        "/api/v1/search?q=伺服电机",
        "/api/v1/results?per_page=100",
        "/api/v1/contracts",
        "/api/v1/deals",
    ] {
        let text = app
            .get(path, Some(&m.outsider))
            .await
            .text()
            .await
            .expect("text");
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        for marker in [CONFIDENTIAL, DRAFT, CONTRACT, DEAL] {
            assert!(!text.contains(marker), "{path} shows {marker}: {value}");
        }
    }
}
