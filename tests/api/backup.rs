//! `techmarket backup` while another process writes, and `techmarket restore` into another
//! database: the copy is consistent (counters, roll-ups and contracts agree) and complete.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait};
use techmarket::entity::{contracts, users};
use techmarket::services::accounts::sessions::CurrentUser;
use techmarket::services::{contracts as contract_service, indicators};

use crate::helpers::fresh_database_url;
use crate::helpers::process::techmarket;

/// A database URL for a test: a fresh PostgreSQL database, or a SQLite file in `dir`.
async fn database(dir: &std::path::Path, name: &str) -> String {
    match fresh_database_url().await {
        Some(url) => url,
        None => format!("sqlite://{}?mode=rwc", dir.join(name).display()),
    }
}

async fn actor(db: &DatabaseConnection, role: &str) -> CurrentUser {
    use sea_orm::{ColumnTrait, QueryFilter};
    let user = users::Entity::find()
        .filter(users::Column::Role.eq(role))
        .one(db)
        .await
        .expect("query")
        .expect("a demo user of the role");
    CurrentUser {
        user,
        organization: None,
        session_id: uuid::Uuid::nil(),
    }
}

/// Submits and registers contracts until told to stop, counting them in `registered`; returns how
/// many it registered.
async fn keep_registering(
    url: String,
    stop: tokio::sync::watch::Receiver<bool>,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> u64 {
    let db = Database::connect(&url).await.expect("connect");
    let reference = techmarket::reference::ReferenceData::read(&db)
        .await
        .expect("reference");
    let (broker, registrar) = (actor(&db, "broker").await, actor(&db, "registrar").await);
    let mut registered = 0;
    while !*stop.borrow() {
        let input = serde_json::from_value(serde_json::json!({
            "project_name": format!("备份期间登记的合同{registered}"),
            "contract_type": "service",
            "sub_type": "technical_training",
            "seller": {"name": "西安某大学", "nature_code": "022", "region_code": "610113"},
            "buyer": {"name": "陕西某企业", "nature_code": "150", "region_code": "610116"},
            "signed_on": "2026-01-05", "valid_from": "2026-01-05", "valid_to": "2026-12-31",
            "total_amount_fen": 123_400, "non_technical_fen": 0,
            "tech_field": "advanced_manufacturing", "industry_codes": [], "ip_types": []
        }))
        .expect("input");
        let submitted = contract_service::submit(&db, &reference, &broker, None, input)
            .await
            .expect("submit");
        let id = match submitted {
            contract_service::Submitted::Created(c) | contract_service::Submitted::Repeated(c) => {
                c.id
            }
        };
        contract_service::register(
            &db,
            &registrar,
            id,
            "01",
            techmarket::kernel::dates::today_in_china(),
        )
        .await
        .expect("register");
        registered += 1;
        count.store(registered, std::sync::atomic::Ordering::Release);
    }
    db.close().await.ok();
    registered
}

/// For every (year, region, point) counter, its last serial equals the highest serial numbered.
async fn counters_agree_with_numbers(db: &DatabaseConnection) {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT year, region_prefix, point, last_serial FROM registration_serials",
        ))
        .await
        .expect("counters");
    assert!(!rows.is_empty());
    let numbers: Vec<String> = {
        use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
        contracts::Entity::find()
            .select_only()
            .column(contracts::Column::RegistrationNo)
            .filter(contracts::Column::RegistrationNo.is_not_null())
            .into_tuple::<Option<String>>()
            .all(db)
            .await
            .expect("numbers")
            .into_iter()
            .flatten()
            .collect()
    };
    for row in rows {
        let year: i32 = row.try_get("", "year").expect("year");
        let prefix: String = row.try_get("", "region_prefix").expect("prefix");
        let point: String = row.try_get("", "point").expect("point");
        let last: i64 = row.try_get("", "last_serial").expect("last");
        let head = format!("{year}{prefix}{point}");
        let highest = numbers
            .iter()
            .filter(|n| n.starts_with(&head))
            .filter_map(|n| n[10..].parse::<i64>().ok())
            .max()
            .unwrap_or(0);
        assert_eq!(last, highest, "counter {head}");
    }
}

