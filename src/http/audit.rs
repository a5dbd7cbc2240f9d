//! `/api/v1/audit-log`: what registrars did (registrations, rejections, amendments, listing
//! reviews, deal moves, qualifications), for the market operator's own oversight.

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::{AppQuery, Auth, Pagination};
use crate::kernel::page::Page;
use crate::services::audit::{self, AuditEntryView, AuditFilter};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_log))
}

/// Filters of the audit trail.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// Only actions on this contract, listing, deal or organization.
    subject_id: Option<Uuid>,
    /// Only this action (`contract.register`, …).
    action: Option<String>,
    /// Only this registrar's actions.
    actor_id: Option<Uuid>,
}

/// The audit trail, newest first (registrar only). Every registrar action is recorded in the
/// transaction that makes it, and never changed or removed.
#[utoipa::path(get, path = "/api/v1/audit-log", tag = "audit",
    security(("bearer" = [])),
    params(AuditQuery, Pagination),
    responses(
        (status = 200, description = "a page of actions", body = Page<AuditEntryView>),
        (status = 403, description = "not the registrar"),
    ))]
async fn list_audit_log(
    State(state): State<AppState>,
    Auth(user): Auth,
    _known: crate::http::extract::KnownParams<AuditQuery, Pagination>,
    AppQuery(query): AppQuery<AuditQuery>,
    AppQuery(pagination): AppQuery<Pagination>,
) -> AppResult<axum::Json<Page<AuditEntryView>>> {
    let (page, per_page) = pagination.resolve()?;
    let filter = AuditFilter {
        subject_id: query.subject_id,
        action: query.action,
        actor_id: query.actor_id,
    };
    let (items, total) = audit::list(&state.db, &user, &filter, page, per_page).await?;
    Ok(axum::Json(Page::new(items, total, page, per_page)))
}
