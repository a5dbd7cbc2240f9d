//! Every failure gets its status and a problem document; none is a 500.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, error_fields, spawn_app};

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    for body in ["{\"email\":", "not json", "{} trailing", ""] {
        let response = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        assert_problem(response, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let app = spawn_app().await;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut request = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .body(r#"{"email":"a@b.cn","password":"x"}"#);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.expect("request");
        assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    }
    // A charset parameter is fine.
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"email":"a@b.cn","password":"x"}"#)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_types_missing_and_unknown_fields_are_422_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({"email": 5, "password": "x"}), "email"),
        (json!({"password": "x"}), "email"),
        (
            json!({"email": "a@b.cn", "password": "long-enough-1", "display_name": "x",
                   "role": "researcher", "organization": {"name": "x", "kind": "castle", "region_code": "610113"}}),
            "organization.kind",
        ),
        (
            json!({"email": "a@b.cn", "password": "long-enough-1", "display_name": "x",
                   "role": "researcher", "organization": {"kind": "university", "region_code": "610113"}}),
            "organization.name",
        ),
        (
            json!({"email": "a@b.cn", "password": "long-enough-1", "display_name": "x",
                   "role": "researcher", "is_admin": true}),
            "is_admin",
        ),
        (
            json!({"email": "a@b.cn", "password": "long-enough-1", "display_name": "x",
                   "role": "researcher", "organization_id": "not-a-uuid"}),
            "organization_id",
        ),
    ];
    for (body, field) in cases {
        let path = if body.get("role").is_some() {
            "/api/v1/auth/register"
        } else {
            "/api/v1/auth/login"
        };
        let problem = assert_problem(
            app.post_json(path, &body, None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&problem), vec![field.to_owned()], "{body}");
    }
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let app = spawn_app().await;
    let problem = assert_problem(
        app.get("/api/v1/nothing-here", None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("/api/v1/nothing-here"))
    );
    let response = app
        .client
        .delete(app.url("/api/v1/reference"))
        .send()
        .await
        .expect("request");
    assert!(response.headers().contains_key("allow"));
    assert_problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
    let response = app
        .client
        .get(app.url("/api/v1/auth/login"))
        .send()
        .await
        .expect("request");
    assert_problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413() {
    let app = spawn_app().await;
    let big = format!(
        r#"{{"email":"{}","password":"x"}}"#,
        "a".repeat(1024 * 1024 + 10)
    );
    // With a Content-Length header …
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .expect("request");
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    // … and streamed without one.
    let stream = futures_util_stream(big.into_bytes());
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("request");
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    // Just under the limit is read (and fails only as a login).
    let fits = format!(
        r#"{{"email":"{}","password":"x"}}"#,
        "a".repeat(1024 * 1024 - 100)
    );
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(fits)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// A body stream of 64 KiB chunks, so that no Content-Length is sent.
fn futures_util_stream(
    bytes: Vec<u8>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    tokio_stream::iter(chunks)
}

#[tokio::test]
async fn bad_pagination_is_422_naming_the_parameter() {
    let app = spawn_app().await;
    for (query, field) in [
        ("per_page=101", "per_page"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
    ] {
        let problem = assert_problem(
            app.get(&format!("/api/v1/organizations?{query}"), None)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&problem), vec![field.to_owned()], "{query}");
    }
}

#[tokio::test]
async fn hostile_input_never_causes_a_500() {
    let app = spawn_app().await;
    let bodies = [
        json!({"email": "😀@😀.cn", "password": "😀".repeat(300), "display_name": "\u{0000}",
               "role": "researcher", "organization": {"name": "'; DROP TABLE users; --",
               "kind": "university", "region_code": "610113"}}),
        json!([1, 2, 3]),
        json!(null),
        json!({"email": {"nested": true}, "password": []}),
        json!({"email": "a\u{0000}@b.cn", "password": "nul\u{0000}password"}),
        json!({"email": "x".repeat(5000), "password": "p".repeat(5000)}),
        json!({"email": "ok@test.cn", "password": "long-enough-1", "display_name": "名字\u{0000}",
               "role": "researcher", "organization": {"name": "大学\u{0000}",
               "kind": "university", "region_code": "610113"}}),
    ];
    for body in bodies {
        for path in ["/api/v1/auth/register", "/api/v1/auth/login"] {
            let response = app.post_json(path, &body, None).await;
            assert!(
                response.status().is_client_error(),
                "{path} {body}: {}",
                response.status()
            );
        }
    }
}
