//! `/api/v1/results`: research results (科技成果).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::entity::results as table;
use crate::error::AppResult;
use crate::http::extract::{AppJson, AppPath, AppQuery, Auth, MaybeAuth, Pagination};
use crate::kernel::page::Page;
use crate::services::accounts::sessions::CurrentUser;
use crate::services::listings::results::{self, ResultFilter, ResultInput, ResultPatch};
use crate::services::listings::view::{Audience, EventView, ResultView};
use crate::services::listings::{self, Review, Status, Transition};
use crate::services::search::Indexed;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_result, list_results))
        .routes(routes!(get_result, update_result, archive_result))
        .routes(routes!(submit_result))
        .routes(routes!(review_result))
        .routes(routes!(result_events))
}

fn view(user: Option<&CurrentUser>, record: results::ResultRecord) -> ResultView {
    let audience = Audience::of(user, record.item.organization_id);
    ResultView::new(record, audience)
}

/// List a research result (researchers). It starts as a `draft`.
#[utoipa::path(post, path = "/api/v1/results", tag = "results",
    security(("bearer" = [])),
    request_body = ResultInput,
    responses(
        (status = 201, description = "created as a draft", body = ResultView),
        (status = 401, description = "not logged in"),
        (status = 403, description = "not a researcher, or membership pending"),
        (status = 422, description = "invalid fields"),
    ))]
async fn create_result(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppJson(input): AppJson<ResultInput>,
) -> AppResult<(StatusCode, axum::Json<ResultView>)> {
    let record = listings::create(&state.db, &state.reference, &user, input).await?;
    Ok((StatusCode::CREATED, axum::Json(view(Some(&user), record))))
}

/// Filters of `GET /api/v1/results`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ResultQuery {
    /// Industry code (6+5+6+1).
    industry: Option<String>,
    /// 技术领域 code.
    tech_field: Option<String>,
    /// Maturity-stage code.
    maturity_stage: Option<String>,
    /// District (6-digit region code) or development-zone code of the owner.
    district: Option<String>,
    /// Owning organization.
    org_id: Option<Uuid>,
    /// Status; other than `published` only for the owner's own listings and the registrar.
    status: Option<Status>,
}

/// Research results, newest published first. Anonymous users and other organizations see only
/// published results; members also see their organization's drafts; the registrar sees all.
/// A code that is not in the reference data, or a parameter the route does not take, is a `422`
/// naming the parameter.
#[utoipa::path(get, path = "/api/v1/results", tag = "results",
    params(ResultQuery, Pagination),
    responses(
        (status = 200, description = "a page of results", body = Page<ResultView>),
        (status = 422, description = "bad parameter"),
    ))]
async fn list_results(
    State(state): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    _known: crate::http::extract::KnownParams<ResultQuery, Pagination>,
    AppQuery(query): AppQuery<ResultQuery>,
    AppQuery(pagination): AppQuery<Pagination>,
) -> AppResult<axum::Json<Page<ResultView>>> {
    let (page, per_page) = pagination.resolve()?;
    state.reference.check_listing_filters(
        query.industry.as_deref(),
        query.tech_field.as_deref(),
        &[(
            "maturity_stage",
            "maturity_stages",
            query.maturity_stage.as_deref(),
        )],
        query.district.as_deref(),
    )?;
    let filter = ResultFilter {
        common: common_listing_filter!(query),
        maturity_stage: query.maturity_stage,
    };
    let (records, total) = results::list(&state.db, user.as_ref(), filter, page, per_page).await?;
    let items = records
        .into_iter()
        .map(|record| view(user.as_ref(), record));
    Ok(axum::Json(Page::new(items, total, page, per_page)))
}

/// One research result. Unpublished results exist only for their owner and the registrar (`404`
/// for everybody else).
#[utoipa::path(get, path = "/api/v1/results/{id}", tag = "results",
    params(("id" = Uuid, Path, description = "result id")),
    responses(
        (status = 200, description = "the result", body = ResultView),
        (status = 404, description = "unknown, or not visible to you"),
    ))]
