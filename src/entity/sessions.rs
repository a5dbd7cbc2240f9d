//! `sessions`: bearer tokens, stored only as SHA-256 hashes.

use sea_orm::entity::prelude::*;

/// One login session.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// UUID v7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The user the token belongs to.
    pub user_id: Uuid,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// When the token was issued.
    pub created_at: DateTimeUtc,
    /// After this the token no longer authenticates.
    pub expires_at: DateTimeUtc,
    /// Set by logout.
    pub revoked_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
