//! Submission: the links a contract may name, idempotent submission.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::input::{ContractInput, request_hash, set_fields, validate};
use super::{ContractStatus, MAX_IDEMPOTENCY_KEY, rule_version_on};
use crate::db::begin_write;
use crate::domain::{Membership, Role};
use crate::entity::{contracts, deals, demands, organizations, results, users};
use crate::error::{AppError, AppResult};
use crate::kernel::dates::today_in_china;
use crate::kernel::db_errors::is_unique_violation;
use crate::kernel::validation::Checks;
use crate::reference::ReferenceData;
use crate::services::accounts::sessions::CurrentUser;

/// Checks the links of a contract (organizations, broker, deal, result, demand) and that `user`
/// may submit it: a broker, or an active member of the seller's organization. `contract` is the
/// contract being corrected (`None` for a new one).
///
/// A contract names a deal only when the deal is the submitter's: its broker, or an active member
/// of its seller or buyer organization submits; the deal's seller and buyer are the contract's
/// parties; and no other contract has closed it. The credited broker is the submitting broker or
/// the broker of the named deal: nobody credits a broker with work the market does not show.
pub(super) async fn check_links<C: ConnectionTrait>(
    db: &C,
    user: &CurrentUser,
    input: &ContractInput,
    contract: Option<Uuid>,
) -> AppResult<()> {
    let is_broker = user.user.role == Role::Broker && user.user.membership == Membership::Active;
    let seller_member = user
        .active_organization()
        .is_some_and(|org| input.seller.organization_id == Some(org));
    if !is_broker && !seller_member {
        return Err(AppError::Forbidden(
            "a contract is submitted by a member of the seller's organization or by a broker"
                .into(),
        ));
    }
    let mut checks = Checks::plain();
    check_linked_rows(db, &mut checks, "", input).await?;
    let mut deal_broker = None;
    let mut deal_ok = true;
    if let Some(id) = input.deal_id {
        let deal = deals::Entity::find_by_id(id).one(db).await?;
        match deal.filter(|d| may_name_deal(user, d)) {
            None => {
                checks.found(false, "deal_id", "deal of yours");
            }
            Some(deal) => {
                let parties = input.seller.organization_id == Some(deal.seller_org_id)
                    && input.buyer.organization_id == Some(deal.buyer_org_id);
                // One mistake at a time: a deal of other parties is not also "closed".
                if checks.check(
                    parties,
                    "deal_id",
                    "the deal's seller and buyer organizations must be the contract's parties",
                ) && checks.check(
                    deal.contract_id.is_none_or(|c| Some(c) == contract),
                    "deal_id",
                    "another registered contract has closed this deal",
                ) {
                    deal_broker = Some(deal.broker_id);
                }
            }
        }
        deal_ok = deal_broker.is_some();
    }
    if let Some(id) = input.broker_id
        && deal_ok
    {
        let broker = users::Entity::find_by_id(id).one(db).await?;
        if checks.found(
            broker.is_some_and(|b| b.role == Role::Broker),
            "broker_id",
            "broker",
        ) {
            checks.check(
                (is_broker && id == user.user.id) || deal_broker == Some(id),
                "broker_id",
                "the credited broker is the submitting broker or the broker of the deal",
            );
        }
    }
    checks.finish()
}

/// The links of `input` that must name existing rows: the parties' organizations, the result and
/// the demand, each field named under `prefix` (`""`, or `"contract."` for an amendment's body).
pub(super) async fn check_linked_rows<C: ConnectionTrait, R>(
    db: &C,
    checks: &mut Checks<R>,
    prefix: &str,
    input: &ContractInput,
) -> AppResult<()> {
    for (field, id) in [
        ("seller.organization_id", input.seller.organization_id),
        ("buyer.organization_id", input.buyer.organization_id),
    ] {
        if let Some(id) = id {
            let found = organizations::Entity::find_by_id(id).one(db).await?;
            checks.found(found.is_some(), &format!("{prefix}{field}"), "organization");
        }
    }
    if let Some(id) = input.result_id {
        let found = results::Entity::find_by_id(id).one(db).await?;
        checks.found(found.is_some(), &format!("{prefix}result_id"), "result");
    }
    if let Some(id) = input.demand_id {
        let found = demands::Entity::find_by_id(id).one(db).await?;
        checks.found(found.is_some(), &format!("{prefix}demand_id"), "demand");
    }
    Ok(())
}

/// Whether `user` may name `deal` in a contract: its broker, or an active member of either party.
fn may_name_deal(user: &CurrentUser, deal: &deals::Model) -> bool {
    deal.broker_id == user.user.id
        || user
            .active_organization()
            .is_some_and(|org| org == deal.seller_org_id || org == deal.buyer_org_id)
}

/// What a submission did.
pub enum Submitted {
    /// A new contract (`201`).
    Created(contracts::Model),
    /// The contract an earlier request with the same key and body created (`200`).
    Repeated(contracts::Model),
}

/// Submits a contract. With an `Idempotency-Key`, the same key and body give back the contract
/// the first request created, however many identical requests race; the same key with another
/// body is a `409`.
pub async fn submit(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    user: &CurrentUser,
    idempotency_key: Option<String>,
    input: ContractInput,
) -> AppResult<Submitted> {
    if let Some(key) = &idempotency_key {
        let mut checks = Checks::plain();
        checks.text("Idempotency-Key", key, 1, MAX_IDEMPOTENCY_KEY);
        checks.finish()?;
    }
    validate(reference, &input)?;
    let hash = request_hash(&input);
    if let Some(done) = earlier_submission(db, user, idempotency_key.as_deref(), &hash).await? {
        return Ok(done);
    }
    let txn = begin_write(db).await?;
    check_links(&txn, user, &input, None).await?;
    let now = Utc::now();
    let broker = (user.user.role == Role::Broker).then_some(user.user.id);
    let mut active = contracts::ActiveModel {
        id: Set(Uuid::now_v7()),
        status: Set(ContractStatus::Submitted),
        version: Set(1),
        rule_version: Set(rule_version_on(today_in_china()).into()),
        submitted_by: Set(user.user.id),
        idempotency_key: Set(idempotency_key.clone()),
        request_hash: Set(Some(hash.clone())),
        registration_no: Set(None),
        registered_on: Set(None),
        registered_by: Set(None),
        reason_code: Set(None),
        reason_detail: Set(None),
        submitted_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    set_fields(&mut active, &input, broker);
    match active.insert(&txn).await {
        Ok(contract) => {
            txn.commit().await?;
            Ok(Submitted::Created(contract))
        }
        // Another request with the same key committed first: answer as a repeat of it.
        Err(e) if idempotency_key.is_some() && is_unique_violation(&e) => {
            drop(txn);
            earlier_submission(db, user, idempotency_key.as_deref(), &hash)
                .await?
                .ok_or_else(|| AppError::Internal(e.into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The contract an earlier request of `user` with `key` created: a repeat when the body is the
/// same, a `409` when it is not.
async fn earlier_submission(
    db: &DatabaseConnection,
    user: &CurrentUser,
    key: Option<&str>,
    hash: &str,
) -> AppResult<Option<Submitted>> {
    let Some(key) = key else { return Ok(None) };
    let Some(earlier) = contracts::Entity::find()
        .filter(contracts::Column::SubmittedBy.eq(user.user.id))
        .filter(contracts::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if earlier.request_hash.as_deref() == Some(hash) {
        Ok(Some(Submitted::Repeated(earlier)))
    } else {
        Err(AppError::Conflict(
            "this Idempotency-Key was used for another contract body".into(),
        ))
    }
}
