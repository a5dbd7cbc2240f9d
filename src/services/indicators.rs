//! The indicators (动态监测): the value of registered technology contracts, by period and by
//! breakdown, against the policy's targets.
//!
//! What counts (the API documents the same): a contract counts once it is `registered`, in the
//! year and month of its registration date (登记日期), with its current (amended) amounts. It
//! counts for Xi'an as 技术输出 (`direction=outflow`) when the seller's region code starts with
//! `6101`, and as 技术吸纳 (`inflow`) when the buyer's does. `measure=total` sums 合同成交额,
//! `technical` sums 技术交易额. A contract with several industries counts under its first one
//! (`unclassified` without any), so that every breakdown's groups sum to the total.
//!
//! The sums are kept in `indicator_rollups`, one row per year, month, direction and breakdown
//! value, updated in the transaction that registers or amends a contract: an indicator reads at
//! most a few hundred rows, however many contracts there are.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::entity::contracts;
use crate::error::{AppError, AppResult};
use crate::reference::ReferenceData;

/// The region-code prefix of Xi'an.
pub const XIAN_PREFIX: &str = "6101";
/// The roll-up dimension of contracts that transform a listed result locally: registered, linking
/// a result, seller and buyer both in Xi'an.
pub const LOCAL_TRANSFORMATION: &str = "local_transformation";
/// The key of a contract without an industry in the industry breakdown.
pub const UNCLASSIFIED: &str = "unclassified";

/// Which amount is summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// 合同成交额.
    #[default]
    Total,
    /// 技术交易额.
    Technical,
}

/// Whose location makes a contract count for Xi'an.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// 技术输出: the seller is in Xi'an.
    #[default]
    Outflow,
    /// 技术吸纳: the buyer is in Xi'an.
    Inflow,
}

impl Direction {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Outflow => "outflow",
            Self::Inflow => "inflow",
        }
    }
}

/// How the year is broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Breakdown {
    /// Twelve months (every month, zero included).
    #[default]
    Month,
    /// Four quarters.
    Quarter,
    /// Contract type.
    ContractType,
    /// 技术领域.
    TechField,
    /// The contract's first industry.
    Industry,
    /// The seller's nature code.
    SellerNature,
    /// The Xi'an party's district (the seller's for outflow, the buyer's for inflow).
    District,
}

impl Breakdown {
    /// The dimension of the roll-ups that holds this breakdown (`all` for periods).
    fn dimension(self) -> &'static str {
        match self {
            Self::Month | Self::Quarter => "all",
            Self::ContractType => "contract_type",
            Self::TechField => "tech_field",
            Self::Industry => "industry",
            Self::SellerNature => "seller_nature",
            Self::District => "district",
        }
    }

    /// The reference list that labels the keys.
    fn labels(self) -> &'static str {
        match self {
            Self::Month | Self::Quarter => "",
            Self::ContractType => "contract_types",
            Self::TechField => "tech_fields",
            Self::Industry => "industries",
            Self::SellerNature => "nature_codes",
            Self::District => "districts",
        }
    }
}

/// The roll-up rows one registered contract counts in: (year, month, direction, dimension, key).
type RollupKey = (i32, i32, &'static str, &'static str, String);

/// Where a registered contract counts: for each direction whose party is in Xi'an, the period row
/// (`all`) and one row per breakdown; a contract that transforms a listed result locally also
/// counts once in [`LOCAL_TRANSFORMATION`].
fn rollup_keys(contract: &contracts::Model) -> Vec<RollupKey> {
    let Some(registered_on) = contract.registered_on else {
        return Vec::new();
    };
    let year = chrono::Datelike::year(&registered_on);
    let month = chrono::Datelike::month(&registered_on) as i32;
    let industry = crate::services::results::strings(&contract.industry_codes)
        .into_iter()
        .next()
        .unwrap_or_else(|| UNCLASSIFIED.to_owned());
    let local = contract.result_id.is_some()
        && contract.seller_region_code.starts_with(XIAN_PREFIX)
        && contract.buyer_region_code.starts_with(XIAN_PREFIX);
    let mut keys = Vec::with_capacity(13);
    for (direction, district) in [
        (Direction::Outflow, &contract.seller_region_code),
        (Direction::Inflow, &contract.buyer_region_code),
    ] {
        if !district.starts_with(XIAN_PREFIX) {
            continue;
        }
        for (dimension, key) in [
            ("all", ""),
            ("contract_type", contract.contract_type.as_str()),
            ("tech_field", contract.tech_field.as_str()),
            ("industry", industry.as_str()),
            ("seller_nature", contract.seller_nature_code.as_str()),
            ("district", district.as_str()),
        ] {
            keys.push((year, month, direction.as_str(), dimension, key.to_owned()));
        }
        if local && direction == Direction::Outflow {
            keys.push((
                year,
                month,
                direction.as_str(),
                LOCAL_TRANSFORMATION,
                String::new(),
            ));
        }
    }
    keys
}

