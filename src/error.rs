//! The one error type of the application and its `application/problem+json` rendering (RFC 9457).
//!
//! Services return [`AppError`]; handlers pass it through; [`IntoResponse`] turns it into a problem
//! document. Internal errors are logged (with the request id, by the trace span) and answered with a
//! bare 500 that reveals nothing about the cause.

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// `Content-Type` of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A result whose error is an [`AppError`].
pub type AppResult<T, E = AppError> = std::result::Result<T, E>;

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the field in the request, e.g. `organization.region_code`.
    pub field: String,
    /// What is wrong, in words a person can act on.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Fields that fail validation (`422`).
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    /// A request that cannot be read at all, e.g. malformed JSON (`400`).
    #[error("{0}")]
    BadRequest(String),
    /// No valid credentials (`401`).
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated but not allowed (`403`).
    #[error("{0}")]
    Forbidden(String),
    /// No such thing, or not for this user to know about (`404`).
    #[error("{0}")]
    NotFound(String),
    /// The method is not allowed on this route (`405`).
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// A conflict with the current state, e.g. an e-mail already registered (`409`).
    #[error("{0}")]
    Conflict(String),
    /// Body over the limit (`413`).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Wrong `Content-Type` (`415`).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many attempts (`429`); the client may retry after the given seconds.
    #[error("{detail}")]
    TooManyRequests {
        /// What was throttled.
        detail: String,
        /// Seconds until the next attempt can succeed.
        retry_after_secs: u64,
    },
    /// A dependency is unavailable (`503`).
    #[error("{0}")]
    Unavailable(String),
    /// Anything else: a bug or an infrastructure failure (`500`). Never shown to the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        if database_unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            return Self::Unavailable("the database is unavailable; try again shortly".into());
        }
        Self::Internal(err.into())
    }
}

/// Whether a database error means the database cannot be reached or refuses work for now (the
/// request may be retried: `503`), rather than a bug (`500`).
fn database_unavailable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr, sqlx};
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match e.as_ref() {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                // PostgreSQL: connection exceptions (08…) and an operator shutting the server
                // down (57P…); SQLite: busy beyond the busy timeout.
                sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                    code.starts_with("08") || code.starts_with("57P") || code == "5"
                }),
                _ => false,
            }
        }
        _ => false,
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(err: sea_orm::TransactionError<AppError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

impl AppError {
    /// A validation error for a single field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The problem document (RFC 9457) of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// The invalid fields (empty unless the request had some).
    pub errors: Vec<FieldError>,
    /// The request's id (also in the `x-request-id` header and the server's log), for support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    /// A problem for `status` with no field errors.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        let title = status.canonical_reason().unwrap_or("Error").to_owned();
        let slug = title.to_ascii_lowercase().replace([' ', '\''], "-");
        Self {
            kind: format!("/problems/{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            request_id: None,
        }
    }

    /// Renders the problem as a response.
    pub fn into_response_with(self, extra: Option<(header::HeaderName, HeaderValue)>) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some((name, value)) = extra {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// Marks a response produced from an internal error so that the logging middleware can log the
/// cause inside the request's span.
#[derive(Clone)]
pub struct InternalErrorCause(pub Arc<anyhow::Error>);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut problem = Problem::new(status, self.to_string());
        let mut extra = None;
        let mut cause = None;
        match self {
            Self::Validation(errors) => {
                problem.kind = "/problems/validation".into();
                problem.detail = match errors.as_slice() {
                    [one] => format!("{}: {}", one.field, one.message),
                    _ => format!("{} fields are invalid", errors.len()),
                };
                problem.errors = errors;
            }
            Self::Unauthorized(_) => {
                extra = Some((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            Self::TooManyRequests {
                retry_after_secs, ..
            } => {
                extra = HeaderValue::from_str(&retry_after_secs.max(1).to_string())
                    .ok()
                    .map(|v| (header::RETRY_AFTER, v));
            }
            Self::Unavailable(_) => {
                extra = Some((header::RETRY_AFTER, HeaderValue::from_static("2")));
            }
            Self::Internal(err) => {
                problem.detail =
                    "an internal error occurred; it has been logged with this request's id".into();
                cause = Some(InternalErrorCause(Arc::new(err)));
            }
            _ => {}
        }
        let mut response = problem.into_response_with(extra);
        if let Some(cause) = cause {
            response.extensions_mut().insert(cause);
        }
        response
    }
}

/// Names the field of a serde error: a JSON value of the wrong shape. serde reports a missing field at its parent's
/// path, with the name only in the message, so take it from there.
pub fn serde_field_error(path: &str, error: &serde_json::Error) -> FieldError {
    let message = error.to_string();
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m)
        .to_owned();
    let parent = if path == "." { "" } else { path };
    let join = |name: &str| {
        if parent.is_empty() {
            name.to_owned()
        } else {
            format!("{parent}.{name}")
        }
    };
    if let Some(name) = backticked(&message, "missing field `") {
        return FieldError::new(join(name), "is required");
    }
    if let Some(name) = backticked(&message, "unknown field `") {
        // serde reports an unknown field at its own path.
        let field = if path.ends_with(name) {
            path.to_owned()
        } else {
            join(name)
        };
        return FieldError::new(field, format!("is not a field of this request ({message})"));
    }
    let field = if parent.is_empty() { "body" } else { parent };
    FieldError::new(field, message)
}

/// The text between `prefix` and the next backtick.
pub fn backticked<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next()
}
