//! Password hashing with argon2id (m = 19456 KiB, t = 2, p = 1), always off the async runtime.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::AppError;
use crate::kernel::validation::Checks;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted, in characters (argon2 cost does not depend on it, but bodies should
/// stay small).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Passwords of 10 or more characters that lists of leaked passwords (and Chinese ones in
/// particular) have near the top, lower-cased. Not a dictionary: the rules below catch sequences
/// and repetitions, so only what they miss is listed.
const COMMON: &[&str] = &[
    "qwertyuiop",
    "asdfghjkl;",
    "zxcvbnm,./",
    "1qaz2wsx3edc",
    "1q2w3e4r5t",
    "q1w2e3r4t5",
    "1q2w3e4r5t6y",
    "qazwsxedcrfv",
    "qwerty123456",
    "qwerty12345",
    "qwertyuiop123",
    "password12",
    "password123",
    "password1234",
    "password!",
    "password1!",
    "passw0rd12",
    "p@ssw0rd12",
    "p@ssword123",
    "iloveyou12",
    "iloveyou123",
    "woaini1314",
    "woaini520",
    "5201314520",
    "1314520520",
    "520131400",
    "a123456789",
    "aa123456789",
    "abc1234567",
    "abc123456789",
    "123456789a",
    "123456789q",
    "123456789abc",
    "1234567890a",
    "a1234567890",
    "zxcvbnm123",
    "qwe1234567",
    "asd1234567",
    "admin12345",
    "admin123456",
    "administrator",
    "welcome123",
    "letmein123",
    "sunshine12",
    "princess12",
    "football12",
    "baseball12",
    "dragon1234",
    "monkey1234",
    "00000000000",
    "1234512345",
    "1234554321",
    "1234567899",
    "1122334455",
    "1qaz!qaz2wsx",
    "1qaz@wsx3edc",
    "zaq12wsxcde3",
    "woaini123456",
    "woaiwojia123",
    "changeme123",
    "default123",
];

/// Why `password` is too easy to guess, in Chinese, or `None` when it is fine. The length is
/// checked separately ([`MIN_PASSWORD_CHARS`], [`MAX_PASSWORD_CHARS`]). Rules rather than a
/// strength estimator: they are cheap (no dictionary to load, microseconds per check), treat
/// Chinese and other non-Latin passwords like any others, and say in words what is wrong.
pub fn weakness(password: &str) -> Option<&'static str> {
    let chars: Vec<char> = password.chars().collect();
    if chars.iter().all(|c| c.is_whitespace()) {
        return Some("密码不能全是空格");
    }
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 4 {
        return Some("密码至少要有 4 个不同的字符");
    }
    if (1..=chars.len() / 2).any(|unit| (unit..chars.len()).all(|i| chars[i] == chars[i % unit])) {
        return Some("密码不能是同一段字符的重复（如 abcabcabc）");
    }
    if is_sequence(&chars) {
        return Some("密码不能是连续的字符（如 1234567890、abcdefghij）");
    }
    let lower = password.to_lowercase();
    if COMMON.contains(&lower.as_str()) {
        return Some("这是最常见的密码之一");
    }
    None
}

/// Each character one after the previous one, all up or all down (`0` follows `9`).
fn is_sequence(chars: &[char]) -> bool {
    let step = |a: char, b: char| -> i64 {
        match (a, b) {
            ('9', '0') => 1,
            ('0', '9') => -1,
            _ => i64::from(u32::from(b)) - i64::from(u32::from(a)),
        }
    };
    let steps: Vec<i64> = chars.windows(2).map(|w| step(w[0], w[1])).collect();
    steps.iter().all(|&s| s == 1) || steps.iter().all(|&s| s == -1)
}

/// The whole message for a weak password: what is wrong, then what makes a good one.
pub fn weakness_message(reason: &str) -> String {
    format!(
        "密码太容易被猜到：{reason}。好的密码至少 10 个字符，不是常见密码，也不是连续或重复的字符；\
         几个不相关的词连成的短语就很好记又难猜，例如 correct-horse-battery 或 蓝天-火车-吃苹果"
    )
}

/// Checks a new password: its length in characters as typed (spaces count), then — only when the
/// length is right, so that one mistake gets one message — its [`weakness`].
pub fn check_new<R>(checks: &mut Checks<R>, field: &str, password: &str) -> bool {
    if !checks.chars(field, password, MIN_PASSWORD_CHARS, MAX_PASSWORD_CHARS) {
        return false;
    }
    match weakness(password) {
        None => true,
        Some(reason) => checks.check(false, field, weakness_message(reason)),
    }
}

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

    #[test]
    fn weak_passwords_are_named_and_the_project_s_own_pass() {
        for weak in [
            "1234567890",
            "          ",
            "\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}",
            "0987654321",
            "abcdefghijk",
            "aaaaaaaaaa",
            "ababababab",
            "abcabcabcabc",
            "QwertyUiop",
            "woaini1314",
            "一二一二一二一二一二",
        ] {
            assert!(weakness(weak).is_some(), "{weak:?} passed");
            let mut checks = Checks::plain();
            assert!(!check_new(&mut checks, "password", weak), "{weak:?} passed");
            assert!(checks.errors[0].message.contains("好的密码"), "{weak:?}");
        }
        for good in [
            "correct-horse-battery",
            "a-long-password-1",
            "long-enough-1",
            "registrar-password-1",
            "operator-password-1",
            "demo-broker-2026",
            "demo-enterprise-2026",
            "demo-registrar-2026",
            "demo-researcher-2026",
            "蓝天-火车-吃苹果-2026",
        ] {
            assert_eq!(weakness(good), None, "{good:?} refused");
        }
        // Too short or too long is the length rule's message, not this one.
        let mut checks = Checks::plain();
        assert!(!check_new(&mut checks, "password", "12345"));
        assert_eq!(checks.errors.len(), 1);
        assert_eq!(checks.errors[0].message, "must be at least 10 characters");
    }

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
