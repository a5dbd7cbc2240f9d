//! `contract_versions`: each earlier version of a contract, kept when a correction or an
//! amendment replaces it.

use sea_orm::entity::prelude::*;

/// One earlier version.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contract_versions")]
pub struct Model {
    /// Ascending id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The contract.
    pub contract_id: Uuid,
    /// The version number this snapshot had.
    pub version: i32,
    /// The contract as it was (the API view).
    pub snapshot: Json,
    /// Why it was replaced.
    pub note: Option<String>,
    /// Who replaced it.
    pub actor_id: Option<Uuid>,
    /// When this version was replaced.
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
