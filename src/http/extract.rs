//! Extractors that answer bad input with problem documents naming the field.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::error::{AppError, FieldError};
use crate::kernel::validation::Checks;
use crate::services::accounts::sessions::{self, CurrentUser};

/// A JSON body. Unlike `axum::Json`, every failure is a problem document: `415` for a wrong
/// content type, `413` over the size limit, `400` for malformed JSON, `422` naming the field whose
/// value has the wrong type or is missing.
pub struct AppJson<T>(pub T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(AppError::UnsupportedMediaType(
                "send the body as JSON with the header Content-Type: application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge(
                        "the request body is larger than the server accepts".into(),
                    )
                } else {
                    AppError::BadRequest(format!(
                        "could not read the body: {}",
                        rejection.body_text()
                    ))
                }
            })?;
        parse_json(&bytes).map(AppJson)
    }
}

/// Parses JSON, naming the failing field. A string holding NUL is refused here, for every body:
/// PostgreSQL cannot store it in text (an error deep in a write), and no field of ours means it.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    refuse_nul_in_json(bytes)?;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        // A shape error found before the parser reached a syntax error further on (`{} trailing`)
        // is still malformed JSON: check the whole body before blaming a field.
        let well_formed = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
        match inner.classify() {
            serde_json::error::Category::Data if well_formed => {
                AppError::Validation(vec![crate::error::serde_field_error(&path, &inner)])
            }
            _ => AppError::BadRequest(format!("the body is not valid JSON: {inner}")),
        }
    })?;
    deserializer
        .end()
        .map_err(|e| AppError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// `422` naming the first field whose key or string value holds NUL. JSON can only carry NUL
/// escaped (`\u0000`), so bodies without that escape are not parsed twice.
fn refuse_nul_in_json(bytes: &[u8]) -> Result<(), AppError> {
    const ESCAPE: &[u8] = b"\\u0000";
    if !bytes.windows(ESCAPE.len()).any(|w| w == ESCAPE) {
        return Ok(());
    }
    // Malformed bodies are left to the typed parse, which names the problem.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(());
    };
    match path_to_nul(&value, String::new()) {
        Some(path) => Err(AppError::Validation(vec![FieldError::new(
            if path.is_empty() {
                "body".to_owned()
            } else {
                path
            },
            "must not contain NUL characters (U+0000)",
        )])),
        None => Ok(()),
    }
}

/// The path (`a.b[2]`) of the first key or string under `value` that holds NUL.
fn path_to_nul(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(text) => text.contains('\0').then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| path_to_nul(item, format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.contains('\0') {
                Some(path)
            } else {
                path_to_nul(item, path)
            }
        }),
        _ => None,
    }
}

/// `422` naming the first query parameter whose name or value holds NUL (`%00`).
fn refuse_nul_in_query(query: &str) -> Result<(), AppError> {
    match form_urlencoded::parse(query.as_bytes())
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        Some((key, _)) => Err(AppError::Validation(vec![FieldError::new(
            key.replace('\0', "\\0"),
            "must not contain NUL characters (%00)",
        )])),
        None => Ok(()),
    }
}

/// Query parameters, with `400`-free failures: a bad value is a `422` naming the parameter.
pub struct AppQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        refuse_nul_in_query(query)?;
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(AppQuery)
            .map_err(|error| {
                let path = error.path().to_string();
                let message = error.into_inner().to_string();
                let field = if path == "." {
                    crate::error::backticked(&message, "missing field `")
                        .unwrap_or("query")
                        .to_owned()
                } else {
                    path
                };
                AppError::Validation(vec![FieldError::new(field, message)])
            })
    }
}

/// `?page=&per_page=`: page from 1, at most 100 per page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Pagination {
    /// Page number, from 1 (default 1).
    pub page: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    pub per_page: Option<String>,
}

impl Pagination {
    /// Checks the numbers; returns (page, per_page).
    pub fn resolve(&self) -> Result<(u64, u64), AppError> {
        let mut checks = Checks::plain();
        let page = query_number(&mut checks, "page", self.page.as_deref(), 1, 1_000_000);
        let per_page = query_number(&mut checks, "per_page", self.per_page.as_deref(), 20, 100);
        checks.finish()?;
        Ok((page, per_page))
    }
}

