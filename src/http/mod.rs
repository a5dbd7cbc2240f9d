//! The HTTP API: one `router()` per resource, merged here with the OpenAPI document and the
//! cross-cutting layers (request id, tracing, metrics, limits, CORS, compression, problem documents).

/// The filters every listing list takes, moved by name out of a list route's query (whose
/// parameters the OpenAPI document lists in the route's own order, so the query types stay apart).
macro_rules! common_listing_filter {
    ($query:ident) => {
        $crate::services::listings::CommonFilter {
            industry: $query.industry,
            tech_field: $query.tech_field,
            district: $query.district,
            org_id: $query.org_id,
            status: $query.status,
        }
    };
}

#[macro_use]
mod listing_routes;

mod audit;
mod auth;
mod catalogue;
mod contracts;
mod deals;
mod demands;
mod docs;
pub mod edge;
pub mod extract;
pub(crate) mod health;
mod imports;
mod indicators;
mod matching;
mod organizations;
mod qualifications;
pub mod rate_limit;
mod reference;
mod results;
mod saved_searches;
mod search;

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Router, extract::DefaultBodyLimit};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;
use crate::error::{AppError, InternalErrorCause, PROBLEM_JSON, Problem};

pub use docs::ApiDoc;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every API route with its OpenAPI description, before state and layers.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(auth::router())
        .merge(organizations::router())
        .merge(qualifications::router())
        .merge(reference::router())
        .merge(results::router())
        .merge(demands::router())
        .merge(catalogue::router())
        .merge(search::router())
        .merge(matching::router())
        .merge(saved_searches::router())
        .merge(deals::router())
        .merge(contracts::router())
        .merge(indicators::router())
        .merge(audit::router())
}

/// The bulk-import routes, which take larger bodies than the rest.
fn import_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(imports::router())
}

/// The OpenAPI document of the whole API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    docs::with_problem_bodies(api_routes().merge(import_routes()).split_for_parts().1)
}

/// The complete application router.
pub fn router(state: AppState) -> Router {
    // Install the metrics recorder before the first request, or that request would go uncounted.
    let _ = crate::telemetry::metrics_handle();
    let (api, mut openapi) = api_routes().split_for_parts();
    let (imports, import_doc) = import_routes().split_for_parts();
    openapi.merge(import_doc);
    let max_body = state.settings.max_body_bytes;
    let max_import = state.settings.max_import_bytes.max(max_body);
    // Body limits per group of routes: a layer applies to the routes added before it.
    let api = api
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(DefaultBodyLimit::max(max_body))
        .merge(
            imports
                .layer(RequestBodyLimitLayer::new(max_import))
                .layer(DefaultBodyLimit::max(max_import)),
        );
    let cors = cors_layer(&state.settings.cors_origins);
    api.merge(docs::router(docs::with_problem_bodies(openapi)))
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        // A 503 from /readyz while the index builds is expected, not an error.
                        .on_failure(
                            tower_http::trace::DefaultOnFailure::new().level(tracing::Level::WARN),
                        )
                        .make_span_with(|request: &Request| {
                            let request_id = request
                                .headers()
                                .get(REQUEST_ID)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("-");
                            tracing::info_span!(
                                "request",
                                method = %request.method(),
                                path = %request.uri().path(),
                                request_id = %request_id,
                            )
                        }),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(middleware::from_fn(crate::telemetry::track_requests))
                .layer(middleware::from_fn_with_state(
                    max_body,
                    problem_for_bare_errors,
                ))
                .layer(middleware::from_fn(log_internal_errors))
                .layer(CatchPanicLayer::new())
                .layer(cors)
                .layer(CompressionLayer::new())
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ))
                // The API answers JSON, files and an SVG: nothing of it may run scripts or be
                // framed. The documentation UI sets its own, looser policy.
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
                )),
        )
        .with_state(state)
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([REQUEST_ID, header::RETRY_AFTER])
        .max_age(Duration::from_secs(600));
    if origins.iter().any(|o| o == "*") {
        layer.allow_origin(Any)
    } else {
        let list = origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect::<Vec<_>>();
        layer.allow_origin(AllowOrigin::list(list))
    }
}

