//! `spawn_app()` and request helpers.

pub mod market;
pub mod process;

use std::net::SocketAddr;

use reqwest::{Client, Method, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use techmarket::{AppState, Application, Settings};
use tempfile::TempDir;

/// A running server with its own database and index.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: Client,
    pub state: AppState,
    pub settings: Settings,
    _data: TempDir,
}

/// The database URL for a new test: a fresh PostgreSQL database when `TEST_DATABASE_URL` is set,
/// else `None` (SQLite in the data directory).
pub async fn fresh_database_url() -> Option<String> {
    let admin_url = std::env::var("TEST_DATABASE_URL").ok()?;
    let name = format!("tm_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url)
        .await
        .expect("connect to TEST_DATABASE_URL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    admin.close().await.ok();
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL ends with /DATABASE");
    Some(format!("{base}/{name}"))
}

/// Settings for a test: temp data directory, port 0, no demo data.
pub async fn test_settings(data: &TempDir) -> Settings {
    Settings {
        data_dir: data.path().join("data"),
        database_url: fresh_database_url().await,
        listen: "127.0.0.1:0".into(),
        demo_data: false,
        db_max_connections: 5,
        ..Settings::default()
    }
}

/// Starts a server with default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after `configure` adjusts the settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let data = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(&data).await;
    configure(&mut settings);
    let application = Application::build(settings.clone())
        .await
        .expect("build application");
    let addr = application.local_addr().expect("bound address");
    let state = application.state().clone();
    tokio::spawn(application.run_until(std::future::pending()));
    let app = TestApp {
        addr,
        client: Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        state,
        settings,
        _data: data,
    };
    // A new index is built from the database before the node reports ready.
    for _ in 0..200 {
        if app.get("/readyz", None).await.status().is_success() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    app
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    /// `GET path` as `token`, which must answer `200`; the JSON body.
    pub async fn get_ok(&self, path: &str, token: &str) -> Value {
        json_of(self.get(path, Some(token)).await, StatusCode::OK).await
    }

    /// `POST path` with a JSON body as `token`, which must answer `status`; the JSON body.
    pub async fn post_expecting(
        &self,
        path: &str,
        body: &Value,
        token: &str,
        status: StatusCode,
    ) -> Value {
        json_of(self.post_json(path, body, Some(token)).await, status).await
    }

    /// Sends `method path` with an optional bearer token and JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request")
    }

    /// The status code of [`TestApp::send`]'s answer.
    pub async fn status(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> u16 {
        self.send(method, path, token, body).await.status().as_u16()
    }

    pub async fn post_json(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    /// Registers with `body`, expecting `201`; returns the answer (token and user).
    pub async fn register(&self, body: &Value) -> Value {
        let response = self.post_json("/api/v1/auth/register", body, None).await;
        assert_eq!(response.status(), StatusCode::CREATED, "register {body}");
        response.json().await.expect("json")
    }

    /// Registers a user creating a new organization; returns the whole answer.
    pub async fn register_with_new_org(
        &self,
        email: &str,
        role: &str,
        org_name: &str,
        org_kind: &str,
    ) -> Value {
        self.register(&json!({
            "email": email,
            "password": "a-long-password-1",
            "display_name": "测试用户",
            "role": role,
            "organization": {"name": org_name, "kind": org_kind, "region_code": "610113"}
        }))
        .await
    }

    /// Creates a registrar through the service (as `techmarket create-registrar` does) and logs in.
    pub async fn registrar_token(&self) -> String {
        techmarket::services::accounts::create_registrar(
            self.db(),
            "registrar@market.test",
            "registrar-password-1".into(),
            "登记员",
        )
        .await
        .expect("create registrar");
        self.login("registrar@market.test", "registrar-password-1")
            .await
    }

    /// One login attempt; returns the raw answer.
    pub async fn login_attempt(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/v1/auth/login",
            &json!({"email": email, "password": password}),
            None,
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let response = self
            .post_json(
                "/api/v1/auth/login",
                &json!({"email": email, "password": password}),
                None,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "login {email}");
        let body: Value = response.json().await.expect("json");
        body["token"].as_str().expect("token").to_owned()
    }
}

/// Asserts an `application/problem+json` answer with `status`; returns the problem.
pub async fn assert_problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let problem: Value = response.json().await.expect("problem json");
    assert_eq!(problem["status"], status.as_u16());
    assert!(problem["title"].is_string());
    assert!(problem["type"].is_string());
    assert!(
        problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{problem}"
    );
    problem
}

/// The field names of a validation problem.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The JSON body of `response`, which must have `status`.
pub async fn json_of(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.expect("json")
}

/// The JSON body of `response`, whatever its status.
pub async fn body_of(response: Response) -> Value {
    response.json().await.expect("json")
}
