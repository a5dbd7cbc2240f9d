//! Technology contracts and their registration (技术合同认定登记).
//!
//! A member of the seller's organization or a broker submits a contract; the registrar registers
//! it (giving it its 16-digit number), rejects it with a reason code, or sends it back for a
//! correction (补正) that the submitter answers with an amended version. A registered contract
//! changes only by an amendment, which keeps the earlier version. Registering and amending keep the
//! indicator roll-ups (`services::indicators`) in the same transaction.
//!
//! Here: the statuses, what a user may read, the lists, and the locked read and compare-and-set
//! every move starts from. `input` holds the contract's fields and rules, `view` what readers
//! see, `submission` the submission, `registration` the registrar's decisions, `revision` the
//! correction and the amendment.

mod input;
mod registration;
mod revision;
mod submission;
mod view;

use chrono::{NaiveDate, SubsecRound, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TryIntoModel,
};
use uuid::Uuid;

use crate::entity::contracts;
use crate::error::{AppError, AppResult};
use crate::services::accounts::sessions::CurrentUser;

pub use input::{ContractInput, PartyInput, validate};
pub use registration::{ReasonInput, decide_against, register, registration_no};
pub use revision::{AmendmentInput, amend, correct, versions};
pub use submission::{Submitted, submit};
pub use view::{ContractVersionView, ContractView, PartyView};

pub use crate::domain::MAX_AMOUNT_FEN;

/// The earliest date a contract may state: 技术合同 as a registered category date from the reforms
/// of 1985 and the 技术合同法 of 1987; a few years before them covers any older contract, and
/// anything earlier is a typing error (or `-0001`).
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1980, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The latest date a contract may state: a licence of a patent granted today runs 20 years at
/// most, and the registration number has a 4-digit year; 2100 leaves room for either.
pub const LATEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2100, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// The longest `Idempotency-Key` accepted.
pub const MAX_IDEMPOTENCY_KEY: usize = 200;

pub use crate::domain::ContractStatus;

/// Days a submitted contract may wait before it is flagged overdue (2000 办法 Art. 14).
pub const OVERDUE_DAYS: i64 = 30;

/// The rule set a contract submitted on `date` falls under: the 2001 认定规则 (with the five
/// types of the 民法典 from 2021), the 2022 火炬中心 指引, or the 2026 工信部 办法.
pub fn rule_version_on(date: NaiveDate) -> &'static str {
    let from = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN);
    if date >= from(2026, 1, 23) {
        "2026"
    } else if date >= from(2022, 1, 1) {
        "2022"
    } else {
        "2001"
    }
}

/// Whether `user` may see `contract`: the registrar, members of either party, the credited broker
/// and the submitter.
pub fn may_read(user: &CurrentUser, contract: &contracts::Model) -> bool {
    user.is_registrar()
        || contract.submitted_by == user.user.id
        || contract.broker_id == Some(user.user.id)
        || user.active_organization().is_some_and(|org| {
            contract.seller_org_id == Some(org) || contract.buyer_org_id == Some(org)
        })
}

/// The condition selecting the contracts `user` may see (everything for the registrar).
pub fn visible_to(user: &CurrentUser) -> Condition {
    if user.is_registrar() {
        return Condition::all();
    }
    let mut any = Condition::any()
        .add(contracts::Column::SubmittedBy.eq(user.user.id))
        .add(contracts::Column::BrokerId.eq(user.user.id));
    if let Some(org) = user.active_organization() {
        any = any
            .add(contracts::Column::SellerOrgId.eq(org))
            .add(contracts::Column::BuyerOrgId.eq(org));
    }
    any
}

/// One contract, for those who may see it; `404` for anybody else.
pub async fn get(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: Uuid,
) -> AppResult<contracts::Model> {
    contracts::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|c| may_read(user, c))
        .ok_or_else(|| AppError::NotFound("no contract has this id".into()))
}

/// Filters of the contract list.
#[derive(Debug, Default, Clone)]
pub struct ContractFilter {
    /// Status code.
    pub status: Option<ContractStatus>,
    /// Year of registration (registered contracts) or of submission (the others).
    pub year: Option<i32>,
    /// Contract type code.
    pub contract_type: Option<String>,
    /// Only submitted contracts waiting more than [`OVERDUE_DAYS`].
    pub overdue: bool,
}

