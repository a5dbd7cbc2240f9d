//! `/api/v1/organizations/{id}/qualifications`: recognitions of an organization (国家高新技术企业,
//! 科技型中小企业, 研发平台, 技术转移机构) that the registrar records and the summary counts.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::{AppJson, AppPath, Auth};
use crate::services::qualifications::{
    self, QualificationInput, QualificationView, WithdrawalInput,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_qualifications, record_qualification))
        .routes(routes!(withdraw_qualification))
}

/// The qualifications recorded for an organization, withdrawn ones included (public, as the
/// authorities' lists are).
#[utoipa::path(get, path = "/api/v1/organizations/{id}/qualifications", tag = "organizations",
    params(("id" = Uuid, Path, description = "organization id")),
    responses(
        (status = 200, description = "its qualifications, oldest first", body = Vec<QualificationView>),
        (status = 404, description = "unknown organization"),
    ))]
async fn list_qualifications(
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<axum::Json<Vec<QualificationView>>> {
    Ok(axum::Json(
        qualifications::list(&state.db, &state.reference, id).await?,
    ))
}

/// Record a qualification from the published lists (registrar only). From `valid_from` to
/// `valid_to` the organization counts in the summary's indicator for it when it is in Xi'an.
#[utoipa::path(post, path = "/api/v1/organizations/{id}/qualifications", tag = "organizations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "organization id")),
    request_body = QualificationInput,
    responses(
        (status = 201, description = "recorded", body = QualificationView),
        (status = 403, description = "not the registrar"),
        (status = 404, description = "unknown organization"),
        (status = 422, description = "invalid fields"),
    ))]
async fn record_qualification(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(input): AppJson<QualificationInput>,
) -> AppResult<(StatusCode, axum::Json<QualificationView>)> {
    let recorded = qualifications::record(&state.db, &state.reference, &user, id, input).await?;
    Ok((StatusCode::CREATED, axum::Json(recorded)))
}

/// Withdraw (撤销) a qualification from a day on (registrar only); the record stays, so counts
/// of earlier years do not change.
#[utoipa::path(post, path = "/api/v1/organizations/{id}/qualifications/{qualification_id}/withdraw", tag = "organizations",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "organization id"),
        ("qualification_id" = Uuid, Path, description = "the qualification"),
    ),
    request_body = WithdrawalInput,
    responses(
        (status = 200, description = "withdrawn", body = QualificationView),
        (status = 403, description = "not the registrar"),
        (status = 404, description = "unknown organization or qualification"),
        (status = 409, description = "already withdrawn"),
        (status = 422, description = "invalid fields"),
    ))]
async fn withdraw_qualification(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath((id, qualification_id)): AppPath<(Uuid, Uuid)>,
    AppJson(input): AppJson<WithdrawalInput>,
) -> AppResult<axum::Json<QualificationView>> {
    Ok(axum::Json(
        qualifications::withdraw(
            &state.db,
            &state.reference,
            &user,
            id,
            qualification_id,
            input,
        )
        .await?,
    ))
}
