//! `POST /api/v1/results/import` and `POST /api/v1/demands/import`: bulk import by members of an
//! organization, into their own organization, as drafts. These routes accept larger bodies than the
//! rest of the API (`max_import_bytes`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::domain::Role;
use crate::error::{AppError, AppResult};
use crate::http::extract::Auth;
use crate::import::sources::Format;
use crate::import::{ImportKind, ImportOptions, ImportReport, import_bytes};
use crate::services::listings::acting_organization;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_results))
        .routes(routes!(import_demands))
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn format_of(headers: &HeaderMap) -> AppResult<Format> {
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match mime.as_str() {
        "application/x-ndjson" | "application/jsonl" | "application/json-lines" => {
            Ok(Format::JsonLines)
        }
        "text/csv" => Ok(Format::Csv),
        XLSX => Ok(Format::Xlsx),
        _ => Err(AppError::UnsupportedMediaType(format!(
            "send JSON lines (application/x-ndjson), CSV (text/csv) or an Excel workbook ({XLSX})"
        ))),
    }
}

async fn run(
    state: &AppState,
    user: &crate::services::accounts::sessions::CurrentUser,
    headers: &HeaderMap,
    body: Bytes,
    kind: ImportKind,
    role: Role,
) -> AppResult<axum::Json<ImportReport>> {
    let organization_id = acting_organization(user, role, "import into this catalogue")?;
    let format = format_of(headers)?;
    let options = ImportOptions {
        organization_id: Some(organization_id),
        publish: false,
        actor: Some(user.user.id),
        limits: crate::import::ImportLimits::from_settings(&state.settings),
    };
    let report = import_bytes(&state.db, &state.reference, kind, format, body, options).await?;
    Ok(axum::Json(report))
}

/// Import research results into your organization as drafts, from JSON lines, CSV or XLSX with
/// Chinese or English headers. Bad rows are reported (line, field, message) and never stop the good
/// ones; a row whose `external_id` your organization already has updates that result.
#[utoipa::path(post, path = "/api/v1/results/import", tag = "results",
    security(("bearer" = [])),
    request_body(description = "the file: JSON lines, CSV or an Excel workbook, told apart by `Content-Type`",
        content((String = "application/x-ndjson"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    responses(
        (status = 200, description = "what was imported, and the rejected rows", body = ImportReport),
        (status = 403, description = "not an active researcher"),
        (status = 413, description = "file too large"),
        (status = 415, description = "not JSON lines, CSV or XLSX"),
        (status = 422, description = "unreadable file (e.g. unknown columns, a broken workbook, a limit passed); nothing was written"),
    ))]
async fn import_results(
    State(state): State<AppState>,
    Auth(user): Auth,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<axum::Json<ImportReport>> {
    run(
        &state,
        &user,
        &headers,
        body,
        ImportKind::Results,
        Role::Researcher,
    )
    .await
}

/// Import demands (and challenges) into your organization as drafts; as for results.
#[utoipa::path(post, path = "/api/v1/demands/import", tag = "demands",
    security(("bearer" = [])),
    request_body(description = "the file: JSON lines, CSV or an Excel workbook, told apart by `Content-Type`",
        content((String = "application/x-ndjson"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    responses(
        (status = 200, description = "what was imported, and the rejected rows", body = ImportReport),
        (status = 403, description = "not an active enterprise user"),
        (status = 413, description = "file too large"),
        (status = 415, description = "not JSON lines, CSV or XLSX"),
        (status = 422, description = "unreadable file (e.g. unknown columns, a broken workbook, a limit passed); nothing was written"),
    ))]
async fn import_demands(
    State(state): State<AppState>,
    Auth(user): Auth,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<axum::Json<ImportReport>> {
    run(
        &state,
        &user,
        &headers,
        body,
        ImportKind::Demands,
        Role::Enterprise,
    )
    .await
}
