//! `/api/v1/contracts`: technology contracts and their registration (技术合同认定登记).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::http::extract::{AppJson, AppPath, AppQuery, Auth, Pagination};
use crate::kernel::page::Page;
use crate::services::contracts::{
    self, AmendmentInput, ContractFilter, ContractInput, ContractStatus, ContractVersionView,
    ContractView, ReasonInput, Submitted,
};
use crate::services::reports::{self, ReportFormat};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit_contract, list_contracts))
        .routes(routes!(export_contracts))
        .routes(routes!(get_contract))
        .routes(routes!(register_contract))
        .routes(routes!(reject_contract))
        .routes(routes!(request_correction))
        .routes(routes!(correct_contract))
        .routes(routes!(amend_contract))
        .routes(routes!(contract_versions))
}

/// Submit a contract for registration (a member of the seller's organization, or a broker).
/// With `Idempotency-Key`, the same key and body give back the same contract (`200`), never a
/// second one; the same key with another body is a `409`.
#[utoipa::path(post, path = "/api/v1/contracts", tag = "contracts",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1–200 characters, unique per submission")),
    request_body = ContractInput,
    responses(
        (status = 201, description = "submitted", body = ContractView),
        (status = 200, description = "the contract this key and body already submitted", body = ContractView),
        (status = 403, description = "neither a member of the seller nor a broker"),
        (status = 409, description = "the key was used with another body"),
        (status = 422, description = "invalid fields"),
    ))]
async fn submit_contract(
    State(state): State<AppState>,
    Auth(user): Auth,
    headers: HeaderMap,
    AppJson(input): AppJson<ContractInput>,
) -> AppResult<(StatusCode, axum::Json<ContractView>)> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| AppError::field("Idempotency-Key", "visible ASCII characters only"))?
                .to_owned(),
        ),
    };
    match contracts::submit(&state.db, &state.reference, &user, key, input).await? {
        Submitted::Created(c) => Ok((StatusCode::CREATED, axum::Json(c.into()))),
        Submitted::Repeated(c) => Ok((StatusCode::OK, axum::Json(c.into()))),
    }
}

/// Filters of the contract list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ContractQuery {
    /// `submitted`, `correction_requested`, `registered` or `rejected`.
    status: Option<ContractStatus>,
    /// Year of registration (of submission for contracts not registered).
    year: Option<i32>,
    /// Contract type code.
    contract_type: Option<String>,
    /// Only submitted contracts waiting more than 30 days.
    overdue: Option<bool>,
}

/// Contracts you may see, newest first (with `status=registered`: newest registration first, then
/// by number; otherwise newest submission first): the registrar sees all; the parties, the
/// credited broker and the submitter see theirs.
#[utoipa::path(get, path = "/api/v1/contracts", tag = "contracts",
    security(("bearer" = [])),
    params(ContractQuery, Pagination),
    responses(
        (status = 200, description = "a page of contracts", body = Page<ContractView>),
        (status = 422, description = "unknown parameter or bad value"),
    ))]
async fn list_contracts(
    State(state): State<AppState>,
    Auth(user): Auth,
    _known: crate::http::extract::KnownParams<ContractQuery, Pagination>,
    AppQuery(query): AppQuery<ContractQuery>,
    AppQuery(pagination): AppQuery<Pagination>,
) -> AppResult<axum::Json<Page<ContractView>>> {
    let (page, per_page) = pagination.resolve()?;
    state.reference.check_filters(&[(
        "contract_type",
        "contract_types",
        query.contract_type.as_deref(),
    )])?;
    let year = match query.year {
        Some(year) => Some(crate::http::indicators::resolve_year(Some(year))?),
        None => None,
    };
    let filter = ContractFilter {
        status: query.status,
        year,
        contract_type: query.contract_type,
        overdue: query.overdue.unwrap_or(false),
    };
    let (items, total) = contracts::list(&state.db, &user, &filter, page, per_page).await?;
    Ok(axum::Json(Page::new(items, total, page, per_page)))
}

/// Parameters of the contract export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    /// Year of registration (of submission for the other statuses); default this year in Beijing.
    year: Option<i32>,
    /// Which contracts (default `registered`).
    status: Option<ContractStatus>,
    /// `csv` (default) or `xlsx`.
    format: Option<ReportFormat>,
}

/// The contracts of a year as a spreadsheet with Chinese headers (registrar only): CSV (UTF-8
/// with a byte-order mark, amounts in 元 with two decimals) or XLSX. The same file as
/// `techmarket export contracts`.
#[utoipa::path(get, path = "/api/v1/contracts/export", tag = "contracts",
    security(("bearer" = [])),
    params(ExportQuery),
    responses(
        (status = 200, description = "the file", content_type = "text/csv", body = String),
        (status = 403, description = "not the registrar"),
        (status = 422, description = "bad parameter"),
    ))]
async fn export_contracts(
    State(state): State<AppState>,
    Auth(user): Auth,
    _known: crate::http::extract::KnownParams<ExportQuery>,
    AppQuery(query): AppQuery<ExportQuery>,
) -> AppResult<axum::response::Response> {
    let year = crate::http::indicators::resolve_year(query.year)?;
    let format = query.format.unwrap_or_default();
    let report = reports::contracts_report_for(
        &state.db,
        &state.reference,
        &user,
        year,
        query.status.unwrap_or(ContractStatus::Registered),
    )
    .await?;
    crate::http::download(&report, format)
}

