//! `users`: accounts, each with one role and (except registrars) one organization.

use sea_orm::entity::prelude::*;

use crate::domain::{Membership, Role};

/// One account.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// UUID v7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Lower-cased e-mail address, unique.
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Name shown to other users.
    pub display_name: String,
    /// Role code (`researcher`, `enterprise`, `broker`, `registrar`).
    pub role: Role,
    /// The organization the user belongs to.
    pub organization_id: Option<Uuid>,
    /// `active`, or `pending` until a member of the organization approves the user.
    pub membership: Membership,
    /// When the account was created.
    pub created_at: DateTimeUtc,
    /// Last successful login.
    pub last_login_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
