//! The indicators (动态监测): the value of registered technology contracts, by period and by
//! breakdown, against the policy's targets.
//!
//! What counts (the API documents the same): a contract counts once it is `registered`, in the
//! year and month of its registration date (登记日期), with its current (amended) amounts. It
//! counts for Xi'an as 技术输出 (`direction=outflow`) when the seller is in Xi'an, and as 技术吸纳
//! (`inflow`) when the buyer is. A party is in Xi'an when its region code starts with `6101`, or
//! when its organization on the market lies in one of Xi'an's development zones (`zones`): the
//! 秦创原 方案 makes 西咸新区 — whose organizations carry 咸阳 codes (6104xx) — the city's
//! 秦创原总窗口 ("全力推动西咸新区秦创原总窗口建设") and puts 西咸新区管委会 among the plan's
//! responsible units, and a region code cannot tell 西咸 from the rest of 咸阳. `measure=total`
//! sums 合同成交额, `technical` sums 技术交易额. A contract with several industries counts under
//! its first one (`unclassified` without any), so that every breakdown's groups sum to the total.
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
/// The key of a contract whose Xi'an party is in no development zone, in the zone breakdown.
pub const NO_ZONE: &str = "none";
/// The roll-up dimension of the brokers credited with registered contracts (key: the broker's id).
pub const BROKER: &str = "broker";

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
    /// The Xi'an party's district (the seller's for outflow, the buyer's for inflow); a party in
    /// Xi'an by its development zone only (西咸新区, 6104xx) is grouped under its zone's code.
    District,
    /// The Xi'an party's development zone (organization `zone`); [`NO_ZONE`] outside every zone.
    Zone,
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
            Self::Zone => "zone",
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
            Self::Zone => "zones",
        }
    }
}

/// The roll-up rows one registered contract counts in: (year, month, direction, dimension, key).
type RollupKey = (i32, i32, &'static str, &'static str, String);

/// The development zones of a contract's parties: their organizations' `zone` on the market
/// (`None` for a party without an organization here or outside every zone). An organization's
/// zone is fixed when it is created, so the roll-ups stay reproducible from the contracts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Zones {
    /// The seller's zone.
    pub seller: Option<String>,
    /// The buyer's zone.
    pub buyer: Option<String>,
}

/// Whether a party counts for Xi'an: its region code is Xi'an's (`6101…`), or its organization
/// lies in one of Xi'an's development zones (every `zones` code is one; 西咸新区 included).
pub fn in_xian(region_code: &str, zone: Option<&str>) -> bool {
    region_code.starts_with(XIAN_PREFIX) || zone.is_some_and(|z| !z.is_empty())
}

