//! `search_outbox`: listings whose searchable state changed, written in the same transaction as the
//! change and applied to the search index by the indexer.

use sea_orm::entity::prelude::*;

use crate::domain::ListingKind;

/// One change to apply.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "search_outbox")]
pub struct Model {
    /// Sequence number; the indexer records the last one applied.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `result` or `demand`.
    pub listing_kind: ListingKind,
    /// The listing (the indexer reads its current state from the database).
    pub listing_id: Uuid,
    /// When the change happened.
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
