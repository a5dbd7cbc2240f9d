//! Deals, technology contracts, registration numbers and the transaction-value indicator.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::{Value, json};
use techmarket::services::accounts::sessions;
use techmarket::services::contracts;

use crate::helpers::json_of;
use crate::helpers::market::{contract_body, market, member, submit, value};
use crate::helpers::{assert_problem, error_fields, spawn_app};

#[tokio::test]
async fn a_broker_takes_a_deal_from_introduction_to_a_registered_contract() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let deal = json_of(
        app.post_json(
            "/api/v1/deals",
            &json!({"title": "伺服电机控制技术对接", "seller_org_id": m.seller_org,
                    "buyer_org_id": m.buyer_org, "expected_amount_fen": 50_000_000}),
            Some(&m.broker),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(deal["stage"], "intent");
    let deal_id = deal["id"].as_str().expect("id").to_owned();
    let stage = |stage: &str| json!({"stage": stage, "note": format!("进入{stage}")});
    // The buyer may read the deal but not move it; an outsider cannot see it at all.
    let moved = app
        .post_json(
            &format!("/api/v1/deals/{deal_id}/stage"),
            &stage("negotiating"),
            Some(&m.buyer),
        )
        .await;
    assert_problem(moved, StatusCode::FORBIDDEN).await;
    let hidden = app
        .get(&format!("/api/v1/deals/{deal_id}"), Some(&m.outsider))
        .await;
    assert_problem(hidden, StatusCode::NOT_FOUND).await;
    for next in ["negotiating", "signed"] {
        let moved = app
            .post_json(
                &format!("/api/v1/deals/{deal_id}/stage"),
                &stage(next),
                Some(&m.broker),
            )
            .await;
        assert_eq!(json_of(moved, StatusCode::OK).await["stage"], next);
    }
    let backwards = app
        .post_json(
            &format!("/api/v1/deals/{deal_id}/stage"),
            &stage("negotiating"),
            Some(&m.broker),
        )
        .await;
    assert_problem(backwards, StatusCode::CONFLICT).await;

    let mut body = contract_body(&m, 80_000_000, 5_000_000);
    body["deal_id"] = json!(deal_id);
    body["broker_id"] = json!(m.broker_id);
    let contract = json_of(
        submit(&app, &m.seller, Some("k-1"), &body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(contract["status"], "submitted");
    assert_eq!(contract["technical_amount_fen"], 75_000_000);
    let id = contract["id"].as_str().expect("id").to_owned();

    // Only the registrar registers.
    let path = format!("/api/v1/contracts/{id}/register");
    assert_problem(
        app.post_json(&path, &json!({}), Some(&m.seller)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let registered = json_of(
        app.post_json(&path, &json!({}), Some(&m.registrar)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(registered["status"], "registered");
    let number = registered["registration_no"].as_str().expect("number");
    let year = techmarket::kernel::dates::today_in_china()
        .format("%Y")
        .to_string();
    assert_eq!(number, format!("{year}61010{}", "1000001"));
    assert_eq!(number.len(), 16);
    // Registering twice is a conflict, not a second number.
    assert_problem(
        app.post_json(&path, &json!({}), Some(&m.registrar)).await,
        StatusCode::CONFLICT,
    )
    .await;

    // The deal followed, with an event of its own; its history is complete.
    let deal = json_of(
        app.get(&format!("/api/v1/deals/{deal_id}"), Some(&m.buyer))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(deal["stage"], "registered");
    assert_eq!(deal["contract_id"], json!(id));
    let stages: Vec<&str> = deal["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["to_stage"].as_str())
        .collect();
    assert_eq!(stages, ["intent", "negotiating", "signed", "registered"]);

    // Both parties and the broker see the contract; an outsider and anonymous visitors do not.
    for token in [&m.seller, &m.buyer, &m.broker, &m.registrar] {
        let seen = app
            .get(&format!("/api/v1/contracts/{id}"), Some(token))
            .await;
        assert_eq!(seen.status(), StatusCode::OK);
    }
    assert_problem(
        app.get(&format!("/api/v1/contracts/{id}"), Some(&m.outsider))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        app.get(&format!("/api/v1/contracts/{id}"), None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let listed = json_of(
        app.get("/api/v1/contracts", Some(&m.outsider)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["total"], 0);

    // The indicator counts it, in Xi'an's outflow and inflow (both parties are in Xi'an).
    let outflow = value(&app, &format!("year={year}")).await;
    assert_eq!(outflow["count"], 1);
    assert_eq!(outflow["value_fen"], 80_000_000);
    let technical = value(
        &app,
        &format!("year={year}&measure=technical&direction=inflow&by=district"),
    )
    .await;
    assert_eq!(technical["value_fen"], 75_000_000);
    assert_eq!(technical["groups"][0]["key"], "610116");
    // No individual contract amount is in the public answer: only sums.
    assert!(!outflow.to_string().contains(&id));

    // The broker is credited, per year; nobody but the broker and the registrar sees it.
    let path = format!("/api/v1/brokers/{}/performance", m.broker_id);
    let performance = json_of(app.get(&path, Some(&m.broker)).await, StatusCode::OK).await;
    let this_year = &performance["years"][0];
    assert_eq!(this_year["registered_contracts"], 1);
    assert_eq!(this_year["total_amount_fen"], 80_000_000);
    assert_eq!(this_year["technical_amount_fen"], 75_000_000);
    assert_eq!(this_year["deals_by_stage"], json!({"registered": 1}));
    assert_eq!(
        app.get(&path, Some(&m.registrar)).await.status(),
        StatusCode::OK
    );
    assert_problem(app.get(&path, Some(&m.seller)).await, StatusCode::NOT_FOUND).await;

    // The summary feeds the policy's indicators from the same data.
    let summary = json_of(
        app.get(&format!("/api/v1/indicators/summary?year={year}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    let indicator = |code: &str| {
        summary["indicators"]
            .as_array()
            .and_then(|all| all.iter().find(|i| i["code"] == code))
            .cloned()
            .unwrap_or_else(|| panic!("{code} missing"))
    };
    assert_eq!(indicator("contract_value")["actual"], 80_000_000);
    assert_eq!(indicator("brokers")["actual"], 1);
    // An agency counts once the registrar records its recognition (tests/api/qualifications.rs).
    assert_eq!(indicator("transfer_agencies")["actual"], 0);
    assert_eq!(indicator("local_transformation_projects")["actual"], 0);
    assert!(indicator("leading_talents")["actual"].is_null());
    let y2021 = json_of(
        app.get("/api/v1/indicators/summary?year=2021", None).await,
        StatusCode::OK,
    )
    .await;
    let first = y2021["indicators"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    assert!(first >= 7, "{y2021}");
}

#[tokio::test]
async fn idempotency_key_gives_back_the_same_contract_and_refuses_another_body() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let body = contract_body(&m, 1_000, 0);
    let first = json_of(
        submit(&app, &m.seller, Some("same"), &body).await,
        StatusCode::CREATED,
    )
    .await;
    let again = json_of(
        submit(&app, &m.seller, Some("same"), &body).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(first["id"], again["id"]);
    let other = submit(&app, &m.seller, Some("same"), &contract_body(&m, 2_000, 0)).await;
    assert_problem(other, StatusCode::CONFLICT).await;
    // Concurrent identical submissions under a new key: one contract.
    let racing: Vec<_> = (0..8)
        .map(|_| submit(&app, &m.seller, Some("race"), &body))
        .collect();
    let answers = futures_util::future::join_all(racing).await;
    let mut ids = HashSet::new();
    let mut created = 0;
    for answer in answers {
        if answer.status() == StatusCode::CREATED {
            created += 1;
        }
        assert!(answer.status().is_success(), "{}", answer.status());
        ids.insert(answer.json::<Value>().await.expect("json")["id"].clone());
    }
    assert_eq!((created, ids.len()), (1, 1));
    let listed = json_of(
        app.get("/api/v1/contracts", Some(&m.seller)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["total"], 2);
}

#[tokio::test]
async fn bad_money_and_bad_codes_are_named_and_nothing_is_written() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let cases: Vec<(Value, &str)> = vec![
        (json!(-1), "total_amount_fen"),
        (json!(1.5), "total_amount_fen"),
        (json!("100"), "total_amount_fen"),
        (json!(10_000_000_000_001i64), "total_amount_fen"),
        (json!(18_446_744_073_709_551_615u64), "total_amount_fen"),
    ];
    for (amount, field) in cases {
        let mut body = contract_body(&m, 0, 0);
        body["total_amount_fen"] = amount.clone();
        let problem = assert_problem(
            submit(&app, &m.seller, None, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&problem), vec![field], "{amount}");
    }
    let more = contract_body(&m, 100, 101);
    let problem = assert_problem(
        submit(&app, &m.seller, None, &more).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), vec!["non_technical_fen"]);
    let mut wrong = contract_body(&m, 100, 0);
    wrong["sub_type"] = json!("patent_licence");
    wrong["valid_to"] = json!("2020-01-01");
    wrong["buyer"]["region_code"] = json!("999999");
    let problem = assert_problem(
        submit(&app, &m.seller, None, &wrong).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // Sorted by field, as every validation answer is.
    assert_eq!(
        error_fields(&problem),
        vec!["buyer.region_code", "sub_type", "valid_to"]
    );
    let mut date = contract_body(&m, 100, 0);
    date["signed_on"] = json!("2026-02-30");
    let problem = assert_problem(
        submit(&app, &m.seller, None, &date).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), vec!["signed_on"]);
    // Zero is a valid amount; the largest allowed one too.
    for total in [0, contracts::MAX_AMOUNT_FEN] {
        let ok = submit(&app, &m.seller, None, &contract_body(&m, total, total)).await;
        assert_eq!(ok.status(), StatusCode::CREATED);
    }
    // Somebody neither in the seller's organization nor a broker cannot submit for it.
    let forbidden = submit(&app, &m.buyer, None, &contract_body(&m, 100, 0)).await;
    assert_problem(forbidden, StatusCode::FORBIDDEN).await;
    let listed = json_of(
        app.get("/api/v1/contracts", Some(&m.registrar)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["total"], 2);
}

#[tokio::test]
async fn concurrent_registrations_get_consecutive_serials_without_gaps() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let mut ids = Vec::new();
    for i in 0..24 {
        let created = json_of(
            submit(&app, &m.seller, None, &contract_body(&m, 1_000 + i, 0)).await,
            StatusCode::CREATED,
        )
        .await;
        ids.push(created["id"].as_str().expect("id").to_owned());
    }
    // Every contract registered at once, and the first one a second time in the same burst.
    let mut paths: Vec<String> = ids
        .iter()
        .map(|id| format!("/api/v1/contracts/{id}/register"))
        .collect();
    paths.push(paths[0].clone());
    let empty = json!({});
    let answers = futures_util::future::join_all(
        paths
            .iter()
            .map(|p| app.post_json(p, &empty, Some(&m.registrar))),
    )
    .await;
    let mut numbers = Vec::new();
    let mut conflicts = 0;
    for answer in answers {
        match answer.status() {
            StatusCode::OK => numbers.push(
                answer.json::<Value>().await.expect("json")["registration_no"]
                    .as_str()
                    .expect("number")
                    .to_owned(),
            ),
            StatusCode::CONFLICT => conflicts += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(conflicts, 1);
    let mut serials: Vec<u32> = numbers
        .iter()
        .map(|n| n[10..].parse().expect("serial"))
        .collect();
    serials.sort_unstable();
    assert_eq!(serials, (1..=24).collect::<Vec<_>>());
}

#[tokio::test]
async fn rejection_correction_and_amendment_follow_the_rules_and_move_the_indicator() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let registrar = sessions::authenticate(app.db(), &m.registrar)
        .await
        .expect("registrar");
    let id = |v: &Value| v["id"].as_str().expect("id").to_owned();
    let rejected = json_of(
        submit(&app, &m.seller, None, &contract_body(&m, 500, 0)).await,
        StatusCode::CREATED,
    )
    .await;
    let reason = json!({"reason_code": "unclear_price", "detail": "价款约定不明确"});
    let bad_reason = json!({"reason_code": "because", "detail": "x"});
    let path = format!("/api/v1/contracts/{}/reject", id(&rejected));
    let problem = assert_problem(
        app.post_json(&path, &bad_reason, Some(&m.registrar)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), vec!["reason_code"]);
    assert_eq!(
        json_of(
            app.post_json(&path, &reason, Some(&m.registrar)).await,
            StatusCode::OK
        )
        .await["status"],
        "rejected"
    );

    // A correction: sent back, answered by the submitter with a new version, then registered.
    let corrected = json_of(
        submit(&app, &m.seller, None, &contract_body(&m, 700, 0)).await,
        StatusCode::CREATED,
    )
    .await;
    let cid = id(&corrected);
    let ask = format!("/api/v1/contracts/{cid}/request-correction");
    json_of(
        app.post_json(&ask, &reason, Some(&m.registrar)).await,
        StatusCode::OK,
    )
    .await;
    let answer = app
        .client
        .put(app.url(&format!("/api/v1/contracts/{cid}")))
        .bearer_auth(&m.seller)
        .json(&contract_body(&m, 900, 100))
        .send()
        .await
        .expect("put");
    let answer = json_of(answer, StatusCode::OK).await;
    assert_eq!(
        (answer["status"].as_str(), answer["version"].as_i64()),
        (Some("submitted"), Some(2))
    );
    let cid_uuid = cid.parse().expect("uuid");
    let on = NaiveDate::from_ymd_opt(2023, 5, 20).expect("date");
    contracts::register(app.db(), &registrar, cid_uuid, "01", on)
        .await
        .expect("register");

    let may = value(&app, "year=2023&by=month").await;
    assert_eq!(
        (may["count"].as_i64(), may["value_fen"].as_i64()),
        (Some(1), Some(900))
    );
    assert_eq!(may["groups"][4]["value_fen"], 900);
    assert_eq!(may["target_fen"], 16_000_000_000_000i64);
    let chart = app
        .get("/api/v1/indicators/transaction-value.svg?year=2023", None)
        .await;
    assert_eq!(chart.status(), StatusCode::OK);
    assert!(
        chart.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("image/svg+xml"))
    );
    let svg = chart.text().await.expect("svg");
    assert!(
        svg.contains("目标 1600 亿元") && svg.contains("登记合同 1 项"),
        "{svg}"
    );

    // An amendment keeps the number and moves the indicator to the new amounts.
    let amend = json!({"contract": contract_body(&m, 1_200, 200), "note": "补充协议增加价款"});
    let path = format!("/api/v1/contracts/{cid}/amend");
    assert_problem(
        app.post_json(&path, &amend, Some(&m.seller)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let amended = json_of(
        app.post_json(&path, &amend, Some(&m.registrar)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(amended["version"], 3);
    assert!(
        amended["registration_no"]
            .as_str()
            .is_some_and(|n| n.starts_with("202361010100000"))
    );
    // The history holds both replaced versions, for the parties; nobody else sees it.
    let history = format!("/api/v1/contracts/{cid}/versions");
    let versions = json_of(app.get(&history, Some(&m.buyer)).await, StatusCode::OK).await;
    let kept: Vec<(i64, i64)> = versions
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| {
            Some((
                v["version"].as_i64()?,
                v["contract"]["total_amount_fen"].as_i64()?,
            ))
        })
        .collect();
    assert_eq!(kept, [(1, 700), (2, 900)]);
    assert_eq!(versions[1]["note"], "补充协议增加价款");
    assert_problem(
        app.get(&history, Some(&m.outsider)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let after = value(&app, "year=2023&measure=technical").await;
    assert_eq!(
        (after["count"].as_i64(), after["value_fen"].as_i64()),
        (Some(1), Some(1_000))
    );
    // Rejected and submitted contracts never count.
    let year = techmarket::kernel::dates::today_in_china()
        .format("%Y")
        .to_string();
    assert_eq!(value(&app, &format!("year={year}")).await["count"], 0);
    // The amended roll-ups equal those recomputed from the contracts.
    let check = techmarket::services::indicators::verify(app.db())
        .await
        .expect("verify");
    assert_eq!(check.mismatched, 0);
}

/// A small deterministic generator for the property-style test.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn every_breakdown_sums_to_the_total_of_the_registered_contracts() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let registrar = sessions::authenticate(app.db(), &m.registrar)
        .await
        .expect("registrar");
    let mut rng = Lcg(7);
    let types = [
        ("development", "cooperative_development"),
        ("transfer", "patent_right_transfer"),
        ("licence", "patent_licence"),
        ("consulting", "feasibility_study"),
        ("service", "technical_training"),
    ];
    let fields = [
        "electronic_information",
        "aerospace",
        "new_energy",
        "biomedicine",
    ];
    let regions = ["610113", "610116", "610102", "110108", "440305"];
    let natures = ["022", "021", "150", "170"];
    // Expected sums per direction, computed here from what was registered.
    let mut expected: BTreeMap<(&str, &str), (i64, i64, i64)> = BTreeMap::new();
    for i in 0..60 {
        let (contract_type, sub_type) = types[rng.next(5) as usize];
        let total = rng.next(5_000_000_000) as i64;
        let non_technical = total / (1 + rng.next(4) as i64);
        let seller_region = regions[rng.next(5) as usize];
        let buyer_region = regions[rng.next(5) as usize];
        let mut body = contract_body(&m, total, non_technical);
        body["contract_type"] = json!(contract_type);
        body["sub_type"] = json!(sub_type);
        body["tech_field"] = json!(fields[rng.next(4) as usize]);
        body["seller"]["region_code"] = json!(seller_region);
        body["seller"]["nature_code"] = json!(natures[rng.next(4) as usize]);
        body["buyer"]["region_code"] = json!(buyer_region);
        body["industry_codes"] = if i % 7 == 0 {
            json!([])
        } else {
            json!(["robotics", "automotive"])
        };
        let created = json_of(
            submit(&app, &m.broker, None, &body).await,
            StatusCode::CREATED,
        )
        .await;
        let id = created["id"].as_str().expect("id").parse().expect("uuid");
        let fate = rng.next(4);
        if fate == 0 {
            continue; // stays submitted
        }
        let year = if rng.next(2) == 0 { 2022 } else { 2023 };
        let on = NaiveDate::from_ymd_opt(year, 1 + rng.next(12) as u32, 1 + rng.next(28) as u32)
            .expect("date");
        contracts::register(app.db(), &registrar, id, "01", on)
            .await
            .expect("register");
        if year != 2022 {
            continue;
        }
        for (direction, region) in [("outflow", seller_region), ("inflow", buyer_region)] {
            if region.starts_with("6101") {
                let sums = expected.entry(("2022", direction)).or_default();
                sums.0 += 1;
                sums.1 += total;
                sums.2 += total - non_technical;
            }
        }
    }
    for direction in ["outflow", "inflow"] {
        let (count, total, technical) = expected
            .get(&("2022", direction))
            .copied()
            .unwrap_or_default();
        assert!(
            count > 0,
            "the generator registered nothing for {direction}"
        );
        for by in [
            "month",
            "quarter",
            "contract_type",
            "tech_field",
            "industry",
            "seller_nature",
            "district",
        ] {
            for (measure, sum) in [("total", total), ("technical", technical)] {
                let answer = value(
                    &app,
                    &format!("year=2022&direction={direction}&by={by}&measure={measure}"),
                )
                .await;
                let groups = answer["groups"].as_array().expect("groups");
                let group_count: i64 = groups.iter().filter_map(|g| g["count"].as_i64()).sum();
                let group_value: i64 = groups.iter().filter_map(|g| g["value_fen"].as_i64()).sum();
                assert_eq!(
                    (answer["count"].as_i64(), answer["value_fen"].as_i64()),
                    (Some(count), Some(sum)),
                    "{direction} {by} {measure}"
                );
                assert_eq!(
                    (group_count, group_value),
                    (count, sum),
                    "{direction} {by} {measure}"
                );
            }
        }
    }
    let industries = value(&app, "year=2022&by=industry").await;
    let keys: Vec<&str> = industries["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["key"].as_str())
        .collect();
    assert!(
        keys.iter()
            .all(|k| ["robotics", "unclassified"].contains(k)),
        "{keys:?}"
    );
    let bad = app
        .get("/api/v1/indicators/transaction-value?by=colour", None)
        .await;
    assert_eq!(
        error_fields(&assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec!["by"]
    );
    let check = techmarket::services::indicators::verify(app.db())
        .await
        .expect("verify");
    assert_eq!(
        check.mismatched, 0,
        "the roll-ups are reproducible from the contracts"
    );
}

#[tokio::test]
async fn a_contract_cannot_take_over_another_brokers_deal() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let (other_broker, other_user) = member(
        &app,
        "k2@agency.test",
        "broker",
        "另一技术转移中心",
        "transfer_agency",
    )
    .await;
    let other_broker_id = other_user["id"].as_str().expect("id").to_owned();
    let deal = json_of(
        app.post_json(
            "/api/v1/deals",
            &json!({"title": "伺服电机控制技术对接", "seller_org_id": m.seller_org,
                    "buyer_org_id": m.buyer_org}),
            Some(&m.broker),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let deal_id = deal["id"].as_str().expect("id").to_owned();
    let with = |deal: Option<&str>, broker: Option<&str>| {
        let mut body = contract_body(&m, 1_000, 0);
        if let Some(deal) = deal {
            body["deal_id"] = json!(deal);
        }
        if let Some(broker) = broker {
            body["broker_id"] = json!(broker);
        }
        body
    };
    let refused = |field: &'static str| {
        move |problem: Value| assert_eq!(error_fields(&problem), vec![field], "{problem}")
    };
    // Another broker names the deal, with or without crediting its broker.
    for body in [
        with(Some(&deal_id), None),
        with(Some(&deal_id), Some(&m.broker_id)),
    ] {
        let problem = assert_problem(
            submit(&app, &other_broker, None, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        refused("deal_id")(problem);
    }
    // The seller credits a broker that is neither the submitter nor the deal's broker.
    for body in [
        with(Some(&deal_id), Some(&other_broker_id)),
        with(None, Some(&other_broker_id)),
    ] {
        let problem = assert_problem(
            submit(&app, &m.seller, None, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        refused("broker_id")(problem);
    }
    // The deal's parties are the contract's parties.
    let mut wrong_buyer = with(Some(&deal_id), None);
    wrong_buyer["buyer"]["organization_id"] = json!(null);
    let problem = assert_problem(
        submit(&app, &m.seller, None, &wrong_buyer).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    refused("deal_id")(problem);
    // The seller names the deal and credits its broker; the registration closes the deal.
    let contract = json_of(
        submit(
            &app,
            &m.seller,
            None,
            &with(Some(&deal_id), Some(&m.broker_id)),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = contract["id"].as_str().expect("id").to_owned();
    json_of(
        app.post_json(
            &format!("/api/v1/contracts/{id}/register"),
            &json!({}),
            Some(&m.registrar),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // A deal closed by a contract cannot be claimed again, not even by its own broker.
    let problem = assert_problem(
        submit(&app, &m.broker, None, &with(Some(&deal_id), None)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    refused("deal_id")(problem);
    // The deal records the contract that closed it; an amendment cannot move the contract to
    // another deal, nor credit an account that is not a broker's.
    let other_deal = json_of(
        app.post_json(
            "/api/v1/deals",
            &json!({"title": "另一项对接", "seller_org_id": m.seller_org,
                    "buyer_org_id": m.buyer_org}),
            Some(&m.broker),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let amend = format!("/api/v1/contracts/{id}/amend");
    for (field, body) in [
        (
            "contract.deal_id",
            with(other_deal["id"].as_str(), Some(&m.broker_id)),
        ),
        (
            "contract.broker_id",
            with(Some(&deal_id), Some(&uuid::Uuid::new_v4().to_string())),
        ),
    ] {
        let problem = assert_problem(
            app.post_json(
                &amend,
                &json!({"contract": body, "note": "更正"}),
                Some(&m.registrar),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&problem), vec![field], "{problem}");
    }
    let deal = json_of(
        app.get(&format!("/api/v1/deals/{deal_id}"), Some(&m.broker))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(deal["contract_id"], json!(id));
}

#[tokio::test]
async fn dates_and_amounts_out_of_range_are_named() {
    let app = spawn_app().await;
    let m = market(&app).await;
    for field in ["signed_on", "valid_from", "valid_to"] {
        for date in ["-0001-01-01", "+262142-12-31", "1979-12-31", "2101-01-01"] {
            let mut body = contract_body(&m, 100, 0);
            body[field] = json!(date);
            // Keep the other dates in order so that only the bound is at fault.
            if field == "valid_from" && date > "2" {
                body["valid_to"] = json!("2100-12-31");
            }
            let problem = assert_problem(
                submit(&app, &m.seller, None, &body).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert!(
                error_fields(&problem).contains(&field.to_owned()),
                "{field}={date}: {problem}"
            );
        }
    }
    // Signed after the end of its validity.
    let mut late = contract_body(&m, 100, 0);
    late["signed_on"] = json!("2027-03-02");
    let problem = assert_problem(
        submit(&app, &m.seller, None, &late).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), vec!["signed_on"]);
    // The widest range accepted.
    let mut wide = contract_body(&m, 100, 0);
    wide["signed_on"] = json!("1980-01-01");
    wide["valid_from"] = json!("1980-01-01");
    wide["valid_to"] = json!("2100-12-31");
    assert_eq!(
        submit(&app, &m.seller, None, &wide).await.status(),
        StatusCode::CREATED
    );
    for (field, total, non_technical) in [
        ("total_amount_fen", i64::MAX, 0),
        ("total_amount_fen", contracts::MAX_AMOUNT_FEN + 1, 0),
        ("non_technical_fen", 100, i64::MAX),
        ("total_amount_fen", i64::MIN, 0),
    ] {
        let problem = assert_problem(
            submit(
                &app,
                &m.seller,
                None,
                &contract_body(&m, total, non_technical),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(
            error_fields(&problem).contains(&field.to_owned()),
            "{problem}"
        );
    }
    // A deal's expected amount is bounded like a contract's.
    for expected in [i64::MAX, contracts::MAX_AMOUNT_FEN + 1, -1] {
        let problem = assert_problem(
            app.post_json(
                "/api/v1/deals",
                &json!({"title": "对接", "seller_org_id": m.seller_org,
                        "buyer_org_id": m.buyer_org, "expected_amount_fen": expected}),
                Some(&m.broker),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&problem), vec!["expected_amount_fen"]);
    }
}

#[tokio::test]
async fn a_registration_that_would_overflow_a_roll_up_is_refused_and_writes_nothing() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let m = market(&app).await;
    let created = json_of(
        submit(
            &app,
            &m.seller,
            None,
            &contract_body(&m, contracts::MAX_AMOUNT_FEN, 0),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().expect("id").to_owned();
    // This month's outflow total is already at the ceiling of a roll-up row.
    let today = techmarket::kernel::dates::today_in_china();
    let ceiling = techmarket::services::indicators::ROLLUP_CEILING_FEN;
    let insert = format!(
        "INSERT INTO indicator_rollups (year, month, direction, dimension, key, contracts, \
         total_fen, technical_fen) VALUES ({}, {}, 'outflow', 'all', '', 1, {ceiling}, 0)",
        chrono::Datelike::year(&today),
        chrono::Datelike::month(&today)
    );
    app.db().execute_unprepared(&insert).await.expect("insert");
    assert_problem(
        app.post_json(
            &format!("/api/v1/contracts/{id}/register"),
            &json!({}),
            Some(&m.registrar),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let contract = json_of(
        app.get(&format!("/api/v1/contracts/{id}"), Some(&m.registrar))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(contract["status"], "submitted");
    assert!(contract["registration_no"].is_null());
}
