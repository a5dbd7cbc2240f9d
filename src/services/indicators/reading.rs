//! The read path: the indicators as the API and the reports show them, from the roll-ups.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    BROKER, Breakdown, Direction, LOCAL_TRANSFORMATION, Measure, NO_ZONE, UNCLASSIFIED, XIAN_PREFIX,
};
use crate::error::AppResult;
use crate::reference::ReferenceData;

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
    let holders = |qualification: &'static str| qualification_holders_on(db, qualification, day);
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

/// Organizations in Xi'an (region code `6101…`, or a zone of Xi'an) holding `qualification` on
/// `day` as `services::qualifications` defines it, each counted once however many records it has.
async fn qualification_holders_on<C: ConnectionTrait>(
    db: &C,
    qualification: &str,
    day: chrono::NaiveDate,
) -> AppResult<i64> {
    let q = "organization_qualifications";
    let select = Query::select()
        .expr_as(Expr::col((q, "organization_id")).count_distinct(), "n")
        .from(q)
        .inner_join(
            "organizations",
            Expr::col(("organizations", "id")).equals((q, "organization_id")),
        )
        .and_where(Expr::col((q, "qualification")).eq(qualification))
        .and_where(Expr::col((q, "valid_from")).lte(day))
        .and_where(
            Expr::col((q, "valid_to"))
                .is_null()
                .or(Expr::col((q, "valid_to")).gte(day)),
        )
        .and_where(
            Expr::col((q, "withdrawn_on"))
                .is_null()
                .or(Expr::col((q, "withdrawn_on")).gt(day)),
        )
        // In Xi'an as the indicators count it: a 6101 region code, or one of Xi'an's development
        // zones (西咸新区's organizations carry 6104 codes of 咸阳).
        .and_where(
            Expr::col(("organizations", "region_code"))
                .like(format!("{XIAN_PREFIX}%"))
                .or(Expr::col(("organizations", "zone")).is_not_null()),
        )
        .to_owned();
    Ok(count(db, select).await?)
}
