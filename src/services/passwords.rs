//! Password hashing with argon2id (m = 19456 KiB, t = 2, p = 1), always off the async runtime.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::AppError;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: u64 = 10;
/// Longest password accepted, in characters (argon2 cost does not depend on it, but bodies should
/// stay small).
pub const MAX_PASSWORD_CHARS: u64 = 256;

fn argon2() -> Result<Argon2<'static>, AppError> {
    let params = Params::new(19_456, 2, 1, None)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password to a PHC string, on a blocking thread (about 20 ms of CPU).
pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let hash = argon2()?
            .hash_password(password.as_bytes())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("argon2 hash: {e}")))?;
        Ok(hash.to_string())
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
}

static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// The hash of a random password nobody knows, verified when an e-mail is unknown so that a failed
/// login takes as long whether or not the account exists.
pub async fn dummy_hash() -> Result<String, AppError> {
    DUMMY_HASH
        .get_or_try_init(|| hash(hex::encode(rand::random::<[u8; 16]>())))
        .await
        .cloned()
}

/// Checks a password against a PHC string, on a blocking thread. A malformed stored hash counts as
/// a mismatch.
pub async fn verify(password: String, phc: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return Ok(false);
        };
        Ok(argon2()?
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() -> Result<(), AppError> {
        let phc = hash("correct horse battery".into()).await?;
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery".into(), phc.clone()).await?);
        assert!(!verify("wrong horse battery".into(), phc).await?);
        assert!(!verify("anything".into(), dummy_hash().await?).await?);
        assert!(!verify("anything".into(), "not a hash".into()).await?);
        Ok(())
    }
}
