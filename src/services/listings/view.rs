//! The bodies the API answers about listings: a result, a demand with its challenge, a state
//! change, the owner shown with a listing. Confidential fields are filled only for an
//! [`Audience`] that may see them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::demands::{DemandRecord, challenge_of};
use super::results::{Contact, IpItem, ResultRecord};
use super::{Listing, Standing};
use crate::domain::{ListingStatus, OrgKind};
use crate::entity::{listing_events, organizations};
use crate::kernel::access::CurrentUser;
use crate::kernel::json::strings;

/// The owner of a listing, as shown with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationRef {
    /// UUID v7 of the organization.
    pub id: Uuid,
    /// Full legal name.
    pub name: String,
    /// Organization kind: a code from `org_kinds` (`university`, `enterprise`, …).
    pub kind: OrgKind,
    /// 6-digit region code.
    pub region_code: String,
    /// Development zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

impl From<&organizations::Model> for OrganizationRef {
    fn from(o: &organizations::Model) -> Self {
        Self {
            id: o.id,
            name: o.name.clone(),
            kind: o.kind,
            region_code: o.region_code.clone(),
            zone: o.zone.clone(),
        }
    }
}

/// A research result. Confidential fields appear only for the owner and the registrar; the
/// contact only for logged-in users.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultView {
    /// UUID v7 of the result.
    pub id: Uuid,
    /// 成果名称.
    pub title: String,
    /// 成果简介: short description, 10–2000 characters.
    pub summary: String,
    /// Full description.
    pub details: Option<String>,
    /// 关键词 the owner gave, up to 10.
    pub keywords: Vec<String>,
    /// Industry codes (6+5+6+1).
    pub industry_codes: Vec<String>,
    /// 技术领域.
    pub tech_field: String,
    /// TRL 1–9.
    pub trl: Option<i32>,
    /// Maturity stage.
    pub maturity_stage: String,
    /// Cooperation modes.
    pub cooperation_modes: Vec<String>,
    /// IP items.
    pub ip: Vec<IpItem>,
    /// Asking price in fen; null = 面议.
    pub price_fen: Option<i64>,
    /// True when the price is 面议 (negotiable).
    pub price_negotiable: bool,
    /// Its state, owner and times.
    #[serde(flatten)]
    pub standing: ListingStateView,
    /// Contact (logged-in users only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// Owner and registrar only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidential_details: Option<String>,
}

/// Where a listing stands, as every listing view shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListingStateView {
    /// Lifecycle status.
    pub status: ListingStatus,
    /// The revision of the text (goes up with every edit); a review names the one it decides on.
    pub revision: i32,
    /// The owner (a demand's posting organization).
    pub organization: OrganizationRef,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Owner and registrar only: why the registrar rejected it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    /// Owner and registrar only: id in the owner's own system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

impl ListingStateView {
    /// How `item`, owned by `owner`, stands for `audience`.
    pub fn of(item: &impl Listing, owner: &organizations::Model, audience: Audience) -> Self {
        let lifecycle = item.lifecycle();
        Self {
            status: lifecycle.status,
            revision: lifecycle.revision,
            organization: owner.into(),
            published_at: lifecycle.published_at,
            created_at: lifecycle.created_at,
            updated_at: lifecycle.updated_at,
            rejection_reason: lifecycle.rejection_reason.filter(|_| audience.privileged),
            external_id: lifecycle.external_id.filter(|_| audience.privileged),
        }
    }
}

/// What a viewer may see of a listing.
#[derive(Debug, Clone, Copy)]
pub struct Audience {
    /// Owner or registrar: confidential fields included.
    pub privileged: bool,
    /// Logged in: contact included.
    pub logged_in: bool,
}

impl Audience {
    /// How `user` (or an anonymous visitor) sees a listing of `organization_id`.
    pub fn of(user: Option<&CurrentUser>, organization_id: Uuid) -> Self {
        Self {
            privileged: Standing::of(user, organization_id).is_privileged(),
            logged_in: user.is_some(),
        }
    }
}

