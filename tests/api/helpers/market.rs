//! A small market of accounts for the contract, deal and indicator tests, and the accounts and
//! listings the multi-node tests make through a node's address.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::process::call;
use super::{TestApp, json_of};

/// The people of a small market: a university researcher (seller side), an enterprise (buyer
/// side), a broker, an outsider enterprise, and the registrar.
pub struct Market {
    pub seller: String,
    pub seller_org: String,
    pub buyer: String,
    pub buyer_org: String,
    pub broker: String,
    pub broker_id: String,
    pub outsider: String,
    pub registrar: String,
}

/// An account of a new organization; its token and user.
pub async fn member(
    app: &TestApp,
    email: &str,
    role: &str,
    org: &str,
    kind: &str,
) -> (String, Value) {
    let answer = app.register_with_new_org(email, role, org, kind).await;
    (
        answer["token"].as_str().expect("token").to_owned(),
        answer["user"].clone(),
    )
}

pub async fn market(app: &TestApp) -> Market {
    let (seller, seller_user) = member(
        app,
        "s@xjtu.edu.cn",
        "researcher",
        "西安交通大学",
        "university",
    )
    .await;
    let (buyer, buyer_user) = member(
        app,
        "b@corp.test",
        "enterprise",
        "陕西某装备有限公司",
        "enterprise",
    )
    .await;
    let (broker, broker_user) = member(
        app,
        "k@agency.test",
        "broker",
        "西安技术转移中心",
        "transfer_agency",
    )
    .await;
    let (outsider, _) = member(app, "o@other.test", "enterprise", "无关企业", "enterprise").await;
    Market {
        seller,
        seller_org: seller_user["organization_id"]
            .as_str()
            .expect("org")
            .to_owned(),
        buyer,
        buyer_org: buyer_user["organization_id"]
            .as_str()
            .expect("org")
            .to_owned(),
        broker,
        broker_id: broker_user["id"].as_str().expect("id").to_owned(),
        outsider,
        registrar: app.registrar_token().await,
    }
}

pub fn contract_body(m: &Market, total: i64, non_technical: i64) -> Value {
    json!({
        "project_name": "高性能伺服电机控制技术开发",
        "contract_type": "development",
        "sub_type": "commissioned_development",
        "seller": {"organization_id": m.seller_org, "name": "西安交通大学", "nature_code": "022", "region_code": "610113"},
        "buyer": {"organization_id": m.buyer_org, "name": "陕西某装备有限公司", "nature_code": "150", "region_code": "610116"},
        "signed_on": "2026-03-02",
        "valid_from": "2026-03-02",
        "valid_to": "2027-03-01",
        "total_amount_fen": total,
        "non_technical_fen": non_technical,
        "tech_field": "advanced_manufacturing",
        "industry_codes": ["high_end_equipment"],
        "ip_types": ["invention_patent"]
    })
}

pub async fn submit(
    app: &TestApp,
    token: &str,
    key: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/api/v1/contracts"))
        .bearer_auth(token)
        .json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.expect("request")
}

pub async fn value(app: &TestApp, query: &str) -> Value {
    json_of(
        app.get(
            &format!("/api/v1/indicators/transaction-value?{query}"),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await
}

/// Registers an account with a new organization in Xi'an; returns its token and user.
pub async fn account(
    client: &reqwest::Client,
    node: &str,
    email: &str,
    role: &str,
    org: &str,
    kind: &str,
) -> (String, Value) {
    let (status, body) = call(
        client,
        format!("{node}/api/v1/auth/register"),
        &json!({
            "email": email, "password": "a-long-password-1", "display_name": "节点测试",
            "role": role,
            "organization": {"name": org, "kind": kind, "region_code": "610113"}
        }),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["token"].as_str().expect("token").to_owned(),
        body["user"].clone(),
    )
}

/// Publishes a result through `node`: created by the researcher, approved by the registrar.
pub async fn publish(
    client: &reqwest::Client,
    node: &str,
    researcher: &str,
    registrar: &str,
    title: &str,
) {
    let (status, created) = call(
        client,
        format!("{node}/api/v1/results"),
        &json!({
            "title": title,
            "summary": format!("{title}，已完成中试验证。"),
            "keywords": ["多节点"],
            "industry_codes": ["high_end_equipment"],
            "tech_field": "advanced_manufacturing",
            "maturity_stage": "pilot_scale",
            "cooperation_modes": ["licence"]
        }),
        Some(researcher),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id");
    let (status, _) = call(
        client,
        format!("{node}/api/v1/results/{id}/submit"),
        &json!({}),
        Some(researcher),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        client,
        format!("{node}/api/v1/results/{id}/review"),
        &json!({"decision": "approve"}),
        Some(registrar),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}
