//! Contract benchmark: the indicators over many registered contracts, against a scan of the
//! contracts table measured in the same run, and the sustained rate of submission and
//! registration through the services.
//!
//! `cargo bench --bench contracts` (1,000,000 registered contracts on SQLite);
//! `BENCH_CONTRACTS=N` changes the size and `BENCH_DATABASE_URL=postgres://…/DB` (an empty
//! database) runs it on PostgreSQL; `BENCH_KEEP=DIR` keeps the SQLite file in DIR. It prints a
//! Markdown report for BENCHMARKS.md.

use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, TransactionTrait,
};
use serde_json::json;
use techmarket::config::{Overrides, Settings};
use techmarket::domain::{ContractStatus, Membership, Role};
use techmarket::entity::{contracts, users};
use techmarket::reference::ReferenceData;
use techmarket::services::accounts::sessions::CurrentUser;
use techmarket::services::contracts::{self as contract_service, ContractInput};
use techmarket::services::indicators::{self, Breakdown, Direction, Measure};
use techmarket::services::reports;
use uuid::Uuid;

/// A small deterministic generator, so every run writes the same contracts.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const TYPES: [(&str, &str); 6] = [
    ("development", "commissioned_development"),
    ("development", "cooperative_development"),
    ("transfer", "patent_right_transfer"),
    ("licence", "patent_licence"),
    ("consulting", "feasibility_study"),
    ("service", "technical_training"),
];
const FIELDS: [&str; 11] = [
    "electronic_information",
    "aerospace",
    "advanced_manufacturing",
    "biomedicine",
    "new_materials",
    "new_energy",
    "environmental_protection",
    "nuclear_applications",
    "agriculture",
    "modern_transport",
    "urban_social_development",
];
const INDUSTRIES: [&str; 6] = [
    "electronic_information",
    "automotive",
    "aerospace",
    "high_end_equipment",
    "artificial_intelligence",
    "robotics",
];
/// Xi'an districts weighted by repetition; the last ones are elsewhere in China.
const REGIONS: [&str; 12] = [
    "610113", "610113", "610113", "610116", "610116", "610102", "610111", "610112", "610122",
    "310104", "440305", "110108",
];
const NATURES: [&str; 5] = ["022", "021", "150", "160", "170"];
const YEARS: [i32; 4] = [2021, 2022, 2023, 2024];

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs `f` `n` times after 3 warm-ups; returns (p50, p99) in milliseconds.
async fn time<F, Fut>(n: usize, mut f: F) -> (f64, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..3 {
        f().await;
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        f().await;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

/// Writes `n` registered contracts with bare batched INSERTs; serials continue per year and
/// region prefix, and the counters are left where registration will continue.
async fn generate(db: &DatabaseConnection, n: usize, submitter: Uuid) {
    let mut rng = Lcg(2021);
    let mut serials: std::collections::BTreeMap<(i32, String), i64> = Default::default();
    let now = Utc::now();
    let mut batch = Vec::with_capacity(500);
    let mut txn = db.begin().await.expect("begin");
    for i in 0..n {
        let year = YEARS[i % YEARS.len()];
        let registered_on = NaiveDate::from_ymd_opt(year, 1, 1).expect("date")
            + chrono::Duration::days(rng.below(365) as i64);
        // Submitted a few days to weeks before registration, at some second of the day.
        let submitted_at = (registered_on - chrono::Duration::days(1 + rng.below(30) as i64))
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            + chrono::Duration::seconds(rng.below(86_400) as i64);
        let (contract_type, sub_type) = *rng.pick(&TYPES);
        let seller_region = rng.pick(&REGIONS).to_string();
        let buyer_region = rng.pick(&REGIONS).to_string();
        // Heavy-tailed amounts from 100 元 to 1 亿元.
        let total = 10_000i64 * 10i64.pow(rng.below(5) as u32) * (1 + rng.below(99) as i64);
        let non_technical = total / 100 * rng.below(30) as i64;
        let serial = serials
            .entry((year, seller_region[..4].to_owned()))
            .or_default();
        *serial += 1;
        let number = contract_service::registration_no(year, &seller_region[..4], "01", *serial);
        let industries = if rng.below(10) == 0 {
            json!([])
        } else {
            json!([rng.pick(&INDUSTRIES)])
        };
        batch.push(contracts::ActiveModel {
            id: Set(Uuid::now_v7()),
            status: Set(ContractStatus::Registered),
            version: Set(1),
            project_name: Set(format!("基准测试技术合同{i}")),
            contract_type: Set(contract_type.into()),
            sub_type: Set(sub_type.into()),
            seller_org_id: Set(None),
            seller_name: Set(format!("卖方单位{}", rng.below(5000))),
            seller_nature_code: Set(rng.pick(&NATURES).to_string()),
            seller_region_code: Set(seller_region),
            buyer_org_id: Set(None),
            buyer_name: Set(format!("买方单位{}", rng.below(20000))),
            buyer_nature_code: Set(rng.pick(&NATURES).to_string()),
            buyer_region_code: Set(buyer_region),
            broker_id: Set(None),
            deal_id: Set(None),
            result_id: Set(None),
            demand_id: Set(None),
            signed_on: Set(registered_on - chrono::Duration::days(10)),
            valid_from: Set(registered_on - chrono::Duration::days(10)),
            valid_to: Set(registered_on + chrono::Duration::days(365)),
            total_amount_fen: Set(total),
            non_technical_fen: Set(non_technical),
            technical_amount_fen: Set(total - non_technical),
            tech_field: Set(rng.pick(&FIELDS).to_string()),
            industry_codes: Set(industries),
            ip_types: Set(json!(["invention_patent"])),
            rule_version: Set(contract_service::rule_version_on(registered_on).into()),
            submitted_by: Set(submitter),
            idempotency_key: Set(None),
            request_hash: Set(None),
            registration_no: Set(Some(number)),
            registered_on: Set(Some(registered_on)),
            registered_by: Set(Some(submitter)),
            reason_code: Set(None),
            reason_detail: Set(None),
            submitted_at: Set(submitted_at),
            updated_at: Set(now),
        });
        if batch.len() == 500 {
            contracts::Entity::insert_many(std::mem::take(&mut batch))
                .exec_without_returning(&txn)
                .await
                .expect("insert");
            if (i + 1) % 50_000 == 0 {
                txn.commit().await.expect("commit");
                txn = db.begin().await.expect("begin");
                eprint!("\r{} contracts", i + 1);
            }
        }
    }
    if !batch.is_empty() {
        contracts::Entity::insert_many(batch)
            .exec_without_returning(&txn)
            .await
            .expect("insert");
    }
    for ((year, prefix), last) in serials {
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            txn.get_database_backend(),
            match txn.get_database_backend() {
                DbBackend::Postgres => "INSERT INTO registration_serials (year, region_prefix, point, last_serial) VALUES ($1, $2, '01', $3)",
                _ => "INSERT INTO registration_serials (year, region_prefix, point, last_serial) VALUES (?, ?, '01', ?)",
            },
            [year.into(), prefix.into(), last.into()],
        ))
        .await
        .expect("serials");
    }
    txn.commit().await.expect("commit");
    eprintln!();
}

