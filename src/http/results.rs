//! `/api/v1/results`: research results (科技成果).

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::entity::results as table;
use crate::error::AppResult;
use crate::http::extract::{AppPath, AppQuery, Auth, MaybeAuth, Pagination};
use crate::kernel::page::Page;
use crate::services::listings::results::{ResultFilter, ResultInput, ResultPatch, ResultRecord};
use crate::services::listings::view::ResultView;
use crate::services::listings::{self, Status, Transition};
use crate::services::search::Indexed;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_results))
        .routes(routes!(submit_result))
        .merge(shared::router())
}

listing_routes! {
    path: "/api/v1/results",
    tag: "results",
    noun: "result",
    owner: "owner",
    table: table::Entity,
    fields: ResultInput,
    patch: ResultPatch,
    view: ResultView,
    record: ResultRecord,
    filter: ResultFilter,
    create: "List a research result (researchers). It starts as a `draft`.",
    author: "not a researcher, or membership pending",
    edit_conflict: "archived",
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
/// naming the parameter. `total` is exact, except on the unfiltered list of published results (an
/// anonymous visitor's, or `status=published` alone), where it is the number of published results
/// counted at most `public_total_cache_ms` (10 s) ago, made to agree with the page: exact whenever
/// the page is not full.
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
    shared::list(&state, user.as_ref(), filter, page, per_page).await
}

/// A submitted result, with published results that look like the same thing.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SubmittedResult {
    /// The result, now `submitted`.
    #[serde(flatten)]
    pub result: ResultView,
    /// Published results of which this one's text is 60% or more a copy, or which are 60% or
    /// more a copy of it (title, summary and details, in runs of four characters), for the owner
    /// (and the registrar) to check before publication.
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
        result: shared::view(Some(&user), record),
        possible_duplicates,
    }))
}
