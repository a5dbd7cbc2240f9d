//! Results, demands and challenges: the permissions matrix, the lifecycle, validation.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, body_of, error_fields, spawn_app};

/// One account of every kind the matrix needs.
struct Actors {
    /// Researcher of 西安交通大学 (owner of the results under test).
    owner: String,
    /// Researcher of 西北大学.
    other: String,
    /// Enterprise user of 秦川装备 (owner of the demands under test).
    enterprise: String,
    /// Broker of a transfer agency.
    broker: String,
    /// The registrar.
    registrar: String,
}

async fn actors(app: &TestApp) -> Actors {
    let token = |v: Value| v["token"].as_str().expect("token").to_owned();
    Actors {
        owner: token(
            app.register_with_new_org(
                "owner@xjtu.edu.cn",
                "researcher",
                "西安交通大学",
                "university",
            )
            .await,
        ),
        other: token(
            app.register_with_new_org("other@nwu.edu.cn", "researcher", "西北大学", "university")
                .await,
        ),
        enterprise: token(
            app.register_with_new_org(
                "e@qinchuan.cn",
                "enterprise",
                "秦川装备有限公司",
                "enterprise",
            )
            .await,
        ),
        broker: token(
            app.register_with_new_org(
                "b@agency.cn",
                "broker",
                "丝路技术转移中心",
                "transfer_agency",
            )
            .await,
        ),
        registrar: app.registrar_token().await,
    }
}

fn result_body() -> Value {
    json!({
        "title": "风电齿轮箱振动信号早期故障诊断系统",
        "summary": "基于深度学习的风电齿轮箱早期故障诊断，提前两周预警，误报率低于2%。",
        "details": "采用多传感器融合与迁移学习。",
        "keywords": ["故障诊断", "风电", "深度学习"],
        "industry_codes": ["high_end_equipment", "artificial_intelligence"],
        "tech_field": "new_energy",
        "trl": 6,
        "maturity_stage": "pilot_scale",
        "cooperation_modes": ["licence", "cooperative_development"],
        "ip": [{"ip_type": "invention_patent", "number": "ZL202110234567.8", "title": "一种齿轮箱故障诊断方法"}],
        "price_fen": 80_000_000,
        "confidential_details": "核心模型参数与训练数据来源",
        "contact": {"name": "王老师", "phone": "029-82660000", "email": "wang@xjtu.edu.cn"}
    })
}

fn demand_body(challenge: bool) -> Value {
    let mut body = json!({
        "title": "高温合金涡轮盘残余应力在线检测方法",
        "description": "我公司批产涡轮盘需要在线检测残余应力，现有方法单件耗时两小时，希望缩短到五分钟。",
        "keywords": ["残余应力", "无损检测"],
        "industry_codes": ["aerospace"],
        "tech_field": "aerospace",
        "demand_type": "tech_development",
        "budget_fen": 300_000_000,
        "deadline": "2028-06-30"
    });
    if challenge {
        body["challenge"] = json!({
            "reward_fen": 1_000_000_000,
            "application_deadline": "2099-06-30",
            "max_duration_months": 24,
            "indicators": "检测精度优于10MPa，单件检测时间小于5分钟，连续运行一年",
            "ip_terms": "新产生的知识产权归双方共有",
            "selection_method": "expert_review"
        });
    }
    body
}

/// Creates a result as `owner`, optionally submitted and published.
async fn result_in(app: &TestApp, a: &Actors, state: &str) -> String {
    let created = body_of(
        app.send(
            Method::POST,
            "/api/v1/results",
            Some(&a.owner),
            Some(&result_body()),
        )
        .await,
    )
    .await;
    let id = created["id"].as_str().expect("id").to_owned();
    if state != "draft" {
        assert_eq!(
            app.status(
                Method::POST,
                &format!("/api/v1/results/{id}/submit"),
                Some(&a.owner),
                None
            )
            .await,
            200
        );
    }
    if state == "published" {
        let review = json!({"decision": "approve"});
        assert_eq!(
            app.status(
                Method::POST,
                &format!("/api/v1/results/{id}/review"),
                Some(&a.registrar),
                Some(&review)
            )
            .await,
            200
        );
    }
    id
}

