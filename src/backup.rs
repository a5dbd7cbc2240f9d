//! `techmarket backup` and `techmarket restore`: a consistent copy of the database, taken while the
//! nodes serve, and its return.
//!
//! - SQLite: `VACUUM INTO` writes a compacted copy of the database as of one read transaction.
//!   Restoring checks the copy (`PRAGMA integrity_check`), then renames it over the database file.
//! - PostgreSQL: `pg_dump --format=custom` dumps from one snapshot, and `pg_restore --clean` restores
//!   in one transaction. The password goes to them in `PGPASSWORD`, never on a command line that
//!   other users of the host could read.
//!
//! The search index is not backed up: it is a projection. A restore gives the database a new
//! installation id, so every node's index no longer matches it and is rebuilt on start.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail, ensure};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::config::Settings;

/// The database kind a backup file holds, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupKind {
    /// A SQLite database file.
    Sqlite,
    /// A `pg_dump` custom-format archive.
    Postgres,
}

impl BackupKind {
    /// Reads the file's magic number.
    pub fn of_file(path: &Path) -> anyhow::Result<Self> {
        use std::io::Read;
        let mut head = [0u8; 16];
        let mut file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let n = file.read(&mut head)?;
        if n >= 16 && &head == b"SQLite format 3\0" {
            Ok(Self::Sqlite)
        } else if n >= 5 && &head[..5] == b"PGDMP" {
            Ok(Self::Postgres)
        } else {
            bail!(
                "{} is neither a SQLite backup nor a pg_dump archive",
                path.display()
            )
        }
    }

    fn of_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            bail!("unsupported database URL {}", crate::db::redact(url))
        }
    }
}

/// The file of a `sqlite://FILE?…` URL, percent-decoded as sqlx decodes it when it opens the
/// database: a URL is a URL, and the file restored into must be the file the server opens.
fn sqlite_file(url: &str) -> PathBuf {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let encoded = rest.split('?').next().unwrap_or(rest);
    PathBuf::from(
        percent_encoding::percent_decode_str(encoded)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// `path` as a command-line operand that no tool can read as an option: a relative path gets a
/// `./` prefix (`--version` becomes `./--version`), an absolute one already starts with `/`.
/// Prefixing works with every getopt, where a `--` separator depends on the tool's parser.
fn operand(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        Path::new(".").join(path)
    }
}

/// A PostgreSQL URL without its password, and the password (percent-decoded).
fn split_password(url: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut parsed = url::Url::parse(url).context("reading the database URL")?;
    let password = parsed.password().map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    });
    parsed
        .set_password(None)
        .map_err(|()| anyhow::anyhow!("the database URL has no host"))?;
    Ok((parsed.into(), password))
}

/// Runs a PostgreSQL client tool against `url`, failing with its error output.
fn pg_tool(tool: &str, url: &str, args: &[&std::ffi::OsStr]) -> anyhow::Result<String> {
    let (url, password) = split_password(url)?;
    let mut command = Command::new(tool);
    command.args(args).arg("--dbname").arg(&url);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = command.output().with_context(|| {
        format!("running {tool} (install the PostgreSQL client tools, the server's major version or newer)")
    })?;
    ensure!(
        output.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct BackupReport {
    /// Which kind of database it came from.
    pub kind: BackupKind,
    /// The file's size in bytes.
    pub bytes: u64,
}

/// Writes a consistent copy of the configured database to `out`, which must not exist.
pub async fn backup(settings: &Settings, out: &Path) -> anyhow::Result<BackupReport> {
    ensure!(
        !out.exists(),
        "{} exists: a backup never overwrites a file",
        out.display()
    );
    let url = settings.effective_database_url();
    let kind = BackupKind::of_url(&url)?;
    match kind {
        BackupKind::Sqlite => {
            let db = crate::db::connect(settings).await?;
            // An absolute path never starts with `file:`, so SQLite cannot read it as a URI
            // (which it would percent-decode): the file written is the file named.
            let absolute =
                std::path::absolute(out).with_context(|| format!("resolving {}", out.display()))?;
            let target = absolute.to_str().context("the backup path is not UTF-8")?;
            // VACUUM INTO copies the database as one read transaction sees it, while writers go on.
            db.execute_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "VACUUM INTO ?",
                [target.into()],
            ))
            .await
            .context("copying the SQLite database")?;
            db.close().await.ok();
        }
        BackupKind::Postgres => {
            let mut file_arg = std::ffi::OsString::from("--file=");
            file_arg.push(operand(out));
            tokio::task::spawn_blocking(move || {
                pg_tool(
                    "pg_dump",
                    &url,
                    &[
                        "--format=custom".as_ref(),
                        "--no-owner".as_ref(),
                        "--no-privileges".as_ref(),
                        &file_arg,
                    ],
                )
            })
            .await??;
        }
    }
    let bytes = std::fs::metadata(out)?.len();
    Ok(BackupReport { kind, bytes })
}

/// Whether the database at `db` holds any account (a restore over it needs `--force`).
async fn has_users(db: &DatabaseConnection) -> bool {
    let select =
        Statement::from_string(db.get_database_backend(), "SELECT COUNT(*) AS n FROM users");
    match db.query_one_raw(select).await {
        Ok(Some(row)) => row.try_get::<i64>("", "n").is_ok_and(|n| n > 0),
        // No users table: a fresh database.
        _ => false,
    }
}