/// The most a roll-up row may hold, in fen (and in contracts). Any figure read from the roll-ups
/// sums at most the twelve months of one row key (a year, a quarter, one group of a breakdown;
/// the breakdown groups of one dimension together count each contract once, like its `all`
/// row), so twelve rows at this ceiling stay below `i64::MAX`: no sum of stored rows overflows.
/// One contract adds at most `MAX_AMOUNT_FEN` (10¹³), so the guarded addition itself cannot
/// overflow either. Reaching it takes 7,686 万亿元 of contracts in one month (some fifty years of
/// the whole country's GDP): the registration that would cross it is refused with `409` instead.
pub const ROLLUP_CEILING_FEN: i64 = i64::MAX / 12;

/// Sums per roll-up row: contracts, total fen, technical fen.
type Sums = std::collections::BTreeMap<RollupKey, (i64, i64, i64)>;

/// Writes `sums` into the roll-ups, adding to what is there. A row that would pass
/// [`ROLLUP_CEILING_FEN`] is not written (the upsert's condition refuses it in the database, atomic
/// with concurrent additions) and the whole write answers `409`, for the caller's transaction to
/// roll back.
async fn add_to_rollups<C: ConnectionTrait>(db: &C, sums: &Sums) -> AppResult<()> {
    let full = || {
        AppError::Conflict(format!(
            "an indicator roll-up would pass {ROLLUP_CEILING_FEN} fen; nothing was changed"
        ))
    };
    let within = |v: i64| (-ROLLUP_CEILING_FEN..=ROLLUP_CEILING_FEN).contains(&v);
    if sums
        .values()
        .any(|(count, total, technical)| !within(*count) || !within(*total) || !within(*technical))
    {
        return Err(full());
    }
    let rows: Vec<_> = sums.iter().collect();
    // A few hundred rows per statement keeps every database under its bind-parameter limit.
    for chunk in rows.chunks(500) {
        let mut insert = Query::insert();
        insert.into_table("indicator_rollups").columns([
            "year",
            "month",
            "direction",
            "dimension",
            "key",
            "contracts",
            "total_fen",
            "technical_fen",
        ]);
        for ((year, month, direction, dimension, key), (count, total, technical)) in chunk {
            insert.values_panic([
                (*year).into(),
                (*month).into(),
                (*direction).into(),
                (*dimension).into(),
                key.as_str().into(),
                (*count).into(),
                (*total).into(),
                (*technical).into(),
            ]);
        }
        let add = |column: &'static str| {
            (
                column.to_owned(),
                Expr::col(("indicator_rollups", column)).add(Expr::col(("excluded", column))),
            )
        };
        // Both sides are within the ceiling, so their sum cannot overflow while it is compared.
        let fits = |column: &'static str| {
            Expr::col(("indicator_rollups", column))
                .add(Expr::col(("excluded", column)))
                .lte(ROLLUP_CEILING_FEN)
        };
        insert.on_conflict(
            OnConflict::columns(["year", "direction", "dimension", "key", "month"])
                .values([add("contracts"), add("total_fen"), add("technical_fen")])
                .action_and_where(
                    fits("contracts")
                        .and(fits("total_fen"))
                        .and(fits("technical_fen")),
                )
                .to_owned(),
        );
        let written = db
            .execute_raw(db.get_database_backend().build(&insert))
            .await?;
        if written.rows_affected() < chunk.len() as u64 {
            return Err(full());
        }
    }
    Ok(())
}

/// Adds (`sign = 1`) or removes (`-1`) a registered contract to or from the roll-ups.
pub async fn apply<C: ConnectionTrait>(
    db: &C,
    contract: &contracts::Model,
    sign: i64,
) -> AppResult<()> {
    let sums: Sums = rollup_keys(contract)
        .into_iter()
        .map(|key| {
            (
                key,
                (
                    sign,
                    sign * contract.total_amount_fen,
                    sign * contract.technical_amount_fen,
                ),
            )
        })
        .collect();
    add_to_rollups(db, &sums).await
}

