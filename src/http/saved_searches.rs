//! `/api/v1/saved-searches` and `/api/v1/notifications`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::{AppJson, AppPath, AppQuery, Auth, Pagination};
use crate::http::no_content;
use crate::kernel::page::Page;
use crate::services::search::saved_searches::{
    self, NotificationView, SavedSearchInput, SavedSearchView,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_saved_search, list_saved_searches))
        .routes(routes!(delete_saved_search))
        .routes(routes!(list_notifications))
        .routes(routes!(mark_read))
}

/// Save a search: every listing published afterwards that matches it creates a notification.
#[utoipa::path(post, path = "/api/v1/saved-searches", tag = "search",
    security(("bearer" = [])),
    request_body = SavedSearchInput,
    responses(
        (status = 201, description = "saved", body = SavedSearchView),
        (status = 401, description = "not logged in"),
        (status = 409, description = "too many saved searches"),
        (status = 422, description = "invalid fields"),
    ))]
async fn create_saved_search(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppJson(input): AppJson<SavedSearchInput>,
) -> AppResult<(StatusCode, axum::Json<SavedSearchView>)> {
    let saved = saved_searches::create(&state.db, &state.reference, &user, input).await?;
    Ok((StatusCode::CREATED, axum::Json(saved.into())))
}

/// Your saved searches.
#[utoipa::path(get, path = "/api/v1/saved-searches", tag = "search",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "your saved searches", body = Vec<SavedSearchView>),
        (status = 422, description = "unknown parameter or bad value"),
    ))]
async fn list_saved_searches(
    State(state): State<AppState>,
    Auth(user): Auth,
    _known: crate::http::extract::KnownParams<crate::http::extract::NoParams>,
) -> AppResult<axum::Json<Vec<SavedSearchView>>> {
    let list = saved_searches::list(&state.db, &user).await?;
    Ok(axum::Json(list.into_iter().map(Into::into).collect()))
}

/// Delete one of your saved searches, with its notifications.
#[utoipa::path(delete, path = "/api/v1/saved-searches/{id}", tag = "search",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "saved search id")),
    responses(
        (status = 204, description = "deleted"),
        (status = 404, description = "not yours or unknown"),
    ))]
async fn delete_saved_search(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<Response> {
    saved_searches::delete(&state.db, &user, id).await?;
    Ok(no_content())
}

/// `?unread=true` of the notification list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct NotificationQuery {
    /// `true`: only unread notifications; `false` (default): all. Anything else is a `422`.
    unread: Option<bool>,
}

/// Your notifications, newest first: listings published after you saved a search they match.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "search",
    security(("bearer" = [])),
    params(NotificationQuery, Pagination),
    responses(
        (status = 200, description = "a page of notifications", body = Page<NotificationView>),
        (status = 422, description = "unknown parameter or bad value"),
    ))]
async fn list_notifications(
    State(state): State<AppState>,
    Auth(user): Auth,
    _known: crate::http::extract::KnownParams<NotificationQuery, Pagination>,
    AppQuery(query): AppQuery<NotificationQuery>,
    AppQuery(pagination): AppQuery<Pagination>,
) -> AppResult<axum::Json<Page<NotificationView>>> {
    let (page, per_page) = pagination.resolve()?;
    let (items, total) = saved_searches::notifications(
        &state.db,
        &user,
        query.unread.unwrap_or(false),
        page,
        per_page,
    )
    .await?;
    Ok(axum::Json(Page::new(items, total, page, per_page)))
}

/// Mark one of your notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "search",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "notification id")),
    responses(
        (status = 200, description = "marked read", body = NotificationView),
        (status = 404, description = "not yours or unknown"),
    ))]
async fn mark_read(
    State(state): State<AppState>,
    Auth(user): Auth,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<axum::Json<NotificationView>> {
    Ok(axum::Json(
        saved_searches::mark_read(&state.db, &user, id)
            .await?
            .into(),
    ))
}