/// The contracts `user` may see, newest first: by registration for `status=registered`, by
/// submission otherwise.
pub async fn list(
    db: &DatabaseConnection,
    user: &CurrentUser,
    filter: &ContractFilter,
    page: u64,
    per_page: u64,
) -> AppResult<(Vec<contracts::Model>, u64)> {
    let mut query = contracts::Entity::find().filter(visible_to(user));
    if let Some(status) = filter.status {
        query = query.filter(contracts::Column::Status.eq(status));
    }
    if let Some(year) = filter.year {
        query = query.filter(year_condition(year, filter.status));
    }
    if let Some(contract_type) = &filter.contract_type {
        query = query.filter(contracts::Column::ContractType.eq(contract_type.as_str()));
    }
    if filter.overdue {
        query = query
            .filter(contracts::Column::Status.eq(ContractStatus::Submitted))
            .filter(
                contracts::Column::SubmittedAt
                    .lt(Utc::now() - chrono::Duration::days(OVERDUE_DAYS)),
            );
    }
    // Registered contracts: newest registration first, in number order within a day (the order of
    // an index); the others: newest submission first.
    let query = if filter.status == Some(ContractStatus::Registered) {
        query
            .order_by_desc(contracts::Column::RegisteredOn)
            .order_by_desc(contracts::Column::RegistrationNo)
    } else {
        query
            .order_by_desc(contracts::Column::SubmittedAt)
            .order_by_desc(contracts::Column::Id)
    };
    let paginator = query.paginate(db, per_page);
    let total = paginator.num_items().await?;
    let items = paginator.fetch_page(page - 1).await?;
    Ok((items, total))
}

/// Contracts of `year`: registered ones by their registration date, the others by the date they
/// were submitted. Knowing the status keeps one side of the condition, so that one index serves it.
pub(crate) fn year_condition(year: i32, status: Option<ContractStatus>) -> Condition {
    let (Some(first), Some(next)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        year.checked_add(1)
            .and_then(|next| NaiveDate::from_ymd_opt(next, 1, 1)),
    ) else {
        // Out of chrono's range: no contract has such a date.
        return Condition::all().add(Expr::value(false));
    };
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let registered = contracts::Column::RegisteredOn
        .gte(first)
        .and(contracts::Column::RegisteredOn.lt(next));
    let submitted = contracts::Column::RegisteredOn.is_null().and(
        contracts::Column::SubmittedAt
            .gte(midnight(first))
            .and(contracts::Column::SubmittedAt.lt(midnight(next))),
    );
    match status {
        Some(ContractStatus::Registered) => Condition::all().add(registered),
        Some(_) => Condition::all().add(submitted),
        None => Condition::any().add(registered).add(submitted),
    }
}

/// Finds a contract and locks its row until the transaction ends (`SELECT … FOR UPDATE` on
/// PostgreSQL; SQLite's `BEGIN IMMEDIATE` already holds every other writer off), or `404`. A
/// concurrent move of the same contract waits, then reads what this one wrote: every state or
/// money move checks the state it read here.
async fn find_for_update(txn: &DatabaseTransaction, id: Uuid) -> AppResult<contracts::Model> {
    contracts::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound("no contract has this id".into()))
}

/// Moves `contract` from `from` to `to`, writing the fields `changes` sets in the same statement,
/// only if nobody moved it meanwhile (a concurrent registration of the same contract gets `409`,
/// not a second number). Returns the contract as written: one `UPDATE … WHERE id AND status`
/// rather than a compare-and-set followed by an update and a read back, because every
/// registration pays for each statement while it holds the write lock.
async fn claim(
    txn: &DatabaseTransaction,
    contract: contracts::Model,
    from: ContractStatus,
    to: ContractStatus,
    changes: impl FnOnce(&mut contracts::ActiveModel),
) -> AppResult<contracts::Model> {
    let id = contract.id;
    let mut active: contracts::ActiveModel = contract.into();
    changes(&mut active);
    active.status = Set(to);
    // The databases keep microseconds: the answer carries the instant as it is stored.
    active.updated_at = Set(Utc::now().trunc_subsecs(6));
    let claimed = contracts::Entity::update_many()
        .set(active.clone())
        .filter(contracts::Column::Id.eq(id))
        .filter(contracts::Column::Status.eq(from))
        .exec(txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "only a {} contract can become {}",
            from.as_str(),
            to.as_str()
        )));
    }
    Ok(active.try_into_model()?)
}
