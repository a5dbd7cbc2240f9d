//! What the indicators count (issue 15, item 18): brokers credited in the year, the target only
//! for the measure and direction it is set for, 西咸新区 as part of Xi'an, and the zone breakdown.

use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::{Value, json};
use techmarket::services::accounts::sessions;
use techmarket::services::{contracts, indicators};

use crate::helpers::json_of;
use crate::helpers::market::{Market, contract_body, market, submit, value};
use crate::helpers::{TestApp, spawn_app};

/// Submits `body` as the market's broker (who is then credited) and registers it on `on`.
async fn registered(app: &TestApp, m: &Market, body: &Value, on: NaiveDate) -> Value {
    let created = json_of(
        submit(app, &m.broker, None, body).await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().expect("id").parse().expect("uuid");
    let registrar = sessions::authenticate(app.db(), &m.registrar)
        .await
        .expect("registrar");
    let contract = contracts::register(app.db(), &registrar, id, "01", on)
        .await
        .expect("register");
    json!({"registration_no": contract.registration_no})
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// A new organization of `kind` in `region` and `zone`; returns its id.
async fn organization(
    app: &TestApp,
    email: &str,
    name: &str,
    region: &str,
    zone: Option<&str>,
) -> String {
    let answer = app
        .register(&json!({
            "email": email,
            "password": "a-long-password-1",
            "display_name": "测试用户",
            "role": "enterprise",
            "organization": {"name": name, "kind": "enterprise", "region_code": region, "zone": zone}
        }))
        .await;
    answer["user"]["organization_id"]
        .as_str()
        .expect("org")
        .to_owned()
}

async fn summary_brokers(app: &TestApp, year: i32) -> Value {
    let summary = json_of(
        app.get(&format!("/api/v1/indicators/summary?year={year}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    summary["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .find(|i| i["code"] == "brokers")
        .cloned()
        .expect("brokers")
}

#[tokio::test]
async fn brokers_are_those_credited_with_a_contract_registered_in_the_year() {
    let app = spawn_app().await;
    let m = market(&app).await;
    // The broker's account is created today; its contract was registered in 2021.
    registered(&app, &m, &contract_body(&m, 100_000, 0), day(2021, 6, 1)).await;
    registered(&app, &m, &contract_body(&m, 200_000, 0), day(2021, 9, 1)).await;
    let brokers = summary_brokers(&app, 2021).await;
    assert_eq!(brokers["actual"], json!(1), "{brokers}");
    assert_eq!(brokers["target"], json!(150));
    assert!(
        brokers["basis"]
            .as_str()
            .is_some_and(|b| b.contains("credited")),
        "{brokers}"
    );
    // A year without a registered contract credits nobody, whenever the account was made.
    let this_year = chrono::Datelike::year(&techmarket::kernel::dates::today_in_china());
    assert_eq!(summary_brokers(&app, this_year).await["actual"], json!(0));
    assert_eq!(summary_brokers(&app, 2022).await["actual"], json!(0));
}

#[tokio::test]
async fn the_target_applies_only_to_the_outflow_contract_total() {
    let app = spawn_app().await;
    let m = market(&app).await;
    registered(
        &app,
        &m,
        &contract_body(&m, 100_000, 40_000),
        day(2021, 3, 1),
    )
    .await;
    let headline = value(&app, "year=2021").await;
    assert_eq!(headline["target_fen"], json!(15_000_000_000_000i64));
    assert!(headline["progress"].is_number());
    for query in [
        "year=2021&measure=technical",
        "year=2021&direction=inflow",
        "year=2021&direction=inflow&measure=technical",
    ] {
        let answer = value(&app, query).await;
        assert_eq!(answer["target_fen"], Value::Null, "{query}");
        assert_eq!(answer["progress"], Value::Null, "{query}");
    }
    for (query, has_target) in [
        ("year=2021", true),
        ("year=2021&direction=inflow", false),
        ("year=2021&measure=technical", false),
    ] {
        let response = app
            .get(
                &format!("/api/v1/indicators/transaction-value.svg?{query}"),
                None,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let svg = response.text().await.expect("svg");
        assert_eq!(svg.contains("目标"), has_target, "{query}: {svg}");
    }
}

#[tokio::test]
async fn xixian_sellers_count_for_xian_and_register_with_the_xian_prefix() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let xixian = organization(
        &app,
        "x@xixian.test",
        "西咸某科技公司",
        "610402",
        Some("xixian"),
    )
    .await;
    let mut body = contract_body(&m, 300_000, 0);
    body["seller"] = json!({"organization_id": xixian, "name": "西咸某科技公司", "nature_code": "150", "region_code": "610402"});
    let number = registered(&app, &m, &body, day(2022, 4, 1)).await;
    assert!(
        number["registration_no"]
            .as_str()
            .is_some_and(|n| n.starts_with("20226101")),
        "{number}"
    );
    // A 咸阳 seller outside 西咸新区 (no organization here) stays outside Xi'an.
    let mut other = contract_body(&m, 7_000, 0);
    other["seller"] = json!({"name": "咸阳某公司", "nature_code": "150", "region_code": "610402"});
    let number = registered(&app, &m, &other, day(2022, 5, 1)).await;
    assert!(
        number["registration_no"]
            .as_str()
            .is_some_and(|n| n.starts_with("20226104")),
        "{number}"
    );
    let outflow = value(&app, "year=2022").await;
    assert_eq!(
        (outflow["count"].as_i64(), outflow["value_fen"].as_i64()),
        (Some(1), Some(300_000))
    );
    let districts = value(&app, "year=2022&by=district").await;
    assert_eq!(districts["groups"][0]["key"], "xixian", "{districts}");
    assert_eq!(districts["groups"][0]["label"], "西咸新区");
    // Roll-ups written before this definition are brought up to it by a rebuild.
    let db = app.db();
    use sea_orm::ConnectionTrait;
    db.execute_unprepared("DELETE FROM indicator_rollups WHERE dimension IN ('zone', 'broker')")
        .await
        .expect("delete");
    assert!(indicators::verify(db).await.expect("verify").mismatched > 0);
    assert!(indicators::rebuild(db).await.expect("rebuild").mismatched > 0);
    assert_eq!(indicators::verify(db).await.expect("verify").mismatched, 0);
}

#[tokio::test]
async fn the_zone_breakdown_groups_the_xian_party_by_development_zone() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let gaoxin = organization(
        &app,
        "g@gaoxin.test",
        "高新某公司",
        "610113",
        Some("gaoxin"),
    )
    .await;
    let mut body = contract_body(&m, 500_000, 100_000);
    body["seller"]["organization_id"] = json!(gaoxin);
    body["seller"]["name"] = json!("高新某公司");
    registered(&app, &m, &body, day(2023, 2, 1)).await;
    registered(&app, &m, &contract_body(&m, 20_000, 0), day(2023, 7, 1)).await;
    let zones = value(&app, "year=2023&by=zone").await;
    let groups: Vec<(String, String, i64)> = zones["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap_or_default().to_owned(),
                g["label"].as_str().unwrap_or_default().to_owned(),
                g["value_fen"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        vec![
            (
                "gaoxin".to_owned(),
                "西安高新技术产业开发区".to_owned(),
                500_000
            ),
            ("none".to_owned(), "未入园区".to_owned(), 20_000),
        ]
    );
    assert_eq!(zones["value_fen"], json!(520_000));
    let response = app
        .client
        .get(app.url("/api/v1/indicators/export?year=2023"))
        .bearer_auth(&m.registrar)
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), StatusCode::OK);
    let csv = response.text().await.expect("csv");
    assert!(
        csv.contains("园区,技术输出,gaoxin,西安高新技术产业开发区,1,5000.00"),
        "{csv}"
    );
    assert!(
        csv.contains("园区,技术输出,none,未入园区,1,200.00"),
        "{csv}"
    );
    let response = app
        .client
        .get(app.url("/api/v1/indicators/export?year=2023&format=xlsx"))
        .bearer_auth(&m.registrar)
        .send()
        .await
        .expect("export");
    let body = response.bytes().await.expect("xlsx").to_vec();
    use calamine::Reader;
    let workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(body)).expect("xlsx");
    assert!(workbook.sheet_names().iter().any(|n| n == "按园区"));
}
