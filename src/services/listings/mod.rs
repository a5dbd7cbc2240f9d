//! What results and demands share: the lifecycle, who may see and do what, the history of state
//! changes, the industry classification table and the search outbox.
//!
//! Lifecycle: `draft → submitted → published | rejected → archived`.
//! - `submit`: draft or rejected → submitted.
//! - `review` (registrar): submitted → published, or → rejected with a reason.
//! - `archive` (owner or registrar): any state but archived → archived.
//! - editing: allowed in draft, submitted and rejected (the state stays); editing a *published*
//!   listing sends it back to `submitted`, so it leaves the public catalogue until the registrar
//!   approves the new text — nobody ever sees an unreviewed edit as reviewed.
//!
//! Anything else is `409 Conflict`.
//!
//! Here: the kinds, statuses and standings, and a listing with its owner. `lifecycle` holds the
//! moves and their locked compare-and-set writes, `editing` the writing of a listing's text
//! (create, import row, edit) over each kind's [`ListingFields`], `access` who may see and act,
//! `store` what both tables share in the database (finding, pages, history, industry rows, search
//! outbox), `input` a patch's nullable fields. The kinds themselves
//! (`results`, `demands`) hold only their fields, filters and, for demands, the challenge;
//! `catalogue` counts the published listings of each industry.

mod access;
pub mod catalogue;
pub mod demands;
mod editing;
mod input;
mod lifecycle;
pub mod results;
mod store;
pub mod view;

use uuid::Uuid;

use crate::domain::{Membership, Role};
use crate::entity::organizations;
use crate::error::{AppError, AppResult};
use crate::services::accounts::sessions::CurrentUser;

pub use access::{
    acting_organization, ensure_owner, ensure_visible, organizations_in_district,
    sees_only_published, visibility_condition,
};
pub use editing::{ListingFields, NewListing, create, new_row, overwrite, update};
pub use input::nullable;
pub use lifecycle::{
    Decision, Move, Review, Revisions, Transition, after_edit, audit_registrar_move, count_edit,
    decide, history, revisions_after_edit, transition, write_transition,
};
pub use store::{
    CommonFilter, ListFilter, ListingTable, count_published_in_industry, enqueue_for_search,
    event_model, events, find, find_locked, get, in_industry, industry_models, list, list_page,
    mark_published, outbox_model, record_event, replace_industries, with_organization,
    with_organizations,
};

pub use crate::domain::{ListingKind, ListingStatus as Status};

// The lifecycle's moves on the stored states (declared in `domain`).
impl Status {
    /// The state after an edit, or `409` when the listing cannot be edited.
    pub fn after_edit(self) -> AppResult<Self> {
        match self {
            Self::Draft | Self::Submitted | Self::Rejected => Ok(self),
            Self::Published => Ok(Self::Submitted),
            Self::Archived => Err(AppError::Conflict(
                "an archived listing cannot be edited".into(),
            )),
        }
    }

    /// The state after submitting, or `409`.
    pub fn after_submit(self) -> AppResult<Self> {
        match self {
            Self::Draft | Self::Rejected => Ok(Self::Submitted),
            other => Err(AppError::Conflict(format!(
                "only a draft or rejected listing can be submitted; this one is {}",
                other.as_str()
            ))),
        }
    }

    /// The state after the registrar's decision, or `409`.
    pub fn after_review(self, approve: bool) -> AppResult<Self> {
        match self {
            Self::Submitted if approve => Ok(Self::Published),
            Self::Submitted => Ok(Self::Rejected),
            other => Err(AppError::Conflict(format!(
                "only a submitted listing can be reviewed; this one is {}",
                other.as_str()
            ))),
        }
    }

    /// The state after archiving, or `409`.
    pub fn after_archive(self) -> AppResult<Self> {
        match self {
            Self::Archived => Err(AppError::Conflict("the listing is already archived".into())),
            _ => Ok(Self::Archived),
        }
    }
}

/// How the current user stands to one listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// An active member of the owning organization.
    Owner,
    /// The market operator.
    Registrar,
    /// Anybody else, logged in or not.
    Public,
}

impl Standing {
    /// The standing of `user` (or an anonymous visitor) to a listing of `organization_id`.
    pub fn of(user: Option<&CurrentUser>, organization_id: Uuid) -> Self {
        match user {
            Some(u) if u.user.role == Role::Registrar => Self::Registrar,
            Some(u)
                if u.user.organization_id == Some(organization_id)
                    && u.user.membership == Membership::Active =>
            {
                Self::Owner
            }
            _ => Self::Public,
        }
    }

    /// Whether this viewer sees non-public states and confidential fields.
    pub fn is_privileged(self) -> bool {
        matches!(self, Self::Owner | Self::Registrar)
    }
}

/// What every listing model tells about itself.
pub trait Listing {
    /// The owning organization.
    fn organization_id(&self) -> Uuid;
    /// Its lifecycle state.
    fn status(&self) -> Status;
    /// Its current and submitted revisions.
    fn revisions(&self) -> Revisions;
    /// Where it stands, as its views show it.
    fn lifecycle(&self) -> Lifecycle;
}

/// Where a listing stands: its state, its revision and its times, with the two fields only its
/// owner and the registrar see.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    /// Its lifecycle state.
    pub status: Status,
    /// The revision of its text.
    pub revision: i32,
    /// When it was (last) published.
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Creation time.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// Why the registrar rejected it.
    pub rejection_reason: Option<String>,
    /// Id in the owner's own system.
    pub external_id: Option<String>,
}

macro_rules! listing {
    ($model:path) => {
        impl Listing for $model {
            fn organization_id(&self) -> Uuid {
                self.organization_id
            }
            fn status(&self) -> Status {
                self.status
            }
            fn revisions(&self) -> Revisions {
                Revisions {
                    current: self.revision,
                    submitted: self.submitted_revision,
                }
            }
            fn lifecycle(&self) -> Lifecycle {
                Lifecycle {
                    status: self.status,
                    revision: self.revision,
                    published_at: self.published_at,
                    created_at: self.created_at,
                    updated_at: self.updated_at,
                    rejection_reason: self.rejection_reason.clone(),
                    external_id: self.external_id.clone(),
                }
            }
        }
    };
}

listing!(crate::entity::results::Model);
listing!(crate::entity::demands::Model);

/// A listing with its owning organization.
#[derive(Debug, Clone)]
pub struct Listed<M> {
    /// The listing.
    pub item: M,
    /// Its owner.
    pub organization: organizations::Model,
}

#[cfg(test)]
mod tests {
    use super::Status::*;

    #[test]
    fn the_lifecycle_allows_only_its_transitions() {
        assert_eq!(Draft.after_submit().ok(), Some(Submitted));
        assert_eq!(Rejected.after_submit().ok(), Some(Submitted));
        assert!(Submitted.after_submit().is_err());
        assert!(Published.after_submit().is_err());
        assert_eq!(Submitted.after_review(true).ok(), Some(Published));
        assert_eq!(Submitted.after_review(false).ok(), Some(Rejected));
        assert!(Draft.after_review(true).is_err());
        assert!(Published.after_review(false).is_err());
        assert_eq!(Published.after_edit().ok(), Some(Submitted));
        assert_eq!(Draft.after_edit().ok(), Some(Draft));
        assert!(Archived.after_edit().is_err());
        assert!(Archived.after_archive().is_err());
        assert_eq!(Published.after_archive().ok(), Some(Archived));
    }
}
