//! `listing_events`: every state change of a listing, kept forever.

use sea_orm::entity::prelude::*;

use crate::domain::{ListingKind, ListingStatus};

/// One state change.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "listing_events")]
pub struct Model {
    /// UUID v7 (time-ordered).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `result` or `demand`.
    pub listing_kind: ListingKind,
    /// The listing.
    pub listing_id: Uuid,
    /// Who did it (`None` for imports run from the command line).
    pub actor_id: Option<Uuid>,
    /// Status before (`None` on creation).
    pub from_status: Option<ListingStatus>,
    /// Status after.
    pub to_status: ListingStatus,
    /// Reason or note.
    pub reason: Option<String>,
    /// When the change was made.
    pub at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
