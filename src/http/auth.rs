//! `/api/v1/auth/*` and `/api/v1/me`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::{AppJson, Auth, ClientIp};
use crate::http::no_content;
use crate::services::accounts::view::{SessionView, UserView};
use crate::services::accounts::{self, Account, Credentials, Registration};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// Create an account (researcher, enterprise or broker), with a new organization or joining one.
///
/// Joining an existing organization (`organization_id`) makes a *pending* member until an active
/// member of that organization approves. Creating one (`organization`) makes its first, active member.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "accounts",
    request_body = Registration,
    responses(
        (status = 201, description = "registered and logged in", body = SessionView),
        (status = 409, description = "e-mail or organization name taken"),
        (status = 422, description = "invalid fields"),
        (status = 429, description = "too many registrations from this address"),
    ))]
async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(input): AppJson<Registration>,
) -> AppResult<(StatusCode, axum::Json<SessionView>)> {
    let (account, token) =
        accounts::register(&state.db, &state.reference, &state.settings, input, &ip).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(SessionView::new(account, token)),
    ))
}

/// Log in with e-mail and password. After 5 failures for one account from one address within 15
/// minutes, that address may not try that account (other addresses may); after 50 failures from one
/// address it may not log in at all; once an account has 100 failures from all addresses, addresses
/// that failed for it wait. Refusals are `429` with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts",
    request_body = Credentials,
    responses(
        (status = 200, description = "logged in", body = SessionView),
        (status = 401, description = "wrong e-mail or password"),
        (status = 429, description = "too many failed attempts"),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(credentials): AppJson<Credentials>,
) -> AppResult<axum::Json<SessionView>> {
    let (account, token) = accounts::login(&state.db, &state.settings, credentials, &ip).await?;
    Ok(axum::Json(SessionView::new(account, token)))
}

/// Log out: the token stops working.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "logged out"),
        (status = 401, description = "no valid token"),
    ))]
async fn logout(State(state): State<AppState>, Auth(current): Auth) -> AppResult<Response> {
    crate::services::accounts::sessions::revoke(&state.db, current.session_id).await?;
    Ok(no_content())
}

/// The logged-in user with their organization.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the user", body = UserView),
        (status = 401, description = "no valid token"),
    ))]
async fn me(Auth(current): Auth) -> axum::Json<UserView> {
    axum::Json(
        Account {
            user: current.user,
            organization: current.organization,
        }
        .into(),
    )
}
