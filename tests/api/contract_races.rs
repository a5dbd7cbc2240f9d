//! The race harness for contracts and deals: for every pair of moves that can conflict, N requests
//! at once against a real server. Exactly one wins (2xx), the others get `409`, and afterwards the
//! history (versions, deal events, audit) has one entry per winning move and the indicator
//! roll-ups agree with a recomputation from the contracts (`rebuild-indicators --check`).
//!
//! SQLite serializes every writer, so these pass there even with a read-then-write; on PostgreSQL
//! (READ COMMITTED, `TEST_DATABASE_URL`) they catch a missing row lock or compare-and-set.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use techmarket::entity::audit_log;
use techmarket::services::indicators;
use uuid::Uuid;

use crate::helpers::json_of;
use crate::helpers::market::{Market, contract_body, market, submit};
use crate::helpers::{TestApp, spawn_app};

/// Requests fired at once in each race.
const N: usize = 12;

/// One request of a race.
struct Shot {
    method: Method,
    path: String,
    body: Value,
    token: String,
}

fn post(path: &str, body: Value, token: &str) -> Shot {
    Shot {
        method: Method::POST,
        path: path.to_owned(),
        body,
        token: token.to_owned(),
    }
}

/// Fires every request at once; the statuses, in the order of `shots`.
async fn fire(app: &TestApp, shots: Vec<Shot>) -> Vec<StatusCode> {
    join_all(shots.into_iter().map(|shot| {
        app.client
            .request(shot.method, app.url(&shot.path))
            .bearer_auth(shot.token)
            .json(&shot.body)
            .send()
    }))
    .await
    .into_iter()
    .map(|r| r.expect("response").status())
    .collect()
}

/// Asserts one winner and `409` for everybody else; returns the winner's index.
fn one_winner(statuses: &[StatusCode]) -> usize {
    let winners: Vec<usize> = (0..statuses.len())
        .filter(|&i| statuses[i].is_success())
        .collect();
    assert_eq!(winners.len(), 1, "exactly one winner: {statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| s.is_success() || *s == StatusCode::CONFLICT),
        "the losers get 409: {statuses:?}"
    );
    winners[0]
}

/// The roll-ups agree with a recomputation from the registered contracts.
async fn assert_rollups_consistent(app: &TestApp) {
    let check = indicators::verify(app.db()).await.expect("verify");
    assert_eq!(check.mismatched, 0, "rebuild-indicators --check: {check:?}");
}

/// Audit entries of `action` on `subject`.
async fn audited(app: &TestApp, action: &str, subject: &str) -> u64 {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .filter(audit_log::Column::SubjectId.eq(subject.parse::<Uuid>().expect("uuid")))
        .count(app.db())
        .await
        .expect("count")
}

/// A submitted contract's id.
async fn submitted(app: &TestApp, m: &Market, body: &Value) -> String {
    let created = json_of(
        submit(app, &m.seller, None, body).await,
        StatusCode::CREATED,
    )
    .await;
    created["id"].as_str().expect("id").to_owned()
}

/// A registered contract's id.
async fn registered(app: &TestApp, m: &Market, total: i64) -> String {
    let id = submitted(app, m, &contract_body(m, total, 0)).await;
    let path = format!("/api/v1/contracts/{id}/register");
    json_of(
        app.post_json(&path, &json!({}), Some(&m.registrar)).await,
        StatusCode::OK,
    )
    .await;
    id
}

/// The outflow 合同交易额 of this year.
async fn this_year_value(app: &TestApp) -> i64 {
    let year = techmarket::kernel::dates::today_in_china().format("%Y");
    crate::helpers::market::value(app, &format!("year={year}")).await["value_fen"]
        .as_i64()
        .expect("value")
}

fn amendment(m: &Market, total: i64, version: Option<i64>) -> Value {
    let mut body = json!({"contract": contract_body(m, total, 0), "note": format!("改为 {total}")});
    if let Some(version) = version {
        body["version"] = json!(version);
    }
    body
}

#[tokio::test]
async fn concurrent_amendments_without_a_version_are_applied_one_after_the_other() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let id = registered(&app, &m, 1_000).await;
    let path = format!("/api/v1/contracts/{id}/amend");
    let shots = (0..N)
        .map(|i| post(&path, amendment(&m, 2_000 + i as i64, None), &m.registrar))
        .collect();
    let statuses = fire(&app, shots).await;
    assert!(statuses.iter().all(StatusCode::is_success), "{statuses:?}");
    // Each amendment kept the version it replaced: versions 1..=N, each once.
    let versions = app
        .get_ok(&format!("/api/v1/contracts/{id}/versions"), &m.registrar)
        .await;
    let numbers: Vec<i64> = versions
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["version"].as_i64().expect("version"))
        .collect();
    assert_eq!(numbers, (1..=N as i64).collect::<Vec<_>>());
    let contract = app
        .get_ok(&format!("/api/v1/contracts/{id}"), &m.registrar)
        .await;
    assert_eq!(contract["version"], N as i64 + 1);
    // The indicator moved from the old amounts to the new ones each time: it is the last amount.
    assert_eq!(
        this_year_value(&app).await,
        contract["total_amount_fen"].as_i64().expect("total")
    );
    assert_eq!(audited(&app, "contract.amend", &id).await, N as u64);
    assert_rollups_consistent(&app).await;
}