#[tokio::test]
async fn who_may_create_results_and_demands() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    let result = result_body();
    let demand = demand_body(false);
    for (token, expected) in [
        (None, 401),
        (Some(&a.owner), 201),
        (Some(&a.enterprise), 403),
        (Some(&a.broker), 403),
        (Some(&a.registrar), 403),
    ] {
        assert_eq!(
            app.status(
                Method::POST,
                "/api/v1/results",
                token.map(String::as_str),
                Some(&result)
            )
            .await,
            expected
        );
    }
    for (token, expected) in [
        (None, 401),
        (Some(&a.enterprise), 201),
        (Some(&a.owner), 403),
        (Some(&a.broker), 403),
        (Some(&a.registrar), 403),
    ] {
        assert_eq!(
            app.status(
                Method::POST,
                "/api/v1/demands",
                token.map(String::as_str),
                Some(&demand)
            )
            .await,
            expected
        );
    }
}

#[tokio::test]
async fn a_pending_member_cannot_list_for_the_organization() {
    let app = spawn_app().await;
    let founder = app
        .register_with_new_org("f@xjtu.edu.cn", "researcher", "西安交通大学", "university")
        .await;
    let org_id = founder["user"]["organization_id"].as_str().expect("org");
    let pending = app
        .register(&json!({
            "email": "p@xjtu.edu.cn", "password": "a-long-password-1", "display_name": "新人",
            "role": "researcher", "organization_id": org_id
        }))
        .await;
    let token = pending["token"].as_str().expect("token");
    let problem = assert_problem(
        app.send(
            Method::POST,
            "/api/v1/results",
            Some(token),
            Some(&result_body()),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("pending"))
    );
}