#[tokio::test]
async fn a_backup_taken_while_writing_restores_consistent_and_whole() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data_dir = tmp.path().join("data");
    let source = database(tmp.path(), "source.db").await;
    let seeded = techmarket(&data_dir, Some(&source))
        .arg("seed")
        .output()
        .expect("seed");
    assert!(seeded.status.success(), "{seeded:?}");

    // Another process registers contracts all through the backup.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let writer = tokio::spawn(keep_registering(source.clone(), stopped, count.clone()));
    // The backup starts once the writer is under way (a loaded machine may take a while to get
    // there), so that the copy is taken between two of its registrations, not before them all.
    let started = std::time::Instant::now();
    while count.load(std::sync::atomic::Ordering::Acquire) == 0
        && started.elapsed() < std::time::Duration::from_secs(60)
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let file = tmp.path().join("techmarket.backup");
    let backup = techmarket(&data_dir, Some(&source))
        .args(["backup", "--out"])
        .arg(&file)
        .output()
        .expect("backup");
    stop.send(true).expect("stop");
    let during = writer.await.expect("writer");
    assert!(backup.status.success(), "{backup:?}");
    assert!(during > 0, "the writer wrote during the backup");
    // A backup never overwrites.
    let again = techmarket(&data_dir, Some(&source))
        .args(["backup", "--out"])
        .arg(&file)
        .output()
        .expect("backup");
    assert!(!again.status.success());

    // Restore into another database, as a new node would find it.
    let target = database(tmp.path(), "target.db").await;
    let restored = techmarket(&data_dir, Some(&target))
        .args(["restore", "--from"])
        .arg(&file)
        .output()
        .expect("restore");
    assert!(restored.status.success(), "{restored:?}");
    let db = Database::connect(&target).await.expect("connect");
    let check = indicators::verify(&db).await.expect("verify");
    assert_eq!(check.mismatched, 0, "the roll-ups agree with the contracts");
    counters_agree_with_numbers(&db).await;
    let source_db = Database::connect(&source).await.expect("connect");
    let (copied, now) = (
        contracts::Entity::find().count(&db).await.expect("count"),
        contracts::Entity::find()
            .count(&source_db)
            .await
            .expect("count"),
    );
    assert!(copied >= 2_000 && copied <= now, "{copied} of {now}");
    let installation = |db: &DatabaseConnection| {
        let db = db.clone();
        async move { techmarket::db::installation_id(&db).await.expect("id") }
    };
    assert_ne!(
        installation(&db).await,
        installation(&source_db).await,
        "a restored database is a new installation: every index is rebuilt"
    );
    db.close().await.ok();
    source_db.close().await.ok();

    // Over a database that holds data only with --force; a damaged file never touches it.
    let refused = techmarket(&data_dir, Some(&target))
        .args(["restore", "--from"])
        .arg(&file)
        .output()
        .expect("restore");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    let damaged = tmp.path().join("damaged.backup");
    let bytes = std::fs::read(&file).expect("read");
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).expect("write");
    let failed = techmarket(&data_dir, Some(&target))
        .args(["restore", "--force", "--from"])
        .arg(&damaged)
        .output()
        .expect("restore");
    assert!(!failed.status.success(), "{failed:?}");
    let db = Database::connect(&target).await.expect("connect");
    assert_eq!(
        contracts::Entity::find().count(&db).await.expect("count"),
        copied,
        "the failed restore left the database as it was"
    );
    db.close().await.ok();
    let forced = techmarket(&data_dir, Some(&target))
        .args(["restore", "--force", "--from"])
        .arg(&file)
        .output()
        .expect("restore");
    assert!(forced.status.success(), "{forced:?}");
}

/// A path is a path: `good%2Edb` is the file of that name, never `good.db` decoded from it, so the
/// file checked is the file installed; a damaged file next to a good one is refused.
#[tokio::test]
async fn restore_checks_and_installs_the_file_it_is_given_never_a_decoded_name() {
    if fresh_database_url().await.is_some() {
        // SQLite files only; PostgreSQL has its own test below.
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let data_dir = tmp.path().join("data");
    // A backup is one self-contained file (a database just migrated may still have a WAL beside it).
    let source = format!(
        "sqlite://{}?mode=rwc",
        tmp.path().join("source.db").display()
    );
    let migrated = techmarket(&data_dir, Some(&source))
        .arg("migrate")
        .output()
        .expect("migrate");
    assert!(migrated.status.success(), "{migrated:?}");
    let good = tmp.path().join("good.db");
    let backup = techmarket(&data_dir, Some(&source))
        .args(["backup", "--out"])
        .arg(&good)
        .output()
        .expect("backup");
    assert!(backup.status.success(), "{backup:?}");
    let mut damaged = b"SQLite format 3\0".to_vec();
    damaged.extend(std::iter::repeat_n(0xA5u8, 8192));
    std::fs::write(tmp.path().join("good%2Edb"), &damaged).expect("write");

    let target = tmp.path().join("target.db");
    let target_url = format!("sqlite://{}?mode=rwc", target.display());
    let refused = techmarket(&data_dir, Some(&target_url))
        .current_dir(tmp.path())
        .args(["restore", "--from", "good%2Edb"])
        .output()
        .expect("restore");
    assert!(!refused.status.success(), "{refused:?}");
    assert!(
        !target.exists() || std::fs::read(&target).expect("read") != damaged,
        "the damaged file was installed"
    );

    // And the file of that name is restored when it is the good one.
    std::fs::rename(&good, tmp.path().join("good%2Edb")).expect("rename");
    let restored = techmarket(&data_dir, Some(&target_url))
        .current_dir(tmp.path())
        .args(["restore", "--force", "--from", "good%2Edb"])
        .output()
        .expect("restore");
    assert!(restored.status.success(), "{restored:?}");
}

/// A path that looks like an option reaches pg_dump and pg_restore as a path: `--from=--version`
/// reads the file `--version` (here a damaged archive, refused) instead of asking for a version.
#[tokio::test]
async fn backup_and_restore_paths_never_reach_pg_tools_as_options() {
    let Some(source) = fresh_database_url().await else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let data_dir = tmp.path().join("data");
    let migrated = techmarket(&data_dir, Some(&source))
        .arg("migrate")
        .output()
        .expect("migrate");
    assert!(migrated.status.success(), "{migrated:?}");
    std::fs::write(tmp.path().join("--version"), b"PGDMP\x01\x0e\x00garbage").expect("write");
    let target = fresh_database_url().await.expect("database");
    let refused = techmarket(&data_dir, Some(&target))
        .current_dir(tmp.path())
        .arg("restore")
        .arg("--from=--version")
        .output()
        .expect("restore");
    assert!(!refused.status.success(), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not a readable pg_dump archive"),
        "{refused:?}"
    );

    let backup = techmarket(&data_dir, Some(&source))
        .current_dir(tmp.path())
        .arg("backup")
        .arg("--out=-techmarket.dump")
        .output()
        .expect("backup");
    assert!(backup.status.success(), "{backup:?}");
    assert!(tmp.path().join("-techmarket.dump").exists());
    let restored = techmarket(&data_dir, Some(&target))
        .current_dir(tmp.path())
        .arg("restore")
        .arg("--from=-techmarket.dump")
        .output()
        .expect("restore");
    assert!(restored.status.success(), "{restored:?}");
}
