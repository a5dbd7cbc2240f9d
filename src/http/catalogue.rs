//! `GET /api/v1/catalogue`.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::AppResult;
use crate::services::listings::catalogue::{self, Catalogue};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_catalogue))
}

/// Published results and demands per industry and per group of the 6+5+6+1 system (counts at most
/// 10 seconds old).
#[utoipa::path(get, path = "/api/v1/catalogue", tag = "catalogue",
    responses((status = 200, description = "counts by industry and group", body = Catalogue)))]
async fn get_catalogue(State(state): State<AppState>) -> AppResult<axum::Json<Catalogue>> {
    Ok(axum::Json(
        catalogue::cached(&state.catalogue_cache, &state.db, &state.reference).await?,
    ))
}
