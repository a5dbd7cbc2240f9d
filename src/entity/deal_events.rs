//! `deal_events`: every move of a deal, with its note, kept forever.

use sea_orm::entity::prelude::*;

use crate::domain::Stage;

/// One move.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deal_events")]
pub struct Model {
    /// Ascending id: the order of the moves.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The deal.
    pub deal_id: Uuid,
    /// Stage before (`None` when the deal was opened).
    pub from_stage: Option<Stage>,
    /// Stage after.
    pub to_stage: Stage,
    /// What happened, in the actor's words.
    pub note: Option<String>,
    /// Who moved it (`None` when the registration of its contract did).
    pub actor_id: Option<Uuid>,
    /// When the move was made.
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