#[tokio::test]
async fn drafts_and_confidential_fields_stay_with_the_owner_and_the_registrar() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    let id = result_in(&app, &a, "draft").await;
    let path = format!("/api/v1/results/{id}");
    for token in [None, Some(&a.other), Some(&a.enterprise), Some(&a.broker)] {
        assert_problem(
            app.send(Method::GET, &path, token.map(String::as_str), None)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    for token in [&a.owner, &a.registrar] {
        let body = body_of(app.send(Method::GET, &path, Some(token), None).await).await;
        assert_eq!(body["status"], "draft");
        assert_eq!(body["confidential_details"], "核心模型参数与训练数据来源");
    }
    // Lists: nobody else sees the draft, whatever status they ask for.
    for token in [None, Some(&a.other), Some(&a.enterprise)] {
        for query in ["", "?status=draft"] {
            let page = body_of(
                app.send(
                    Method::GET,
                    &format!("/api/v1/results{query}"),
                    token.map(String::as_str),
                    None,
                )
                .await,
            )
            .await;
            assert_eq!(page["total"], 0, "{query}");
        }
    }
    let mine = body_of(
        app.send(
            Method::GET,
            "/api/v1/results?status=draft",
            Some(&a.owner),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(mine["total"], 1);
    let all = body_of(
        app.send(Method::GET, "/api/v1/results", Some(&a.registrar), None)
            .await,
    )
    .await;
    assert_eq!(all["total"], 1);
    // Others cannot touch it either: for them it does not exist.
    for token in [&a.other, &a.enterprise] {
        assert_eq!(
            app.status(
                Method::PATCH,
                &path,
                Some(token),
                Some(&json!({"title": "改个标题吧"}))
            )
            .await,
            404
        );
        assert_eq!(
            app.status(Method::POST, &format!("{path}/submit"), Some(token), None)
                .await,
            404
        );
        assert_eq!(
            app.status(Method::DELETE, &path, Some(token), None).await,
            404
        );
        assert_eq!(
            app.status(Method::GET, &format!("{path}/events"), Some(token), None)
                .await,
            404
        );
    }
    // The registrar reviews but does not write other organizations' listings.
    assert_eq!(
        app.status(
            Method::PATCH,
            &path,
            Some(&a.registrar),
            Some(&json!({"title": "登记员改的标题"}))
        )
        .await,
        403
    );
    assert_eq!(
        app.status(
            Method::POST,
            &format!("{path}/submit"),
            Some(&a.registrar),
            None
        )
        .await,
        403
    );
}

#[tokio::test]
async fn a_published_result_is_public_without_its_secrets() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    let id = result_in(&app, &a, "published").await;
    let path = format!("/api/v1/results/{id}");
    let anonymous = body_of(app.send(Method::GET, &path, None, None).await).await;
    assert_eq!(anonymous["status"], "published");
    assert_eq!(anonymous["price_fen"], 80_000_000);
    assert_eq!(anonymous["price_negotiable"], false);
    assert_eq!(anonymous["organization"]["name"], "西安交通大学");
    for secret in [
        "confidential_details",
        "contact",
        "rejection_reason",
        "external_id",
    ] {
        assert!(
            anonymous.get(secret).is_none(),
            "{secret} leaked to anonymous"
        );
    }
    let other = body_of(app.send(Method::GET, &path, Some(&a.other), None).await).await;
    assert!(other.get("confidential_details").is_none());
    assert_eq!(other["contact"]["name"], "王老师");
    let listed = body_of(app.send(Method::GET, "/api/v1/results", None, None).await).await;
    assert_eq!(listed["total"], 1);
    assert!(listed["items"][0].get("confidential_details").is_none());
    // No write for others; the history only for owner and registrar.
    assert_eq!(
        app.status(
            Method::PATCH,
            &path,
            Some(&a.other),
            Some(&json!({"title": "别人的成果"}))
        )
        .await,
        403
    );
    assert_eq!(
        app.status(Method::DELETE, &path, Some(&a.other), None)
            .await,
        403
    );
    assert_eq!(
        app.status(Method::DELETE, &path, Some(&a.enterprise), None)
            .await,
        403
    );
    assert_eq!(
        app.status(
            Method::POST,
            &format!("{path}/review"),
            Some(&a.owner),
            Some(&json!({"decision": "approve"}))
        )
        .await,
        403
    );
    assert_eq!(
        app.status(Method::GET, &format!("{path}/events"), None, None)
            .await,
        401
    );
    assert_eq!(
        app.status(Method::GET, &format!("{path}/events"), Some(&a.other), None)
            .await,
        403
    );
    let history = body_of(
        app.send(Method::GET, &format!("{path}/events"), Some(&a.owner), None)
            .await,
    )
    .await;
    let steps: Vec<(Value, Value)> = history
        .as_array()
        .expect("events")
        .iter()
        .map(|e| (e["from"].clone(), e["to"].clone()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (Value::Null, json!("draft")),
            (json!("draft"), json!("submitted")),
            (json!("submitted"), json!("published")),
        ]
    );
    assert!(history[2]["actor_id"].is_string());
}

#[tokio::test]
async fn rejection_reasons_reach_the_owner_only_and_invalid_transitions_are_409() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    let id = result_in(&app, &a, "draft").await;
    let path = format!("/api/v1/results/{id}");
    // Reviewing a draft, or rejecting without a reason.
    assert_eq!(
        app.status(
            Method::POST,
            &format!("{path}/review"),
            Some(&a.registrar),
            Some(&json!({"decision": "approve"}))
        )
        .await,
        409
    );
    assert_eq!(
        app.status(
            Method::POST,
            &format!("{path}/submit"),
            Some(&a.owner),
            None
        )
        .await,
        200
    );
    assert_eq!(
        app.status(
            Method::POST,
            &format!("{path}/submit"),
            Some(&a.owner),
            None
        )
        .await,
        409
    );
    let problem = assert_problem(
        app.send(
            Method::POST,
            &format!("{path}/review"),
            Some(&a.registrar),
            Some(&json!({"decision": "reject"})),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), vec!["reason"]);
    let reject = json!({"decision": "reject", "reason": "请补充知识产权证明材料"});
    let rejected = body_of(
        app.send(
            Method::POST,
            &format!("{path}/review"),
            Some(&a.registrar),
            Some(&reject),
        )
        .await,
    )
    .await;
    assert_eq!(rejected["status"], "rejected");
    let owner_view = body_of(app.send(Method::GET, &path, Some(&a.owner), None).await).await;
    assert_eq!(owner_view["rejection_reason"], "请补充知识产权证明材料");
    assert_eq!(
        app.status(Method::GET, &path, Some(&a.other), None).await,
        404
    );
    // Fix and resubmit, publish, then archive; an archived result is gone and frozen.
    assert_eq!(
        app.status(
            Method::PATCH,
            &path,
            Some(&a.owner),
            Some(&json!({"details": "已补充专利证书"}))
        )
        .await,
        200
    );
    assert_eq!(
        app.status(
            Method::POST,
            &format!("{path}/submit"),
            Some(&a.owner),
            None
        )
        .await,
        200
    );
    assert_eq!(
        app.status(
            Method::POST,
            &format!("{path}/review"),
            Some(&a.registrar),
            Some(&json!({"decision": "approve"}))
        )
        .await,
        200
    );
    let published = body_of(app.send(Method::GET, &path, Some(&a.owner), None).await).await;
    assert!(published.get("rejection_reason").is_none());
    assert_eq!(
        app.status(Method::DELETE, &path, Some(&a.owner), None)
            .await,
        200
    );
    assert_eq!(app.status(Method::GET, &path, None, None).await, 404);
    assert_eq!(
        app.status(Method::DELETE, &path, Some(&a.owner), None)
            .await,
        409
    );
    assert_eq!(
        app.status(
            Method::PATCH,
            &path,
            Some(&a.owner),
            Some(&json!({"title": "复活一下吧"}))
        )
        .await,
        409
    );
    assert_eq!(
        app.status(
            Method::POST,
            &format!("{path}/submit"),
            Some(&a.owner),
            None
        )
        .await,
        409
    );
}

#[tokio::test]
async fn editing_a_published_result_sends_it_back_to_review() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    let id = result_in(&app, &a, "published").await;
    let path = format!("/api/v1/results/{id}");
    let edited = body_of(
        app.send(
            Method::PATCH,
            &path,
            Some(&a.owner),
            Some(&json!({"title": "未经审核的新标题", "price_fen": null})),
        )
        .await,
    )
    .await;
    assert_eq!(edited["status"], "submitted");
    assert_eq!(edited["price_negotiable"], true);
    // The public no longer sees it at all — neither the old nor the unreviewed new text.
    assert_eq!(app.status(Method::GET, &path, None, None).await, 404);
    let public = body_of(app.send(Method::GET, "/api/v1/results", None, None).await).await;
    assert_eq!(public["total"], 0);
    assert_eq!(
        app.status(
            Method::POST,
            &format!("{path}/review"),
            Some(&a.registrar),
            Some(&json!({"decision": "approve"}))
        )
        .await,
        200
    );
    let again = body_of(app.send(Method::GET, &path, None, None).await).await;
    assert_eq!(again["title"], "未经审核的新标题");
}