/// The roll-ups recomputed from the registered contracts, streamed.
async fn recompute<C: ConnectionTrait + sea_orm::StreamTrait>(db: &C) -> Result<Sums, DbErr> {
    use futures_util::TryStreamExt;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let mut sums = Sums::new();
    let mut stream = contracts::Entity::find()
        .filter(contracts::Column::Status.eq("registered"))
        .stream(db)
        .await?;
    while let Some(contract) = stream.try_next().await? {
        for key in rollup_keys(&contract) {
            let entry = sums.entry(key).or_default();
            let overflow = || DbErr::Custom("a recomputed roll-up overflows i64".into());
            entry.0 = entry.0.checked_add(1).ok_or_else(overflow)?;
            entry.1 = entry
                .1
                .checked_add(contract.total_amount_fen)
                .ok_or_else(overflow)?;
            entry.2 = entry
                .2
                .checked_add(contract.technical_amount_fen)
                .ok_or_else(overflow)?;
        }
    }
    Ok(sums)
}

/// The roll-ups as stored, without rows at zero (a removed contract can leave one).
async fn stored<C: ConnectionTrait>(db: &C) -> Result<Sums, DbErr> {
    let select = Query::select()
        .columns([
            "year",
            "month",
            "direction",
            "dimension",
            "key",
            "contracts",
            "total_fen",
            "technical_fen",
        ])
        .from("indicator_rollups")
        .to_owned();
    let mut sums = Sums::new();
    for row in db
        .query_all_raw(db.get_database_backend().build(&select))
        .await?
    {
        let direction: String = row.try_get("", "direction")?;
        let dimension: String = row.try_get("", "dimension")?;
        let value: (i64, i64, i64) = (
            row.try_get("", "contracts")?,
            row.try_get("", "total_fen")?,
            row.try_get("", "technical_fen")?,
        );
        if value == (0, 0, 0) {
            continue;
        }
        let direction = match direction.as_str() {
            "outflow" => Direction::Outflow.as_str(),
            _ => Direction::Inflow.as_str(),
        };
        let dimension = DIMENSIONS
            .iter()
            .copied()
            .find(|d| *d == dimension)
            .unwrap_or("unknown");
        sums.insert(
            (
                row.try_get("", "year")?,
                row.try_get("", "month")?,
                direction,
                dimension,
                row.try_get("", "key")?,
            ),
            value,
        );
    }
    Ok(sums)
}

/// Every roll-up dimension.
const DIMENSIONS: [&str; 7] = [
    "all",
    "contract_type",
    "tech_field",
    "industry",
    "seller_nature",
    "district",
    LOCAL_TRANSFORMATION,
];

/// What [`verify`] and [`rebuild`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollupCheck {
    /// Roll-up rows recomputed from the contracts.
    pub rows: usize,
    /// Rows whose stored sums differ from the recomputed ones (missing or extra rows included).
    pub mismatched: usize,
}

fn compare(expected: &Sums, actual: &Sums) -> RollupCheck {
    let mismatched = expected
        .iter()
        .filter(|(key, value)| actual.get(*key) != Some(value))
        .count()
        + actual
            .keys()
            .filter(|key| !expected.contains_key(*key))
            .count();
    RollupCheck {
        rows: expected.len(),
        mismatched,
    }
}

/// Recomputes every roll-up from the registered contracts and compares with what is stored: the
/// indicators are reproducible from the contracts exactly when nothing mismatches.
pub async fn verify(db: &sea_orm::DatabaseConnection) -> AppResult<RollupCheck> {
    let txn = sea_orm::TransactionTrait::begin(db).await?;
    let expected = recompute(&txn).await?;
    let actual = stored(&txn).await?;
    txn.commit().await?;
    Ok(compare(&expected, &actual))
}

/// Replaces the roll-ups by sums recomputed from the registered contracts, in one transaction
/// that holds off registrations meanwhile; returns what the old ones got wrong.
pub async fn rebuild(db: &sea_orm::DatabaseConnection) -> AppResult<RollupCheck> {
    let txn = crate::db::begin_write(db).await?;
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared("LOCK TABLE contracts IN SHARE ROW EXCLUSIVE MODE")
            .await?;
    }
    let expected = recompute(&txn).await?;
    let check = compare(&expected, &stored(&txn).await?);
    txn.execute_raw(
        txn.get_database_backend()
            .build(&Query::delete().from_table("indicator_rollups").to_owned()),
    )
    .await?;
    add_to_rollups(&txn, &expected).await?;
    txn.commit().await?;
    Ok(check)
}

/// One group of a breakdown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Group {
    /// Month (`1`–`12`), quarter (`Q1`–`Q4`) or code.
    pub key: String,
    /// Chinese label.
    pub label: String,
    /// Registered contracts.
    pub count: i64,
    /// Their value in fen.
    pub value_fen: i64,
}

