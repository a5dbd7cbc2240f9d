//! `contracts`: technology contracts submitted for registration (技术合同认定登记).

use sea_orm::entity::prelude::*;

use crate::domain::ContractStatus;

/// One contract, in its current version.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contracts")]
pub struct Model {
    /// UUID v7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `submitted`, `correction_requested`, `registered` or `rejected`.
    pub status: ContractStatus,
    /// 1 on submission, +1 for each answered correction or registered amendment.
    pub version: i32,
    /// 项目名称.
    pub project_name: String,
    /// Contract type code (`development`, …).
    pub contract_type: String,
    /// Sub-type code; its parent is `contract_type`.
    pub sub_type: String,
    /// The seller's organization on this market, if it has one.
    pub seller_org_id: Option<Uuid>,
    /// 卖方名称.
    pub seller_name: String,
    /// 卖方性质 (3-digit nature code).
    pub seller_nature_code: String,
    /// 卖方行政区划代码 (6 digits).
    pub seller_region_code: String,
    /// The buyer's organization on this market, if it has one.
    pub buyer_org_id: Option<Uuid>,
    /// 买方名称.
    pub buyer_name: String,
    /// 买方性质.
    pub buyer_nature_code: String,
    /// 买方行政区划代码.
    pub buyer_region_code: String,
    /// The broker credited with the contract.
    pub broker_id: Option<Uuid>,
    /// The deal it closes.
    pub deal_id: Option<Uuid>,
    /// The listed result it transfers.
    pub result_id: Option<Uuid>,
    /// The demand it answers.
    pub demand_id: Option<Uuid>,
    /// 合同签订日期.
    pub signed_on: Date,
    /// 合同有效期限, from.
    pub valid_from: Date,
    /// 合同有效期限, to.
    pub valid_to: Date,
    /// 合同成交额 in fen.
    pub total_amount_fen: i64,
    /// Non-technical costs (equipment, materials …) in fen.
    pub non_technical_fen: i64,
    /// 技术交易额 = total − non-technical, in fen.
    pub technical_amount_fen: i64,
    /// 技术领域 code.
    pub tech_field: String,
    /// Industry codes, the first being the one the indicators count it under.
    pub industry_codes: Json,
    /// IP type codes.
    pub ip_types: Json,
    /// The rule set it was registered under.
    pub rule_version: String,
    /// Who submitted it.
    pub submitted_by: Uuid,
    /// The submitter's `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// SHA-256 of the submitted body, to tell a repeat from another body under the same key.
    pub request_hash: Option<String>,
    /// 合同登记编号 (16 digits), once registered.
    pub registration_no: Option<String>,
    /// 登记日期.
    pub registered_on: Option<Date>,
    /// The registrar who registered it.
    pub registered_by: Option<Uuid>,
    /// Why it was rejected or sent back for correction (a refusal reason code).
    pub reason_code: Option<String>,
    /// The registrar's explanation.
    pub reason_detail: Option<String>,
    /// When it was first submitted.
    pub submitted_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
