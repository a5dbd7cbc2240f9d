//! `GET /api/v1/demands/{id}/matches` and `GET /api/v1/results/{id}/matches`.

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::http::extract::{AppPath, AppQuery, ClientIp, MaybeAuth};
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

impl Limit {
    fn resolve(&self) -> AppResult<usize> {
        match self.limit.as_deref().map(str::trim) {
            None | Some("") => Ok(10),
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=50).contains(&n) => Ok(n),
                _ => Err(AppError::field(
                    "limit",
                    "must be a whole number from 1 to 50",
                )),
            },
        }
    }
}

/// Published research results ranked for a demand, each with matched words and reasons in Chinese.
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

/// Published demands ranked for a research result: the enterprises its result could serve.
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
