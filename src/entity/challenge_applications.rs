//! `challenge_applications`: 揭榜 applications to challenges.

use sea_orm::entity::prelude::*;

use crate::domain::ApplicationStatus;

/// One application.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "challenge_applications")]
pub struct Model {
    /// UUID v7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The challenge (a demand).
    pub demand_id: Uuid,
    /// The applying user.
    pub applicant_id: Uuid,
    /// The applicant's organization.
    pub applicant_org_id: Uuid,
    /// A result of the applicant's organization offered as the basis.
    pub result_id: Option<Uuid>,
    /// The proposal text.
    pub proposal: String,
    /// `submitted`, `selected` or `not_selected`.
    pub status: ApplicationStatus,
    /// When it was made.
    pub created_at: DateTimeUtc,
    /// When the poster decided.
    pub decided_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
