//! The registrar's decisions on a submitted contract: registration (number, roll-ups, the deal it
//! closes) or refusal (未予登记, 补正).

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QuerySelect,
};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ContractStatus, claim, find_for_update};
use crate::db::begin_write;
use crate::entity::{contracts, deals};
use crate::error::{AppError, AppResult};
use crate::kernel::access::ensure_registrar;
use crate::kernel::validation::Checks;
use crate::reference::ReferenceData;
use crate::services::accounts::sessions::CurrentUser;
use crate::services::deals::{Stage, record_event};
use crate::services::{audit, indicators};

/// The next serial of a year, seller region and registration point: one upsert that creates the
/// counter at 1 or adds 1 to it. The row it writes queues concurrent registrations (across
/// processes too) and rolls back with a failed one.
async fn next_serial(
    txn: &DatabaseTransaction,
    year: i32,
    region_prefix: &str,
    point: &str,
) -> AppResult<i64> {
    let backend = txn.get_database_backend();
    let upsert = Query::insert()
        .into_table("registration_serials")
        .columns(["year", "region_prefix", "point", "last_serial"])
        .values_panic([year.into(), region_prefix.into(), point.into(), 1i64.into()])
        .on_conflict(
            OnConflict::columns(["year", "region_prefix", "point"])
                .value(
                    "last_serial",
                    Expr::col(("registration_serials", "last_serial")).add(1),
                )
                .to_owned(),
        )
        .returning_col("last_serial")
        .to_owned();
    let row = txn
        .query_one_raw(backend.build(&upsert))
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("registration serial row missing")))?;
    let serial: i64 = row.try_get("", "last_serial")?;
    if serial > 999_999 {
        return Err(AppError::Conflict(format!(
            "the serials of {year} for region {region_prefix} and point {point} are exhausted"
        )));
    }
    Ok(serial)
}

/// The 16-digit registration number: year (4), the seller's region prefix (4), registration point
/// (2), serial (6).
pub fn registration_no(year: i32, region_prefix: &str, point: &str, serial: i64) -> String {
    format!("{year:04}{region_prefix}{point}{serial:06}")
}

/// Registers a submitted contract on `registered_on` (today in China for the API): numbers it,
/// counts it in the indicators, closes its deal and records the action.
pub async fn register(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: Uuid,
    point: &str,
    registered_on: NaiveDate,
) -> AppResult<contracts::Model> {
    ensure_registrar(user)?;
    let txn = begin_write(db).await?;
    let contract = find_for_update(&txn, id).await?;
    // Refused before the serial counter is touched: a repeated or late request must not hold the
    // counter row that every registration of the year queues on.
    if contract.status != ContractStatus::Submitted {
        return Err(AppError::Conflict(
            "only a submitted contract can become registered".into(),
        ));
    }
    // Read once: the registration number's prefix and the roll-ups both depend on the zones.
    let zones = indicators::zones_of(&txn, &contract).await?;
    let year = chrono::Datelike::year(&registered_on);
    let prefix = indicators::registration_prefix(&contract, &zones);
    let serial = next_serial(&txn, year, &prefix, point).await?;
    let number = registration_no(year, &prefix, point, serial);
    let contract = claim(
        &txn,
        contract,
        ContractStatus::Submitted,
        ContractStatus::Registered,
        |active| {
            active.registration_no = Set(Some(number.clone()));
            active.registered_on = Set(Some(registered_on));
            active.registered_by = Set(Some(user.user.id));
            active.reason_code = Set(None);
            active.reason_detail = Set(None);
        },
    )
    .await?;
    indicators::apply(&txn, &contract, &zones, 1).await?;
    if let Some(deal_id) = contract.deal_id {
        close_deal(&txn, deal_id, contract.id, &number).await?;
    }
    audit::record(
        &txn,
        user.user.id,
        "contract.register",
        "contract",
        id,
        serde_json::json!({"registration_no": number, "registered_on": registered_on}),
    )
    .await?;
    txn.commit().await?;
    Ok(contract)
}

/// Closes the deal of a contract being registered: a compare-and-set on the stage it read, so a
/// concurrent move of the deal either lands before (and the registration closes the deal from
/// there) or finds the deal registered and gets `409`. A deal another contract closed stays
/// closed by it: this registration gets `409`.
async fn close_deal(
    txn: &DatabaseTransaction,
    deal_id: Uuid,
    contract_id: Uuid,
    number: &str,
) -> AppResult<()> {
    let Some(deal) = deals::Entity::find_by_id(deal_id)
        .lock_exclusive()
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    if deal.contract_id.is_some_and(|c| c != contract_id) || deal.stage == Stage::Registered {
        return Err(AppError::Conflict(
            "another registered contract has closed this contract's deal: ask for a correction of deal_id".into(),
        ));
    }
    let closed = deals::Entity::update_many()
        .col_expr(deals::Column::Stage, Expr::value(Stage::Registered))
        .col_expr(deals::Column::ContractId, Expr::value(contract_id))
        .col_expr(deals::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(deals::Column::Id.eq(deal_id))
        .filter(deals::Column::Stage.eq(deal.stage))
        .exec(txn)
        .await?;
    if closed.rows_affected != 1 {
        return Err(AppError::Conflict(
            "the contract's deal moved meanwhile; try again".into(),
        ));
    }
    record_event(
        txn,
        deal_id,
        Some(deal.stage),
        Stage::Registered,
        Some(format!("合同已登记，登记编号 {number}")),
        None,
    )
    .await?;
    Ok(())
}

/// `POST /api/v1/contracts/{id}/reject` and `/request-correction`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    /// A code from `refusal_reasons`.
    pub reason_code: String,
    /// The registrar's explanation, 1–2,000 characters.
    pub detail: String,
}

fn check_reason(reference: &ReferenceData, input: &ReasonInput) -> AppResult<()> {
    let mut checks = Checks::new(reference);
    checks.one("reason_code", "refusal_reasons", &input.reason_code);
    checks.text("detail", &input.detail, 1, 2000);
    checks.finish()
}

/// Rejects (未予登记) or sends back for correction (补正) a submitted contract.
pub async fn decide_against(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    user: &CurrentUser,
    id: Uuid,
    outcome: ContractStatus,
    input: ReasonInput,
) -> AppResult<contracts::Model> {
    ensure_registrar(user)?;
    check_reason(reference, &input)?;
    let txn = begin_write(db).await?;
    let contract = find_for_update(&txn, id).await?;
    let contract = claim(
        &txn,
        contract,
        ContractStatus::Submitted,
        outcome,
        |active| {
            active.reason_code = Set(Some(input.reason_code.clone()));
            active.reason_detail = Set(Some(input.detail.trim().to_owned()));
        },
    )
    .await?;
    let action = match outcome {
        ContractStatus::Rejected => "contract.reject",
        _ => "contract.request_correction",
    };
    audit::record(
        &txn,
        user.user.id,
        action,
        "contract",
        id,
        serde_json::json!({"reason_code": input.reason_code, "detail": input.detail}),
    )
    .await?;
    txn.commit().await?;
    Ok(contract)
}
