//! `saved_searches`: a user's stored query and filters.

use sea_orm::entity::prelude::*;

use crate::domain::ListingKind;

/// One saved search.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "saved_searches")]
pub struct Model {
    /// UUID v7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The user who saved it; only they list or delete it and are notified of its matches.
    pub user_id: Uuid,
    /// Name given by the user.
    pub name: String,
    /// `result` or `demand`.
    pub kind: ListingKind,
    /// Query text.
    pub q: String,
    /// Industry filter.
    pub industry: Option<String>,
    /// 技术领域 filter.
    pub tech_field: Option<String>,
    /// Maturity-stage filter.
    pub maturity_stage: Option<String>,
    /// District or development-zone filter.
    pub district: Option<String>,
    /// When it was saved; only listings published later are notified.
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
