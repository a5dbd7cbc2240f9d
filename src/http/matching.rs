//! `GET /api/v1/demands/{id}/matches` and `GET /api/v1/results/{id}/matches`.

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::{AppPath, AppQuery, ClientIp, MaybeAuth, query_number};
use crate::kernel::validation::Checks;
use crate::services::search::matching::{self, Matches};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(demand_matches))
        .routes(routes!(result_matches))
}

/// `?limit=` of the match endpoints.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Limit {
    /// How many matches, 1–50 (default 10).
    limit: Option<String>,
}

/// Most matches one request asks for.
const MAX_LIMIT: u64 = 50;

impl Limit {
    fn resolve(&self) -> AppResult<usize> {
        let mut checks = Checks::plain();
        let limit = query_number(&mut checks, "limit", self.limit.as_deref(), 10, MAX_LIMIT);
        checks.finish()?;
        // At most MAX_LIMIT: no truncation on any platform.
        Ok(limit as usize)
    }
}

/// Published research results ranked for a demand, each with matched words and reasons in Chinese.
/// Each matched listing keeps its `industry_codes` and names them in `industries`
/// (`[{"code","label"}]`, same order).
#[utoipa::path(get, path = "/api/v1/demands/{id}/matches", tag = "search",
    params(("id" = Uuid, Path, description = "demand id"), Limit),
    responses(
        (status = 200, description = "best matches first", body = Matches),
        (status = 404, description = "unknown, or not visible to you"),
        (status = 429, description = "too many searches from this address"),
    ))]
async fn demand_matches(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    MaybeAuth(user): MaybeAuth,
    AppPath(id): AppPath<Uuid>,
    AppQuery(limit): AppQuery<Limit>,
) -> AppResult<axum::Json<Matches>> {
    state.search_limiter.check(&client)?;
    let limit = limit.resolve()?;
    Ok(axum::Json(
        matching::for_demand(&state, user.as_ref(), id, limit).await?,
    ))
}

/// Published demands ranked for a research result: the enterprises its result could serve. Each
/// matched listing keeps its `industry_codes` and names them in `industries` (`[{"code","label"}]`,
/// same order).
#[utoipa::path(get, path = "/api/v1/results/{id}/matches", tag = "search",
    params(("id" = Uuid, Path, description = "result id"), Limit),
    responses(
        (status = 200, description = "best matches first", body = Matches),
        (status = 404, description = "unknown, or not visible to you"),
        (status = 429, description = "too many searches from this address"),
    ))]
async fn result_matches(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    MaybeAuth(user): MaybeAuth,
    AppPath(id): AppPath<Uuid>,
    AppQuery(limit): AppQuery<Limit>,
) -> AppResult<axum::Json<Matches>> {
    state.search_limiter.check(&client)?;
    let limit = limit.resolve()?;
    Ok(axum::Json(
        matching::for_result(&state, user.as_ref(), id, limit).await?,
    ))
}
