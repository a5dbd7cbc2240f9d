//! Bearer tokens: 256 random bits, handed to the client once and stored only as a SHA-256 hash.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::entity::{organizations, sessions, users};
use crate::error::{AppError, AppResult};
pub use crate::kernel::access::CurrentUser;

/// A freshly issued token. The plain `token` exists only in this value and in the response.
pub struct IssuedToken {
    /// The bearer token (64 hex characters).
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Issues a token for `user_id`, valid for `ttl`.
pub async fn issue<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    ttl: Duration,
) -> AppResult<IssuedToken> {
    let bytes: [u8; 32] = rand::random();
    let token = hex::encode(bytes);
    let now = Utc::now();
    let expires_at = now + ttl;
    sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        token_hash: Set(hash_token(&token)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(IssuedToken { token, expires_at })
}

/// Finds the user of a bearer token; `401` when it is unknown, expired or revoked.
pub async fn authenticate(db: &DatabaseConnection, token: &str) -> AppResult<CurrentUser> {
    let invalid = || AppError::Unauthorized("the token is invalid, expired or revoked".into());
    let session = sessions::Entity::find()
        .filter(sessions::Column::TokenHash.eq(hash_token(token)))
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    if session.revoked_at.is_some() || session.expires_at <= Utc::now() {
        return Err(invalid());
    }
    let user = users::Entity::find_by_id(session.user_id)
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    let organization = match user.organization_id {
        Some(id) => organizations::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    Ok(CurrentUser {
        user,
        organization,
        session_id: session.id,
    })
}

/// Revokes one session (logout).
pub async fn revoke(db: &DatabaseConnection, session_id: Uuid) -> AppResult<()> {
    sessions::ActiveModel {
        id: Set(session_id),
        revoked_at: Set(Some(Utc::now())),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}
