//! `notifications`: a newly published listing that matches a saved search.

use sea_orm::entity::prelude::*;

use crate::domain::ListingKind;

/// One notification.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    /// UUID v7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The user notified: the owner of the saved search.
    pub user_id: Uuid,
    /// The saved search that matched.
    pub saved_search_id: Uuid,
    /// `result` or `demand`.
    pub listing_kind: ListingKind,
    /// The listing.
    pub listing_id: Uuid,
    /// The listing's title when it was notified.
    pub title: String,
    /// When the match was recorded.
    pub created_at: DateTimeUtc,
    /// When the user marked it read.
    pub read_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