async fn unknown_route(request: Request) -> AppError {
    AppError::NotFound(format!(
        "no route {} {}; see /docs for the API",
        request.method(),
        request.uri().path()
    ))
}

async fn wrong_method(request: Request) -> AppError {
    let _ = request;
    AppError::MethodNotAllowed
}

/// Gives every error answer a problem body: errors produced below our handlers (a body-size layer,
/// a panic, an extractor of a library) come back as plain text or empty, and are rewritten here.
async fn problem_for_bare_errors(
    State(max_body): State<usize>,
    request: Request,
    next: Next,
) -> Response {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return with_request_id(response, request_id).await;
    }
    let detail = match status {
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "the request body is larger than this route accepts ({max_body} bytes; \
             the import routes take max_import_bytes)"
        ),
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this route".to_owned(),
        StatusCode::NOT_FOUND => "not found".to_owned(),
        s if s.is_server_error() => {
            "an internal error occurred; it has been logged with this request's id".to_owned()
        }
        s => s
            .canonical_reason()
            .unwrap_or("the request was refused")
            .to_owned(),
    };
    let keep = [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE];
    let kept: Vec<_> = keep
        .iter()
        .filter_map(|name| {
            response
                .headers()
                .get(name)
                .map(|v| (name.clone(), v.clone()))
        })
        .collect();
    let mut problem = Problem::new(status, detail);
    problem.request_id = request_id;
    let mut rewritten = problem.into_response_with(None);
    for (name, value) in kept {
        rewritten.headers_mut().insert(name, value);
    }
    rewritten
}

/// Adds `request_id` to a problem body, so that a user reporting an error can quote it.
async fn with_request_id(response: Response, request_id: Option<String>) -> Response {
    let Some(request_id) = request_id else {
        return response;
    };
    let (mut parts, body) = response.into_parts();
    // A problem body is one our code rendered in memory (`Problem::into_response_with`), so reading
    // it whole costs no more than it already did; a limit here would drop the body of a large
    // problem (a 422 naming hundreds of fields) and leave `Content-Length: 0`.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "reading a problem body failed");
            return (parts, axum::body::Body::empty()).into_response();
        }
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut problem)) => {
            problem.insert("request_id".into(), request_id.into());
            serde_json::to_vec(&problem).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    (parts, body).into_response()
}

/// Logs the cause of internal errors inside the request's span (which carries the request id).
async fn log_internal_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(InternalErrorCause(cause)) = response.extensions().get::<InternalErrorCause>() {
        tracing::error!(error = ?cause, "internal error");
    } else if response.status() == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(status = %response.status(), "server error");
    }
    response
}

/// A report as a file download.
pub(crate) fn download(
    report: &crate::services::reports::Report,
    format: crate::services::reports::ReportFormat,
) -> crate::error::AppResult<Response> {
    use axum::http::header;
    let bytes = report.render(format)?;
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                report.content_disposition(format),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `204 No Content`.
pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FieldError;
    use tower::ServiceExt;

    /// A problem larger than any buffer the middleware might use arrives whole, with its request id.
    #[tokio::test]
    async fn a_problem_over_64_kib_arrives_whole_with_its_request_id() {
        let fields = 3000;
        let app = Router::new()
            .route(
                "/big",
                axum::routing::get(move || async move {
                    AppError::Validation(
                        (0..fields)
                            .map(|i| FieldError::new(format!("items[{i}]"), "is not a known code"))
                            .collect(),
                    )
                }),
            )
            .layer(middleware::from_fn_with_state(
                1024usize,
                problem_for_bare_errors,
            ))
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid));
        let request = Request::builder()
            .uri("/big")
            .body(axum::body::Body::empty())
            .expect("request");
        let response = app.oneshot(request).await.expect("answer");
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        assert!(bytes.len() > 64 * 1024, "{} bytes", bytes.len());
        let problem: serde_json::Value = serde_json::from_slice(&bytes).expect("problem json");
        assert_eq!(problem["errors"].as_array().map(Vec::len), Some(fields));
        assert!(
            problem["request_id"].is_string(),
            "{}",
            problem["request_id"]
        );
    }
}
