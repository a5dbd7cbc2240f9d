//! Organizations: joining one needs approval by a member; members are visible to members only.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

async fn join(app: &crate::helpers::TestApp, email: &str, role: &str, org_id: &str) -> Value {
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &json!({
                "email": email,
                "password": "a-long-password-1",
                "display_name": "新成员",
                "role": role,
                "organization_id": org_id
            }),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.expect("json")
}

#[tokio::test]
async fn joining_an_organization_waits_for_a_member_to_approve() {
    let app = spawn_app().await;
    let founder = app
        .register_with_new_org(
            "founder@xjtu.edu.cn",
            "researcher",
            "西安交通大学",
            "university",
        )
        .await;
    let founder_token = founder["token"].as_str().expect("token");
    let org_id = founder["user"]["organization_id"].as_str().expect("org id");

    let newcomer = join(&app, "new@xjtu.edu.cn", "researcher", org_id).await;
    assert_eq!(newcomer["user"]["membership"], "pending");
    let newcomer_token = newcomer["token"].as_str().expect("token");
    let newcomer_id = newcomer["user"]["id"].as_str().expect("id");

    // A pending member cannot see or approve members, not even themselves.
    let members_path = format!("/api/v1/organizations/{org_id}/members");
    assert_problem(
        app.get(&members_path, Some(newcomer_token)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let approve_path = format!("/api/v1/organizations/{org_id}/members/{newcomer_id}/approve");
    assert_problem(
        app.post_json(&approve_path, &json!({}), Some(newcomer_token))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // Someone of another organization cannot either.
    let outsider = app
        .register_with_new_org(
            "x@company.cn",
            "enterprise",
            "西安某科技有限公司",
            "enterprise",
        )
        .await;
    let outsider_token = outsider["token"].as_str().expect("token");
    assert_problem(
        app.get(&members_path, Some(outsider_token)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_problem(
        app.post_json(&approve_path, &json!({}), Some(outsider_token))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_problem(app.get(&members_path, None).await, StatusCode::UNAUTHORIZED).await;

    // The founder sees both and approves.
    let members: Value = app
        .get(&members_path, Some(founder_token))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(members.as_array().map(Vec::len), Some(2));
    let approved = app
        .post_json(&approve_path, &json!({}), Some(founder_token))
        .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let approved: Value = approved.json().await.expect("json");
    assert_eq!(approved["membership"], "active");
    let me: Value = app
        .get("/api/v1/me", Some(newcomer_token))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["membership"], "active");
}

#[tokio::test]
async fn the_registrar_may_approve_and_unknown_members_are_404() {
    let app = spawn_app().await;
    let founder = app
        .register_with_new_org(
            "f@agency.cn",
            "broker",
            "西安技术转移中心",
            "transfer_agency",
        )
        .await;
    let org_id = founder["user"]["organization_id"].as_str().expect("org id");
    let newcomer = join(&app, "b2@agency.cn", "broker", org_id).await;
    let newcomer_id = newcomer["user"]["id"].as_str().expect("id");
    let registrar = app.registrar_token().await;
    let response = app
        .post_json(
            &format!("/api/v1/organizations/{org_id}/members/{newcomer_id}/approve"),
            &json!({}),
            Some(&registrar),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let stranger = uuid::Uuid::now_v7();
    assert_problem(
        app.post_json(
            &format!("/api/v1/organizations/{org_id}/members/{stranger}/approve"),
            &json!({}),
            Some(&registrar),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn a_role_cannot_join_an_organization_of_the_wrong_kind() {
    let app = spawn_app().await;
    let company = app
        .register_with_new_org(
            "boss@co.cn",
            "enterprise",
            "陕西某装备制造有限公司",
            "enterprise",
        )
        .await;
    let org_id = company["user"]["organization_id"].as_str().expect("org id");
    let problem = assert_problem(
        app.post_json(
            "/api/v1/auth/register",
            &json!({
                "email": "prof@univ.cn",
                "password": "a-long-password-1",
                "display_name": "教授",
                "role": "researcher",
                "organization_id": org_id
            }),
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "organization_id");
}

#[tokio::test]
async fn organizations_are_listed_by_name_with_pagination() {
    let app = spawn_app().await;
    for (i, name) in ["西安理工大学", "西安建筑科技大学", "长安大学"]
        .iter()
        .enumerate()
    {
        app.register_with_new_org(&format!("u{i}@univ.cn"), "researcher", name, "university")
            .await;
    }
    let page: Value = app
        .get("/api/v1/organizations?name=西安&per_page=1&page=2", None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["total"], 2);
    assert_eq!(page["page"], 2);
    assert_eq!(page["per_page"], 1);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    let one = page["items"][0]["id"].as_str().expect("id");
    let fetched = app.get(&format!("/api/v1/organizations/{one}"), None).await;
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_problem(
        app.get(
            &format!("/api/v1/organizations/{}", uuid::Uuid::now_v7()),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        app.get("/api/v1/organizations/not-a-uuid", None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

fn with_org_name(email: &str, name: &str) -> Value {
    json!({
        "email": email,
        "password": "a-long-password-1",
        "display_name": "测试用户",
        "role": "researcher",
        "organization": {"name": name, "kind": "university", "region_code": "610113"}
    })
}

#[tokio::test]
async fn invisible_characters_in_an_organization_or_display_name_are_refused_by_code_point() {
    let app = spawn_app().await;
    for (i, (c, shown)) in [
        ('\u{200B}', "U+200B"),
        ('\u{2060}', "U+2060"),
        ('\u{FEFF}', "U+FEFF"),
        ('\u{00AD}', "U+00AD"),
    ]
    .into_iter()
    .enumerate()
    {
        let body = with_org_name(&format!("i{i}@test.cn"), &format!("西安电子科技大学{c}"));
        let problem = assert_problem(
            app.post_json("/api/v1/auth/register", &body, None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let error = &problem["errors"][0];
        assert_eq!(error["field"], "organization.name", "{problem}");
        assert!(
            error["message"].as_str().is_some_and(|m| m.contains(shown)),
            "{problem}"
        );

        let mut body = with_org_name(&format!("d{i}@test.cn"), &format!("某某大学{i}"));
        body["display_name"] = json!(format!("李{c}老师"));
        let problem = assert_problem(
            app.post_json("/api/v1/auth/register", &body, None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "display_name", "{problem}");
    }
    let (_, total) =
        techmarket::services::accounts::organizations::list(app.db(), Default::default(), 1, 10)
            .await
            .expect("list");
    assert_eq!(total, 0);
}

#[tokio::test]
async fn a_full_width_or_double_spaced_name_is_the_existing_organization() {
    let app = spawn_app().await;
    app.register(&with_org_name(
        "first@test.cn",
        "西安电子科技大学 Xidian University",
    ))
    .await;
    for (i, lookalike) in [
        "西安电子科技大学　Ｘｉｄｉａｎ　Ｕｎｉｖｅｒｓｉｔｙ",
        "西安电子科技大学  xidian  university",
    ]
    .into_iter()
    .enumerate()
    {
        let problem = assert_problem(
            app.post_json(
                "/api/v1/auth/register",
                &with_org_name(&format!("again{i}@test.cn"), lookalike),
                None,
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("organization.name")),
            "{problem}"
        );
    }
    let found = app
        .get(
            "/api/v1/organizations?name=%EF%BC%B8%EF%BD%89%EF%BD%84%EF%BD%89%EF%BD%81%EF%BD%8E",
            None,
        )
        .await;
    let found: Value = found.json().await.expect("json");
    assert_eq!(found["total"], 1, "{found}");
}
