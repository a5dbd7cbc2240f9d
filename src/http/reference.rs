//! `GET /api/v1/reference`.

use std::collections::BTreeMap;

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::reference::{Code, PolicyTarget, ReferenceData};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_reference))
}

/// An industry of the 6+5+6+1 system.
#[derive(Serialize, ToSchema)]
struct IndustryView {
    code: String,
    label: String,
    label_en: Option<String>,
    /// The industry group code (`pillar`, `emerging`, `producer_services`, `culture_tourism`).
    group: String,
}

/// A contract type with its sub-types.
#[derive(Serialize, ToSchema)]
struct ContractTypeView {
    code: String,
    label: String,
    label_en: Option<String>,
    sub_types: Vec<Code>,
}

/// A TRL level.
#[derive(Serialize, ToSchema)]
struct TrlView {
    /// 1 to 9.
    level: u8,
    code: String,
    label: String,
    label_en: Option<String>,
}

/// Every code list, each code with its Chinese label.
#[derive(Serialize, ToSchema)]
struct ReferenceView {
    /// The 4 groups of the 6+5+6+1 system.
    industry_groups: Vec<Code>,
    /// The 18 industries of the 6+5+6+1 system.
    industries: Vec<IndustryView>,
    /// The 11 技术领域 of contract statistics.
    tech_fields: Vec<Code>,
    maturity_stages: Vec<Code>,
    trl_levels: Vec<TrlView>,
    /// The five contract types of the 民法典 with their sub-types.
    contract_types: Vec<ContractTypeView>,
    refusal_reasons: Vec<Code>,
    cooperation_modes: Vec<Code>,
    ip_types: Vec<Code>,
    demand_types: Vec<Code>,
    org_kinds: Vec<Code>,
    /// Legal-entity nature codes (买卖方性质); sub-codes carry their category as `parent`.
    nature_codes: Vec<Code>,
    /// Province-level divisions: the first two digits of a GB/T 2260 region code.
    provinces: Vec<Code>,
    /// Xi'an's districts and counties (GB/T 2260 codes).
    districts: Vec<Code>,
    /// Xi'an's development zones.
    zones: Vec<Code>,
    roles: Vec<Code>,
    /// How a 揭榜挂帅 challenge selects its solver.
    selection_methods: Vec<Code>,
    /// Yearly targets of the 秦创原 plan.
    policy_targets: Vec<PolicyTarget>,
    /// Loaded version of each list.
    versions: BTreeMap<String, String>,
}

impl From<&ReferenceData> for ReferenceView {
    fn from(data: &ReferenceData) -> Self {
        let list = |kind: &str| data.list(kind).to_vec();
        Self {
            industry_groups: list("industry_groups"),
            industries: data
                .list("industries")
                .iter()
                .map(|c| IndustryView {
                    code: c.code.clone(),
                    label: c.label.clone(),
                    label_en: c.label_en.clone(),
                    group: c.parent.clone().unwrap_or_default(),
                })
                .collect(),
            tech_fields: list("tech_fields"),
            maturity_stages: list("maturity_stages"),
            trl_levels: data
                .list("trl_levels")
                .iter()
                .zip(1u8..)
                .map(|(c, level)| TrlView {
                    level,
                    code: c.code.clone(),
                    label: c.label.clone(),
                    label_en: c.label_en.clone(),
                })
                .collect(),
            contract_types: data
                .list("contract_types")
                .iter()
                .map(|t| ContractTypeView {
                    code: t.code.clone(),
                    label: t.label.clone(),
                    label_en: t.label_en.clone(),
                    sub_types: data
                        .list("contract_sub_types")
                        .iter()
                        .filter(|s| s.parent.as_deref() == Some(t.code.as_str()))
                        .cloned()
                        .collect(),
                })
                .collect(),
            refusal_reasons: list("refusal_reasons"),
            cooperation_modes: list("cooperation_modes"),
            ip_types: list("ip_types"),
            demand_types: list("demand_types"),
            org_kinds: list("org_kinds"),
            nature_codes: list("nature_codes"),
            provinces: list("provinces"),
            districts: list("districts"),
            zones: list("zones"),
            roles: list("roles"),
            selection_methods: list("selection_methods"),
            policy_targets: data.targets.clone(),
            versions: data.versions.clone(),
        }
    }
}

/// Every code list of the market with Chinese labels: industries (6+5+6+1), 技术领域, maturity
/// stages, TRL, contract types and sub-types, refusal reasons, cooperation modes, IP types, demand
/// types, organization kinds, nature codes, provinces, Xi'an's districts and development zones.
#[utoipa::path(get, path = "/api/v1/reference", tag = "reference",
    responses((status = 200, description = "the code lists", body = ReferenceView)))]
async fn get_reference(State(state): State<AppState>) -> axum::Json<ReferenceView> {
    axum::Json(ReferenceView::from(state.reference.as_ref()))
}