impl ResultView {
    /// Renders a result for `audience`.
    pub fn new(record: ResultRecord, audience: Audience) -> Self {
        let r = record.item;
        let standing = ListingStateView::of(&r, &record.organization, audience);
        let contact = if audience.logged_in {
            r.contact.and_then(|c| serde_json::from_value(c).ok())
        } else {
            None
        };
        Self {
            id: r.id,
            title: r.title,
            summary: r.summary,
            details: r.details,
            keywords: strings(&r.keywords),
            industry_codes: strings(&r.industry_codes),
            tech_field: r.tech_field,
            trl: r.trl,
            maturity_stage: r.maturity_stage,
            cooperation_modes: strings(&r.cooperation_modes),
            ip: serde_json::from_value(r.ip).unwrap_or_default(),
            price_negotiable: r.price_fen.is_none(),
            price_fen: r.price_fen,
            standing,
            contact,
            confidential_details: r.confidential_details.filter(|_| audience.privileged),
        }
    }
}

/// One recorded state change of a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// Who (user id; null for command-line imports).
    pub actor_id: Option<Uuid>,
    /// Status before (null on creation).
    pub from: Option<ListingStatus>,
    /// Status after.
    pub to: ListingStatus,
    /// Reason or note.
    pub reason: Option<String>,
    /// When the change was made.
    pub at: DateTime<Utc>,
}

impl From<listing_events::Model> for EventView {
    fn from(e: listing_events::Model) -> Self {
        Self {
            actor_id: e.actor_id,
            from: e.from_status,
            to: e.to_status,
            reason: e.reason,
            at: e.at,
        }
    }
}

/// The 揭榜挂帅 block of a demand as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeView {
    /// Reward (榜额) in fen.
    pub reward_fen: i64,
    /// Last day to apply.
    pub application_deadline: chrono::NaiveDate,
    /// Longest allowed duration in months.
    pub max_duration_months: i32,
    /// Acceptance indicators.
    pub indicators: String,
    /// IP ownership terms.
    pub ip_terms: String,
    /// Selection method code.
    pub selection_method: String,
    /// Whether a solver has been selected.
    pub selected: bool,
    /// The selected application (poster and registrar only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected_application_id: Option<Uuid>,
}

/// An enterprise demand, possibly a challenge.
#[derive(Debug, Serialize, ToSchema)]
pub struct DemandView {
    /// UUID v7 of the demand.
    pub id: Uuid,
    /// 需求名称, 2–200 characters.
    pub title: String,
    /// The problem.
    pub description: String,
    /// 关键词 the poster gave, up to 10.
    pub keywords: Vec<String>,
    /// Industry codes.
    pub industry_codes: Vec<String>,
    /// 技术领域.
    pub tech_field: String,
    /// Demand type.
    pub demand_type: String,
    /// Budget in fen; null = 面议.
    pub budget_fen: Option<i64>,
    /// True when the budget is 面议.
    pub budget_negotiable: bool,
    /// Wanted by.
    pub deadline: Option<chrono::NaiveDate>,
    /// The challenge block, for 揭榜挂帅 challenges.
    pub challenge: Option<ChallengeView>,
    /// Its state, owner and times.
    #[serde(flatten)]
    pub standing: ListingStateView,
}

impl DemandView {
    /// Renders a demand for `audience`.
    pub fn new(record: DemandRecord, audience: Audience) -> Self {
        let challenge = challenge_of(&record.item).map(|c| ChallengeView {
            reward_fen: c.reward_fen,
            application_deadline: c.application_deadline,
            max_duration_months: c.max_duration_months,
            indicators: c.indicators,
            ip_terms: c.ip_terms,
            selection_method: c.selection_method,
            selected: record.item.selected_application_id.is_some(),
            selected_application_id: record
                .item
                .selected_application_id
                .filter(|_| audience.privileged),
        });
        let d = record.item;
        let standing = ListingStateView::of(&d, &record.organization, audience);
        Self {
            id: d.id,
            title: d.title,
            description: d.description,
            keywords: strings(&d.keywords),
            industry_codes: strings(&d.industry_codes),
            tech_field: d.tech_field,
            demand_type: d.demand_type,
            budget_negotiable: d.budget_fen.is_none(),
            budget_fen: d.budget_fen,
            deadline: d.deadline,
            challenge,
            standing,
        }
    }
}
