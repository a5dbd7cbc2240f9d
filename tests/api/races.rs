//! Conflicting requests at the same moment: of every pair of moves that exclude each other, exactly
//! one is written and the others are `409`, and the history stays a chain of the moves made.
//!
//! These matter on PostgreSQL (READ COMMITTED: a read-then-write races there), where `.ci/run` runs
//! them; on SQLite the write transactions queue (`BEGIN IMMEDIATE`), so they pass there by
//! construction and check the same rules. Each race is run several times over fresh listings, as
//! one run may happen to serialize.

use futures_util::future::join_all;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// How many times each race is run, each on its own listing.
const ROUNDS: usize = 4;

/// Sends every request at once; returns each answer's status and body.
async fn at_once(requests: Vec<RequestBuilder>) -> Vec<(StatusCode, Value)> {
    join_all(requests.into_iter().map(|request| async move {
        let response = request.send().await.expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }))
    .await
}

/// The statuses of answers that were not `409`, asserting that every loser got `409`.
fn winners(answers: &[(StatusCode, Value)]) -> Vec<StatusCode> {
    let winners: Vec<StatusCode> = answers
        .iter()
        .map(|(status, _)| *status)
        .filter(|status| *status != StatusCode::CONFLICT)
        .collect();
    for status in &winners {
        assert!(status.is_success(), "a loser must get 409: {answers:?}");
    }
    winners
}

struct Market {
    app: TestApp,
    researcher: String,
    enterprise: String,
    registrar: String,
}

async fn market() -> Market {
    let app = spawn_app().await;
    let token = |v: Value| v["token"].as_str().expect("token").to_owned();
    let researcher = token(
        app.register_with_new_org("r@xjtu.edu.cn", "researcher", "西安交通大学", "university")
            .await,
    );
    let enterprise = token(
        app.register_with_new_org("e@qc.cn", "enterprise", "秦川装备有限公司", "enterprise")
            .await,
    );
    let registrar = app.registrar_token().await;
    Market {
        app,
        researcher,
        enterprise,
        registrar,
    }
}

impl Market {
    fn post(&self, path: &str, token: &str, body: &Value) -> RequestBuilder {
        self.app
            .client
            .post(self.app.url(path))
            .bearer_auth(token)
            .json(body)
    }

    fn patch(&self, path: &str, token: &str, body: &Value) -> RequestBuilder {
        self.app
            .client
            .patch(self.app.url(path))
            .bearer_auth(token)
            .json(body)
    }

    async fn json(&self, path: &str, token: &str) -> Value {
        let response = self.app.get(path, Some(token)).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.expect("json")
    }

    /// A submitted result of the researcher's organization; returns its id.
    async fn submitted_result(&self) -> String {
        let body = json!({
            "title": "风电齿轮箱早期故障诊断系统",
            "summary": "基于深度学习的风电齿轮箱早期故障诊断，提前两周预警。",
            "industry_codes": ["high_end_equipment"],
            "tech_field": "new_energy",
            "maturity_stage": "pilot_scale",
            "cooperation_modes": ["licence"]
        });
        let created = self
            .post("/api/v1/results", &self.researcher, &body)
            .send()
            .await
            .expect("create");
        assert_eq!(created.status(), StatusCode::CREATED);
        let id = created.json::<Value>().await.expect("json")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let submitted = self
            .post(
                &format!("/api/v1/results/{id}/submit"),
                &self.researcher,
                &json!({}),
            )
            .send()
            .await
            .expect("submit");
        assert_eq!(submitted.status(), StatusCode::OK);
        id
    }

    /// Asserts that the history of result `id` is a chain (each move starts where the one before
    /// ended) that ends in the result's status; returns the moves as (from, to).
    async fn history_chain(&self, id: &str) -> Vec<(String, String)> {
        let events = self
            .json(&format!("/api/v1/results/{id}/events"), &self.registrar)
            .await;
        let result = self
            .json(&format!("/api/v1/results/{id}"), &self.registrar)
            .await;
        let moves: Vec<(String, String)> = events
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| Some((e["from"].as_str()?.to_owned(), e["to"].as_str()?.to_owned())))
            .collect();
        for pair in moves.windows(2) {
            assert_eq!(pair[0].1, pair[1].0, "history is not a chain: {events}");
        }
        let last = moves.last().map(|(_, to)| to.as_str()).expect("a move");
        assert_eq!(result["status"].as_str(), Some(last), "{events}");
        moves
    }
}

