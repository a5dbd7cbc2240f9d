//! Registration, login, logout, tokens and throttling.

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use techmarket::entity::{sessions, users};

use crate::helpers::{TestApp, assert_problem, error_fields, spawn_app, spawn_app_with};

fn registration(email: &str) -> Value {
    json!({
        "email": email,
        "password": "correct-horse-battery",
        "display_name": "李老师",
        "role": "researcher",
        "organization": {
            "name": "西北工业大学",
            "kind": "university",
            "region_code": "610104",
            "nature_code": "022"
        }
    })
}

#[tokio::test]
async fn a_researcher_registers_with_a_new_university_logs_in_and_out() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &registration("Li@NWPU.edu.cn"),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["user"]["email"], "li@nwpu.edu.cn");
    assert_eq!(body["user"]["role"], "researcher");
    assert_eq!(body["user"]["membership"], "active");
    assert_eq!(body["user"]["organization"]["name"], "西北工业大学");
    assert_eq!(body["user"]["organization"]["kind"], "university");
    assert!(body["user"].get("password_hash").is_none());
    let register_token = body["token"].as_str().expect("token");
    assert_eq!(register_token.len(), 64);

    let token = app.login("li@nwpu.edu.cn", "correct-horse-battery").await;
    assert_ne!(token, register_token);
    let me: Value = app
        .get("/api/v1/me", Some(&token))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["email"], "li@nwpu.edu.cn");
    assert_eq!(me["organization"]["region_code"], "610104");

    let logout = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get("/api/v1/me", Some(&token)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // The other session is untouched by this logout.
    assert_eq!(
        app.get("/api/v1/me", Some(register_token)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn tokens_and_passwords_are_stored_only_as_hashes() {
    let app = spawn_app().await;
    let body = app.register(&registration("hash@nwpu.edu.cn")).await;
    let token = body["token"].as_str().expect("token");
    let user = users::Entity::find()
        .filter(users::Column::Email.eq("hash@nwpu.edu.cn"))
        .one(app.db())
        .await
        .expect("query")
        .expect("user");
    assert!(
        user.password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        user.password_hash
    );
    let stored = sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(user.id))
        .all(app.db())
        .await
        .expect("query");
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].token_hash, token);
    assert_eq!(stored[0].token_hash, hex::encode(Sha256::digest(token)));
    let ttl = stored[0].expires_at - stored[0].created_at;
    assert_eq!(ttl.num_hours(), 7 * 24);
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    let body = app.register(&registration("old@nwpu.edu.cn")).await;
    let token = body["token"].as_str().expect("token");
    assert_eq!(
        app.get("/api/v1/me", Some(token)).await.status(),
        StatusCode::OK
    );
    let session = sessions::Entity::find()
        .one(app.db())
        .await
        .expect("query")
        .expect("session");
    let mut expired: sessions::ActiveModel = session.into();
    expired.expires_at =
        sea_orm::ActiveValue::Set(chrono::Utc::now() - chrono::Duration::seconds(1));
    sea_orm::ActiveModelTrait::update(expired, app.db())
        .await
        .expect("expire");
    assert_problem(
        app.get("/api/v1/me", Some(token)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn the_same_email_cannot_register_twice_nor_the_same_organization_name() {
    let app = spawn_app().await;
    let first = app
        .post_json(
            "/api/v1/auth/register",
            &registration("dup@nwpu.edu.cn"),
            None,
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let mut again = registration("DUP@nwpu.edu.cn");
    again["organization"]["name"] = json!("另一所大学");
    assert_problem(
        app.post_json("/api/v1/auth/register", &again, None).await,
        StatusCode::CONFLICT,
    )
    .await;
    // Same organization name with other spacing and case.
    let mut same_org = registration("other@nwpu.edu.cn");
    same_org["organization"]["name"] = json!(" 西北工业大学 ");
    let problem = assert_problem(
        app.post_json("/api/v1/auth/register", &same_org, None)
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("organization_id"))
    );
    // Nothing was half-written: still one user, one organization.
    let count = users::Entity::find()
        .all(app.db())
        .await
        .expect("users")
        .len();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn invalid_registrations_name_every_bad_field_and_write_nothing() {
    let app = spawn_app().await;
    let problem = assert_problem(
        app.post_json(
            "/api/v1/auth/register",
            &json!({
                "email": "not-an-email",
                "password": "short",
                "display_name": "  ",
                "role": "researcher",
                "organization": {
                    "name": "",
                    "kind": "university",
                    "region_code": "61011",
                    "nature_code": "999",
                    "zone": "atlantis"
                }
            }),
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields = error_fields(&problem);
    for field in [
        "email",
        "password",
        "display_name",
        "organization.name",
        "organization.region_code",
        "organization.nature_code",
        "organization.zone",
    ] {
        assert!(
            fields.contains(&field.to_owned()),
            "{field} not in {fields:?}"
        );
    }
    assert!(
        users::Entity::find()
            .all(app.db())
            .await
            .expect("users")
            .is_empty()
    );
}

#[tokio::test]
async fn region_codes_follow_gb_t_2260() {
    let app = spawn_app().await;
    for (code, ok) in [
        ("610113", true),  // 雁塔区
        ("610100", true),  // 西安市
        ("110108", true),  // 北京市海淀区
        ("610199", false), // not a Xi'an district
        ("991234", false), // no such province
        ("6101133", false),
        ("61011a", false),
    ] {
        let mut body = registration(&format!("r{code}@test.cn"));
        body["organization"]["name"] = json!(format!("研究院{code}"));
        body["organization"]["kind"] = json!("research_institute");
        body["organization"]["region_code"] = json!(code);
        let response = app.post_json("/api/v1/auth/register", &body, None).await;
        if ok {
            assert_eq!(response.status(), StatusCode::CREATED, "{code}");
        } else {
            let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(
                error_fields(&problem),
                vec!["organization.region_code"],
                "{code}"
            );
        }
    }
}

#[tokio::test]
async fn roles_must_fit_the_organization_and_registrars_cannot_self_register() {
    let app = spawn_app().await;
    let mut enterprise_in_university = registration("e@test.cn");
    enterprise_in_university["role"] = json!("enterprise");
    let problem = assert_problem(
        app.post_json("/api/v1/auth/register", &enterprise_in_university, None)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), vec!["organization.kind"]);

    let mut registrar = registration("boss@test.cn");
    registrar["role"] = json!("registrar");
    registrar["organization"]["kind"] = json!("government");
    let problem = assert_problem(
        app.post_json("/api/v1/auth/register", &registrar, None)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(error_fields(&problem).contains(&"role".to_owned()));

    let mut neither = registration("none@test.cn");
    neither
        .as_object_mut()
        .expect("object")
        .remove("organization");
    let problem = assert_problem(
        app.post_json("/api/v1/auth/register", &neither, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), vec!["organization"]);

    let mut unknown_org = registration("ghost@test.cn");
    unknown_org
        .as_object_mut()
        .expect("object")
        .remove("organization");
    unknown_org["organization_id"] = json!(uuid::Uuid::now_v7());
    let problem = assert_problem(
        app.post_json("/api/v1/auth/register", &unknown_org, None)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), vec!["organization_id"]);
}

#[tokio::test]
async fn wrong_credentials_are_401_and_do_not_reveal_which_part_was_wrong() {
    let app = spawn_app().await;
    app.register(&registration("who@test.cn")).await;
    let wrong_password = assert_problem(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": "who@test.cn", "password": "not-the-password"}),
            None,
        )
        .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let unknown_email = assert_problem(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": "nobody@test.cn", "password": "not-the-password"}),
            None,
        )
        .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(wrong_password["detail"], unknown_email["detail"]);
}

#[tokio::test]
async fn five_failed_logins_lock_the_account_for_the_window_with_retry_after() {
    let app = spawn_app().await;
    app.register(&registration("lock@test.cn")).await;
    let attempt = |password: &'static str| app.login_attempt("lock@test.cn", password);
    for _ in 0..5 {
        assert_eq!(
            attempt("wrong-password!").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password is refused now.
    let response = attempt("correct-horse-battery").await;
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After seconds");
    assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS).await;
    // Another account is not affected.
    app.post_json(
        "/api/v1/auth/register",
        &{
            let mut other = registration("free@test.cn");
            other["organization"]["name"] = json!("陕西师范大学");
            other
        },
        None,
    )
    .await;
    app.login("free@test.cn", "correct-horse-battery").await;
}

#[tokio::test]
async fn a_successful_login_resets_the_failure_count() {
    let app = spawn_app().await;
    app.post_json(
        "/api/v1/auth/register",
        &registration("reset@test.cn"),
        None,
    )
    .await;
    let fail = || app.login_attempt("reset@test.cn", "wrong-password!");
    for _ in 0..4 {
        assert_eq!(fail().await.status(), StatusCode::UNAUTHORIZED);
    }
    app.login("reset@test.cn", "correct-horse-battery").await;
    for _ in 0..4 {
        assert_eq!(fail().await.status(), StatusCode::UNAUTHORIZED);
    }
    app.login("reset@test.cn", "correct-horse-battery").await;
}

#[tokio::test]
async fn one_address_trying_many_accounts_is_throttled() {
    let app = spawn_app_with(|s| s.login_max_failures_per_ip = 3).await;
    for i in 0..3 {
        let response = app
            .post_json(
                "/api/v1/auth/login",
                &json!({"email": format!("guess{i}@test.cn"), "password": "guess-password"}),
                None,
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let problem = assert_problem(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": "guess9@test.cn", "password": "guess-password"}),
            None,
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("address"))
    );
}

#[tokio::test]
async fn malformed_authorization_headers_are_401() {
    let app = spawn_app().await;
    for header in [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer not-a-token",
        "Bearer ççç",
    ] {
        let response = app
            .client
            .get(app.url("/api/v1/me"))
            .header("authorization", header)
            .send()
            .await
            .expect("request");
        assert_eq!(
            response
                .headers()
                .get("www-authenticate")
                .map(|v| v.as_bytes()),
            Some(&b"Bearer"[..])
        );
        assert_problem(response, StatusCode::UNAUTHORIZED).await;
    }
    let unknown = "a".repeat(64);
    assert_problem(
        app.get("/api/v1/me", Some(&unknown)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let logout = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .send()
        .await
        .expect("logout");
    assert_problem(logout, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_throttled_not_the_proxy() {
    let app = spawn_app_with(|s| {
        s.login_max_failures_per_ip = 2;
        s.trust_forwarded_for = true;
    })
    .await;
    let attempt = |email: String, forwarded: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({"email": email, "password": "guess-password"}))
            .send()
    };
    for i in 0..2 {
        let response = attempt(format!("a{i}@test.cn"), "spoofed, 203.0.113.7")
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let blocked = attempt("a9@test.cn".into(), "203.0.113.7")
        .await
        .expect("request");
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not blocked.
    let other = attempt("b@test.cn".into(), "198.51.100.4")
        .await
        .expect("request");
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn concurrent_registrations_all_succeed_and_a_contested_email_registers_once() {
    let app = spawn_app().await;
    let distinct = (0..12).map(|i| {
        let mut body = registration(&format!("c{i}@test.cn"));
        body["organization"]["name"] = json!(format!("并发大学{i}"));
        let app = &app;
        async move {
            app.post_json("/api/v1/auth/register", &body, None)
                .await
                .status()
        }
    });
    for status in futures_util::future::join_all(distinct).await {
        assert_eq!(status, StatusCode::CREATED);
    }
    let contested = (0..8).map(|i| {
        let mut body = registration("same@test.cn");
        body["organization"]["name"] = json!(format!("争抢学院{i}"));
        let app = &app;
        async move {
            app.post_json("/api/v1/auth/register", &body, None)
                .await
                .status()
        }
    });
    let statuses = futures_util::future::join_all(contested).await;
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
}

/// One login attempt from `address`, behind a proxy that appended it to `X-Forwarded-For`.
async fn login_from(app: &TestApp, address: &str, email: &str, password: &str) -> StatusCode {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", address)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("request")
        .status()
}

#[tokio::test]
async fn an_attacker_is_locked_out_while_the_owner_logs_in_from_another_address() {
    let app = spawn_app_with(|s| s.trust_forwarded_for = true).await;
    app.register(&registration("victim@test.cn")).await;
    for _ in 0..5 {
        let status = login_from(&app, "203.0.113.7", "victim@test.cn", "wrong-password!").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // The attacker's address is refused even with the right password…
    assert_eq!(
        login_from(
            &app,
            "203.0.113.7",
            "victim@test.cn",
            "correct-horse-battery"
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // …the owner is not, and logging in does not reset the attacker's count.
    assert_eq!(
        login_from(
            &app,
            "198.51.100.4",
            "victim@test.cn",
            "correct-horse-battery"
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        login_from(&app, "203.0.113.7", "victim@test.cn", "wrong-password!").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn the_registrar_is_not_locked_out_by_guesses_from_elsewhere() {
    let app = spawn_app_with(|s| s.trust_forwarded_for = true).await;
    app.registrar_token().await;
    for i in 0..12 {
        let status = login_from(
            &app,
            &format!("203.0.113.{}", i % 2),
            "registrar@market.test",
            "guess-password-1",
        )
        .await;
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS,
            "{status}"
        );
    }
    assert_eq!(
        login_from(
            &app,
            "203.0.113.0",
            "registrar@market.test",
            "registrar-password-1"
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login_from(
            &app,
            "192.0.2.10",
            "registrar@market.test",
            "registrar-password-1"
        )
        .await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn under_a_distributed_attack_an_address_that_failed_once_waits_and_the_owner_does_not() {
    let app = spawn_app_with(|s| {
        s.trust_forwarded_for = true;
        s.login_max_failures = 2;
        s.login_max_failures_per_account = 4;
    })
    .await;
    app.register(&registration("target@test.cn")).await;
    for address in ["203.0.113.1", "203.0.113.2"] {
        for _ in 0..2 {
            let status = login_from(&app, address, "target@test.cn", "wrong-password!").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    }
    // The account has 4 failures: a fresh address gets one guess, then waits.
    assert_eq!(
        login_from(&app, "203.0.113.3", "target@test.cn", "wrong-password!").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_from(
            &app,
            "203.0.113.3",
            "target@test.cn",
            "correct-horse-battery"
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login_from(
            &app,
            "198.51.100.9",
            "target@test.cn",
            "correct-horse-battery"
        )
        .await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn weak_passwords_are_refused_with_advice() {
    let app = spawn_app().await;
    for weak in [
        "1234567890",
        "          ",
        "aaaaaaaaaa",
        "abcabcabcabc",
        "qwertyuiop",
    ] {
        let mut body = registration("weak@test.cn");
        body["password"] = json!(weak);
        let problem = assert_problem(
            app.post_json("/api/v1/auth/register", &body, None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&problem), vec!["password"], "{weak:?}");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("好的密码")),
            "{problem}"
        );
    }
    let refused = techmarket::services::accounts::create_registrar(
        app.db(),
        "op@market.test",
        "1234567890".into(),
        "登记员",
    )
    .await;
    assert!(refused.is_err());
}

#[tokio::test]
async fn registrations_from_one_address_are_throttled_whatever_they_answer() {
    let app = spawn_app_with(|s| s.register_max_per_ip = 3).await;
    app.register(&registration("probe@test.cn")).await;
    for _ in 0..2 {
        let again = app
            .post_json(
                "/api/v1/auth/register",
                &registration("probe@test.cn"),
                None,
            )
            .await;
        assert_eq!(again.status(), StatusCode::CONFLICT);
    }
    let mut fresh = registration("fresh@test.cn");
    fresh["organization"]["name"] = json!("长安大学");
    let response = app.post_json("/api/v1/auth/register", &fresh, None).await;
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS).await;
}
