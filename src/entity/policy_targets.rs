//! `policy_targets`: the yearly targets of the 秦创原 plan.

use sea_orm::entity::prelude::*;

/// One indicator's target for one year.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "policy_targets")]
pub struct Model {
    /// Indicator code (`contract_value`, `brokers`, …).
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    /// Calendar year.
    #[sea_orm(primary_key, auto_increment = false)]
    pub year: i32,
    /// Chinese name of the indicator.
    pub label: String,
    /// `fen` for money, `count` otherwise.
    pub unit: String,
    /// The target, in `unit`.
    pub target: i64,
}

impl ActiveModelBehavior for ActiveModel {}
