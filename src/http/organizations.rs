//! `/api/v1/organizations`.

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::domain::OrgKind;
use crate::error::AppResult;
use crate::http::extract::{AppPath, AppQuery, Auth, Pagination};
use crate::kernel::page::Page;
use crate::services::accounts::organizations::{self, OrganizationFilter};
use crate::services::accounts::view::{OrganizationView, UserView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_organizations))
        .routes(routes!(get_organization))
        .routes(routes!(list_members))
        .routes(routes!(approve_member))
}

/// Filters of `GET /api/v1/organizations`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct OrganizationQuery {
    /// Part of the name.
    name: Option<String>,
    /// Organization kind.
    kind: Option<OrgKind>,
}

/// Organizations by name, e.g. to find the one to join when registering.
#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations",
    params(OrganizationQuery, Pagination),
    responses(
        (status = 200, description = "a page of organizations", body = Page<OrganizationView>),
        (status = 422, description = "bad parameter"),
    ))]
async fn list_organizations(
    State(state): State<AppState>,
    _known: crate::http::extract::KnownParams<OrganizationQuery, Pagination>,
    AppQuery(query): AppQuery<OrganizationQuery>,
    AppQuery(pagination): AppQuery<Pagination>,
) -> AppResult<axum::Json<Page<OrganizationView>>> {
    let (page, per_page) = pagination.resolve()?;
    let filter = OrganizationFilter {
        name: query.name,
        kind: query.kind,
    };
    let (items, total) = organizations::list(&state.db, filter, page, per_page).await?;
    Ok(axum::Json(Page::new(items, total, page, per_page)))
}

/// One organization.
#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "organizations",
    params(("id" = Uuid, Path, description = "organization id")),
    responses(
        (status = 200, description = "the organization", body = OrganizationView),
        (status = 404, description = "unknown"),
    ))]
async fn get_organization(
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<axum::Json<OrganizationView>> {
    Ok(axum::Json(organizations::get(&state.db, id).await?.into()))
}

/// The members of an organization (active and pending); for its active members and the registrar.
#[utoipa::path(get, path = "/api/v1/organizations/{id}/members", tag = "organizations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "organization id")),
    responses(
        (status = 200, description = "the members", body = Vec<UserView>),
        (status = 401, description = "not logged in"),
        (status = 403, description = "not a member"),
        (status = 404, description = "unknown organization"),
    ))]
async fn list_members(
    State(state): State<AppState>,
    Auth(current): Auth,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<axum::Json<Vec<UserView>>> {
    let members = organizations::members(&state.db, &current, id).await?;
    Ok(axum::Json(
        members.into_iter().map(UserView::bare).collect(),
    ))
}

/// Approve a pending member, who may then act for the organization.
#[utoipa::path(post, path = "/api/v1/organizations/{id}/members/{user_id}/approve", tag = "organizations",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "organization id"),
        ("user_id" = Uuid, Path, description = "the pending member"),
    ),
    responses(
        (status = 200, description = "the member, now active", body = UserView),
        (status = 401, description = "not logged in"),
        (status = 403, description = "not an active member"),
        (status = 404, description = "unknown organization or member"),
    ))]
async fn approve_member(
    State(state): State<AppState>,
    Auth(current): Auth,
    AppPath((id, user_id)): AppPath<(Uuid, Uuid)>,
) -> AppResult<axum::Json<UserView>> {
    let user = organizations::approve_member(&state.db, &current, id, user_id).await?;
    Ok(axum::Json(UserView::bare(user)))
}