#[tokio::test]
async fn result_validation_names_every_bad_field() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    let mut body = result_body();
    body["title"] = json!("");
    body["industry_codes"] = json!(["steel", "aerospace", "aerospace"]);
    body["tech_field"] = json!("alchemy");
    body["trl"] = json!(10);
    body["maturity_stage"] = json!("dreaming");
    body["cooperation_modes"] = json!([]);
    body["ip"] = json!([{"ip_type": "secret_sauce"}]);
    body["price_fen"] = json!(-1);
    body["contact"] = json!({"name": "王老师", "email": "not-an-email"});
    let problem = assert_problem(
        app.send(Method::POST, "/api/v1/results", Some(&a.owner), Some(&body))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields = error_fields(&problem);
    for field in [
        "title",
        "industry_codes[0]",
        "industry_codes[2]",
        "tech_field",
        "trl",
        "maturity_stage",
        "cooperation_modes",
        "ip[0].ip_type",
        "price_fen",
        "contact.email",
    ] {
        assert!(
            fields.contains(&field.to_owned()),
            "{field} not in {fields:?}"
        );
    }
    // Money is an integer number of fen: a fraction is refused, not rounded.
    let mut fractional = result_body();
    fractional["price_fen"] = json!(12.5);
    let problem = assert_problem(
        app.send(
            Method::POST,
            "/api/v1/results",
            Some(&a.owner),
            Some(&fractional),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), vec!["price_fen"]);
    let page = body_of(
        app.send(Method::GET, "/api/v1/results", Some(&a.owner), None)
            .await,
    )
    .await;
    assert_eq!(page["total"], 0, "nothing was written");
}

