//! Database connection and schema preparation, for SQLite and PostgreSQL alike.

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::Settings;

/// Connects to the configured database, creating the data directory for a default SQLite file.
pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let url = settings.effective_database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("creating data directory {}", settings.data_dir.display()))?;
    }
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(settings.db_max_connections.max(1))
        .connect_timeout(Duration::from_secs(10))
        // With the database away, a request waits this long for a connection and then answers
        // 503, instead of hanging; the pool reconnects by itself when the database is back.
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false)
        // SQLite: write-ahead logging lets readers proceed during a write, and a busy timeout makes
        // concurrent writers (several requests, or a CLI import beside the server) wait instead of
        // failing with "database is locked".
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    Database::connect(options)
        .await
        .with_context(|| format!("connecting to the database at {}", redact(&url)))
}

/// Applies pending migrations and loads changed reference data.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .context("applying database migrations")?;
    let loaded = crate::reference::load_into_database(db)
        .await
        .context("loading reference data from seeds/reference")?;
    if !loaded.is_empty() {
        tracing::info!(lists = ?loaded, "reference data loaded");
    }
    Ok(())
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`): a deferred transaction that reads first and writes later fails with "database is
/// locked" when another writer got in between, and the busy timeout cannot help it. PostgreSQL
/// ignores the option.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// The id of this database installation, created on first use. A search index records it, so an
/// index left beside a replaced or reset database is rebuilt instead of trusted.
pub async fn installation_id(db: &DatabaseConnection) -> anyhow::Result<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = db.get_database_backend();
    let select = Statement::from_string(
        backend,
        "SELECT id FROM installation ORDER BY created_at LIMIT 1",
    );
    if let Some(row) = db.query_one_raw(select.clone()).await? {
        return Ok(row.try_get("", "id")?);
    }
    let id = uuid::Uuid::new_v4().to_string();
    let insert = Statement::from_sql_and_values(
        backend,
        match backend {
            sea_orm::DbBackend::Postgres => {
                "INSERT INTO installation (id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING"
            }
            _ => "INSERT INTO installation (id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        },
        [id.clone().into(), chrono::Utc::now().into()],
    );
    db.execute_raw(insert).await?;
    // Several processes may have raced here: the oldest row wins for all of them.
    let row = db
        .query_one_raw(select)
        .await?
        .ok_or_else(|| anyhow::anyhow!("installation id missing after insert"))?;
    Ok(row.try_get("", "id")?)
}

/// Hides the password of a database URL for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("postgres://u:secret@host/db"),
            "postgres://u:***@host/db"
        );
        assert_eq!(redact("postgres://u@host/db"), "postgres://u@host/db");
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