/// One contract; `404` for anybody who may not see it.
#[utoipa::path(get, path = "/api/v1/contracts/{id}", tag = "contracts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "contract id")),
    responses(
        (status = 200, description = "the contract", body = ContractView),
        (status = 404, description = "unknown, or not yours to see"),
    ))]
async fn get_contract(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<axum::Json<ContractView>> {
    Ok(axum::Json(
        contracts::get(&state.db, &user, id).await?.into(),
    ))
}

/// Register a submitted contract (registrar): it gets its 16-digit registration number and counts
/// in the indicators from today (Beijing time).
#[utoipa::path(post, path = "/api/v1/contracts/{id}/register", tag = "contracts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "contract id")),
    responses(
        (status = 200, description = "registered", body = ContractView),
        (status = 403, description = "not the registrar"),
        (status = 404, description = "unknown contract"),
        (status = 409, description = "not waiting for registration"),
    ))]
async fn register_contract(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<axum::Json<ContractView>> {
    let contract = contracts::register(
        &state.db,
        &user,
        id,
        &format!("{:02}", state.settings.registration_point),
        crate::kernel::dates::today_in_china(),
    )
    .await?;
    Ok(axum::Json(contract.into()))
}

/// Reject a submitted contract (未予登记) with a reason code (registrar).
#[utoipa::path(post, path = "/api/v1/contracts/{id}/reject", tag = "contracts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "contract id")),
    request_body = ReasonInput,
    responses(
        (status = 200, description = "rejected", body = ContractView),
        (status = 403, description = "not the registrar"),
        (status = 409, description = "not waiting for registration"),
        (status = 422, description = "invalid reason"),
    ))]
async fn reject_contract(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(input): AppJson<ReasonInput>,
) -> AppResult<axum::Json<ContractView>> {
    let contract = contracts::decide_against(
        &state.db,
        &state.reference,
        &user,
        id,
        ContractStatus::Rejected,
        input,
    )
    .await?;
    Ok(axum::Json(contract.into()))
}

/// Send a submitted contract back for correction (补正), with a reason (registrar).
#[utoipa::path(post, path = "/api/v1/contracts/{id}/request-correction", tag = "contracts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "contract id")),
    request_body = ReasonInput,
    responses(
        (status = 200, description = "sent back", body = ContractView),
        (status = 403, description = "not the registrar"),
        (status = 409, description = "not waiting for registration"),
    ))]
async fn request_correction(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(input): AppJson<ReasonInput>,
) -> AppResult<axum::Json<ContractView>> {
    let contract = contracts::decide_against(
        &state.db,
        &state.reference,
        &user,
        id,
        ContractStatus::CorrectionRequested,
        input,
    )
    .await?;
    Ok(axum::Json(contract.into()))
}

/// Answer a correction request with the corrected contract (the submitter): a new version,
/// submitted again.
#[utoipa::path(put, path = "/api/v1/contracts/{id}", tag = "contracts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "contract id")),
    request_body = ContractInput,
    responses(
        (status = 200, description = "corrected and submitted again", body = ContractView),
        (status = 403, description = "not the submitter"),
        (status = 404, description = "unknown, or not yours to see"),
        (status = 409, description = "no correction was asked for"),
    ))]
async fn correct_contract(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(input): AppJson<ContractInput>,
) -> AppResult<axum::Json<ContractView>> {
    let contract = contracts::correct(&state.db, &state.reference, &user, id, input).await?;
    Ok(axum::Json(contract.into()))
}

/// Amend a registered contract (registrar): the earlier version is kept, the number stays, and the
/// indicators follow the new amounts.
#[utoipa::path(post, path = "/api/v1/contracts/{id}/amend", tag = "contracts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "contract id")),
    request_body = AmendmentInput,
    responses(
        (status = 200, description = "amended", body = ContractView),
        (status = 403, description = "not the registrar"),
        (status = 409, description = "not registered, or not at the `version` named (amended meanwhile)"),
        (status = 422, description = "invalid fields"),
    ))]
async fn amend_contract(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(input): AppJson<AmendmentInput>,
) -> AppResult<axum::Json<ContractView>> {
    let contract = contracts::amend(&state.db, &state.reference, &user, id, input).await?;
    Ok(axum::Json(contract.into()))
}

/// The earlier versions of a contract, oldest first (each correction and amendment keeps the one it
/// replaced), for those who may see the contract.
#[utoipa::path(get, path = "/api/v1/contracts/{id}/versions", tag = "contracts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "contract id")),
    responses(
        (status = 200, description = "earlier versions", body = Vec<ContractVersionView>),
        (status = 404, description = "unknown, or not yours to see"),
    ))]
async fn contract_versions(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<axum::Json<Vec<ContractVersionView>>> {
    let versions = contracts::versions(&state.db, &user, id).await?;
    Ok(axum::Json(versions.into_iter().map(Into::into).collect()))
}
