//! Login throttling that slows the attacker, not the account owner. Failed attempts are rows in the
//! database, so every server process sharing the database sees the same counts.
//!
//! Three limits, all within `login_window_minutes`:
//! - **account and address** (`login_max_failures`, 5): an address that failed that often for one
//!   account may not try that account again. Another address, the owner's, is not affected.
//! - **address** (`login_max_failures_per_ip`, 50): an address that failed that often, for any
//!   accounts, may not log in at all (one address guessing many accounts).
//! - **account under attack** (`login_max_failures_per_account`, 100): once an account has that many
//!   failures from all addresses together, an address that has failed for it even once must wait.
//!   A distributed guesser then gets one guess per fresh address per window, while the owner, whose
//!   address has not failed, still logs in. Strong passwords (see `passwords::check_strength`) do the
//!   rest.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

use crate::config::Settings;
use crate::entity::{login_failures, registration_attempts};
use crate::error::{AppError, AppResult};

/// Refuses the attempt (`429` with the seconds to wait) when a limit above is reached.
pub async fn check(
    db: &DatabaseConnection,
    settings: &Settings,
    email: &str,
    ip: &str,
) -> AppResult<()> {
    let window = Duration::minutes(settings.login_window_minutes);
    let now = Utc::now();
    let recent =
        || login_failures::Entity::find().filter(login_failures::Column::FailedAt.gt(now - window));
    let from_ip = recent().filter(login_failures::Column::Ip.eq(ip));
    if let Some(wait) = limit(db, from_ip, settings.login_max_failures_per_ip, window, now).await? {
        return Err(refused("too many failed logins from this address", wait));
    }
    let pair = recent()
        .filter(login_failures::Column::Email.eq(email))
        .filter(login_failures::Column::Ip.eq(ip));
    let pair_failures = pair.clone().count(db).await?;
    if let Some(wait) = limit(db, pair, settings.login_max_failures, window, now).await? {
        return Err(refused(
            "too many failed logins for this account from this address",
            wait,
        ));
    }
    if pair_failures > 0 {
        let account = recent().filter(login_failures::Column::Email.eq(email));
        let max = settings.login_max_failures_per_account;
        if let Some(wait) = limit(db, account, max, window, now).await? {
            return Err(refused(
                "this account has too many failed logins from many addresses; this address \
                 failed too and must wait",
                wait,
            ));
        }
    }
    Ok(())
}

/// Seconds until fewer than `max` of the failures `recent` selects remain in the window, or `None`
/// when fewer than `max` are there now. `max = 0` means no limit.
async fn limit(
    db: &DatabaseConnection,
    recent: Select<login_failures::Entity>,
    max: u64,
    window: Duration,
    now: DateTime<Utc>,
) -> AppResult<Option<i64>> {
    if max == 0 {
        return Ok(None);
    }
    let count = recent.clone().count(db).await?;
    if count < max {
        return Ok(None);
    }
    // Logins open again when enough failures have aged out of the window that fewer than `max`
    // remain: that is when the (count - max + 1)-th oldest one expires.
    let decisive = recent
        .order_by_asc(login_failures::Column::FailedAt)
        .offset(count - max)
        .one(db)
        .await?;
    Ok(Some(
        decisive
            .map(|f| (f.failed_at + window - now).num_seconds().max(1))
            .unwrap_or(1),
    ))
}

fn refused(detail: &str, retry_after_secs: i64) -> AppError {
    AppError::TooManyRequests {
        detail: format!(
            "{detail}; try again in {} minutes",
            (retry_after_secs + 59) / 60
        ),
        retry_after_secs: u64::try_from(retry_after_secs).unwrap_or(1),
    }
}

/// Records a failed attempt, and forgets attempts older than the window.
pub async fn record_failure(
    db: &DatabaseConnection,
    settings: &Settings,
    email: &str,
    ip: &str,
) -> AppResult<()> {
    let now = Utc::now();
    login_failures::ActiveModel {
        email: Set(email.to_owned()),
        ip: Set(ip.chars().take(64).collect()),
        failed_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    login_failures::Entity::delete_many()
        .filter(
            login_failures::Column::FailedAt
                .lt(now - Duration::minutes(settings.login_window_minutes)),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets the failures of an account from the address that just logged in successfully. The
/// failures from other addresses stay: the owner logging in must not reset an attacker's count.
pub async fn clear(db: &DatabaseConnection, email: &str, ip: &str) -> AppResult<()> {
    login_failures::Entity::delete_many()
        .filter(login_failures::Column::Email.eq(email))
        .filter(login_failures::Column::Ip.eq(ip))
        .exec(db)
        .await?;
    Ok(())
}

/// Counts a registration attempt from `ip` and refuses it (`429`) when the address made
/// `register_max_per_ip` attempts within `register_window_minutes`: every attempt counts, whether
/// it created an account or answered `409`, so that probing which e-mails have accounts costs
/// the prober one attempt each. Concurrent attempts may pass the count together; the limit is a
/// bound on probing, not an exact quota.
pub async fn check_registration(
    db: &DatabaseConnection,
    settings: &Settings,
    ip: &str,
) -> AppResult<()> {
    let max = settings.register_max_per_ip;
    if max == 0 {
        return Ok(());
    }
    let window = Duration::minutes(settings.register_window_minutes.max(1));
    let now = Utc::now();
    registration_attempts::Entity::delete_many()
        .filter(registration_attempts::Column::AttemptedAt.lt(now - window))
        .exec(db)
        .await?;
    let recent = registration_attempts::Entity::find()
        .filter(registration_attempts::Column::Ip.eq(ip))
        .filter(registration_attempts::Column::AttemptedAt.gt(now - window));
    let count = recent.clone().count(db).await?;
    if count >= max {
        let decisive = recent
            .order_by_asc(registration_attempts::Column::AttemptedAt)
            .offset(count - max)
            .one(db)
            .await?;
        let wait = decisive
            .map(|a| (a.attempted_at + window - now).num_seconds().max(1))
            .unwrap_or(1);
        return Err(refused("too many registrations from this address", wait));
    }
    registration_attempts::ActiveModel {
        ip: Set(ip.chars().take(64).collect()),
        attempted_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
