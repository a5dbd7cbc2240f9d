//! `audit_log`: everything a registrar does, append only.

use sea_orm::entity::prelude::*;

/// One action.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    /// Ascending id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The registrar.
    pub actor_id: Uuid,
    /// What was done (`contract.register`, …).
    pub action: String,
    /// `contract`, `deal`, `result`, …
    pub subject_kind: String,
    /// Which one.
    pub subject_id: Uuid,
    /// The particulars (registration number, reason …).
    pub detail: Json,
    /// When the action was taken.
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
