//! `/api/v1/deals`: a broker's deals from introduction to registered contract.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::{AppJson, AppPath, AppQuery, Auth, Pagination};
use crate::kernel::page::Page;
use crate::services::deals::{self, BrokerPerformance, DealInput, DealView, StageInput};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_deal, list_deals))
        .routes(routes!(get_deal))
        .routes(routes!(move_deal))
        .routes(routes!(broker_performance))
}

/// Open a deal between a seller and a buyer organization (brokers only); it starts at `intent`.
#[utoipa::path(post, path = "/api/v1/deals", tag = "deals",
    security(("bearer" = [])),
    request_body = DealInput,
    responses(
        (status = 201, description = "opened", body = DealView),
        (status = 403, description = "not a broker"),
        (status = 422, description = "invalid fields"),
    ))]
async fn open_deal(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppJson(input): AppJson<DealInput>,
) -> AppResult<(StatusCode, axum::Json<DealView>)> {
    let deal = deals::open(&state.db, &user, input).await?;
    Ok((StatusCode::CREATED, axum::Json(deal.into())))
}

/// `?mine=true` of the deal list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DealQuery {
    /// Only the deals you broker or your organization is a party to (the registrar sees all
    /// otherwise; everybody else always sees only these).
    mine: Option<bool>,
}

/// Deals you may read, newest first. A parameter the route does not take (e.g. `stage`) is a
/// `422` naming it rather than an unfiltered list.
#[utoipa::path(get, path = "/api/v1/deals", tag = "deals",
    security(("bearer" = [])),
    params(DealQuery, Pagination),
    responses(
        (status = 200, description = "a page of deals", body = Page<DealView>),
        (status = 422, description = "unknown parameter or bad value"),
    ))]
async fn list_deals(
    State(state): State<AppState>,
    Auth(user): Auth,
    _known: crate::http::extract::KnownParams<DealQuery, Pagination>,
    AppQuery(query): AppQuery<DealQuery>,
    AppQuery(pagination): AppQuery<Pagination>,
) -> AppResult<axum::Json<Page<DealView>>> {
    let (page, per_page) = pagination.resolve()?;
    let (items, total) = deals::list(
        &state.db,
        &user,
        query.mine.unwrap_or(false),
        page,
        per_page,
    )
    .await?;
    Ok(axum::Json(Page::new(items, total, page, per_page)))
}

/// One deal with its history: its broker, both parties and the registrar may read it.
#[utoipa::path(get, path = "/api/v1/deals/{id}", tag = "deals",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "deal id")),
    responses(
        (status = 200, description = "the deal and its events", body = DealView),
        (status = 404, description = "unknown, or not yours to read"),
    ))]
async fn get_deal(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<axum::Json<DealView>> {
    Ok(axum::Json(deals::get(&state.db, &user, id).await?))
}

/// Move a deal to `negotiating`, `signed` or `lost`, with a note (its broker or the registrar).
/// `registered` follows from registering its contract.
#[utoipa::path(post, path = "/api/v1/deals/{id}/stage", tag = "deals",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "deal id")),
    request_body = StageInput,
    responses(
        (status = 200, description = "moved", body = DealView),
        (status = 403, description = "a party, not its broker"),
        (status = 404, description = "unknown, or not yours to read"),
        (status = 409, description = "a move the stages do not allow, or the deal moved meanwhile"),
    ))]
async fn move_deal(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(input): AppJson<StageInput>,
) -> AppResult<axum::Json<DealView>> {
    deals::move_stage(&state.db, &user, id, input).await?;
    Ok(axum::Json(deals::get(&state.db, &user, id).await?))
}

/// A broker's deals by stage and the registered contracts credited to the broker, per year: for
/// the broker and the registrar.
#[utoipa::path(get, path = "/api/v1/brokers/{id}/performance", tag = "deals",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the broker's user id")),
    responses(
        (status = 200, description = "per year", body = BrokerPerformance),
        (status = 404, description = "not a broker, or not yours to see"),
    ))]
async fn broker_performance(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<axum::Json<BrokerPerformance>> {
    Ok(axum::Json(deals::performance(&state.db, &user, id).await?))
}