/// A whole number from 1 to `max` given as query text: `default` when absent or empty. Text that
/// is no whole number is out of the range too, so both mistakes read the same.
pub(crate) fn query_number<R>(
    checks: &mut Checks<R>,
    field: &str,
    value: Option<&str>,
    default: u64,
    max: u64,
) -> u64 {
    match value.map(str::trim) {
        None | Some("") => default,
        Some(text) => {
            let n = text.parse::<u64>().unwrap_or(0);
            if checks.range(field, n, 1, max) {
                n
            } else {
                default
            }
        }
    }
}

/// The authenticated user; `401` without a valid bearer token.
pub struct Auth(pub CurrentUser);

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| {
                AppError::Unauthorized(
                    "log in first: send the header Authorization: Bearer <token>".into(),
                )
            })?
            .to_str()
            .map_err(|_| {
                AppError::Unauthorized("the Authorization header is not readable".into())
            })?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                AppError::Unauthorized("the Authorization header must be: Bearer <token>".into())
            })?;
        // Tokens are 64 hex characters; anything else cannot be one, so skip the database.
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::Unauthorized(
                "the token is invalid, expired or revoked".into(),
            ));
        }
        sessions::authenticate(&state.db, token).await.map(Auth)
    }
}

/// The user when a bearer token is sent, `None` for anonymous visitors. A token that is sent but
/// invalid is still `401`: silently treating it as anonymous would hide the user's own drafts.
pub struct MaybeAuth(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            Auth::from_request_parts(parts, state)
                .await
                .map(|Auth(user)| MaybeAuth(Some(user)))
        } else {
            Ok(MaybeAuth(None))
        }
    }
}

/// The client's IP address: the TCP peer, or behind a trusted proxy the address it appended to
/// `X-Forwarded-For` (the last entry; earlier ones are set by the client and cannot be trusted).
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.settings.trust_forwarded_for
            && let Some(forwarded) = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .rfind(|v| v.parse::<std::net::IpAddr>().is_ok())
        {
            return Ok(ClientIp(forwarded.to_owned()));
        }
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(
                || "unknown".to_owned(),
                |ConnectInfo(addr)| addr.ip().to_string(),
            );
        Ok(ClientIp(ip))
    }
}

/// A path parameter; a malformed one (e.g. not a UUID) is a `404`, since no object can have it.
pub struct AppPath<T>(pub T);

impl<T, S> FromRequestParts<S> for AppPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| AppPath(value))
            .map_err(|rejection| {
                AppError::NotFound(format!("no such object: {}", rejection.body_text()))
            })
    }
}

/// Refuses query parameters a route does not know, naming each (`422`): a misspelt or unsupported
/// filter (`?stage=` on a route without one) would otherwise be silently ignored and answer an
/// unfiltered list. The known names are those of the route's `IntoParams` structs `A` and `B`, the
/// same the OpenAPI document lists.
pub struct KnownParams<A, B = NoParams>(std::marker::PhantomData<fn() -> (A, B)>);

/// No further parameters (the default second half of [`KnownParams`]).
pub struct NoParams;

impl IntoParams for NoParams {
    fn into_params(
        _parameter_in_provider: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        Vec::new()
    }
}

impl<A, B, S> FromRequestParts<S> for KnownParams<A, B>
where
    A: IntoParams,
    B: IntoParams,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(query) = parts.uri.query() else {
            return Ok(Self(std::marker::PhantomData));
        };
        let known: Vec<String> = A::into_params(|| None)
            .into_iter()
            .chain(B::into_params(|| None))
            .map(|p| p.name)
            .collect();
        let mut errors: Vec<FieldError> = Vec::new();
        for (name, _) in form_urlencoded::parse(query.as_bytes()) {
            if known.iter().any(|k| *k == name) || errors.iter().any(|e| e.field == name) {
                continue;
            }
            // A hostile name is named back only in part.
            let shown: String = name.chars().take(64).collect();
            let message = if known.is_empty() {
                "unknown parameter: this route takes no query parameters".to_owned()
            } else {
                format!("unknown parameter: this route takes {}", known.join(", "))
            };
            errors.push(FieldError::new(shown, message));
        }
        if errors.is_empty() {
            Ok(Self(std::marker::PhantomData))
        } else {
            Err(AppError::Validation(errors))
        }
    }
}