#[tokio::test]
async fn concurrent_amendments_of_one_version_have_one_winner() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let id = registered(&app, &m, 1_000).await;
    let path = format!("/api/v1/contracts/{id}/amend");
    let shots = (0..N)
        .map(|i| {
            post(
                &path,
                amendment(&m, 2_000 + i as i64, Some(1)),
                &m.registrar,
            )
        })
        .collect();
    let winner = one_winner(&fire(&app, shots).await);
    let versions = app
        .get_ok(&format!("/api/v1/contracts/{id}/versions"), &m.registrar)
        .await;
    assert_eq!(versions.as_array().map(Vec::len), Some(1), "{versions}");
    let contract = app
        .get_ok(&format!("/api/v1/contracts/{id}"), &m.registrar)
        .await;
    assert_eq!(contract["version"], 2);
    assert_eq!(contract["total_amount_fen"], 2_000 + winner as i64);
    assert_eq!(this_year_value(&app).await, 2_000 + winner as i64);
    assert_eq!(audited(&app, "contract.amend", &id).await, 1);
    // A stale version is refused afterwards too.
    let stale = app
        .post_json(&path, &amendment(&m, 5_000, Some(1)), Some(&m.registrar))
        .await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    assert_rollups_consistent(&app).await;
}

/// Register against `other` (`reject` or `request-correction`), alternating, on one contract.
async fn registration_races(other: &str, other_status: &str, other_action: &str) {
    let app = spawn_app().await;
    let m = market(&app).await;
    let id = submitted(&app, &m, &contract_body(&m, 3_000, 0)).await;
    let reason = json!({"reason_code": "unclear_price", "detail": "价款约定不明确"});
    let shots = (0..N)
        .map(|i| {
            if i.is_multiple_of(2) {
                post(
                    &format!("/api/v1/contracts/{id}/register"),
                    json!({}),
                    &m.registrar,
                )
            } else {
                post(
                    &format!("/api/v1/contracts/{id}/{other}"),
                    reason.clone(),
                    &m.registrar,
                )
            }
        })
        .collect();
    let winner = one_winner(&fire(&app, shots).await);
    let contract = app
        .get_ok(&format!("/api/v1/contracts/{id}"), &m.registrar)
        .await;
    let (registers, others) = if winner.is_multiple_of(2) {
        (1, 0)
    } else {
        (0, 1)
    };
    let expected = if registers == 1 {
        "registered"
    } else {
        other_status
    };
    assert_eq!(contract["status"], expected);
    assert_eq!(contract["registration_no"].is_string(), registers == 1);
    assert_eq!(audited(&app, "contract.register", &id).await, registers);
    assert_eq!(audited(&app, other_action, &id).await, others);
    assert_eq!(
        this_year_value(&app).await,
        if registers == 1 { 3_000 } else { 0 }
    );
    assert_rollups_consistent(&app).await;
}

#[tokio::test]
async fn registration_and_rejection_race_to_one_outcome() {
    registration_races("reject", "rejected", "contract.reject").await;
}

#[tokio::test]
async fn registration_and_a_correction_request_race_to_one_outcome() {
    registration_races(
        "request-correction",
        "correction_requested",
        "contract.request_correction",
    )
    .await;
}

#[tokio::test]
async fn concurrent_registrations_of_one_contract_number_it_once() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let id = submitted(&app, &m, &contract_body(&m, 4_000, 0)).await;
    let path = format!("/api/v1/contracts/{id}/register");
    let shots = (0..N)
        .map(|_| post(&path, json!({}), &m.registrar))
        .collect();
    one_winner(&fire(&app, shots).await);
    assert_eq!(audited(&app, "contract.register", &id).await, 1);
    assert_eq!(this_year_value(&app).await, 4_000);
    assert_rollups_consistent(&app).await;
}

