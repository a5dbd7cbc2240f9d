//! Changes after submission: the submitter's correction (补正) and the registrar's amendment of a
//! registered contract, each keeping the earlier version.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::input::{ContractInput, set_fields, validate};
use super::submission::{check_linked_rows, check_links};
use super::view::ContractView;
use super::{ContractStatus, claim, find_for_update, get, may_read};
use crate::db::begin_write;
use crate::domain::Role;
use crate::entity::{contract_versions, contracts, users};
use crate::error::{AppError, AppResult};
use crate::kernel::access::ensure_registrar;
use crate::kernel::validation::Checks;
use crate::reference::ReferenceData;
use crate::services::accounts::sessions::CurrentUser;
use crate::services::{audit, indicators};

/// Keeps the current version of a contract before it is replaced.
async fn keep_version(
    txn: &DatabaseTransaction,
    contract: &contracts::Model,
    note: Option<String>,
    actor_id: Uuid,
) -> AppResult<()> {
    let snapshot = serde_json::to_value(ContractView::from(contract.clone()))
        .map_err(|e| AppError::Internal(e.into()))?;
    contract_versions::Entity::insert(contract_versions::ActiveModel {
        id: NotSet,
        contract_id: Set(contract.id),
        version: Set(contract.version),
        snapshot: Set(snapshot),
        note: Set(note),
        actor_id: Set(Some(actor_id)),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The submitter answers a correction request with the corrected contract: a new version, waiting
/// for the registrar again.
pub async fn correct(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    user: &CurrentUser,
    id: Uuid,
    input: ContractInput,
) -> AppResult<contracts::Model> {
    validate(reference, &input)?;
    let txn = begin_write(db).await?;
    let contract = find_for_update(&txn, id).await?;
    if !may_read(user, &contract) {
        return Err(AppError::NotFound("no contract has this id".into()));
    }
    if contract.submitted_by != user.user.id {
        return Err(AppError::Forbidden(
            "only the submitter corrects a contract".into(),
        ));
    }
    check_links(&txn, user, &input, Some(id)).await?;
    keep_version(&txn, &contract, Some("补正".into()), user.user.id).await?;
    let version = contract.version + 1;
    let broker = contract.broker_id;
    let contract = claim(
        &txn,
        contract,
        ContractStatus::CorrectionRequested,
        ContractStatus::Submitted,
        |active| {
            set_fields(active, &input, broker);
            active.version = Set(version);
        },
    )
    .await?;
    txn.commit().await?;
    Ok(contract)
}

/// `POST /api/v1/contracts/{id}/amend`: the registrar records a change to a registered contract.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendmentInput {
    /// The contract as amended (every field, as on submission).
    pub contract: ContractInput,
    /// Why it changed, 1–2,000 characters.
    pub note: String,
    /// The version being amended, as read: when given, an amendment of any other version (one
    /// somebody amended meanwhile) is a `409` instead of replacing the newer text unseen.
    #[serde(default)]
    pub version: Option<i32>,
}

/// Amends a registered contract: the earlier version is kept, the registration number and date
/// stay, and the indicators move from the old amounts to the new ones.
pub async fn amend(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    user: &CurrentUser,
    id: Uuid,
    input: AmendmentInput,
) -> AppResult<contracts::Model> {
    ensure_registrar(user)?;
    validate(reference, &input.contract)?;
    let mut checks = Checks::plain();
    checks.text("note", &input.note, 1, 2000);
    checks.finish()?;
    let note = input.note.trim().to_owned();
    let txn = begin_write(db).await?;
    let contract = find_for_update(&txn, id).await?;
    if contract.status != ContractStatus::Registered {
        return Err(AppError::Conflict(
            "only a registered contract is amended".into(),
        ));
    }
    check_amended_links(&txn, &contract, &input.contract).await?;
    if input.version.is_some_and(|v| v != contract.version) {
        return Err(AppError::Conflict(format!(
            "the contract is at version {}: read it again before amending it",
            contract.version
        )));
    }
    let mut checks = Checks::plain();
    checks.check(
        contract.seller_region_code.get(..4) == input.contract.seller.region_code.get(..4),
        "contract.seller.region_code",
        "an amendment keeps the seller's region: the registration number depends on it",
    );
    checks.finish()?;
    // Under the row lock nobody else moves the version; the compare-and-set on it keeps an
    // amendment exact even where the lock is not taken.
    let version = contract.version + 1;
    let moved = contracts::Entity::update_many()
        .col_expr(contracts::Column::Version, Expr::value(version))
        .filter(contracts::Column::Id.eq(id))
        .filter(contracts::Column::Version.eq(contract.version))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::Conflict(
            "the contract was amended meanwhile; read it again".into(),
        ));
    }
    keep_version(&txn, &contract, Some(note.clone()), user.user.id).await?;
    let zones = indicators::zones_of(&txn, &contract).await?;
    indicators::apply(&txn, &contract, &zones, -1).await?;
    let parties = (contract.seller_org_id, contract.buyer_org_id);
    let broker = contract.broker_id;
    let mut active: contracts::ActiveModel = contract.into();
    set_fields(&mut active, &input.contract, broker);
    active.version = Set(version);
    active.updated_at = Set(Utc::now());
    let contract = active.update(&txn).await?;
    let zones = if parties == (contract.seller_org_id, contract.buyer_org_id) {
        zones
    } else {
        indicators::zones_of(&txn, &contract).await?
    };
    indicators::apply(&txn, &contract, &zones, 1).await?;
    audit::record(
        &txn,
        user.user.id,
        "contract.amend",
        "contract",
        id,
        serde_json::json!({"version": version, "note": note}),
    )
    .await?;
    txn.commit().await?;
    Ok(contract)
}

/// The links an amendment states: the deal stays the one the registration closed (moving the
/// contract to another deal would leave that deal open and this one closed by nothing), and every
/// other link names something that exists (a broker for `broker_id`), each field named.
async fn check_amended_links(
    txn: &DatabaseTransaction,
    contract: &contracts::Model,
    input: &ContractInput,
) -> AppResult<()> {
    let mut checks = Checks::plain();
    checks.check(
        input.deal_id == contract.deal_id,
        "contract.deal_id",
        "an amendment keeps the deal the registration closed",
    );
    if let Some(id) = input.broker_id {
        let broker = users::Entity::find_by_id(id).one(txn).await?;
        checks.found(
            broker.is_some_and(|b| b.role == Role::Broker),
            "contract.broker_id",
            "broker",
        );
    }
    check_linked_rows(txn, &mut checks, "contract.", input).await?;
    checks.finish()
}

/// The earlier versions of a contract, oldest first, for those who may see it.
pub async fn versions(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: Uuid,
) -> AppResult<Vec<contract_versions::Model>> {
    get(db, user, id).await?;
    Ok(contract_versions::Entity::find()
        .filter(contract_versions::Column::ContractId.eq(id))
        .order_by_asc(contract_versions::Column::Id)
        .all(db)
        .await?)
}