/// The zones of `contract`'s parties, read from their organizations. A registration reads them
/// once and passes them to [`registration_prefix`] and [`apply`].
pub async fn zones_of<C: ConnectionTrait>(
    db: &C,
    contract: &contracts::Model,
) -> Result<Zones, DbErr> {
    use crate::entity::organizations;
    use sea_orm::prelude::Uuid;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    // One query for both parties, two columns: this runs in every registration and amendment.
    let ids: Vec<_> = [contract.seller_org_id, contract.buyer_org_id]
        .into_iter()
        .flatten()
        .collect();
    if ids.is_empty() {
        return Ok(Zones::default());
    }
    let orgs: Vec<(Uuid, Option<String>)> = organizations::Entity::find()
        .select_only()
        .columns([organizations::Column::Id, organizations::Column::Zone])
        .filter(organizations::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    let zone = |id: Option<Uuid>| {
        id.and_then(|id| orgs.iter().find(|(org, _)| *org == id))
            .and_then(|(_, zone)| zone.clone())
    };
    Ok(Zones {
        seller: zone(contract.seller_org_id),
        buyer: zone(contract.buyer_org_id),
    })
}

/// The region part (4 digits) of the contract's 合同登记编号: `6101` for a seller in Xi'an (by
/// [`in_xian`]: a 西咸新区 seller registers with Xi'an, whose 秦创原总窗口 it is), otherwise
/// the first four digits of the seller's region code.
pub fn registration_prefix(contract: &contracts::Model, zones: &Zones) -> String {
    if in_xian(&contract.seller_region_code, zones.seller.as_deref()) {
        XIAN_PREFIX.to_owned()
    } else {
        contract
            .seller_region_code
            .get(..4)
            .unwrap_or("0000")
            .to_owned()
    }
}

/// Where a registered contract counts: for each direction whose party is in Xi'an, the period row
/// (`all`) and one row per breakdown (and per credited broker); a contract that transforms a
/// listed result locally also counts once in [`LOCAL_TRANSFORMATION`].
fn rollup_keys(contract: &contracts::Model, zones: &Zones) -> Vec<RollupKey> {
    let Some(registered_on) = contract.registered_on else {
        return Vec::new();
    };
    let year = chrono::Datelike::year(&registered_on);
    let month = chrono::Datelike::month(&registered_on) as i32;
    let industry = crate::kernel::json::strings(&contract.industry_codes)
        .into_iter()
        .next()
        .unwrap_or_else(|| UNCLASSIFIED.to_owned());
    let seller_in_xian = in_xian(&contract.seller_region_code, zones.seller.as_deref());
    let buyer_in_xian = in_xian(&contract.buyer_region_code, zones.buyer.as_deref());
    let local = contract.result_id.is_some() && seller_in_xian && buyer_in_xian;
    let broker = contract.broker_id.map(|id| id.to_string());
    let mut keys = Vec::with_capacity(17);
    for (direction, counts, region, zone) in [
        (
            Direction::Outflow,
            seller_in_xian,
            &contract.seller_region_code,
            &zones.seller,
        ),
        (
            Direction::Inflow,
            buyer_in_xian,
            &contract.buyer_region_code,
            &zones.buyer,
        ),
    ] {
        if !counts {
            continue;
        }
        let zone = zone.as_deref().filter(|z| !z.is_empty());
        // A party in Xi'an by its zone only (西咸新区, 6104xx) has no Xi'an district: its
        // district group is its zone.
        let district = match zone {
            Some(zone) if !region.starts_with(XIAN_PREFIX) => zone,
            _ => region.as_str(),
        };
        for (dimension, key) in [
            ("all", ""),
            ("contract_type", contract.contract_type.as_str()),
            ("tech_field", contract.tech_field.as_str()),
            ("industry", industry.as_str()),
            ("seller_nature", contract.seller_nature_code.as_str()),
            ("district", district),
            ("zone", zone.unwrap_or(NO_ZONE)),
        ] {
            keys.push((year, month, direction.as_str(), dimension, key.to_owned()));
        }
        if let Some(broker) = &broker {
            keys.push((year, month, direction.as_str(), BROKER, broker.clone()));
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

/// Adds (`sign = 1`) or removes (`-1`) a registered contract, whose parties lie in `zones`
/// ([`zones_of`]), to or from the roll-ups.
pub async fn apply<C: ConnectionTrait>(
    db: &C,
    contract: &contracts::Model,
    zones: &Zones,
    sign: i64,
) -> AppResult<()> {
    let sums: Sums = rollup_keys(contract, zones)
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
    let mut zones = std::collections::HashMap::new();
    for org in crate::entity::organizations::Entity::find()
        .filter(crate::entity::organizations::Column::Zone.is_not_null())
        .all(db)
        .await?
    {
        if let Some(zone) = org.zone {
            zones.insert(org.id, zone);
        }
    }
    let zone_of = |id: Option<sea_orm::prelude::Uuid>| id.and_then(|id| zones.get(&id).cloned());
    let mut sums = Sums::new();
    let mut stream = contracts::Entity::find()
        .filter(contracts::Column::Status.eq("registered"))
        .stream(db)
        .await?;
    while let Some(contract) = stream.try_next().await? {
        let parties = Zones {
            seller: zone_of(contract.seller_org_id),
            buyer: zone_of(contract.buyer_org_id),
        };
        for key in rollup_keys(&contract, &parties) {
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
const DIMENSIONS: [&str; 9] = [
    "all",
    "contract_type",
    "tech_field",
    "industry",
    "seller_nature",
    "district",
    LOCAL_TRANSFORMATION,
    "zone",
    BROKER,
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
    /// Year of registration (登记日期, a Beijing date) the figures cover.
    pub year: i32,
    /// `total` or `technical`.
    pub measure: Measure,
    /// `outflow` or `inflow`.
    pub direction: Direction,
    /// Registered contracts counted.
    pub count: i64,
    /// Their value in fen.
    pub value_fen: i64,
    /// The policy's 技术市场合同交易额 target for the year in fen, only for `measure=total` and
    /// `direction=outflow` (the measure and direction the target is set for); `null` otherwise
    /// and in years the policy sets none.
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

/// Whether the policy's 技术市场合同交易额 target measures this: it is one figure, the
/// 技术合同成交额 (the headline total, domain.md §1.4) of the contracts registered in the city,
/// and contracts are registered where the seller is (按地域一次登记), so the figure is 技术输出.
/// 技术吸纳 and 技术交易额 have no target in the plan.
pub fn target_applies(measure: Measure, direction: Direction) -> bool {
    measure == Measure::Total && direction == Direction::Outflow
}

/// The Chinese label of a group's key.
fn group_label(reference: &ReferenceData, by: Breakdown, key: &str) -> String {
    match key {
        UNCLASSIFIED if by == Breakdown::Industry => "未分类".to_owned(),
        NO_ZONE if by == Breakdown::Zone => "未入园区".to_owned(),
        // A district group of a party in Xi'an by its zone only is labelled with the zone.
        _ if by == Breakdown::District && !reference.contains("districts", key) => {
            reference.label_or_code("zones", key)
        }
        _ => reference.label_or_code(by.labels(), key),
    }
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
                let label = group_label(reference, by, &key);
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
    let target_fen = target_applies(measure, direction)
        .then(|| target(reference, "contract_value", year))
        .flatten();
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
    /// The year: contracts count by their registration date (Beijing), qualifications as held
    /// on its last day, or today while the year is not over.
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

/// The brokers credited with at least one contract registered in `year` that counts for Xi'an
/// (either direction), each once.
pub async fn credited_brokers<C: ConnectionTrait>(db: &C, year: i32) -> Result<i64, DbErr> {
    let select = Query::select()
        .column("key")
        .distinct()
        .from("indicator_rollups")
        .and_where(Expr::col("year").eq(year))
        .and_where(Expr::col("dimension").eq(BROKER))
        .and_where(Expr::col("contracts").gt(0))
        .to_owned();
    let found = db
        .query_all_raw(db.get_database_backend().build(&select))
        .await?;
    Ok(found.len() as i64)
}

/// Every yearly indicator of the policy with what the market's data gives for it.
pub async fn summary<C: ConnectionTrait>(
    db: &C,
    reference: &ReferenceData,
    year: i32,
) -> AppResult<Summary> {
    let value = transaction_value(
        db,
        reference,
        year,
        Measure::Total,
        Direction::Outflow,
        Breakdown::Quarter,
    )
    .await?;
    let brokers = credited_brokers(db, year).await?;
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
        Some(last) => Ord::min(last, crate::kernel::dates::today_in_china()),
        None => crate::kernel::dates::today_in_china(),
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
                    "合同成交额 (技术合同成交额, the headline total) of the contracts registered in the year whose seller is in Xi'an (技术输出: contracts are registered where the seller is), with their current amounts. A party is in Xi'an when its region code starts with 6101 or its organization lies in one of Xi'an's development zones, 西咸新区 (秦创原总窗口, 6104xx codes) included. The target (全市技术市场合同交易额达到…亿元) is compared with this figure only".to_owned(),
                ),
                "brokers" => (
                    Some(brokers),
                    "brokers (技术经理人/科技经纪人 accounts) credited with at least one contract registered in the year that counts for Xi'an (seller or buyer in Xi'an), each once. The target (培育技术经理人和科技经纪人…名) is set for each year, not as a total (the plan says 累计 where it means one); the market sees a broker 培育 only through the contracts the broker brings to registration".to_owned(),
                ),
                "transfer_agencies" => (Some(agencies), held("transfer_agency")),
                "high_tech_enterprises" => (Some(high_tech), held("high_tech_enterprise")),
                "tech_smes" => (Some(smes), held("tech_sme")),
                "rd_platforms" => (Some(platforms), held("rd_platform")),
                "local_transformation_projects" => (
                    Some(local),
                    "contracts registered in the year that link a listed result and whose seller and buyer are both in Xi'an (region code 6101xx, or an organization in one of Xi'an's development zones, 西咸新区 included)".to_owned(),
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
