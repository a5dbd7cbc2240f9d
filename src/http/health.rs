//! `/healthz`, `/readyz`, `/metrics`.

use axum::extract::State;
use axum::http::header;
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
        (status = 503, description = "a dependency is unavailable", body = crate::error::Problem,
         content_type = "application/problem+json"),
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
/// and status.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
async fn metrics() -> AppResult<impl IntoResponse> {
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
