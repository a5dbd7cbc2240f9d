//! Technology contracts and their registration (技术合同认定登记).
//!
//! A member of the seller's organization or a broker submits a contract; the registrar registers
//! it (giving it its 16-digit number), rejects it with a reason code, or sends it back for a
//! correction (补正) that the submitter answers with an amended version. A registered contract
//! changes only by an amendment, which keeps the earlier version. Registering and amending keep the
//! indicator roll-ups (`services::indicators`) in the same transaction.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, Condition,
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, TryIntoModel,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::{Membership, Role};
use crate::entity::{contract_versions, contracts, deals, demands, organizations, results, users};
use crate::error::{AppError, AppResult, FieldError};
use crate::kernel::access::ensure_registrar;
use crate::kernel::dates::today_in_china;
use crate::kernel::db_errors::is_unique_violation;
use crate::kernel::json::strings;
use crate::reference::ReferenceData;
use crate::services::deals::{Stage, record_event};
use crate::services::sessions::CurrentUser;
use crate::services::{audit, indicators};

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

/// Where a contract is in its registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ContractStatus {
    /// 已提交: waiting for the registrar.
    Submitted,
    /// 补正: sent back to the submitter for a correction.
    CorrectionRequested,
    /// 登记: registered, with a registration number; counts in the indicators.
    Registered,
    /// 未予登记: rejected with a reason.
    Rejected,
}

impl ContractStatus {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::CorrectionRequested => "correction_requested",
            Self::Registered => "registered",
            Self::Rejected => "rejected",
        }
    }
}

/// One party of a contract.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyInput {
    /// The party's organization on this market, if it has one.
    #[serde(default)]
    pub organization_id: Option<Uuid>,
    /// Full legal name, 1–200 characters.
    pub name: String,
    /// 性质 code from `nature_codes` (e.g. `022` 高等院校, `150` 有限责任公司).
    pub nature_code: String,
    /// 6-digit GB/T 2260 region code.
    pub region_code: String,
}

/// `POST /api/v1/contracts` (and the corrected version a submitter sends back).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractInput {
    /// 项目名称, 1–200 characters.
    pub project_name: String,
    /// Contract type code (`development`, `transfer`, `licence`, `consulting`, `service`).
    pub contract_type: String,
    /// Sub-type code; must belong to `contract_type`.
    pub sub_type: String,
    /// The seller (the party that registers: 研究开发人, 让与人, 受托人 …).
    pub seller: PartyInput,
    /// The buyer.
    pub buyer: PartyInput,
    /// The broker credited with the contract (a broker account).
    #[serde(default)]
    pub broker_id: Option<Uuid>,
    /// The deal it closes.
    #[serde(default)]
    pub deal_id: Option<Uuid>,
    /// The listed result it transfers.
    #[serde(default)]
    pub result_id: Option<Uuid>,
    /// The demand it answers.
    #[serde(default)]
    pub demand_id: Option<Uuid>,
    /// 合同签订日期, `YYYY-MM-DD`.
    pub signed_on: NaiveDate,
    /// Start of validity, `YYYY-MM-DD`.
    pub valid_from: NaiveDate,
    /// End of validity, not before `valid_from`.
    pub valid_to: NaiveDate,
    /// 合同成交额 in fen: an integer from 0 to 10¹³.
    pub total_amount_fen: i64,
    /// Non-technical costs in fen: from 0 to `total_amount_fen`.
    pub non_technical_fen: i64,
    /// 技术领域 code.
    pub tech_field: String,
    /// Industry codes; the first is the one the indicators count the contract under.
    #[serde(default)]
    pub industry_codes: Vec<String>,
    /// IP type codes.
    #[serde(default)]
    pub ip_types: Vec<String>,
}

/// A contract party as shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PartyView {
    /// Organization on this market.
    pub organization_id: Option<Uuid>,
    /// Full legal name, as the contract states it (卖方名称 / 买方名称).
    pub name: String,
    /// 性质 code.
    pub nature_code: String,
    /// Region code.
    pub region_code: String,
}

