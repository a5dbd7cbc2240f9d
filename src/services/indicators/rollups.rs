//! The write path: the roll-up rows a registered contract counts in, kept in the transaction
//! that registers or amends it, and their check and rebuild from the contracts.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr};

use super::{
    BROKER, Direction, LOCAL_TRANSFORMATION, NO_ZONE, UNCLASSIFIED, XIAN_PREFIX, Zones, in_xian,
};
use crate::domain::ContractStatus;
use crate::entity::contracts;
use crate::error::{AppError, AppResult};

/// The roll-up rows one registered contract counts in: (year, month, direction, dimension, key).
type RollupKey = (i32, i32, &'static str, &'static str, String);

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
        .filter(contracts::Column::Status.eq(ContractStatus::Registered))
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
        // Read back as text by a raw query; anything but `outflow` counted as inflow, as ever.
        let direction = Direction::parse(&direction)
            .unwrap_or(Direction::Inflow)
            .as_str();
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