/// `GET /api/v1/indicators/transaction-value`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransactionValue {
    /// Year.
    pub year: i32,
    /// `total` or `technical`.
    pub measure: Measure,
    /// `outflow` or `inflow`.
    pub direction: Direction,
    /// Registered contracts counted.
    pub count: i64,
    /// Their value in fen.
    pub value_fen: i64,
    /// The policy's target for the year in fen (`null` when it sets none).
    pub target_fen: Option<i64>,
    /// `value_fen / target_fen` (`null` without a target).
    pub progress: Option<f64>,
    /// The breakdown; its groups sum to `count` and `value_fen`.
    pub groups: Vec<Group>,
}

/// One roll-up row as read.
struct Row {
    month: i32,
    key: String,
    count: i64,
    value: i64,
}

async fn rows<C: ConnectionTrait>(
    db: &C,
    year: i32,
    direction: Direction,
    dimension: &str,
    measure: Measure,
) -> Result<Vec<Row>, DbErr> {
    let value_column = match measure {
        Measure::Total => "total_fen",
        Measure::Technical => "technical_fen",
    };
    let select = Query::select()
        .columns(["month", "key", "contracts"])
        .column(value_column)
        .from("indicator_rollups")
        .and_where(Expr::col("year").eq(year))
        .and_where(Expr::col("direction").eq(direction.as_str()))
        .and_where(Expr::col("dimension").eq(dimension))
        .to_owned();
    let found = db
        .query_all_raw(db.get_database_backend().build(&select))
        .await?;
    found
        .into_iter()
        .map(|row| {
            Ok(Row {
                month: row.try_get("", "month")?,
                key: row.try_get("", "key")?,
                count: row.try_get("", "contracts")?,
                value: row.try_get("", value_column)?,
            })
        })
        .collect()
}

/// The policy's target of an indicator for a year.
pub fn target(reference: &ReferenceData, code: &str, year: i32) -> Option<i64> {
    reference
        .targets
        .iter()
        .find(|t| t.code == code && t.year == year)
        .map(|t| t.target)
}

/// The value of the year's registered contracts with one breakdown.
pub async fn transaction_value<C: ConnectionTrait>(
    db: &C,
    reference: &ReferenceData,
    year: i32,
    measure: Measure,
    direction: Direction,
    by: Breakdown,
) -> AppResult<TransactionValue> {
    let found = rows(db, year, direction, by.dimension(), measure).await?;
    let mut groups: Vec<Group> = match by {
        Breakdown::Month => (1..=12)
            .map(|m| Group {
                key: m.to_string(),
                label: format!("{m}月"),
                count: 0,
                value_fen: 0,
            })
            .collect(),
        Breakdown::Quarter => (1..=4)
            .map(|q| Group {
                key: format!("Q{q}"),
                label: format!("第{q}季度"),
                count: 0,
                value_fen: 0,
            })
            .collect(),
        _ => Vec::new(),
    };
    for row in &found {
        let key = match by {
            Breakdown::Month => row.month.to_string(),
            Breakdown::Quarter => format!("Q{}", (row.month - 1) / 3 + 1),
            _ => row.key.clone(),
        };
        let group = match groups.iter().position(|g| g.key == key) {
            Some(i) => &mut groups[i],
            None => {
                let label = if key == UNCLASSIFIED {
                    "未分类".to_owned()
                } else {
                    reference.label_or_code(by.labels(), &key)
                };
                groups.push(Group {
                    key,
                    label,
                    count: 0,
                    value_fen: 0,
                });
                let last = groups.len() - 1;
                &mut groups[last]
            }
        };
        group.count += row.count;
        group.value_fen += row.value;
    }
    if !matches!(by, Breakdown::Month | Breakdown::Quarter) {
        // Counted groups only (a removed contract can leave a row at zero), largest first.
        groups.retain(|g| g.count != 0 || g.value_fen != 0);
        groups.sort_by(|a, b| b.value_fen.cmp(&a.value_fen).then(a.key.cmp(&b.key)));
    }
    let count = groups.iter().map(|g| g.count).sum();
    let value_fen: i64 = groups.iter().map(|g| g.value_fen).sum();
    let target_fen = target(reference, "contract_value", year);
    Ok(TransactionValue {
        year,
        measure,
        direction,
        count,
        value_fen,
        target_fen,
        progress: target_fen
            .filter(|t| *t > 0)
            .map(|t| value_fen as f64 / t as f64),
        groups,
    })
}