/// A contract as the registrar, its parties and its broker see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractView {
    /// UUID v7 of the contract (its 合同登记编号 is `registration_no`).
    pub id: Uuid,
    /// `submitted`, `correction_requested`, `registered` or `rejected`.
    pub status: String,
    /// Version: 1, then +1 for each correction or amendment.
    pub version: i32,
    /// 项目名称.
    pub project_name: String,
    /// Type code.
    pub contract_type: String,
    /// Sub-type code.
    pub sub_type: String,
    /// The seller (卖方), the party that registers (研究开发人, 让与人, 受托人 …).
    pub seller: PartyView,
    /// The buyer (买方: 委托人, 受让人, 被许可人 …).
    pub buyer: PartyView,
    /// Credited broker.
    pub broker_id: Option<Uuid>,
    /// The broker's deal (撮合) it closes, if any; registering the contract moves the deal
    /// to `registered`.
    pub deal_id: Option<Uuid>,
    /// The listed research result (科技成果) it transfers, if any.
    pub result_id: Option<Uuid>,
    /// The enterprise demand (企业技术需求) it answers, if any.
    pub demand_id: Option<Uuid>,
    /// Signing date.
    pub signed_on: NaiveDate,
    /// Validity from.
    pub valid_from: NaiveDate,
    /// Validity to.
    pub valid_to: NaiveDate,
    /// 合同成交额 in fen.
    pub total_amount_fen: i64,
    /// Non-technical costs in fen.
    pub non_technical_fen: i64,
    /// 技术交易额 in fen: total − non-technical.
    pub technical_amount_fen: i64,
    /// 技术领域.
    pub tech_field: String,
    /// Codes from `industries`; the indicators count the contract under the first
    /// (`unclassified` when there is none).
    pub industry_codes: Vec<String>,
    /// IP types.
    pub ip_types: Vec<String>,
    /// The rule set it falls under (`2001`, `2022`, `2026`).
    pub rule_version: String,
    /// 合同登记编号, once registered.
    pub registration_no: Option<String>,
    /// 登记日期.
    pub registered_on: Option<NaiveDate>,
    /// Reason code of a rejection or a correction request.
    pub reason_code: Option<String>,
    /// The registrar's words.
    pub reason_detail: Option<String>,
    /// The user who submitted it: a member of the seller's organization, or a broker.
    pub submitted_by: Uuid,
    /// First submitted.
    pub submitted_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Waiting for the registrar for more than 30 days.
    pub overdue: bool,
}

impl From<contracts::Model> for ContractView {
    fn from(c: contracts::Model) -> Self {
        let overdue = c.status == ContractStatus::Submitted.as_str()
            && Utc::now() - c.submitted_at > chrono::Duration::days(OVERDUE_DAYS);
        Self {
            id: c.id,
            status: c.status,
            version: c.version,
            project_name: c.project_name,
            contract_type: c.contract_type,
            sub_type: c.sub_type,
            seller: PartyView {
                organization_id: c.seller_org_id,
                name: c.seller_name,
                nature_code: c.seller_nature_code,
                region_code: c.seller_region_code,
            },
            buyer: PartyView {
                organization_id: c.buyer_org_id,
                name: c.buyer_name,
                nature_code: c.buyer_nature_code,
                region_code: c.buyer_region_code,
            },
            broker_id: c.broker_id,
            deal_id: c.deal_id,
            result_id: c.result_id,
            demand_id: c.demand_id,
            signed_on: c.signed_on,
            valid_from: c.valid_from,
            valid_to: c.valid_to,
            total_amount_fen: c.total_amount_fen,
            non_technical_fen: c.non_technical_fen,
            technical_amount_fen: c.technical_amount_fen,
            tech_field: c.tech_field,
            industry_codes: strings(&c.industry_codes),
            ip_types: strings(&c.ip_types),
            rule_version: c.rule_version,
            registration_no: c.registration_no,
            registered_on: c.registered_on,
            reason_code: c.reason_code,
            reason_detail: c.reason_detail,
            submitted_by: c.submitted_by,
            submitted_at: c.submitted_at,
            updated_at: c.updated_at,
            overdue,
        }
    }
}

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

