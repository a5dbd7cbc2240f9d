//! Who is asking, and the access checks every domain shares. The user is found from a bearer token
//! by `services::accounts::sessions`; everything else only reads it.

use uuid::Uuid;

use crate::domain::{Membership, Role};
use crate::entity::{organizations, users};
use crate::error::{AppError, AppResult};

/// The authenticated user of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The account.
    pub user: users::Model,
    /// Its organization, if any.
    pub organization: Option<organizations::Model>,
    /// The session the token belongs to.
    pub session_id: Uuid,
}

impl CurrentUser {
    /// Whether the user is the market's registrar.
    pub fn is_registrar(&self) -> bool {
        self.user.role == Role::Registrar
    }

    /// The organization the user acts for: only an active (approved) member has one.
    pub fn active_organization(&self) -> Option<Uuid> {
        (self.user.membership == Membership::Active)
            .then_some(self.user.organization_id)
            .flatten()
    }
}

/// `403` unless `user` is the registrar.
pub fn ensure_registrar(user: &CurrentUser) -> AppResult<()> {
    if user.is_registrar() {
        Ok(())
    } else {
        Err(AppError::Forbidden("only the registrar does this".into()))
    }
}
