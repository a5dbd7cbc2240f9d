//! `registration_attempts`: registrations tried per client address, counted for throttling across
//! all server processes.

use sea_orm::entity::prelude::*;

/// One registration attempt.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "registration_attempts")]
pub struct Model {
    /// Sequence number.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Client IP address.
    pub ip: String,
    /// When the attempt was made.
    pub attempted_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
