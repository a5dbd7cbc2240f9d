//! `demands`: enterprise technology demands (企业技术需求), and 揭榜挂帅 challenges.

use sea_orm::entity::prelude::*;

use crate::domain::ListingStatus;

/// One demand; a challenge when `is_challenge`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "demands")]
pub struct Model {
    /// UUID v7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Posting organization.
    pub organization_id: Uuid,
    /// The member who created it (`None` for command-line imports).
    pub created_by: Option<Uuid>,
    /// Id in the poster's own system, for re-imports.
    pub external_id: Option<String>,
    /// 需求名称 (the demand's title).
    pub title: String,
    /// The problem to solve.
    pub description: String,
    /// JSON array of strings.
    pub keywords: Json,
    /// JSON array of industry codes.
    pub industry_codes: Json,
    /// 技术领域 code.
    pub tech_field: String,
    /// Demand-type code.
    pub demand_type: String,
    /// Budget in fen; `None` = 面议.
    pub budget_fen: Option<i64>,
    /// Wanted by.
    pub deadline: Option<Date>,
    /// Whether this is a 揭榜挂帅 challenge.
    pub is_challenge: bool,
    /// Challenge reward (榜额) in fen.
    pub reward_fen: Option<i64>,
    /// Last day to apply.
    pub application_deadline: Option<Date>,
    /// Longest allowed project duration.
    pub max_duration_months: Option<i32>,
    /// Acceptance indicators (考核指标).
    pub indicators: Option<String>,
    /// IP ownership terms (产权归属).
    pub ip_terms: Option<String>,
    /// Selection-method code.
    pub selection_method: Option<String>,
    /// The selected application, once chosen.
    pub selected_application_id: Option<Uuid>,
    /// Lifecycle status.
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