/// Checks a contract against the reference data; every failing field is named.
pub fn validate(reference: &ReferenceData, input: &ContractInput) -> AppResult<()> {
    let mut errors = Vec::new();
    let mut text = |field: &str, value: &str, max: usize| {
        let n = value.trim().chars().count();
        if n == 0 || n > max {
            errors.push(FieldError::new(field, format!("1 to {max} characters")));
        } else if let Err(error) = crate::text::check_name(field, value) {
            errors.push(error);
        }
    };
    text("project_name", &input.project_name, 200);
    text("seller.name", &input.seller.name, 200);
    text("buyer.name", &input.buyer.name, 200);
    if !reference.contains("contract_types", &input.contract_type) {
        errors.push(FieldError::new(
            "contract_type",
            "not a contract type code (see /api/v1/reference)",
        ));
    } else {
        let parent = reference
            .list("contract_sub_types")
            .iter()
            .find(|c| c.code == input.sub_type)
            .and_then(|c| c.parent.clone());
        if parent.as_deref() != Some(input.contract_type.as_str()) {
            errors.push(FieldError::new(
                "sub_type",
                format!("not a sub-type of {}", input.contract_type),
            ));
        }
    }
    for (side, party) in [("seller", &input.seller), ("buyer", &input.buyer)] {
        if !reference.contains("nature_codes", &party.nature_code) {
            errors.push(FieldError::new(
                format!("{side}.nature_code"),
                "not a nature code",
            ));
        }
        if !reference.is_region_code(&party.region_code) {
            errors.push(FieldError::new(
                format!("{side}.region_code"),
                "not a 6-digit GB/T 2260 region code",
            ));
        }
    }
    let mut in_range = true;
    for (field, date) in [
        ("signed_on", input.signed_on),
        ("valid_from", input.valid_from),
        ("valid_to", input.valid_to),
    ] {
        if !(EARLIEST_DATE..=LATEST_DATE).contains(&date) {
            in_range = false;
            errors.push(FieldError::new(
                field,
                format!("a date from {EARLIEST_DATE} to {LATEST_DATE}"),
            ));
        }
    }
    if in_range && input.valid_from > input.valid_to {
        errors.push(FieldError::new("valid_to", "must not be before valid_from"));
    } else if in_range && input.signed_on > input.valid_to {
        errors.push(FieldError::new(
            "signed_on",
            "must not be after valid_to: a contract is signed before its validity ends",
        ));
    }
    let total_valid = (0..=MAX_AMOUNT_FEN).contains(&input.total_amount_fen);
    if !total_valid {
        errors.push(FieldError::new(
            "total_amount_fen",
            format!("an integer number of fen from 0 to {MAX_AMOUNT_FEN}"),
        ));
    }
    if input.non_technical_fen < 0
        || (total_valid && input.non_technical_fen > input.total_amount_fen)
    {
        errors.push(FieldError::new(
            "non_technical_fen",
            "an integer number of fen from 0 to total_amount_fen",
        ));
    }
    if !reference.contains("tech_fields", &input.tech_field) {
        errors.push(FieldError::new("tech_field", "not a 技术领域 code"));
    }
    for (i, code) in input.industry_codes.iter().enumerate() {
        if !reference.contains("industries", code) {
            errors.push(FieldError::new(
                format!("industry_codes[{i}]"),
                "not an industry code",
            ));
        }
    }
    for (i, code) in input.ip_types.iter().enumerate() {
        if !reference.contains("ip_types", code) {
            errors.push(FieldError::new(
                format!("ip_types[{i}]"),
                "not an IP type code",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
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

/// Checks the links of a contract (organizations, broker, deal, result, demand) and that `user`
/// may submit it: a broker, or an active member of the seller's organization. `contract` is the
/// contract being corrected (`None` for a new one).
///
/// A contract names a deal only when the deal is the submitter's: its broker, or an active member
/// of its seller or buyer organization submits; the deal's seller and buyer are the contract's
/// parties; and no other contract has closed it. The credited broker is the submitting broker or
/// the broker of the named deal: nobody credits a broker with work the market does not show.
async fn check_links<C: ConnectionTrait>(
    db: &C,
    user: &CurrentUser,
    input: &ContractInput,
    contract: Option<Uuid>,
) -> AppResult<()> {
    let is_broker = user.user.role == Role::Broker.as_str()
        && user.user.membership == Membership::Active.as_str();
    let seller_member = user
        .active_organization()
        .is_some_and(|org| input.seller.organization_id == Some(org));
    if !is_broker && !seller_member {
        return Err(AppError::Forbidden(
            "a contract is submitted by a member of the seller's organization or by a broker"
                .into(),
        ));
    }
    let mut errors = Vec::new();
    for (field, id) in [
        ("seller.organization_id", input.seller.organization_id),
        ("buyer.organization_id", input.buyer.organization_id),
    ] {
        if let Some(id) = id
            && organizations::Entity::find_by_id(id)
                .one(db)
                .await?
                .is_none()
        {
            errors.push(FieldError::new(field, "no organization has this id"));
        }
    }
    let mut deal_broker = None;
    let mut deal_ok = true;
    if let Some(id) = input.deal_id {
        let deal = deals::Entity::find_by_id(id).one(db).await?;
        match deal.filter(|d| may_name_deal(user, d)) {
            None => errors.push(FieldError::new("deal_id", "no deal of yours has this id")),
            Some(deal)
                if input.seller.organization_id != Some(deal.seller_org_id)
                    || input.buyer.organization_id != Some(deal.buyer_org_id) =>
            {
                errors.push(FieldError::new(
                    "deal_id",
                    "the deal's seller and buyer organizations must be the contract's parties",
                ));
            }
            Some(deal) if deal.contract_id.is_some_and(|c| Some(c) != contract) => {
                errors.push(FieldError::new(
                    "deal_id",
                    "another registered contract has closed this deal",
                ));
            }
            Some(deal) => deal_broker = Some(deal.broker_id),
        }
        deal_ok = deal_broker.is_some();
    }
    if let Some(id) = input.broker_id
        && deal_ok
    {
        let broker = users::Entity::find_by_id(id).one(db).await?;
        if broker.is_none_or(|b| b.role != Role::Broker.as_str()) {
            errors.push(FieldError::new("broker_id", "no broker has this id"));
        } else if !(is_broker && id == user.user.id) && deal_broker != Some(id) {
            errors.push(FieldError::new(
                "broker_id",
                "the credited broker is the submitting broker or the broker of the deal",
            ));
        }
    }
    if let Some(id) = input.result_id
        && results::Entity::find_by_id(id).one(db).await?.is_none()
    {
        errors.push(FieldError::new("result_id", "no result has this id"));
    }
    if let Some(id) = input.demand_id
        && demands::Entity::find_by_id(id).one(db).await?.is_none()
    {
        errors.push(FieldError::new("demand_id", "no demand has this id"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Whether `user` may name `deal` in a contract: its broker, or an active member of either party.
fn may_name_deal(user: &CurrentUser, deal: &deals::Model) -> bool {
    deal.broker_id == user.user.id
        || user
            .active_organization()
            .is_some_and(|org| org == deal.seller_org_id || org == deal.buyer_org_id)
}

/// Writes the fields of `input` into `active` (everything the submitter states).
fn set_fields(active: &mut contracts::ActiveModel, input: &ContractInput, broker: Option<Uuid>) {
    active.project_name = Set(input.project_name.trim().to_owned());
    active.contract_type = Set(input.contract_type.clone());
    active.sub_type = Set(input.sub_type.clone());
    active.seller_org_id = Set(input.seller.organization_id);
    active.seller_name = Set(input.seller.name.trim().to_owned());
    active.seller_nature_code = Set(input.seller.nature_code.clone());
    active.seller_region_code = Set(input.seller.region_code.clone());
    active.buyer_org_id = Set(input.buyer.organization_id);
    active.buyer_name = Set(input.buyer.name.trim().to_owned());
    active.buyer_nature_code = Set(input.buyer.nature_code.clone());
    active.buyer_region_code = Set(input.buyer.region_code.clone());
    active.broker_id = Set(input.broker_id.or(broker));
    active.deal_id = Set(input.deal_id);
    active.result_id = Set(input.result_id);
    active.demand_id = Set(input.demand_id);
    active.signed_on = Set(input.signed_on);
    active.valid_from = Set(input.valid_from);
    active.valid_to = Set(input.valid_to);
    active.total_amount_fen = Set(input.total_amount_fen);
    active.non_technical_fen = Set(input.non_technical_fen);
    active.technical_amount_fen = Set(input.total_amount_fen - input.non_technical_fen);
    active.tech_field = Set(input.tech_field.clone());
    active.industry_codes = Set(serde_json::json!(input.industry_codes));
    active.ip_types = Set(serde_json::json!(input.ip_types));
}

/// The hash that tells a repeated submission from another body under the same key.
fn request_hash(input: &ContractInput) -> String {
    let canonical = serde_json::to_vec(input).unwrap_or_default();
    hex::encode(Sha256::digest(&canonical))
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
    if let Some(key) = &idempotency_key
        && (key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY)
    {
        return Err(AppError::field(
            "Idempotency-Key",
            format!("1 to {MAX_IDEMPOTENCY_KEY} characters"),
        ));
    }
    validate(reference, &input)?;
    let hash = request_hash(&input);
    if let Some(done) = earlier_submission(db, user, idempotency_key.as_deref(), &hash).await? {
        return Ok(done);
    }
    let txn = begin_write(db).await?;
    check_links(&txn, user, &input, None).await?;
    let now = Utc::now();
    let broker = (user.user.role == Role::Broker.as_str()).then_some(user.user.id);
    let mut active = contracts::ActiveModel {
        id: Set(Uuid::now_v7()),
        status: Set(ContractStatus::Submitted.as_str().into()),
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
        query = query.filter(contracts::Column::Status.eq(status.as_str()));
    }
    if let Some(year) = filter.year {
        query = query.filter(year_condition(year, filter.status));
    }
    if let Some(contract_type) = &filter.contract_type {
        query = query.filter(contracts::Column::ContractType.eq(contract_type.as_str()));
    }
    if filter.overdue {
        query = query
            .filter(contracts::Column::Status.eq(ContractStatus::Submitted.as_str()))
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
    active.status = Set(to.as_str().into());
    // The databases keep microseconds: the answer carries the instant as it is stored.
    active.updated_at = Set(Utc::now().trunc_subsecs(6));
    let claimed = contracts::Entity::update_many()
        .set(active.clone())
        .filter(contracts::Column::Id.eq(id))
        .filter(contracts::Column::Status.eq(from.as_str()))
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
    if deal.contract_id.is_some_and(|c| c != contract_id)
        || deal.stage == Stage::Registered.as_str()
    {
        return Err(AppError::Conflict(
            "another registered contract has closed this contract's deal: ask for a correction of deal_id".into(),
        ));
    }
    let closed = deals::Entity::update_many()
        .col_expr(
            deals::Column::Stage,
            Expr::value(Stage::Registered.as_str()),
        )
        .col_expr(deals::Column::ContractId, Expr::value(contract_id))
        .col_expr(deals::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(deals::Column::Id.eq(deal_id))
        .filter(deals::Column::Stage.eq(deal.stage.as_str()))
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
        Some(&deal.stage),
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
    let mut errors = Vec::new();
    if !reference.contains("refusal_reasons", &input.reason_code) {
        errors.push(FieldError::new("reason_code", "not a refusal reason code"));
    }
    let n = input.detail.trim().chars().count();
    if n == 0 || n > 2000 {
        errors.push(FieldError::new("detail", "1 to 2000 characters"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
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
    let note = input.note.trim().to_owned();
    if note.is_empty() || note.chars().count() > 2000 {
        return Err(AppError::field("note", "1 to 2000 characters"));
    }
    let txn = begin_write(db).await?;
    let contract = find_for_update(&txn, id).await?;
    if contract.status != ContractStatus::Registered.as_str() {
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
    if contract.seller_region_code.get(..4) != input.contract.seller.region_code.get(..4) {
        return Err(AppError::field(
            "contract.seller.region_code",
            "an amendment keeps the seller's region: the registration number depends on it",
        ));
    }
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
    let mut errors = Vec::new();
    if input.deal_id != contract.deal_id {
        errors.push(FieldError::new(
            "contract.deal_id",
            "an amendment keeps the deal the registration closed",
        ));
    }
    if let Some(id) = input.broker_id
        && users::Entity::find_by_id(id)
            .one(txn)
            .await?
            .is_none_or(|b| b.role != Role::Broker.as_str())
    {
        errors.push(FieldError::new(
            "contract.broker_id",
            "no broker has this id",
        ));
    }
    for (field, id) in [
        (
            "contract.seller.organization_id",
            input.seller.organization_id,
        ),
        (
            "contract.buyer.organization_id",
            input.buyer.organization_id,
        ),
    ] {
        if let Some(id) = id
            && organizations::Entity::find_by_id(id)
                .one(txn)
                .await?
                .is_none()
        {
            errors.push(FieldError::new(field, "no organization has this id"));
        }
    }
    if let Some(id) = input.result_id
        && results::Entity::find_by_id(id).one(txn).await?.is_none()
    {
        errors.push(FieldError::new(
            "contract.result_id",
            "no result has this id",
        ));
    }
    if let Some(id) = input.demand_id
        && demands::Entity::find_by_id(id).one(txn).await?.is_none()
    {
        errors.push(FieldError::new(
            "contract.demand_id",
            "no demand has this id",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// An earlier version of a contract.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContractVersionView {
    /// The version number it had.
    pub version: i32,
    /// The contract as it was.
    pub contract: serde_json::Value,
    /// Why it was replaced (补正, or the amendment's note).
    pub note: Option<String>,
    /// Who replaced it.
    pub replaced_by: Option<Uuid>,
    /// When this version was replaced (by a correction or an amendment).
    pub replaced_at: DateTime<Utc>,
}

impl From<contract_versions::Model> for ContractVersionView {
    fn from(v: contract_versions::Model) -> Self {
        Self {
            version: v.version,
            contract: v.snapshot,
            note: v.note,
            replaced_by: v.actor_id,
            replaced_at: v.created_at,
        }
    }
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