async fn get_result(
    State(state): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<axum::Json<ResultView>> {
    let (record, _) = listings::get::<table::Entity>(&state.db, user.as_ref(), id).await?;
    Ok(axum::Json(view(user.as_ref(), record)))
}

/// Edit a result (members of the owning organization). Editing a published result sends it back to
/// review (`submitted`): it leaves the public catalogue until the registrar approves the new text.
#[utoipa::path(patch, path = "/api/v1/results/{id}", tag = "results",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "result id")),
    request_body = ResultPatch,
    responses(
        (status = 200, description = "the edited result", body = ResultView),
        (status = 403, description = "not the owner"),
        (status = 404, description = "unknown"),
        (status = 409, description = "archived"),
        (status = 422, description = "invalid fields"),
    ))]
async fn update_result(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(patch): AppJson<ResultPatch>,
) -> AppResult<axum::Json<ResultView>> {
    let record =
        listings::update::<ResultInput>(&state.db, &state.reference, &user, id, patch).await?;
    Ok(axum::Json(view(Some(&user), record)))
}

/// Archive a result (owner or registrar). It leaves the catalogue; its record is kept.
#[utoipa::path(delete, path = "/api/v1/results/{id}", tag = "results",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "result id")),
    responses(
        (status = 200, description = "archived", body = ResultView),
        (status = 403, description = "not the owner"),
        (status = 409, description = "already archived"),
    ))]
async fn archive_result(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<axum::Json<ResultView>> {
    let record =
        listings::transition::<table::Entity>(&state.db, &user, id, Transition::Archive).await?;
    Ok(axum::Json(view(Some(&user), record)))
}

/// A submitted result, with published results that look like the same thing.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SubmittedResult {
    /// The result, now `submitted`.
    #[serde(flatten)]
    pub result: ResultView,
    /// Published results whose words overlap this one's by 60% or more, for the owner (and the
    /// registrar) to check before publication.
    pub possible_duplicates: Vec<crate::services::search::matching::PossibleDuplicate>,
}

/// Submit a draft (or rejected) result for review. The answer lists near-duplicates already in the
/// catalogue as `possible_duplicates`.
#[utoipa::path(post, path = "/api/v1/results/{id}/submit", tag = "results",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "result id")),
    responses(
        (status = 200, description = "submitted", body = SubmittedResult),
        (status = 403, description = "not the owner"),
        (status = 409, description = "not a draft or rejected result"),
    ))]
async fn submit_result(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<axum::Json<SubmittedResult>> {
    let record =
        listings::transition::<table::Entity>(&state.db, &user, id, Transition::Submit).await?;
    let source = record.item.document(&state.reference, &record.organization);
    let possible_duplicates =
        crate::services::search::matching::possible_duplicates(&state, source).await?;
    Ok(axum::Json(SubmittedResult {
        result: view(Some(&user), record),
        possible_duplicates,
    }))
}

/// Approve or reject a submitted result (registrar).
#[utoipa::path(post, path = "/api/v1/results/{id}/review", tag = "results",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "result id")),
    request_body = Review,
    responses(
        (status = 200, description = "published or rejected", body = ResultView),
        (status = 403, description = "not the registrar"),
        (status = 409, description = "not submitted"),
        (status = 422, description = "rejection without a reason"),
    ))]
async fn review_result(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(review): AppJson<Review>,
) -> AppResult<axum::Json<ResultView>> {
    let transition = review.into_transition()?;
    let record = listings::transition::<table::Entity>(&state.db, &user, id, transition).await?;
    Ok(axum::Json(view(Some(&user), record)))
}

/// Every state change of a result (who, when, from, to, reason), for the owner and the registrar.
#[utoipa::path(get, path = "/api/v1/results/{id}/events", tag = "results",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "result id")),
    responses(
        (status = 200, description = "the history, oldest first", body = Vec<EventView>),
        (status = 403, description = "not the owner or the registrar"),
        (status = 404, description = "unknown"),
    ))]
async fn result_events(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<axum::Json<Vec<EventView>>> {
    let events = listings::history::<table::Entity>(&state.db, &user, id).await?;
    Ok(axum::Json(events.into_iter().map(Into::into).collect()))
}