/// A user of the given role, written directly (the benchmark never logs in).
async fn user(db: &DatabaseConnection, role: Role) -> CurrentUser {
    let model = users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(format!("{role}@bench.test")),
        password_hash: Set("not-a-hash".into()),
        display_name: Set(role.as_str().into()),
        role: Set(role),
        organization_id: Set(None),
        membership: Set(Membership::Active),
        created_at: Set(Utc::now()),
        last_login_at: Set(None),
    };
    let user = users::Entity::insert(model)
        .exec_with_returning(db)
        .await
        .expect("user");
    CurrentUser {
        user,
        organization: None,
        session_id: Uuid::nil(),
    }
}

fn contract_input(n: u64) -> ContractInput {
    serde_json::from_value(json!({
        "project_name": format!("提交速率测试{n}"),
        "contract_type": "service",
        "sub_type": "technical_training",
        "seller": {"name": "西安某大学", "nature_code": "022", "region_code": "610113"},
        "buyer": {"name": "陕西某企业", "nature_code": "150", "region_code": "610116"},
        "signed_on": "2026-01-05",
        "valid_from": "2026-01-05",
        "valid_to": "2026-12-31",
        "total_amount_fen": 1_000_000 + n,
        "non_technical_fen": 0,
        "tech_field": "advanced_manufacturing",
        "industry_codes": ["robotics"],
        "ip_types": []
    }))
    .expect("input")
}

