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
use crate::error::AppResult;
use crate::reference::ReferenceData;

/// The region-code prefix of Xi'an.
pub const XIAN_PREFIX: &str = "6101";
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

/// Adds (`sign = 1`) or removes (`-1`) a registered contract to or from the roll-ups.
pub async fn apply<C: ConnectionTrait>(
    db: &C,
    contract: &contracts::Model,
    sign: i64,
) -> Result<(), DbErr> {
    let Some(registered_on) = contract.registered_on else {
        return Ok(());
    };
    let year = chrono::Datelike::year(&registered_on);
    let month = chrono::Datelike::month(&registered_on) as i32;
    let industry = crate::services::results::strings(&contract.industry_codes)
        .into_iter()
        .next()
        .unwrap_or_else(|| UNCLASSIFIED.to_owned());
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
    let mut rows = 0;
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
            insert.values_panic([
                year.into(),
                month.into(),
                direction.as_str().into(),
                dimension.into(),
                key.into(),
                sign.into(),
                (sign * contract.total_amount_fen).into(),
                (sign * contract.technical_amount_fen).into(),
            ]);
            rows += 1;
        }
    }
    if rows == 0 {
        return Ok(());
    }
    let add = |column: &'static str| {
        (
            column.to_owned(),
            Expr::col(("indicator_rollups", column)).add(Expr::col(("excluded", column))),
        )
    };
    insert.on_conflict(
        OnConflict::columns(["year", "direction", "dimension", "key", "month"])
            .values([add("contracts"), add("total_fen"), add("technical_fen")])
            .to_owned(),
    );
    db.execute_raw(db.get_database_backend().build(&insert))
        .await?;
    Ok(())
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
                let label = reference
                    .list(by.labels())
                    .iter()
                    .find(|c| c.code == key)
                    .map(|c| c.label.clone())
                    .unwrap_or_else(|| {
                        if key == UNCLASSIFIED {
                            "未分类".to_owned()
                        } else {
                            key.clone()
                        }
                    });
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
async fn count<C: ConnectionTrait>(
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
    let end = chrono::NaiveDate::from_ymd_opt(year + 1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    let start = chrono::NaiveDate::from_ymd_opt(year, 1, 1);
    let next = chrono::NaiveDate::from_ymd_opt(year + 1, 1, 1);
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
    let agencies = count(
        db,
        Query::select()
            .expr_as(n(), "n")
            .from("organizations")
            .and_where(Expr::col("kind").eq("transfer_agency"))
            .and_where(Expr::col("created_at").lt(end))
            .to_owned(),
    )
    .await?;
    let local = count(
        db,
        Query::select()
            .expr_as(n(), "n")
            .from("contracts")
            .and_where(Expr::col("status").eq("registered"))
            .and_where(Expr::col("registered_on").gte(start))
            .and_where(Expr::col("registered_on").lt(next))
            .and_where(Expr::col("result_id").is_not_null())
            .and_where(Expr::col("seller_region_code").like(format!("{XIAN_PREFIX}%")))
            .and_where(Expr::col("buyer_region_code").like(format!("{XIAN_PREFIX}%")))
            .to_owned(),
    )
    .await?;
    let mut codes: Vec<(String, String, String)> = Vec::new();
    for t in &reference.targets {
        if !codes.iter().any(|(c, _, _)| *c == t.code) {
            codes.push((t.code.clone(), t.label.clone(), t.unit.clone()));
        }
    }
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
                "transfer_agencies" => (
                    Some(agencies),
                    "organizations of kind transfer_agency on the market, created before the end of the year (cumulative; the market does not record their city-level 认定)".to_owned(),
                ),
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
