//! `/healthz`, `/readyz`, `/metrics`.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::{AppError, AppResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// Liveness answer.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    status: &'static str,
}

/// Readiness answer.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`.
    status: &'static str,
    /// `ok` per checked dependency.
    database: &'static str,
    /// `ok` when the search index can be read and written.
    search_index: &'static str,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "alive", body = Health)))]
async fn healthz() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}

/// The database and the search index are usable.
#[utoipa::path(get, path = "/readyz", tag = "service",
    responses(
        (status = 200, description = "ready", body = Readiness),
        (status = 503, description = "a dependency is unavailable"),
    ))]
async fn readyz(State(state): State<AppState>) -> AppResult<axum::Json<Readiness>> {
    if let Err(e) = state.db.ping().await {
        tracing::warn!(error = %e, "readiness: database unavailable");
        return Err(AppError::Unavailable("the database is unavailable".into()));
    }
    if !state
        .search_ready
        .load(std::sync::atomic::Ordering::Acquire)
    {
        return Err(AppError::Unavailable(
            "the search index is being built from the database".into(),
        ));
    }
    let search = state.search.clone();
    let checked = tokio::task::spawn_blocking(move || search.check())
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    if let Err(e) = checked {
        tracing::warn!(error = %e, "readiness: search index unavailable");
        return Err(AppError::Unavailable(
            "the search index is unavailable".into(),
        ));
    }
    Ok(axum::Json(Readiness {
        status: "ready",
        database: "ok",
        search_index: "ok",
    }))
}

/// Prometheus metrics: `http_requests_total` and `http_request_duration_seconds` by method, route
/// and status. On the main address only when `metrics_listen` is empty and `metrics_token` is set,
/// and then only with `Authorization: Bearer <metrics_token>`; otherwise `404`.
#[utoipa::path(get, path = "/metrics", tag = "service",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
        (status = 401, description = "missing or wrong metrics token"),
        (status = 404, description = "metrics are not served on this address"),
    ))]
async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> AppResult<impl IntoResponse> {
    let settings = &state.settings;
    if !settings.metrics_listen.is_empty() || settings.metrics_token.is_empty() {
        return Err(AppError::NotFound(
            "metrics are not served on this address".into(),
        ));
    }
    render_metrics(&settings.metrics_token, &headers)
}

/// The metrics answer, after checking the bearer token when `token` is not empty.
fn render_metrics(token: &str, headers: &HeaderMap) -> AppResult<impl IntoResponse + use<>> {
    if !token.is_empty() && !bearer_matches(headers, token) {
        return Err(AppError::Unauthorized(
            "metrics need Authorization: Bearer <metrics_token>".into(),
        ));
    }
    let handle = crate::telemetry::metrics_handle()
        .ok_or_else(|| AppError::Unavailable("metrics are not recorded in this process".into()))?;
    handle.run_upkeep();
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    ))
}

/// Whether the request carries `Bearer <token>`; compares digests, so the time taken does not
/// tell how much of a guess was right.
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    use sha2::{Digest, Sha256};
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    Sha256::digest(given.trim().as_bytes()) == Sha256::digest(token.as_bytes())
}

/// Serves only `GET /metrics` on its own listener (`metrics_listen`), with the token when one is
/// set, until `shutdown` completes. Meant for an address the public cannot reach.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    token: String,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let token = std::sync::Arc::new(token);
    let router = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move |headers: HeaderMap| {
            let token = token.clone();
            async move { render_metrics(&token, &headers) }
        }),
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