#[tokio::test]
async fn approve_and_reject_at_once_make_exactly_one_decision() {
    let m = market().await;
    for _ in 0..ROUNDS {
        let id = m.submitted_result().await;
        let review = format!("/api/v1/results/{id}/review");
        let requests = (0..8)
            .map(|i| {
                let body = if i % 2 == 0 {
                    json!({"decision": "approve"})
                } else {
                    json!({"decision": "reject", "reason": "请补充中试数据"})
                };
                m.post(&review, &m.registrar, &body)
            })
            .collect();
        let answers = at_once(requests).await;
        assert_eq!(winners(&answers).len(), 1, "{answers:?}");
        let moves = m.history_chain(&id).await;
        let out_of_review = moves.iter().filter(|(from, _)| from == "submitted").count();
        assert_eq!(out_of_review, 1, "{moves:?}");
    }
}

#[tokio::test]
async fn an_archive_during_the_review_is_never_lost() {
    let m = market().await;
    for _ in 0..ROUNDS {
        let id = m.submitted_result().await;
        let answers = at_once(vec![
            m.post(
                &format!("/api/v1/results/{id}/review"),
                &m.registrar,
                &json!({"decision": "approve"}),
            ),
            m.app
                .client
                .delete(m.app.url(&format!("/api/v1/results/{id}")))
                .bearer_auth(&m.researcher),
        ])
        .await;
        winners(&answers);
        let archive = &answers[1];
        assert!(
            archive.0.is_success(),
            "archiving is allowed from both states: {answers:?}"
        );
        let moves = m.history_chain(&id).await;
        assert_eq!(moves.last().map(|(_, to)| to.as_str()), Some("archived"));
    }
}

#[tokio::test]
async fn submitting_twice_at_once_submits_once() {
    let m = market().await;
    for _ in 0..ROUNDS {
        let id = m.submitted_result().await;
        // Back to a draft-like state: rejected, so that a submission is allowed again.
        let rejected = m
            .post(
                &format!("/api/v1/results/{id}/review"),
                &m.registrar,
                &json!({"decision": "reject", "reason": "请补充"}),
            )
            .send()
            .await
            .expect("reject");
        assert_eq!(rejected.status(), StatusCode::OK);
        let submit = format!("/api/v1/results/{id}/submit");
        let answers = at_once(
            (0..6)
                .map(|_| m.post(&submit, &m.researcher, &json!({})))
                .collect(),
        )
        .await;
        assert_eq!(winners(&answers).len(), 1, "{answers:?}");
        let moves = m.history_chain(&id).await;
        let resubmissions = moves.iter().filter(|(from, _)| from == "rejected").count();
        assert_eq!(resubmissions, 1, "{moves:?}");
    }
}

/// The registrar decides on the text they read: an approval names its revision (or, without one,
/// is of the submitted text), and an edit in between makes it `409` instead of publishing text
/// nobody reviewed. The edit itself is in the history.
#[tokio::test]
async fn an_approval_publishes_only_the_revision_the_registrar_read() {
    let m = market().await;
    let id = m.submitted_result().await;
    let path = format!("/api/v1/results/{id}");
    let read = m.json(&path, &m.registrar).await;
    let revision = read["revision"].as_i64().expect("revision");

    let edited = m
        .patch(
            &path,
            &m.researcher,
            &json!({"summary": "审核期间悄悄改过的摘要：承诺提前一年预警，误报率为零。"}),
        )
        .send()
        .await
        .expect("patch");
    assert_eq!(edited.status(), StatusCode::OK);
    let edited: Value = edited.json().await.expect("json");
    assert_eq!(edited["status"], "submitted");
    assert_eq!(edited["revision"].as_i64(), Some(revision + 1));

    let review = format!("{path}/review");
    for body in [
        json!({"decision": "approve", "revision": revision}),
        json!({"decision": "approve"}),
        json!({"decision": "reject", "reason": "数据不足", "revision": revision}),
    ] {
        let answer = m
            .post(&review, &m.registrar, &body)
            .send()
            .await
            .expect("review");
        assert_eq!(answer.status(), StatusCode::CONFLICT, "{body}");
    }
    let still = m.json(&path, &m.registrar).await;
    assert_eq!(still["status"], "submitted");

    let events = m.json(&format!("{path}/events"), &m.registrar).await;
    let edit_recorded = events.as_array().expect("events").iter().any(|e| {
        e["from"] == "submitted"
            && e["to"] == "submitted"
            && e["reason"].as_str().is_some_and(|r| r.contains("revision"))
    });
    assert!(
        edit_recorded,
        "the edit during review is in the history: {events}"
    );

    let approved = m
        .post(
            &review,
            &m.registrar,
            &json!({"decision": "approve", "revision": revision + 1}),
        )
        .send()
        .await
        .expect("approve");
    assert_eq!(approved.status(), StatusCode::OK);
    let approved: Value = approved.json().await.expect("json");
    assert_eq!(approved["status"], "published");
    assert_eq!(approved["summary"], edited["summary"]);
}