/// One indicator of the policy for a year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SummaryIndicator {
    /// Indicator code (as in the policy targets).
    pub code: String,
    /// Chinese name.
    pub label: String,
    /// `fen` or `count`.
    pub unit: String,
    /// The value the market's data gives (`null` where the market does not record it).
    pub actual: Option<i64>,
    /// The policy's target for the year (`null` where it sets none).
    pub target: Option<i64>,
    /// `actual / target`.
    pub progress: Option<f64>,
    /// Exactly what is counted.
    pub basis: String,
}

/// `GET /api/v1/indicators/summary`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Summary {
    /// Year.
    pub year: i32,
    /// Every yearly indicator of the policy.
    pub indicators: Vec<SummaryIndicator>,
}

/// The `n` column of a `SELECT COUNT(…) AS n`.
pub(crate) async fn count<C: ConnectionTrait>(
    db: &C,
    select: sea_orm::sea_query::SelectStatement,
) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(db.get_database_backend().build(&select))
        .await?;
    Ok(match row {
        Some(row) => row.try_get::<i64>("", "n")?,
        None => 0,
    })
}

/// Every yearly indicator of the policy with what the market's data gives for it.
pub async fn summary<C: ConnectionTrait>(
    db: &C,
    reference: &ReferenceData,
    year: i32,
) -> AppResult<Summary> {
    use sea_orm::sea_query::Alias;
    let end = year
        .checked_add(1)
        .and_then(|next| chrono::NaiveDate::from_ymd_opt(next, 1, 1))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    let n = || Expr::col(Alias::new("id")).count();
    let value = transaction_value(
        db,
        reference,
        year,
        Measure::Total,
        Direction::Outflow,
        Breakdown::Quarter,
    )
    .await?;
    let brokers = count(
        db,
        Query::select()
            .expr_as(n(), "n")
            .from("users")
            .and_where(Expr::col("role").eq("broker"))
            .and_where(Expr::col("membership").eq("active"))
            .and_where(Expr::col("created_at").lt(end))
            .to_owned(),
    )
    .await?;
    let local: i64 = rows(
        db,
        year,
        Direction::Outflow,
        LOCAL_TRANSFORMATION,
        Measure::Total,
    )
    .await?
    .iter()
    .map(|r| r.count)
    .sum();
    // Organization counts are as of the year's last day, or today for the current year.
    let day = match chrono::NaiveDate::from_ymd_opt(year, 12, 31) {
        Some(last) => Ord::min(last, crate::services::contracts::today_in_china()),
        None => crate::services::contracts::today_in_china(),
    };
    let holders = |qualification: &'static str| {
        crate::services::qualifications::holders_on(db, qualification, day)
    };
    let high_tech = holders("high_tech_enterprise").await?;
    let smes = holders("tech_sme").await?;
    let platforms = holders("rd_platform").await?;
    let agencies = holders("transfer_agency").await?;
    let mut codes: Vec<(String, String, String)> = Vec::new();
    for t in &reference.targets {
        if !codes.iter().any(|(c, _, _)| *c == t.code) {
            codes.push((t.code.clone(), t.label.clone(), t.unit.clone()));
        }
    }
    let held = |qualification: &str| {
        format!(
            "organizations in Xi'an (region code 6101…) holding the qualification `{qualification}` on {day} (valid and not withdrawn), as the registrar recorded it from the published lists; each organization once"
        )
    };
    let indicators = codes
        .into_iter()
        .map(|(code, label, unit)| {
            let (actual, basis) = match code.as_str() {
                "contract_value" => (
                    Some(value.value_fen),
                    "合同成交额 of contracts registered in the year whose seller's region code starts with 6101 (技术输出), with their current amounts".to_owned(),
                ),
                "brokers" => (
                    Some(brokers),
                    "active broker accounts (技术经理人/经纪人) created before the end of the year".to_owned(),
                ),
                "transfer_agencies" => (Some(agencies), held("transfer_agency")),
                "high_tech_enterprises" => (Some(high_tech), held("high_tech_enterprise")),
                "tech_smes" => (Some(smes), held("tech_sme")),
                "rd_platforms" => (Some(platforms), held("rd_platform")),
                "local_transformation_projects" => (
                    Some(local),
                    "contracts registered in the year that link a listed result and whose seller and buyer are both in Xi'an (region codes 6101xx)".to_owned(),
                ),
                _ => (
                    None,
                    "not recorded by the market: its data cannot feed this indicator".to_owned(),
                ),
            };
            let target = target(reference, &code, year);
            let progress = match (actual, target) {
                (Some(a), Some(t)) if t > 0 => Some(a as f64 / t as f64),
                _ => None,
            };
            SummaryIndicator {
                code,
                label,
                unit,
                actual,
                target,
                progress,
                basis,
            }
        })
        .collect();
    Ok(Summary { year, indicators })
}
