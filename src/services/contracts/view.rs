//! What a contract looks like to a reader: the contract and its kept versions.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ContractStatus, OVERDUE_DAYS};
use crate::entity::{contract_versions, contracts};
use crate::kernel::json::strings;

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
    pub status: ContractStatus,
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
        let overdue = c.status == ContractStatus::Submitted
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