#[tokio::test]
async fn an_edit_racing_an_approval_is_never_published_unreviewed() {
    let m = market().await;
    for round in 0..ROUNDS {
        let id = m.submitted_result().await;
        let path = format!("/api/v1/results/{id}");
        let revision = m.json(&path, &m.registrar).await["revision"]
            .as_i64()
            .expect("revision");
        let answers = at_once(vec![
            m.post(
                &format!("{path}/review"),
                &m.registrar,
                &json!({"decision": "approve", "revision": revision}),
            ),
            m.patch(
                &path,
                &m.researcher,
                &json!({"summary": format!("第{round}轮审核期间改过的摘要，内容与审核时不同。")}),
            ),
        ])
        .await;
        let (approval, edit) = (&answers[0], &answers[1]);
        assert!(
            edit.0.is_success(),
            "editing is allowed in both states: {answers:?}"
        );
        if approval.0.is_success() {
            // The approval came first: it published the revision read, and the edit then sent
            // the listing back to review.
            assert_eq!(approval.1["revision"].as_i64(), Some(revision));
            assert_eq!(edit.1["status"], "submitted");
        } else {
            assert_eq!(approval.0, StatusCode::CONFLICT, "{answers:?}");
        }
        let now = m.json(&path, &m.registrar).await;
        assert_eq!(
            now["status"], "submitted",
            "the edited text waits for review"
        );
        m.history_chain(&id).await;
    }
}

