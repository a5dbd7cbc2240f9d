//! `listing_industries`: which industries a listing belongs to, for filters and catalogue counts.

use sea_orm::entity::prelude::*;

use crate::domain::ListingKind;

/// One (listing, industry) pair.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "listing_industries")]
pub struct Model {
    /// `result` or `demand`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub listing_kind: ListingKind,
    /// The listing.
    #[sea_orm(primary_key, auto_increment = false)]
    pub listing_id: Uuid,
    /// Industry code.
    #[sea_orm(primary_key, auto_increment = false)]
    pub industry_code: String,
    /// Whether the listing is published (kept in step with its status).
    pub published: bool,
}

impl ActiveModelBehavior for ActiveModel {}
