//! `deals`: a broker's 撮合 between a seller and a buyer organization, before a contract.

use sea_orm::entity::prelude::*;

use crate::domain::Stage;

/// One deal.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deals")]
pub struct Model {
    /// UUID v7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// What the deal is about.
    pub title: String,
    /// The broker (a user with the broker role) who owns the deal.
    pub broker_id: Uuid,
    /// The organization selling the technology.
    pub seller_org_id: Uuid,
    /// The organization buying it.
    pub buyer_org_id: Uuid,
    /// The listed result the deal is about, if any.
    pub result_id: Option<Uuid>,
    /// The demand it answers, if any.
    pub demand_id: Option<Uuid>,
    /// Expected contract value in fen.
    pub expected_amount_fen: Option<i64>,
    /// `intent`, `negotiating`, `signed`, `registered` or `lost`.
    pub stage: Stage,
    /// The registered contract that closed the deal.
    pub contract_id: Option<Uuid>,
    /// When the deal was opened.
    pub created_at: DateTimeUtc,
    /// Last move.
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
