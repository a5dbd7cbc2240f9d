//! `results`: research results (科技成果).

use sea_orm::entity::prelude::*;

use crate::domain::ListingStatus;

/// One research result.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "results")]
pub struct Model {
    /// UUID v7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Owning organization.
    pub organization_id: Uuid,
    /// The member who created it (`None` for command-line imports).
    pub created_by: Option<Uuid>,
    /// Id in the owner's own system, for re-imports.
    pub external_id: Option<String>,
    /// 成果名称.
    pub title: String,
    /// Short description.
    pub summary: String,
    /// Long description.
    pub details: Option<String>,
    /// JSON array of strings.
    pub keywords: Json,
    /// JSON array of industry codes.
    pub industry_codes: Json,
    /// 技术领域 code.
    pub tech_field: String,
    /// Technology readiness level, 1–9.
    pub trl: Option<i32>,
    /// Maturity stage code.
    pub maturity_stage: String,
    /// JSON array of cooperation-mode codes.
    pub cooperation_modes: Json,
    /// JSON array of `{ip_type, number, title}`.
    pub ip: Json,
    /// Asking price in fen; `None` = 面议.
    pub price_fen: Option<i64>,
    /// Only for the owner and the registrar.
    pub confidential_details: Option<String>,
    /// JSON `{name, phone, email}`.
    pub contact: Option<Json>,
    /// `draft`, `submitted`, `published`, `rejected`, `archived`.
    pub status: ListingStatus,
    /// Why the registrar rejected it.
    pub rejection_reason: Option<String>,
    /// When it was (last) published.
    pub published_at: Option<DateTimeUtc>,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// Goes up with every edit of the text (from 1).
    pub revision: i32,
    /// The revision the owner last submitted for review.
    pub submitted_revision: i32,
}

impl ActiveModelBehavior for ActiveModel {}
