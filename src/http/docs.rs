//! The OpenAPI document (`/api/openapi.json`) and the Swagger UI (`/docs`), which is compiled into
//! the binary and needs no network at build or run time.

use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppState;

/// The top of the OpenAPI document; the paths come from the routers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "techmarket API",
        description = "西安科技大市场 online: research results (科技成果), enterprise demands (企业技术需求), \
                       揭榜挂帅 challenges, deals, technology contracts (技术合同认定登记) and indicators. \
                       Money is integer fen; errors are application/problem+json.",
        version = "1"
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    tags(
        (name = "service", description = "Health, readiness, metrics"),
        (name = "accounts", description = "Registration, login, logout"),
        (name = "organizations", description = "Organizations and their members"),
        (name = "reference", description = "Code lists and taxonomies"),
        (name = "results", description = "Research results (科技成果)"),
        (name = "demands", description = "Enterprise demands (企业技术需求) and 揭榜挂帅 challenges"),
        (name = "catalogue", description = "The catalogue by industry"),
        (name = "search", description = "Chinese full-text search and matching"),
        (name = "deals", description = "Deals (撮合) run by brokers"),
        (name = "contracts", description = "Technology contracts and their registration (技术合同认定登记)"),
        (name = "indicators", description = "Indicators (动态监测): registered contract value against the policy's targets"),
        (name = "audit", description = "The registrars' audit trail"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
    }
}

/// Gives every error answer of the document its body: the routes declare each 4xx and 5xx status
/// with what it means for them, and every such response without a body of its own is a problem
/// document (RFC 9457, `error::Problem` as `application/problem+json`) — said once here rather
/// than on each route, as the API answers every error through `AppError`.
pub fn with_problem_bodies(mut openapi: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::{Content, Ref, RefOr};
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
            &mut item.query,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, response) in &mut operation.responses.responses {
                let is_error = status.starts_with('4') || status.starts_with('5');
                if let RefOr::T(response) = response
                    && is_error
                    && response.content.is_empty()
                {
                    response.content.insert(
                        crate::error::PROBLEM_JSON.to_owned(),
                        RefOr::T(Content::new(Some(Ref::from_schema_name("Problem")))),
                    );
                }
            }
        }
    }
    openapi
}

/// `/docs` (Swagger UI) and `/api/openapi.json`.
pub fn router(openapi: utoipa::openapi::OpenApi) -> Router<AppState> {
    let ui: Router<AppState> = SwaggerUi::new("/docs")
        .url("/api/openapi.json", openapi)
        .into();
    // The UI's own scripts and styles (served from this binary, some inline) may run; nothing from
    // elsewhere may, and it may not be framed.
    ui.layer(
        tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(
                "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
            ),
        ),
    )
}
