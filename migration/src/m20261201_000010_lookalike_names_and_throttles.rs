//! Issue 15: organization name keys that look-alike names share (NFKC, format characters removed),
//! failed logins counted per account *and* address, and registrations counted per address.

use std::collections::HashSet;

use sea_orm_migration::sea_orm::{ConnectionTrait, TransactionTrait};
use sea_orm_migration::{prelude::*, schema::*};

// The very file the server computes keys with, so that stored keys and new keys agree.
#[path = "../../src/text/normal.rs"]
#[allow(dead_code, reason = "the migration needs only name_key")]
mod normal;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Longest key the column holds, and room kept for the suffix of a look-alike.
const MAX_KEY_CHARS: usize = 200;
const KEPT_FOR_SUFFIX: usize = 160;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        recompute_name_keys(manager).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_login_failures_email_ip")
                    .table("login_failures")
                    .col("email")
                    .col("ip")
                    .col("failed_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("registration_attempts")
                    .col(big_pk_auto("id"))
                    .col(string_len("ip", 64))
                    .col(timestamp_with_time_zone("attempted_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_registration_attempts_ip")
                    .table("registration_attempts")
                    .col("ip")
                    .col("attempted_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("registration_attempts").to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_login_failures_email_ip")
                    .table("login_failures")
                    .to_owned(),
            )
            .await
    }
}

/// Gives every organization the key of `text::name_key`. Look-alikes registered before this
/// migration (the same key) keep their rows, which users and listings point to: the oldest gets the
/// key, each later one the key followed by `#` and its old key's position, so the unique index holds
/// and an operator can find them (`name_key LIKE '%#%'`) and merge them by hand.
async fn recompute_name_keys(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let rows = db
        .query_all(
            &Query::select()
                .columns(["name", "name_key"])
                .from("organizations")
                .order_by("created_at", Order::Asc)
                .order_by("name_key", Order::Asc)
                .to_owned(),
        )
        .await?;
    let mut taken = HashSet::new();
    let mut changes = Vec::new();
    for (position, row) in rows.iter().enumerate() {
        let name: String = row.try_get("", "name")?;
        let old: String = row.try_get("", "name_key")?;
        let mut key: String = normal::name_key(&name)
            .chars()
            .take(MAX_KEY_CHARS)
            .collect();
        if taken.contains(&key) {
            let stem: String = key.chars().take(KEPT_FOR_SUFFIX).collect();
            key = format!("{stem}#{position}");
        }
        taken.insert(key.clone());
        if key != old {
            changes.push((old, key));
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    // Two passes, so that no intermediate state collides with a key not yet moved.
    let txn = db.begin().await?;
    for (position, (old, _)) in changes.iter().enumerate() {
        txn.execute(&rename(old, &format!("\u{1}migrating#{position}")))
            .await?;
    }
    for (position, (_, new)) in changes.iter().enumerate() {
        txn.execute(&rename(&format!("\u{1}migrating#{position}"), new))
            .await?;
    }
    txn.commit().await
}

fn rename(from: &str, to: &str) -> UpdateStatement {
    Query::update()
        .table("organizations")
        .value("name_key", to)
        .and_where(Expr::col("name_key").eq(from))
        .to_owned()
}
