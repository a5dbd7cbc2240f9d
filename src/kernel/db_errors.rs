//! What a database error means to a caller.

use crate::error::AppError;

/// Whether `err` is a unique-constraint violation (on either database).
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Turns a unique-constraint violation into `409` with `message`, anything else into an internal
/// error.
pub fn conflict_on_unique(err: sea_orm::DbErr, message: &str) -> AppError {
    if is_unique_violation(&err) {
        AppError::Conflict(message.into())
    } else {
        err.into()
    }
}
