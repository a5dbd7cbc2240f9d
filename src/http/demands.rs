//! `/api/v1/demands`: enterprise demands (企业技术需求), 揭榜挂帅 challenges and their applications.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::entity::demands as table;
use crate::error::AppResult;
use crate::http::extract::{AppJson, AppPath, AppQuery, Auth, MaybeAuth, Pagination};
use crate::kernel::page::Page;
use crate::services::applications::ApplicationView;
use crate::services::applications::{self, ApplicationInput};
use crate::services::listings::demands::{DemandFilter, DemandInput, DemandPatch, DemandRecord};
use crate::services::listings::view::DemandView;
use crate::services::listings::{self, Status, Transition};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_demands))
        .routes(routes!(submit_demand))
        .merge(shared::router())
        .routes(routes!(apply, list_applications))
        .routes(routes!(select_application))
        .routes(routes!(my_applications))
}

listing_routes! {
    path: "/api/v1/demands",
    tag: "demands",
    noun: "demand",
    owner: "poster",
    table: table::Entity,
    fields: DemandInput,
    patch: DemandPatch,
    view: DemandView,
    record: DemandRecord,
    filter: DemandFilter,
    create: "Post a demand (enterprises); with a `challenge` block it is a 揭榜挂帅 challenge. \
        Starts as a draft.",
    author: "not an enterprise account",
    edit_conflict: "archived, or a challenge with applications made ordinary",
}

/// Filters of `GET /api/v1/demands`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DemandQuery {
    /// Industry code.
    industry: Option<String>,
    /// 技术领域 code.
    tech_field: Option<String>,
    /// Demand-type code.
    demand_type: Option<String>,
    /// District (6-digit region code) or development zone of the poster.
    district: Option<String>,
    /// Posting organization.
    org_id: Option<Uuid>,
    /// Status; other than `published` only for the poster's own demands and the registrar.
    status: Option<Status>,
    /// `true`: only 揭榜挂帅 challenges; `false`: only ordinary demands.
    challenge: Option<bool>,
}

/// Demands, newest published first, with the same visibility rules as results. A code that is
/// not in the reference data, or a parameter the route does not take, is a `422` naming it.
/// `total` is exact, except on the unfiltered list of published demands (an anonymous visitor's,
/// or `status=published` alone), where it is the number of published demands counted at most
/// `public_total_cache_ms` (10 s) ago, made to agree with the page: exact whenever the page is
/// not full.
#[utoipa::path(get, path = "/api/v1/demands", tag = "demands",
    params(DemandQuery, Pagination),
    responses(
        (status = 200, description = "a page of demands", body = Page<DemandView>),
        (status = 422, description = "bad parameter"),
    ))]
async fn list_demands(
    State(state): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    _known: crate::http::extract::KnownParams<DemandQuery, Pagination>,
    AppQuery(query): AppQuery<DemandQuery>,
    AppQuery(pagination): AppQuery<Pagination>,
) -> AppResult<axum::Json<Page<DemandView>>> {
    let (page, per_page) = pagination.resolve()?;
    state.reference.check_listing_filters(
        query.industry.as_deref(),
        query.tech_field.as_deref(),
        &[("demand_type", "demand_types", query.demand_type.as_deref())],
        query.district.as_deref(),
    )?;
    let filter = DemandFilter {
        common: common_listing_filter!(query),
        demand_type: query.demand_type,
        challenge: query.challenge,
    };
    shared::list(&state, user.as_ref(), filter, page, per_page).await
}

/// Submit a draft (or rejected) demand for review.
#[utoipa::path(post, path = "/api/v1/demands/{id}/submit", tag = "demands",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "demand id")),
    responses(
        (status = 200, description = "submitted", body = DemandView),
        (status = 403, description = "not the poster"),
        (status = 409, description = "not a draft or rejected demand"),
    ))]
async fn submit_demand(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<axum::Json<DemandView>> {
    let record =
        listings::transition::<table::Entity>(&state.db, &user, id, Transition::Submit).await?;
    Ok(axum::Json(shared::view(Some(&user), record)))
}

/// Apply to a 揭榜挂帅 challenge (揭榜; researchers and brokers), before its application deadline.
#[utoipa::path(post, path = "/api/v1/demands/{id}/applications", tag = "demands",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "challenge id")),
    request_body = ApplicationInput,
    responses(
        (status = 201, description = "applied", body = ApplicationView),
        (status = 403, description = "not a researcher or broker, or a member of the poster"),
        (status = 404, description = "unknown challenge"),
        (status = 409, description = "not a challenge, deadline passed, already selected, or applied twice"),
        (status = 422, description = "invalid fields"),
    ))]
async fn apply(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(input): AppJson<ApplicationInput>,
) -> AppResult<(StatusCode, axum::Json<ApplicationView>)> {
    let application = applications::apply(&state.db, &user, id, input).await?;
    Ok((StatusCode::CREATED, axum::Json(application.into())))
}

/// The applications of a challenge: all for the poster and the registrar; applicants see their own.
#[utoipa::path(get, path = "/api/v1/demands/{id}/applications", tag = "demands",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "challenge id")),
    responses(
        (status = 200, description = "the applications", body = Vec<ApplicationView>),
        (status = 403, description = "neither poster nor applicant"),
    ))]
async fn list_applications(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<axum::Json<Vec<ApplicationView>>> {
    let list = applications::list_for_demand(&state.db, &user, id).await?;
    Ok(axum::Json(list.into_iter().map(Into::into).collect()))
}

/// Select one application (the poster); once per challenge, the others become `not_selected`.
#[utoipa::path(post, path = "/api/v1/demands/{id}/applications/{aid}/select", tag = "demands",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "challenge id"),
        ("aid" = Uuid, Path, description = "application id"),
    ),
    responses(
        (status = 200, description = "selected", body = ApplicationView),
        (status = 403, description = "not the poster"),
        (status = 404, description = "unknown application"),
        (status = 409, description = "already selected"),
    ))]
async fn select_application(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath((id, aid)): AppPath<(Uuid, Uuid)>,
) -> AppResult<axum::Json<ApplicationView>> {
    let chosen = applications::select(&state.db, &user, id, aid).await?;
    Ok(axum::Json(chosen.into()))
}

/// The challenges the user applied to, with the status of each application.
#[utoipa::path(get, path = "/api/v1/me/applications", tag = "demands",
    security(("bearer" = [])),
    responses((status = 200, description = "your applications, newest first", body = Vec<ApplicationView>)))]
async fn my_applications(
    State(state): State<AppState>,
    Auth(user): Auth,
) -> AppResult<axum::Json<Vec<ApplicationView>>> {
    let list = applications::mine(&state.db, &user).await?;
    Ok(axum::Json(list.into_iter().map(Into::into).collect()))
}
