//! `login_failures`: failed login attempts, counted for throttling across all server processes.

use sea_orm::entity::prelude::*;

/// One failed login attempt.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_failures")]
pub struct Model {
    /// Sequence number.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The (lower-cased) e-mail that was tried, whether or not an account has it.
    pub email: String,
    /// Client IP address.
    pub ip: String,
    /// When the attempt failed.
    pub failed_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
