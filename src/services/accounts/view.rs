//! The bodies the API answers about accounts: a user, their organization, a new session. Kept
//! apart from the entities so that a column never leaks by accident (a password hash has no field
//! here).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Account;
use super::sessions::IssuedToken;
use crate::domain::{Membership, OrgKind, Role};
use crate::entity::{organizations, users};

/// An organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    /// UUID v7 of the organization.
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// Organization kind: a code from `org_kinds` (`university`, `enterprise`, …).
    pub kind: OrgKind,
    /// 6-digit GB/T 2260 region code.
    pub region_code: String,
    /// Legal-entity nature code.
    pub nature_code: Option<String>,
    /// Xi'an development-zone code.
    pub zone: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl From<organizations::Model> for OrganizationView {
    fn from(o: organizations::Model) -> Self {
        Self {
            id: o.id,
            name: o.name,
            kind: o.kind,
            region_code: o.region_code,
            nature_code: o.nature_code,
            zone: o.zone,
            created_at: o.created_at,
        }
    }
}

/// A user as they see themselves (and as organization members see them).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// UUID v7 of the user.
    pub id: Uuid,
    /// E-mail address.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Role code.
    pub role: Role,
    /// `active`, or `pending` until approved by a member of the organization.
    pub membership: Membership,
    /// Organization id.
    pub organization_id: Option<Uuid>,
    /// The organization, where the answer includes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationView>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl UserView {
    /// A user without the organization object.
    pub fn bare(user: users::Model) -> Self {
        Self {
            id: user.id,
            email: user.email,
            display_name: user.display_name,
            role: user.role,
            membership: user.membership,
            organization_id: user.organization_id,
            organization: None,
            created_at: user.created_at,
        }
    }
}

impl From<Account> for UserView {
    fn from(account: Account) -> Self {
        let mut view = Self::bare(account.user);
        view.organization = account.organization.map(Into::into);
        view
    }
}

/// Answer of register and login.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// Bearer token for the `Authorization` header. Shown once; the server keeps only its hash.
    pub token: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// The user.
    pub user: UserView,
}

impl SessionView {
    /// Builds the answer from an account and its new token.
    pub fn new(account: Account, token: IssuedToken) -> Self {
        Self {
            token: token.token,
            expires_at: token.expires_at,
            user: account.into(),
        }
    }
}
