//! Access checks shared by the domains.

use crate::error::{AppError, AppResult};
use crate::services::accounts::sessions::CurrentUser;

/// `403` unless `user` is the registrar.
pub fn ensure_registrar(user: &CurrentUser) -> AppResult<()> {
    if user.is_registrar() {
        Ok(())
    } else {
        Err(AppError::Forbidden("only the registrar does this".into()))
    }
}