/// Checks a SQLite database file: readable, intact, and a techmarket database. `file` is opened by
/// its path, never through a URL: a URL would percent-decode it (`good%2Edb` would open `good.db`)
/// and the file checked would not be the file installed. `shown` names it in errors.
async fn check_sqlite_backup(file: &Path, shown: &Path) -> anyhow::Result<()> {
    use sea_orm::sqlx::{self, Connection};
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .read_only(true);
    let mut db = sqlx::SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("opening {}", shown.display()))?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut db)
        .await
        .with_context(|| format!("{} is not a readable SQLite database", shown.display()))?;
    ensure!(verdict == "ok", "{} is damaged: {verdict}", shown.display());
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM seaql_migrations")
        .fetch_one(&mut db)
        .await
        .with_context(|| format!("{} is not a techmarket database", shown.display()))?;
    db.close().await.ok();
    Ok(())
}

/// Replaces the configured database's data by the backup in `from`. The nodes must be stopped;
/// a database that has accounts is replaced only with `force`.
pub async fn restore(settings: &Settings, from: &Path, force: bool) -> anyhow::Result<BackupKind> {
    let url = settings.effective_database_url();
    let kind = BackupKind::of_file(from)?;
    let target = BackupKind::of_url(&url)?;
    ensure!(
        kind == target,
        "{} is a {kind:?} backup and cannot be restored into a {target:?} database",
        from.display()
    );
    match kind {
        BackupKind::Sqlite => {
            let file = sqlite_file(&url);
            if file.exists() && !force {
                let db = crate::db::connect(settings).await?;
                let occupied = has_users(&db).await;
                db.close().await.ok();
                ensure!(
                    !occupied,
                    "{} holds data; stop every node and add --force to replace it",
                    file.display()
                );
            }
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            // The copy is what is checked and what is installed: one file, so a check cannot pass
            // on one file and another be installed.
            let staging = file.with_extension("restoring");
            std::fs::copy(from, &staging)
                .with_context(|| format!("copying to {}", staging.display()))?;
            std::fs::File::open(&staging)?.sync_all()?;
            let checked = check_sqlite_backup(&staging, from).await;
            for suffix in ["-wal", "-shm"] {
                let mut side = staging.clone().into_os_string();
                side.push(suffix);
                let _ = std::fs::remove_file(side);
            }
            if let Err(e) = checked {
                let _ = std::fs::remove_file(&staging);
                return Err(e);
            }
            // The old write-ahead log belongs to the old database.
            for suffix in ["-wal", "-shm"] {
                let mut side = file.clone().into_os_string();
                side.push(suffix);
                let _ = std::fs::remove_file(side);
            }
            std::fs::rename(&staging, &file)
                .with_context(|| format!("replacing {}", file.display()))?;
        }
        BackupKind::Postgres => {
            let list = operand(from);
            let archive = list.clone();
            let check_url = url.clone();
            // pg_restore --list reads the whole table of contents: a damaged archive fails here,
            // before the database is touched.
            tokio::task::spawn_blocking(move || {
                let output = Command::new("pg_restore")
                    .arg("--list")
                    .arg(&list)
                    .output()
                    .context("running pg_restore (install the PostgreSQL client tools)")?;
                ensure!(
                    output.status.success(),
                    "{} is not a readable pg_dump archive: {}",
                    list.display(),
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                anyhow::Ok(())
            })
            .await??;
            if !force {
                let db = crate::db::connect(settings).await?;
                let occupied = has_users(&db).await;
                db.close().await.ok();
                ensure!(
                    !occupied,
                    "the database holds data; stop every node and add --force to replace it"
                );
            }
            tokio::task::spawn_blocking(move || {
                pg_tool(
                    "pg_restore",
                    &check_url,
                    &[
                        "--clean".as_ref(),
                        "--if-exists".as_ref(),
                        "--no-owner".as_ref(),
                        "--no-privileges".as_ref(),
                        "--single-transaction".as_ref(),
                        "--exit-on-error".as_ref(),
                        archive.as_os_str(),
                    ],
                )
            })
            .await??;
        }
    }
    // A newer binary may have migrations the backup lacks; then a new installation id makes every
    // node's index foreign, so each rebuilds from the restored data.
    let db = crate::db::connect(settings).await?;
    crate::db::migrate(&db).await?;
    db.execute_unprepared("DELETE FROM installation").await?;
    crate::db::installation_id(&db).await?;
    db.close().await.ok();
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_decoded() {
        let (url, password) =
            split_password("postgres://tm:p%40ss%2Fw@db.internal:5432/techmarket?sslmode=require")
                .expect("url");
        assert_eq!(
            url,
            "postgres://tm@db.internal:5432/techmarket?sslmode=require"
        );
        assert_eq!(password.as_deref(), Some("p@ss/w"));
        let (url, password) = split_password("postgres://postgres@127.0.0.1/test").expect("url");
        assert_eq!(url, "postgres://postgres@127.0.0.1/test");
        assert_eq!(password, None);
    }

    #[test]
    fn operands_never_look_like_options() {
        assert_eq!(
            operand(Path::new("--version")),
            PathBuf::from("./--version")
        );
        assert_eq!(
            operand(Path::new("good%2Edb")),
            PathBuf::from("./good%2Edb")
        );
        assert_eq!(operand(Path::new("/tmp/-x")), PathBuf::from("/tmp/-x"));
        assert_eq!(
            sqlite_file("sqlite://data/tech%2Emarket.db?mode=rwc"),
            PathBuf::from("data/tech.market.db")
        );
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite://data/techmarket.db?mode=rwc"),
            PathBuf::from("data/techmarket.db")
        );
        assert_eq!(
            sqlite_file("sqlite:///var/lib/tm.db"),
            PathBuf::from("/var/lib/tm.db")
        );
    }
}
