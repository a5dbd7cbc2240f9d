//! A contract as submitted, corrected or amended: its fields and their rules.

use chrono::NaiveDate;
use sea_orm::ActiveValue::Set;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{EARLIEST_DATE, LATEST_DATE};
use crate::entity::contracts;
use crate::error::AppResult;
use crate::kernel::validation::Checks;
use crate::reference::ReferenceData;

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

/// Checks a contract against the reference data; every failing field is named.
pub fn validate(reference: &ReferenceData, input: &ContractInput) -> AppResult<()> {
    let mut checks = Checks::new(reference);
    checks.name("project_name", &input.project_name, 1, MAX_NAME_CHARS);
    checks.name("seller.name", &input.seller.name, 1, MAX_NAME_CHARS);
    checks.name("buyer.name", &input.buyer.name, 1, MAX_NAME_CHARS);
    // A sub-type is only checked against a known type: an unknown type is one mistake.
    if checks.one("contract_type", "contract_types", &input.contract_type) {
        let parent = reference
            .list("contract_sub_types")
            .iter()
            .find(|c| c.code == input.sub_type)
            .and_then(|c| c.parent.clone());
        checks.check(
            parent.as_deref() == Some(input.contract_type.as_str()),
            "sub_type",
            format!("not a sub-type of {}", input.contract_type),
        );
    }
    for (side, party) in [("seller", &input.seller), ("buyer", &input.buyer)] {
        checks.one(
            &format!("{side}.nature_code"),
            "nature_codes",
            &party.nature_code,
        );
        checks.region(&format!("{side}.region_code"), &party.region_code);
    }
    let mut in_range = true;
    for (field, date) in [
        ("signed_on", input.signed_on),
        ("valid_from", input.valid_from),
        ("valid_to", input.valid_to),
    ] {
        in_range &= checks.range(field, date, EARLIEST_DATE, LATEST_DATE);
    }
    // The order of the dates is only told for dates in range, and one order mistake at a time.
    if in_range && checks.not_before("valid_to", input.valid_to, "valid_from", input.valid_from) {
        checks.check(
            input.signed_on <= input.valid_to,
            "signed_on",
            "must not be after valid_to: a contract is signed before its validity ends",
        );
    }
    let total_valid = checks.money("total_amount_fen", Some(input.total_amount_fen));
    checks.check(
        input.non_technical_fen >= 0
            && !(total_valid && input.non_technical_fen > input.total_amount_fen),
        "non_technical_fen",
        "must be a whole number of fen from 0 to total_amount_fen",
    );
    checks.one("tech_field", "tech_fields", &input.tech_field);
    for (field, kind, codes) in [
        ("industry_codes", "industries", &input.industry_codes),
        ("ip_types", "ip_types", &input.ip_types),
    ] {
        for (i, code) in codes.iter().enumerate() {
            checks.one(&format!("{field}[{i}]"), kind, code);
        }
    }
    checks.finish()
}

/// Longest project or party name, in characters.
const MAX_NAME_CHARS: usize = 200;

/// Writes the fields of `input` into `active` (everything the submitter states).
pub(super) fn set_fields(
    active: &mut contracts::ActiveModel,
    input: &ContractInput,
    broker: Option<Uuid>,
) {
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
pub(super) fn request_hash(input: &ContractInput) -> String {
    let canonical = serde_json::to_vec(input).unwrap_or_default();
    hex::encode(Sha256::digest(&canonical))
}