#[tokio::test]
async fn lists_filter_by_industry_field_stage_district_and_organization() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    result_in(&app, &a, "published").await;
    let published = |query: &'static str| {
        let app = &app;
        async move {
            body_of(
                app.send(Method::GET, &format!("/api/v1/results?{query}"), None, None)
                    .await,
            )
            .await["total"]
                .clone()
        }
    };
    assert_eq!(published("industry=artificial_intelligence").await, 1);
    assert_eq!(published("industry=automotive").await, 0);
    // The public cannot ask for drafts, and the count agrees with the (empty) page.
    assert_eq!(
        published("industry=artificial_intelligence&status=draft").await,
        0
    );
    assert_eq!(published("tech_field=new_energy").await, 1);
    assert_eq!(published("tech_field=agriculture").await, 0);
    assert_eq!(published("maturity_stage=pilot_scale").await, 1);
    assert_eq!(published("district=610113").await, 1);
    assert_eq!(published("district=610102").await, 0);
    assert_eq!(published("per_page=1&page=2").await, 1);
    let catalogue = body_of(app.send(Method::GET, "/api/v1/catalogue", None, None).await).await;
    assert_eq!(catalogue["total_results"], 1);
    let industry = |code: &str| {
        catalogue["industries"]
            .as_array()
            .expect("industries")
            .iter()
            .find(|i| i["code"] == code)
            .map(|i| i["results"].clone())
    };
    assert_eq!(industry("artificial_intelligence"), Some(json!(1)));
    assert_eq!(industry("high_end_equipment"), Some(json!(1)));
    assert_eq!(industry("automotive"), Some(json!(0)));
    let groups = catalogue["groups"].as_array().expect("groups");
    let pillar = groups
        .iter()
        .find(|g| g["code"] == "pillar")
        .expect("pillar");
    let emerging = groups
        .iter()
        .find(|g| g["code"] == "emerging")
        .expect("emerging");
    assert_eq!(
        (pillar["results"].clone(), emerging["results"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(groups.len(), 4);
    assert_eq!(catalogue["industries"].as_array().map(Vec::len), Some(18));
}

/// Creates and publishes a challenge as the enterprise; returns its id.
async fn published_challenge(app: &TestApp, a: &Actors) -> String {
    let created = body_of(
        app.send(
            Method::POST,
            "/api/v1/demands",
            Some(&a.enterprise),
            Some(&demand_body(true)),
        )
        .await,
    )
    .await;
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(created["challenge"]["reward_fen"], 1_000_000_000);
    assert_eq!(
        app.status(
            Method::POST,
            &format!("/api/v1/demands/{id}/submit"),
            Some(&a.enterprise),
            None
        )
        .await,
        200
    );
    assert_eq!(
        app.status(
            Method::POST,
            &format!("/api/v1/demands/{id}/review"),
            Some(&a.registrar),
            Some(&json!({"decision": "approve"}))
        )
        .await,
        200
    );
    id
}

#[tokio::test]
async fn a_challenge_takes_applications_and_selects_exactly_one() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    let id = published_challenge(&app, &a).await;
    let applications = format!("/api/v1/demands/{id}/applications");
    let proposal = json!({"proposal": "采用X射线衍射与超声组合的在线检测方案，三个月出样机。"});
    // The poster cannot apply, nor the registrar, nor anonymous users.
    assert_eq!(
        app.status(
            Method::POST,
            &applications,
            Some(&a.enterprise),
            Some(&proposal)
        )
        .await,
        403
    );
    assert_eq!(
        app.status(
            Method::POST,
            &applications,
            Some(&a.registrar),
            Some(&proposal)
        )
        .await,
        403
    );
    assert_eq!(
        app.status(Method::POST, &applications, None, Some(&proposal))
            .await,
        401
    );
    // A researcher offering one of their published results, and a broker.
    let result_id = result_in(&app, &a, "published").await;
    let with_result =
        json!({"proposal": "基于已发布成果的改进方案，可在六个月内交付。", "result_id": result_id});
    let first = body_of(
        app.send(
            Method::POST,
            &applications,
            Some(&a.owner),
            Some(&with_result),
        )
        .await,
    )
    .await;
    assert_eq!(first["status"], "submitted");
    assert_eq!(
        app.status(Method::POST, &applications, Some(&a.owner), Some(&proposal))
            .await,
        409
    );
    // Someone else's result cannot be offered.
    let problem = assert_problem(
        app.send(
            Method::POST,
            &applications,
            Some(&a.other),
            Some(&with_result),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), vec!["result_id"]);
    let second = body_of(
        app.send(
            Method::POST,
            &applications,
            Some(&a.broker),
            Some(&proposal),
        )
        .await,
    )
    .await;

    // The poster sees both; an applicant sees only their own; others nothing.
    let all = body_of(
        app.send(Method::GET, &applications, Some(&a.enterprise), None)
            .await,
    )
    .await;
    assert_eq!(all.as_array().map(Vec::len), Some(2));
    let own = body_of(
        app.send(Method::GET, &applications, Some(&a.broker), None)
            .await,
    )
    .await;
    assert_eq!(own.as_array().map(Vec::len), Some(1));
    assert_eq!(own[0]["id"], second["id"]);
    assert_eq!(
        app.status(Method::GET, &applications, Some(&a.other), None)
            .await,
        403
    );

    // Only the poster selects; exactly once.
    let select = |aid: &Value| format!("{applications}/{}/select", aid.as_str().expect("id"));
    assert_eq!(
        app.status(Method::POST, &select(&first["id"]), Some(&a.owner), None)
            .await,
        403
    );
    assert_eq!(
        app.status(
            Method::POST,
            &select(&first["id"]),
            Some(&a.registrar),
            None
        )
        .await,
        403
    );
    let chosen = body_of(
        app.send(
            Method::POST,
            &select(&first["id"]),
            Some(&a.enterprise),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(chosen["status"], "selected");
    assert_eq!(
        app.status(
            Method::POST,
            &select(&second["id"]),
            Some(&a.enterprise),
            None
        )
        .await,
        409
    );
    let broker_view = body_of(
        app.send(
            Method::GET,
            "/api/v1/me/applications",
            Some(&a.broker),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(broker_view[0]["status"], "not_selected");
    let demand = body_of(
        app.send(Method::GET, &format!("/api/v1/demands/{id}"), None, None)
            .await,
    )
    .await;
    assert_eq!(demand["challenge"]["selected"], true);
    assert!(demand["challenge"].get("selected_application_id").is_none());
    // After the selection nobody else can apply.
    let late = json!({"proposal": "来晚了但还是想试一试这个挑战。"});
    assert_eq!(
        app.status(Method::POST, &applications, Some(&a.other), Some(&late))
            .await,
        409
    );
}

#[tokio::test]
async fn no_application_after_the_deadline_nor_to_an_ordinary_demand() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    let id = published_challenge(&app, &a).await;
    // Move the deadline into the past, as time would.
    let yesterday =
        (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive() - chrono::Duration::days(1);
    sea_orm::ConnectionTrait::execute_raw(
        app.db(),
        sea_orm::Statement::from_sql_and_values(
            app.db().get_database_backend(),
            match app.db().get_database_backend() {
                sea_orm::DbBackend::Postgres => {
                    "UPDATE demands SET application_deadline = $1 WHERE id = $2"
                }
                _ => "UPDATE demands SET application_deadline = ? WHERE id = ?",
            },
            [
                yesterday.into(),
                uuid::Uuid::parse_str(&id).expect("uuid").into(),
            ],
        ),
    )
    .await
    .expect("update");
    let proposal = json!({"proposal": "截止后提交的方案应当被拒绝。"});
    let problem = assert_problem(
        app.send(
            Method::POST,
            &format!("/api/v1/demands/{id}/applications"),
            Some(&a.owner),
            Some(&proposal),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("closed"))
    );

    let ordinary = body_of(
        app.send(
            Method::POST,
            "/api/v1/demands",
            Some(&a.enterprise),
            Some(&demand_body(false)),
        )
        .await,
    )
    .await;
    let oid = ordinary["id"].as_str().expect("id");
    assert_eq!(
        app.status(
            Method::POST,
            &format!("/api/v1/demands/{oid}/submit"),
            Some(&a.enterprise),
            None
        )
        .await,
        200
    );
    assert_eq!(
        app.status(
            Method::POST,
            &format!("/api/v1/demands/{oid}/review"),
            Some(&a.registrar),
            Some(&json!({"decision": "approve"}))
        )
        .await,
        200
    );
    assert_eq!(
        app.status(
            Method::POST,
            &format!("/api/v1/demands/{oid}/applications"),
            Some(&a.owner),
            Some(&proposal)
        )
        .await,
        409
    );
    // A draft challenge of someone else does not exist for an applicant.
    let draft = body_of(
        app.send(
            Method::POST,
            "/api/v1/demands",
            Some(&a.enterprise),
            Some(&demand_body(true)),
        )
        .await,
    )
    .await;
    let did = draft["id"].as_str().expect("id");
    assert_eq!(
        app.status(
            Method::POST,
            &format!("/api/v1/demands/{did}/applications"),
            Some(&a.owner),
            Some(&proposal)
        )
        .await,
        404
    );
}

#[tokio::test]
async fn demand_validation_and_visibility() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    let mut body = demand_body(true);
    body["demand_type"] = json!("wish");
    body["deadline"] = json!("2001-01-01");
    body["challenge"]["application_deadline"] = json!("2001-01-01");
    body["challenge"]["max_duration_months"] = json!(0);
    body["challenge"]["selection_method"] = json!("lottery");
    let problem = assert_problem(
        app.send(
            Method::POST,
            "/api/v1/demands",
            Some(&a.enterprise),
            Some(&body),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields = error_fields(&problem);
    for field in [
        "demand_type",
        "deadline",
        "challenge.application_deadline",
        "challenge.max_duration_months",
        "challenge.selection_method",
    ] {
        assert!(
            fields.contains(&field.to_owned()),
            "{field} not in {fields:?}"
        );
    }
    let mut bad_date = demand_body(false);
    bad_date["deadline"] = json!("2027-02-30");
    let problem = assert_problem(
        app.send(
            Method::POST,
            "/api/v1/demands",
            Some(&a.enterprise),
            Some(&bad_date),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), vec!["deadline"]);

    let draft = body_of(
        app.send(
            Method::POST,
            "/api/v1/demands",
            Some(&a.enterprise),
            Some(&demand_body(false)),
        )
        .await,
    )
    .await;
    let path = format!("/api/v1/demands/{}", draft["id"].as_str().expect("id"));
    for token in [None, Some(&a.owner), Some(&a.broker)] {
        assert_eq!(
            app.status(Method::GET, &path, token.map(String::as_str), None)
                .await,
            404
        );
    }
    assert_eq!(
        app.status(Method::GET, &path, Some(&a.registrar), None)
            .await,
        200
    );
    assert_eq!(
        app.status(
            Method::PATCH,
            &path,
            Some(&a.owner),
            Some(&json!({"title": "别人的需求"}))
        )
        .await,
        404
    );
    let page = body_of(
        app.send(
            Method::GET,
            "/api/v1/demands?status=draft",
            Some(&a.enterprise),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(page["total"], 1);
    let page = body_of(
        app.send(
            Method::GET,
            "/api/v1/demands?challenge=true",
            Some(&a.enterprise),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(page["total"], 0);
}