#[tokio::test]
async fn an_application_racing_the_selection_is_decided_or_refused() {
    let m = market().await;
    let token = |v: Value| v["token"].as_str().expect("token").to_owned();
    let mut applicants = Vec::new();
    for i in 0..6 {
        applicants.push(token(
            m.app
                .register_with_new_org(
                    &format!("a{i}@nwpu.edu.cn"),
                    "researcher",
                    &format!("西北工业大学第{i}研究所"),
                    "research_institute",
                )
                .await,
        ));
    }
    for round in 0..ROUNDS {
        let challenge = json!({
            "title": format!("高温合金涡轮盘残余应力在线检测（第{round}批）"),
            "description": "我公司批产涡轮盘需要在线检测残余应力，现有方法单件耗时两小时，希望缩短到五分钟。",
            "industry_codes": ["aerospace"],
            "tech_field": "aerospace",
            "demand_type": "tech_development",
            "challenge": {
                "reward_fen": 100_000_000,
                "application_deadline": "2099-06-30",
                "max_duration_months": 12,
                "indicators": "检测精度优于10MPa，单件检测时间小于5分钟",
                "ip_terms": "新产生的知识产权归双方共有",
                "selection_method": "expert_review"
            }
        });
        let created: Value = m
            .post("/api/v1/demands", &m.enterprise, &challenge)
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("json");
        let id = created["id"].as_str().expect("id").to_owned();
        for (path, token, body) in [
            (
                format!("/api/v1/demands/{id}/submit"),
                &m.enterprise,
                json!({}),
            ),
            (
                format!("/api/v1/demands/{id}/review"),
                &m.registrar,
                json!({"decision": "approve"}),
            ),
        ] {
            let answer = m.post(&path, token, &body).send().await.expect("move");
            assert_eq!(answer.status(), StatusCode::OK, "{path}");
        }
        let applications = format!("/api/v1/demands/{id}/applications");
        let proposal = json!({"proposal": "采用超声临界折射纵波法在线检测残余应力，单件三分钟。"});
        let first: Value = m
            .post(&applications, &applicants[0], &proposal)
            .send()
            .await
            .expect("apply")
            .json()
            .await
            .expect("json");
        let first_id = first["id"].as_str().expect("application id");
        let mut requests = vec![m.post(
            &format!("{applications}/{first_id}/select"),
            &m.enterprise,
            &json!({}),
        )];
        requests.extend(
            applicants[1..]
                .iter()
                .map(|applicant| m.post(&applications, applicant, &proposal)),
        );
        let answers = at_once(requests).await;
        assert!(answers[0].0.is_success(), "{answers:?}");
        winners(&answers);
        let listed = m.json(&applications, &m.enterprise).await;
        let listed = listed.as_array().expect("applications");
        let accepted = answers[1..].iter().filter(|(s, _)| s.is_success()).count();
        assert_eq!(listed.len(), 1 + accepted, "{listed:?}");
        for application in listed {
            let status = application["status"].as_str().unwrap_or_default();
            assert!(
                status == "selected" || status == "not_selected",
                "no application is left undecided after the selection: {listed:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_qualification_is_withdrawn_once() {
    let m = market().await;
    let me: Value = m.json("/api/v1/me", &m.enterprise).await;
    let org = me["organization_id"]
        .as_str()
        .or_else(|| me["organization"]["id"].as_str())
        .expect("organization id")
        .to_owned();
    for _ in 0..ROUNDS {
        let recorded: Value = m
            .post(
                &format!("/api/v1/organizations/{org}/qualifications"),
                &m.registrar,
                &json!({"qualification": "tech_sme", "valid_from": "2022-01-01"}),
            )
            .send()
            .await
            .expect("record")
            .json()
            .await
            .expect("json");
        let qid = recorded["id"].as_str().expect("qualification id");
        let withdraw = format!("/api/v1/organizations/{org}/qualifications/{qid}/withdraw");
        let answers = at_once(
            (0..6)
                .map(|i| {
                    m.post(
                        &withdraw,
                        &m.registrar,
                        &json!({"withdrawn_on": format!("2023-0{}-01", i + 1)}),
                    )
                })
                .collect(),
        )
        .await;
        assert_eq!(winners(&answers).len(), 1, "{answers:?}");
        let audit = m
            .json(
                &format!(
                    "/api/v1/audit-log?action=qualification.withdraw&subject_id={org}&per_page=100"
                ),
                &m.registrar,
            )
            .await;
        let entries = audit["items"].as_array().expect("audit items");
        let for_this = entries
            .iter()
            .filter(|e| e["detail"]["qualification_id"].as_str() == Some(qid))
            .count();
        assert_eq!(for_this, 1, "one withdrawal on the record: {audit}");
    }
}

/// A re-import of a listing under review is an edit like a `PATCH`: it counts a revision, is in
/// the history, and an approval of the text read before it is `409`.
#[tokio::test]
async fn a_reimport_during_review_counts_as_an_edit() {
    let m = market().await;
    let row = |summary: &str| {
        json!({
            "external_id": "XJTU-2026-7",
            "title": "风电齿轮箱早期故障诊断系统",
            "summary": summary,
            "industry_codes": ["high_end_equipment"],
            "tech_field": "new_energy",
            "maturity_stage": "pilot_scale",
            "cooperation_modes": ["licence"]
        })
        .to_string()
            + "\n"
    };
    let import = |summary: &str| {
        m.app
            .client
            .post(m.app.url("/api/v1/results/import"))
            .bearer_auth(&m.researcher)
            .header("content-type", "application/x-ndjson")
            .body(row(summary))
    };
    let first = import("基于深度学习的风电齿轮箱早期故障诊断，提前两周预警。")
        .send()
        .await
        .expect("import");
    assert_eq!(first.status(), StatusCode::OK, "{:?}", first.text().await);
    let listed = m
        .json("/api/v1/results?status=draft&per_page=5", &m.researcher)
        .await;
    let id = listed["items"][0]["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/results/{id}");
    let submitted = m
        .post(&format!("{path}/submit"), &m.researcher, &json!({}))
        .send()
        .await
        .expect("submit");
    assert_eq!(submitted.status(), StatusCode::OK);
    let read = m.json(&path, &m.registrar).await["revision"]
        .as_i64()
        .expect("revision");

    let again = import("重新导入的摘要：审核期间换了一段不同的文字。")
        .send()
        .await
        .expect("import");
    assert_eq!(again.status(), StatusCode::OK);
    let now = m.json(&path, &m.registrar).await;
    assert_eq!(now["status"], "submitted");
    assert_eq!(now["revision"].as_i64(), Some(read + 1));
    let stale = m
        .post(
            &format!("{path}/review"),
            &m.registrar,
            &json!({"decision": "approve", "revision": read}),
        )
        .send()
        .await
        .expect("review");
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let unnamed = m
        .post(
            &format!("{path}/review"),
            &m.registrar,
            &json!({"decision": "approve"}),
        )
        .send()
        .await
        .expect("review");
    assert_eq!(unnamed.status(), StatusCode::CONFLICT);
    m.history_chain(&id).await;
}
