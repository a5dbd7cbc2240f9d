//! The indicators (动态监测): the value of registered technology contracts, by period and by
//! breakdown, against the policy's targets.
//!
//! What counts (the API documents the same): a contract counts once it is `registered`, in the
//! year and month of its registration date (登记日期), with its current (amended) amounts. It
//! counts for Xi'an as 技术输出 (`direction=outflow`) when the seller is in Xi'an, and as 技术吸纳
//! (`inflow`) when the buyer is. A party is in Xi'an when its region code starts with `6101`, or
//! when its organization on the market lies in one of Xi'an's development zones (`zones`): the
//! 秦创原 方案 makes 西咸新区 — whose organizations carry 咸阳 codes (6104xx) — the city's
//! 秦创原总窗口 ("全力推动西咸新区秦创原总窗口建设") and puts 西咸新区管委会 among the plan's
//! responsible units, and a region code cannot tell 西咸 from the rest of 咸阳. `measure=total`
//! sums 合同成交额, `technical` sums 技术交易额. A contract with several industries counts under
//! its first one (`unclassified` without any), so that every breakdown's groups sum to the total.
//!
//! The sums are kept in `indicator_rollups`, one row per year, month, direction and breakdown
//! value, updated in the transaction that registers or amends a contract: an indicator reads at
//! most a few hundred rows, however many contracts there are.
//!
//! Here: the measures, directions and breakdowns, and where a party counts (Xi'an, its zone, the
//! registration number's prefix). `rollups` is the write path, `reading` the read path.

pub mod chart;
mod reading;
mod rollups;

use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::entity::contracts;

pub use reading::{
    Group, Summary, SummaryIndicator, TransactionValue, credited_brokers, summary, target,
    target_applies, transaction_value,
};
pub use rollups::{ROLLUP_CEILING_FEN, RollupCheck, apply, rebuild, verify};

/// The region-code prefix of Xi'an.
pub const XIAN_PREFIX: &str = "6101";

/// The roll-up dimension of contracts that transform a listed result locally: registered, linking
/// a result, seller and buyer both in Xi'an.
pub const LOCAL_TRANSFORMATION: &str = "local_transformation";

/// The key of a contract without an industry in the industry breakdown.
pub const UNCLASSIFIED: &str = "unclassified";

/// The key of a contract whose Xi'an party is in no development zone, in the zone breakdown.
pub const NO_ZONE: &str = "none";

/// The roll-up dimension of the brokers credited with registered contracts (key: the broker's id).
pub const BROKER: &str = "broker";

/// Which amount is summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// 合同成交额.
    #[default]
    Total,
    /// 技术交易额.
    Technical,
}

pub use crate::domain::Direction;

/// How the year is broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Breakdown {
    /// Twelve months (every month, zero included).
    #[default]
    Month,
    /// Four quarters.
    Quarter,
    /// Contract type.
    ContractType,
    /// 技术领域.
    TechField,
    /// The contract's first industry.
    Industry,
    /// The seller's nature code.
    SellerNature,
    /// The Xi'an party's district (the seller's for outflow, the buyer's for inflow); a party in
    /// Xi'an by its development zone only (西咸新区, 6104xx) is grouped under its zone's code.
    District,
    /// The Xi'an party's development zone (organization `zone`); [`NO_ZONE`] outside every zone.
    Zone,
}

impl Breakdown {
    /// The dimension of the roll-ups that holds this breakdown (`all` for periods).
    fn dimension(self) -> &'static str {
        match self {
            Self::Month | Self::Quarter => "all",
            Self::ContractType => "contract_type",
            Self::TechField => "tech_field",
            Self::Industry => "industry",
            Self::SellerNature => "seller_nature",
            Self::District => "district",
            Self::Zone => "zone",
        }
    }

    /// The reference list that labels the keys.
    fn labels(self) -> &'static str {
        match self {
            Self::Month | Self::Quarter => "",
            Self::ContractType => "contract_types",
            Self::TechField => "tech_fields",
            Self::Industry => "industries",
            Self::SellerNature => "nature_codes",
            Self::District => "districts",
            Self::Zone => "zones",
        }
    }
}

/// The development zones of a contract's parties: their organizations' `zone` on the market
/// (`None` for a party without an organization here or outside every zone). An organization's
/// zone is fixed when it is created, so the roll-ups stay reproducible from the contracts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Zones {
    /// The seller's zone.
    pub seller: Option<String>,
    /// The buyer's zone.
    pub buyer: Option<String>,
}

/// Whether a party counts for Xi'an: its region code is Xi'an's (`6101…`), or its organization
/// lies in one of Xi'an's development zones (every `zones` code is one; 西咸新区 included).
pub fn in_xian(region_code: &str, zone: Option<&str>) -> bool {
    region_code.starts_with(XIAN_PREFIX) || zone.is_some_and(|z| !z.is_empty())
}

/// The zones of `contract`'s parties, read from their organizations. A registration reads them
/// once and passes them to [`registration_prefix`] and [`apply`].
pub async fn zones_of<C: ConnectionTrait>(
    db: &C,
    contract: &contracts::Model,
) -> Result<Zones, DbErr> {
    use crate::entity::organizations;
    use sea_orm::prelude::Uuid;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    // One query for both parties, two columns: this runs in every registration and amendment.
    let ids: Vec<_> = [contract.seller_org_id, contract.buyer_org_id]
        .into_iter()
        .flatten()
        .collect();
    if ids.is_empty() {
        return Ok(Zones::default());
    }
    let orgs: Vec<(Uuid, Option<String>)> = organizations::Entity::find()
        .select_only()
        .columns([organizations::Column::Id, organizations::Column::Zone])
        .filter(organizations::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    let zone = |id: Option<Uuid>| {
        id.and_then(|id| orgs.iter().find(|(org, _)| *org == id))
            .and_then(|(_, zone)| zone.clone())
    };
    Ok(Zones {
        seller: zone(contract.seller_org_id),
        buyer: zone(contract.buyer_org_id),
    })
}

/// The region part (4 digits) of the contract's 合同登记编号: `6101` for a seller in Xi'an (by
/// [`in_xian`]: a 西咸新区 seller registers with Xi'an, whose 秦创原总窗口 it is), otherwise
/// the first four digits of the seller's region code.
pub fn registration_prefix(contract: &contracts::Model, zones: &Zones) -> String {
    if in_xian(&contract.seller_region_code, zones.seller.as_deref()) {
        XIAN_PREFIX.to_owned()
    } else {
        contract
            .seller_region_code
            .get(..4)
            .unwrap_or("0000")
            .to_owned()
    }
}
