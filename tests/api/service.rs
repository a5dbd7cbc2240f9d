//! `/healthz`, `/readyz`, `/metrics`, `/docs` and the OpenAPI document.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let health = app.get("/healthz", None).await;
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.headers().contains_key("x-request-id"));
    let body: Value = health.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status(), StatusCode::OK);
}

#[tokio::test]
async fn readiness_fails_when_the_index_is_gone_and_when_the_database_is_closed() {
    let app = spawn_app().await;
    std::fs::remove_dir_all(app.settings.index_dir()).expect("remove index");
    assert_problem(
        app.get("/readyz", None).await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    // Liveness does not depend on either.
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);

    let app = spawn_app().await;
    app.db().clone().close().await.expect("close pool");
    assert_problem(
        app.get("/readyz", None).await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
}

#[tokio::test]
async fn a_request_id_sent_by_the_client_is_echoed() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.headers().get("x-request-id").map(|v| v.as_bytes()),
        Some(&b"trace-me-123"[..])
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app_with(|s| s.metrics_token = "scrape-secret".into()).await;
    app.get("/api/v1/reference", None).await;
    app.get("/api/v1/organizations/not-a-uuid", None).await;
    let response = app.get("/metrics", Some("scrape-secret")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("text");
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains(r#"route="/api/v1/reference""#), "{text}");
    assert!(
        text.contains(r#"route="/api/v1/organizations/{id}""#),
        "{text}"
    );
    assert!(text.contains(r#"status="404""#), "{text}");
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[tokio::test]
async fn the_docs_page_renders_without_network() {
    let app = spawn_app().await;
    let redirect = app.get("/docs", None).await;
    assert!(redirect.status().is_redirection());
    let page = app.get("/docs/", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("swagger-ui"), "{html}");
    // Every asset the page loads is served by us.
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        let response = app.get(asset, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
    }
    let initializer = app
        .get("/docs/swagger-initializer.js", None)
        .await
        .text()
        .await
        .expect("js");
    assert!(initializer.contains("/api/openapi.json"));
    assert!(
        !html.contains("https://"),
        "the page must not load anything remote"
    );
}

/// Every route the server answers, as (method, path template).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/reference"),
    ("get", "/api/v1/organizations"),
    ("get", "/api/v1/organizations/{id}"),
    ("get", "/api/v1/organizations/{id}/members"),
    (
        "post",
        "/api/v1/organizations/{id}/members/{user_id}/approve",
    ),
    ("get", "/api/v1/organizations/{id}/qualifications"),
    ("post", "/api/v1/organizations/{id}/qualifications"),
    (
        "post",
        "/api/v1/organizations/{id}/qualifications/{qualification_id}/withdraw",
    ),
    ("post", "/api/v1/results"),
    ("get", "/api/v1/results"),
    ("get", "/api/v1/results/{id}"),
    ("patch", "/api/v1/results/{id}"),
    ("delete", "/api/v1/results/{id}"),
    ("post", "/api/v1/results/{id}/submit"),
    ("post", "/api/v1/results/{id}/review"),
    ("get", "/api/v1/results/{id}/events"),
    ("post", "/api/v1/demands"),
    ("get", "/api/v1/demands"),
    ("get", "/api/v1/demands/{id}"),
    ("patch", "/api/v1/demands/{id}"),
    ("delete", "/api/v1/demands/{id}"),
    ("post", "/api/v1/demands/{id}/submit"),
    ("post", "/api/v1/demands/{id}/review"),
    ("get", "/api/v1/demands/{id}/events"),
    ("post", "/api/v1/demands/{id}/applications"),
    ("get", "/api/v1/demands/{id}/applications"),
    ("post", "/api/v1/demands/{id}/applications/{aid}/select"),
    ("get", "/api/v1/me/applications"),
    ("get", "/api/v1/catalogue"),
    ("post", "/api/v1/results/import"),
    ("post", "/api/v1/demands/import"),
    ("get", "/api/v1/search"),
    ("get", "/api/v1/demands/{id}/matches"),
    ("get", "/api/v1/results/{id}/matches"),
    ("post", "/api/v1/saved-searches"),
    ("get", "/api/v1/saved-searches"),
    ("delete", "/api/v1/saved-searches/{id}"),
    ("get", "/api/v1/notifications"),
    ("post", "/api/v1/notifications/{id}/read"),
    ("post", "/api/v1/deals"),
    ("get", "/api/v1/deals"),
    ("get", "/api/v1/deals/{id}"),
    ("post", "/api/v1/deals/{id}/stage"),
    ("post", "/api/v1/contracts"),
    ("get", "/api/v1/contracts"),
    ("get", "/api/v1/contracts/export"),
    ("get", "/api/v1/contracts/{id}"),
    ("put", "/api/v1/contracts/{id}"),
    ("post", "/api/v1/contracts/{id}/register"),
    ("post", "/api/v1/contracts/{id}/reject"),
    ("post", "/api/v1/contracts/{id}/request-correction"),
    ("post", "/api/v1/contracts/{id}/amend"),
    ("get", "/api/v1/contracts/{id}/versions"),
    ("get", "/api/v1/indicators/transaction-value"),
    ("get", "/api/v1/indicators/summary"),
    ("get", "/api/v1/indicators/transaction-value.svg"),
    ("get", "/api/v1/indicators/export"),
    ("get", "/api/v1/audit-log"),
    ("get", "/api/v1/brokers/{id}/performance"),
];

/// The OpenAPI document as clients read it, kept in `tests/api/snapshots/`: a change of the contract
/// (a route, a field, a status, a description) shows as a diff to review, and a refactoring that
/// should change nothing must leave it alone. After a deliberate change, `cargo insta review` (or
/// `INSTA_UPDATE=always cargo test --test api openapi_document_is`) writes the new snapshot; in CI
/// (`CI=true`) a difference fails.
#[tokio::test]
async fn the_openapi_document_is_the_reviewed_snapshot() {
    let app = spawn_app().await;
    let response = app.get("/api/openapi.json", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.expect("json");
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_every_listed_route_exists() {
    let app = spawn_app().await;
    let response = app.get("/api/openapi.json", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, expected);

    // And each documented route is served: no "no route" 404 and no 405.
    let sample_id = uuid::Uuid::now_v7().to_string();
    for (method, path) in &documented {
        let concrete = path
            .replace("{id}", &sample_id)
            .replace("{user_id}", &sample_id)
            .replace("{aid}", &sample_id);
        let request = match method.as_str() {
            "get" => app.client.get(app.url(&concrete)),
            "post" => app.client.post(app.url(&concrete)),
            "patch" => app.client.patch(app.url(&concrete)),
            "put" => app.client.put(app.url(&concrete)),
            "delete" => app.client.delete(app.url(&concrete)),
            other => panic!("unexpected method {other}"),
        };
        let response = request.send().await.expect("request");
        assert_ne!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        if response.status() == StatusCode::NOT_FOUND {
            let problem: Value = response.json().await.expect("json");
            assert!(
                !problem["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("no route"),
                "{method} {path} is documented but not routed"
            );
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn answers_carry_security_headers_and_problems_their_request_id() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/search?q=机器人", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ] {
        assert_eq!(
            headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{name}"
        );
    }
    // The documentation UI runs its own scripts, and only its own.
    let docs = app.get("/docs/", None).await;
    let policy = docs
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        policy.contains("script-src 'self'") && !policy.contains('*'),
        "{policy}"
    );

    // A problem names the request it answers, as the header and the log do.
    for path in [
        "/api/v1/organizations/not-a-uuid",
        "/api/v1/search?page=0",
        "/no/such/route",
    ] {
        let response = app.get(path, None).await;
        let header = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .expect("x-request-id")
            .to_owned();
        let problem: serde_json::Value = response.json().await.expect("problem");
        assert_eq!(problem["request_id"], header.as_str(), "{path}");
    }
}

#[tokio::test]
async fn one_address_searching_too_fast_gets_429_and_others_do_not() {
    let app = spawn_app_with(|s| {
        s.search_rate_per_second = 1;
        s.search_burst = 3;
        s.trust_forwarded_for = true;
    })
    .await;
    let search = |client_ip: &'static str| {
        app.client
            .get(app.url("/api/v1/search?q=电池"))
            .header("x-forwarded-for", client_ip)
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            search("203.0.113.7").await.expect("search").status(),
            StatusCode::OK
        );
    }
    let refused = search("203.0.113.7").await.expect("search");
    assert_eq!(
        refused
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_problem(refused, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(
        search("198.51.100.9").await.expect("search").status(),
        StatusCode::OK,
        "another address has its own bucket"
    );
}

#[tokio::test]
async fn metrics_are_not_public_by_default_and_need_the_token_when_one_is_set() {
    let app = spawn_app().await;
    assert_problem(app.get("/metrics", None).await, StatusCode::NOT_FOUND).await;
    let app = spawn_app_with(|s| s.metrics_token = "scrape-secret".into()).await;
    assert_problem(app.get("/metrics", None).await, StatusCode::UNAUTHORIZED).await;
    assert_problem(
        app.get("/metrics", Some("scrape-secreT")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(
        app.get("/metrics", Some("scrape-secret")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn metrics_listen_serves_metrics_there_only_with_the_token_if_set() {
    for token in ["", "scrape-secret"] {
        let data = tempfile::tempdir().expect("temp dir");
        let mut settings = crate::helpers::test_settings(&data).await;
        settings.metrics_listen = "127.0.0.1:0".into();
        settings.metrics_token = token.into();
        let application = techmarket::Application::build(settings)
            .await
            .expect("build");
        let main = application.local_addr().expect("main address");
        let metrics = application.metrics_addr().expect("metrics address");
        tokio::spawn(application.run_until(std::future::pending()));
        let client = reqwest::Client::new();
        let on_main = client
            .get(format!("http://{main}/metrics"))
            .bearer_auth(token)
            .send()
            .await
            .expect("main");
        assert_eq!(on_main.status(), StatusCode::NOT_FOUND, "token {token:?}");
        let mut scrape = client.get(format!("http://{metrics}/metrics"));
        if !token.is_empty() {
            let refused = client
                .get(format!("http://{metrics}/metrics"))
                .send()
                .await
                .expect("metrics");
            assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
            scrape = scrape.bearer_auth(token);
        }
        let scraped = scrape.send().await.expect("metrics");
        assert_eq!(scraped.status(), StatusCode::OK, "token {token:?}");
        let other = client
            .get(format!("http://{metrics}/api/v1/reference"))
            .send()
            .await
            .expect("other");
        assert_eq!(other.status(), StatusCode::NOT_FOUND);
    }
}
