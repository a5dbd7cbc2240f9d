//! Qualifications the registrar records, and the summary's organization and local-transformation
//! counts that follow from them and from the contracts.

use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::{Value, json};
use techmarket::services::accounts::sessions;
use techmarket::services::{contracts, indicators};

use crate::helpers::json_of;
use crate::helpers::market::{Market, contract_body, market, submit};
use crate::helpers::{TestApp, assert_problem, error_fields, spawn_app};

async fn record(app: &TestApp, m: &Market, org: &str, body: Value) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/organizations/{org}/qualifications"),
        &body,
        Some(&m.registrar),
    )
    .await
}

/// `actual` of every indicator of a year's summary.
async fn actuals(app: &TestApp, year: i32) -> Value {
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
        .map(|i| {
            (
                i["code"].as_str().expect("code").to_owned(),
                i["actual"].clone(),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[tokio::test]
async fn recorded_qualifications_feed_the_summary_and_withdrawal_keeps_the_past() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let shanghai = app
        .register(&json!({
            "email": "sh@corp.test", "password": "a-long-password-1", "display_name": "上海",
            "role": "enterprise",
            "organization": {"name": "上海某公司", "kind": "enterprise", "region_code": "310104"}
        }))
        .await["user"]["organization_id"]
        .as_str()
        .expect("org")
        .to_owned();
    let broker_org = json_of(app.get("/api/v1/me", Some(&m.broker)).await, StatusCode::OK).await
        ["organization_id"]
        .as_str()
        .expect("broker org")
        .to_owned();

    // Nothing recorded: the organization counts are zero, not missing.
    let before = actuals(&app, 2022).await;
    for code in [
        "high_tech_enterprises",
        "tech_smes",
        "rd_platforms",
        "transfer_agencies",
    ] {
        assert_eq!(before[code], 0, "{code}");
    }

    let high_tech = json_of(
        record(
            &app,
            &m,
            &m.buyer_org,
            json!({"qualification": "high_tech_enterprise", "certificate_no": "GR202161000123",
                   "valid_from": "2021-10-01", "valid_to": "2024-09-30"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(high_tech["label"], "国家高新技术企业");
    for (org, body) in [
        // A second, overlapping certificate of the same enterprise counts once.
        (
            m.buyer_org.as_str(),
            json!({"qualification": "high_tech_enterprise", "valid_from": "2022-01-01"}),
        ),
        (
            m.buyer_org.as_str(),
            json!({"qualification": "tech_sme", "valid_from": "2022-01-01", "valid_to": "2022-12-31"}),
        ),
        (
            m.seller_org.as_str(),
            json!({"qualification": "rd_platform", "valid_from": "2020-06-01"}),
        ),
        (
            broker_org.as_str(),
            json!({"qualification": "transfer_agency", "valid_from": "2019-01-01"}),
        ),
        // Outside Xi'an: recorded, never counted.
        (
            shanghai.as_str(),
            json!({"qualification": "high_tech_enterprise", "valid_from": "2020-01-01"}),
        ),
    ] {
        json_of(record(&app, &m, org, body).await, StatusCode::CREATED).await;
    }
    let y2022 = actuals(&app, 2022).await;
    for code in [
        "high_tech_enterprises",
        "tech_smes",
        "rd_platforms",
        "transfer_agencies",
    ] {
        assert_eq!(y2022[code], 1, "{code}: {y2022}");
    }
    let y2021 = actuals(&app, 2021).await;
    assert_eq!(
        (&y2021["high_tech_enterprises"], &y2021["tech_smes"]),
        (&json!(1), &json!(0))
    );
    let y2023 = actuals(&app, 2023).await;
    assert_eq!(y2023["tech_smes"], 0, "expired at the end of 2022");

    // Withdrawing the platform in 2023 changes 2023 and leaves 2022 as it was.
    let platforms = json_of(
        app.get(
            &format!("/api/v1/organizations/{}/qualifications", m.seller_org),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let platform_id = platforms[0]["id"].as_str().expect("id").to_owned();
    let withdraw = format!(
        "/api/v1/organizations/{}/qualifications/{platform_id}/withdraw",
        m.seller_org
    );
    let body = json!({"withdrawn_on": "2023-06-01"});
    assert_problem(
        app.post_json(&withdraw, &body, Some(&m.seller)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let withdrawn = json_of(
        app.post_json(&withdraw, &body, Some(&m.registrar)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(withdrawn["withdrawn_on"], "2023-06-01");
    assert_problem(
        app.post_json(&withdraw, &body, Some(&m.registrar)).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(actuals(&app, 2022).await["rd_platforms"], 1);
    assert_eq!(actuals(&app, 2023).await["rd_platforms"], 0);
}

#[tokio::test]
async fn only_the_registrar_records_and_bad_fields_are_named() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let path = format!("/api/v1/organizations/{}/qualifications", m.buyer_org);
    let good = json!({"qualification": "tech_sme", "valid_from": "2022-01-01"});
    for token in [&m.buyer, &m.broker, &m.seller] {
        assert_problem(
            app.post_json(&path, &good, Some(token)).await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    assert_problem(
        app.post_json(&path, &good, None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    for (body, field) in [
        (
            json!({"qualification": "nobel_prize", "valid_from": "2022-01-01"}),
            "qualification",
        ),
        (
            json!({"qualification": "tech_sme", "valid_from": "2022-01-01", "valid_to": "2021-12-31"}),
            "valid_to",
        ),
        (
            json!({"qualification": "tech_sme", "valid_from": "2022-01-01", "certificate_no": ""}),
            "certificate_no",
        ),
        (
            json!({"qualification": "tech_sme", "valid_from": "2022-02-30"}),
            "valid_from",
        ),
    ] {
        let problem = assert_problem(
            app.post_json(&path, &body, Some(&m.registrar)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&problem), vec![field], "{body}");
    }
    assert_problem(
        app.post_json(
            "/api/v1/organizations/0190f0a0-0000-7000-8000-000000000000/qualifications",
            &good,
            Some(&m.registrar),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let listed = json_of(app.get(&path, None).await, StatusCode::OK).await;
    assert_eq!(listed, json!([]), "nothing half-written");
}

/// Registers a contract of 2022 between the market's seller and `buyer_region`, linking `result`.
async fn register_2022(app: &TestApp, m: &Market, result: Option<&str>, buyer_region: &str) {
    let mut body = contract_body(m, 1_000_000, 0);
    body["result_id"] = json!(result);
    body["buyer"]["region_code"] = json!(buyer_region);
    let created = json_of(
        submit(app, &m.broker, None, &body).await,
        StatusCode::CREATED,
    )
    .await;
    let registrar = sessions::authenticate(app.db(), &m.registrar)
        .await
        .expect("registrar");
    let id = created["id"].as_str().expect("id").parse().expect("uuid");
    let on = NaiveDate::from_ymd_opt(2022, 5, 20).expect("date");
    contracts::register(app.db(), &registrar, id, "01", on)
        .await
        .expect("register");
}

#[tokio::test]
async fn local_transformation_counts_contracts_of_a_listed_result_within_xian() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let created = json_of(
        app.post_json(
            "/api/v1/results",
            &json!({
                "title": "伺服电机高精度控制算法",
                "summary": "面向数控机床的伺服电机控制算法，定位精度提高一倍。",
                "keywords": ["伺服电机"],
                "industry_codes": ["high_end_equipment"],
                "tech_field": "advanced_manufacturing",
                "maturity_stage": "pilot_scale",
                "cooperation_modes": ["licence"]
            }),
            Some(&m.seller),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let result = created["id"].as_str().expect("id").to_owned();
    register_2022(&app, &m, Some(&result), "610116").await; // counts
    register_2022(&app, &m, Some(&result), "310104").await; // buyer outside Xi'an
    register_2022(&app, &m, None, "610116").await; // no listed result
    assert_eq!(
        actuals(&app, 2022).await["local_transformation_projects"],
        1
    );

    // The roll-ups are reproducible from the contracts; a corrupted one is found and rebuilt.
    let check = indicators::verify(app.db()).await.expect("verify");
    assert_eq!(check.mismatched, 0);
    assert!(check.rows > 0);
    use sea_orm::ConnectionTrait;
    app.db()
        .execute_unprepared(
            "UPDATE indicator_rollups SET total_fen = total_fen + 1 WHERE dimension = 'tech_field'",
        )
        .await
        .expect("corrupt");
    assert_eq!(
        indicators::verify(app.db())
            .await
            .expect("verify")
            .mismatched,
        2,
        "one tech_field row per direction"
    );
    assert_eq!(
        indicators::rebuild(app.db())
            .await
            .expect("rebuild")
            .mismatched,
        2
    );
    assert_eq!(
        indicators::verify(app.db())
            .await
            .expect("verify")
            .mismatched,
        0
    );
    assert_eq!(
        actuals(&app, 2022).await["local_transformation_projects"],
        1
    );
}