#[tokio::test]
async fn concurrent_corrections_make_one_new_version() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let id = submitted(&app, &m, &contract_body(&m, 5_000, 0)).await;
    let reason = json!({"reason_code": "unclear_price", "detail": "价款约定不明确"});
    json_of(
        app.post_json(
            &format!("/api/v1/contracts/{id}/request-correction"),
            &reason,
            Some(&m.registrar),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let shots = (0..N)
        .map(|i| Shot {
            method: Method::PUT,
            path: format!("/api/v1/contracts/{id}"),
            body: contract_body(&m, 6_000 + i as i64, 0),
            token: m.seller.clone(),
        })
        .collect();
    let winner = one_winner(&fire(&app, shots).await);
    let versions = app
        .get_ok(&format!("/api/v1/contracts/{id}/versions"), &m.registrar)
        .await;
    assert_eq!(versions.as_array().map(Vec::len), Some(1), "{versions}");
    let contract = app
        .get_ok(&format!("/api/v1/contracts/{id}"), &m.registrar)
        .await;
    assert_eq!(contract["status"], "submitted");
    assert_eq!(contract["version"], 2);
    assert_eq!(contract["total_amount_fen"], 6_000 + winner as i64);
}

/// A deal of the market's broker between its seller and buyer; its id.
async fn deal(app: &TestApp, m: &Market) -> String {
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
    deal["id"].as_str().expect("id").to_owned()
}

/// The deal's events as (from, to), asserting that they form one chain from its opening.
async fn deal_history(app: &TestApp, m: &Market, id: &str) -> (Value, Vec<(String, String)>) {
    let deal = app.get_ok(&format!("/api/v1/deals/{id}"), &m.broker).await;
    let events: Vec<(String, String)> = deal["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["from_stage"].as_str().unwrap_or("").to_owned(),
                e["to_stage"].as_str().expect("to").to_owned(),
            )
        })
        .collect();
    for pair in events.windows(2) {
        assert_eq!(
            pair[0].1, pair[1].0,
            "each move starts where the last ended: {events:?}"
        );
    }
    assert_eq!(
        events.last().map(|e| e.1.as_str()),
        deal["stage"].as_str(),
        "{events:?}"
    );
    (deal, events)
}

#[tokio::test]
async fn a_deal_moves_out_of_intent_once() {
    let app = spawn_app().await;
    let m = market(&app).await;
    // The same move N times: one wins, the rest find the deal moved.
    let id = deal(&app, &m).await;
    let path = format!("/api/v1/deals/{id}/stage");
    let shots = (0..N)
        .map(|_| post(&path, json!({"stage": "lost"}), &m.broker))
        .collect();
    one_winner(&fire(&app, shots).await);
    let (_, events) = deal_history(&app, &m, &id).await;
    assert_eq!(events.len(), 2, "the opening and one move: {events:?}");

    // signed∥lost: `lost` may still follow a `signed` that won, but only one move leaves `intent`
    // and every winning move is one event that starts where the last one ended.
    let id = deal(&app, &m).await;
    let path = format!("/api/v1/deals/{id}/stage");
    let shots = (0..N)
        .map(|i| {
            post(
                &path,
                json!({"stage": (["signed", "lost"][i % 2])}),
                &m.broker,
            )
        })
        .collect();
    let statuses = fire(&app, shots).await;
    assert!(
        statuses
            .iter()
            .all(|s| s.is_success() || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let winners = statuses.iter().filter(|s| s.is_success()).count();
    let (_, events) = deal_history(&app, &m, &id).await;
    assert_eq!(events.len(), 1 + winners, "{statuses:?} {events:?}");
    assert_eq!(
        events.iter().filter(|e| e.0 == "intent").count(),
        1,
        "one move out of intent: {events:?}"
    );
}

#[tokio::test]
async fn a_registration_closes_its_deal_while_the_broker_moves_it() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let deal_id = deal(&app, &m).await;
    let mut body = contract_body(&m, 7_000, 0);
    body["deal_id"] = json!(deal_id);
    let id = submitted(&app, &m, &body).await;
    let shots = (0..N)
        .map(|i| {
            if i == N / 2 {
                post(
                    &format!("/api/v1/contracts/{id}/register"),
                    json!({}),
                    &m.registrar,
                )
            } else {
                let stage = ["signed", "lost", "negotiating"][i % 3];
                post(
                    &format!("/api/v1/deals/{deal_id}/stage"),
                    json!({"stage": stage}),
                    &m.broker,
                )
            }
        })
        .collect();
    let statuses = fire(&app, shots).await;
    assert!(statuses[N / 2].is_success(), "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| s.is_success() || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let (deal, events) = deal_history(&app, &m, &deal_id).await;
    assert_eq!(deal["stage"], "registered");
    assert_eq!(deal["contract_id"], json!(id));
    let moves = statuses.iter().filter(|s| s.is_success()).count();
    // The opening, every winning move, and the registration.
    assert_eq!(events.len(), moves + 1, "{statuses:?} {events:?}");
    assert_eq!(
        events.iter().filter(|e| e.1 == "registered").count(),
        1,
        "{events:?}"
    );
    assert_rollups_consistent(&app).await;
}

#[tokio::test]
async fn two_contracts_of_one_deal_race_and_one_closes_it() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let deal_id = deal(&app, &m).await;
    let mut ids = Vec::new();
    for total in [8_000, 9_000] {
        let mut body = contract_body(&m, total, 0);
        body["deal_id"] = json!(deal_id);
        ids.push(submitted(&app, &m, &body).await);
    }
    let shots = (0..N)
        .map(|i| {
            post(
                &format!("/api/v1/contracts/{}/register", ids[i % 2]),
                json!({}),
                &m.registrar,
            )
        })
        .collect();
    let winner = one_winner(&fire(&app, shots).await);
    let (deal, events) = deal_history(&app, &m, &deal_id).await;
    assert_eq!(deal["contract_id"], json!(ids[winner % 2]));
    assert_eq!(events.len(), 2, "{events:?}");
    assert_rollups_consistent(&app).await;
}