/// Runs `tasks` concurrent loops of `op` for `window`; returns completed operations per second.
async fn sustained<F, Fut>(tasks: usize, window: Duration, op: F) -> (f64, u64)
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let started = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let op = op.clone();
        handles.push(tokio::spawn(async move {
            let mut done = 0u64;
            let mut n = t as u64;
            while started.elapsed() < window {
                if op(n).await {
                    done += 1;
                }
                n += tasks as u64;
            }
            done
        }));
    }
    let mut total = 0;
    for handle in handles {
        total += handle.await.expect("join");
    }
    (total as f64 / started.elapsed().as_secs_f64(), total)
}

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("contract benchmark: run it with `cargo bench --bench contracts`");
        return;
    }
    let count: usize = std::env::var("BENCH_CONTRACTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let tmp = tempfile::tempdir().expect("tmp");
    // `BENCH_KEEP=DIR` keeps the SQLite database in DIR afterwards, for looking at query plans.
    let work_dir = std::env::var_os("BENCH_KEEP").map_or_else(|| tmp.path().to_owned(), Into::into);
    let database_url = std::env::var("BENCH_DATABASE_URL").ok();
    let backend = if database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let settings = Settings::load(
        None,
        &Overrides {
            data_dir: Some(work_dir),
            database_url: database_url.clone(),
            ..Overrides::default()
        },
    )
    .expect("settings");
    let db = techmarket::db::connect(&settings).await.expect("connect");
    techmarket::db::migrate(&db).await.expect("migrate");
    let reference = ReferenceData::read(&db).await.expect("reference");
    let registrar = user(&db, Role::Registrar).await;
    let broker = user(&db, Role::Broker).await;

    let started = Instant::now();
    generate(&db, count, registrar.user.id).await;
    let generated = started.elapsed();
    // What autovacuum (PostgreSQL) or an operator's `ANALYZE` does after a bulk load: statistics
    // for the planner and, on PostgreSQL, the visibility map that index-only counts rely on.
    let maintenance = match db.get_database_backend() {
        DbBackend::Postgres => "VACUUM ANALYZE contracts",
        _ => "ANALYZE",
    };
    db.execute_unprepared(maintenance).await.expect("analyze");
    let started = Instant::now();
    let rebuilt = indicators::rebuild(&db).await.expect("rebuild");
    let rebuild_time = started.elapsed();

    println!("### Contracts: {count} registered contracts on {backend}\n");
    println!(
        "Generated with batched INSERTs in {:.0} s, then `{maintenance}`; `rebuild-indicators` recomputed the {} roll-up rows from them in {:.1} s.\n",
        generated.as_secs_f64(),
        rebuilt.rows,
        rebuild_time.as_secs_f64()
    );
    println!("| query (year 2023) | p50 ms | p99 ms |");
    println!("|---|---:|---:|");
    let (p50, p99) = time(50, || async {
        indicators::summary(&db, &reference, 2023)
            .await
            .expect("summary");
    })
    .await;
    println!("| `indicators/summary` | {p50:.2} | {p99:.2} |");
    for (by, name) in [
        (Breakdown::Month, "month"),
        (Breakdown::Quarter, "quarter"),
        (Breakdown::ContractType, "contract_type"),
        (Breakdown::TechField, "tech_field"),
        (Breakdown::Industry, "industry"),
        (Breakdown::SellerNature, "seller_nature"),
        (Breakdown::District, "district"),
    ] {
        for direction in [Direction::Outflow, Direction::Inflow] {
            let (p50, p99) = time(50, || async {
                indicators::transaction_value(&db, &reference, 2023, Measure::Total, direction, by)
                    .await
                    .expect("indicator");
            })
            .await;
            println!(
                "| `transaction-value?by={name}&direction={}` | {p50:.2} | {p99:.2} |",
                direction.as_str()
            );
        }
    }
    // Baseline: the month breakdown computed by scanning the contracts (what the roll-ups avoid).
    let month = match db.get_database_backend() {
        DbBackend::Postgres => "EXTRACT(MONTH FROM registered_on)::int",
        _ => "CAST(strftime('%m', registered_on) AS INTEGER)",
    };
    let scan = format!(
        "SELECT {month} AS m, COUNT(*) AS n, SUM(total_amount_fen) AS v FROM contracts \
         WHERE status = 'registered' AND registered_on >= '2023-01-01' AND registered_on < '2024-01-01' \
         AND seller_region_code LIKE '6101%' GROUP BY {month}"
    );
    let (p50, p99) = time(10, || async {
        db.query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            scan.clone(),
        ))
        .await
        .expect("scan");
    })
    .await;
    println!(
        "| baseline: the month breakdown by `GROUP BY` over `contracts` | {p50:.2} | {p99:.2} |"
    );
    let filter = contract_service::ContractFilter {
        status: Some(contract_service::ContractStatus::Registered),
        year: Some(2023),
        contract_type: None,
        overdue: false,
    };
    let (p50, p99) = time(10, || async {
        contract_service::list(&db, &registrar, &filter, 1, 20)
            .await
            .expect("list");
    })
    .await;
    println!(
        "| `GET /contracts?status=registered&year=2023` (registrar, page 1 with total) | {p50:.2} | {p99:.2} |"
    );
    let started = Instant::now();
    let report = reports::contracts_report(
        &db,
        &reference,
        2023,
        contract_service::ContractStatus::Registered,
    )
    .await
    .expect("export");
    let bytes = report
        .render(reports::ReportFormat::Csv)
        .expect("csv")
        .len();
    println!(
        "\n`export contracts --year 2023 --format csv`: {} rows, {:.1} MB in {:.1} s.\n",
        report.sheets[0].rows.len(),
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    // Sustained submission, then registration of what was submitted, 8 concurrent callers.
    let window = Duration::from_secs(10);
    let (db2, reference2, broker2) = (db.clone(), reference.clone(), broker.clone());
    let (submit_rate, submitted) = sustained(8, window, move |n| {
        let (db, reference, broker) = (db2.clone(), reference2.clone(), broker2.clone());
        async move {
            contract_service::submit(&db, &reference, &broker, None, contract_input(n))
                .await
                .is_ok()
        }
    })
    .await;
    let waiting: Vec<Uuid> = {
        use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
        contracts::Entity::find()
            .select_only()
            .column(contracts::Column::Id)
            .filter(contracts::Column::Status.eq("submitted"))
            .into_tuple()
            .all(&db)
            .await
            .expect("waiting")
    };
    let queue = std::sync::Arc::new(std::sync::Mutex::new(waiting));
    let (db3, registrar3) = (db.clone(), registrar.clone());
    let today = techmarket::kernel::dates::today_in_china();
    let (register_rate, registered) = sustained(8, window, move |_| {
        let (db, registrar, queue) = (db3.clone(), registrar3.clone(), queue.clone());
        async move {
            let next = queue.lock().ok().and_then(|mut q| q.pop());
            match next {
                Some(id) => contract_service::register(&db, &registrar, id, "01", today)
                    .await
                    .is_ok(),
                None => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    false
                }
            }
        }
    })
    .await;
    println!(
        "Sustained over {} s with 8 concurrent callers on the {count}-contract database: **{submit_rate:.0} submissions/s** ({submitted}), then **{register_rate:.0} registrations/s** ({registered}; numbered, counted in the roll-ups, audited).",
        window.as_secs()
    );
    let check = indicators::verify(&db).await.expect("verify");
    assert_eq!(check.mismatched, 0, "roll-ups drifted from the contracts");
    println!(
        "\nAfterwards `rebuild-indicators --check`: {} rows, {} mismatched. Year of registrations: {}.",
        check.rows,
        check.mismatched,
        today.year()
    );
}
