//! Login throttling. Failed attempts are rows in the database, so every server process sharing the
//! database sees the same counts.

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::config::Settings;
use crate::entity::login_failures;
use crate::error::{AppError, AppResult};

/// Refuses the attempt (`429` with the seconds to wait) when the e-mail or the IP address has too many
/// recent failures.
pub async fn check(
    db: &DatabaseConnection,
    settings: &Settings,
    email: &str,
    ip: &str,
) -> AppResult<()> {
    let limits = [
        (
            login_failures::Column::Email,
            email,
            settings.login_max_failures,
            "too many failed logins for this account",
        ),
        (
            login_failures::Column::Ip,
            ip,
            settings.login_max_failures_per_ip,
            "too many failed logins from this address",
        ),
    ];
    let window = Duration::minutes(settings.login_window_minutes);
    let now = Utc::now();
    for (column, value, max, detail) in limits {
        let recent = login_failures::Entity::find()
            .filter(column.eq(value))
            .filter(login_failures::Column::FailedAt.gt(now - window));
        let count = recent.clone().count(db).await?;
        if count < max {
            continue;
        }
        // Logins open again when enough failures have aged out of the window that fewer than `max`
        // remain: that is when the (count - max + 1)-th oldest one expires.
        let decisive = recent
            .order_by_asc(login_failures::Column::FailedAt)
            .offset(count - max)
            .one(db)
            .await?;
        let retry_after_secs = decisive
            .map(|f| (f.failed_at + window - now).num_seconds().max(1))
            .unwrap_or(1);
        return Err(AppError::TooManyRequests {
            detail: format!(
                "{detail}; try again in {} minutes",
                (retry_after_secs + 59) / 60
            ),
            retry_after_secs: u64::try_from(retry_after_secs).unwrap_or(1),
        });
    }
    Ok(())
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
        ip: Set(ip.to_owned()),
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

/// Forgets the failures of an account after a successful login.
pub async fn clear(db: &DatabaseConnection, email: &str) -> AppResult<()> {
    login_failures::Entity::delete_many()
        .filter(login_failures::Column::Email.eq(email))
        .exec(db)
        .await?;
    Ok(())
}
