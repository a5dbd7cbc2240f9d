//! Organizations and their members.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{Membership, OrgKind, Role};
use crate::entity::{organizations, users};
use crate::error::{AppError, AppResult, FieldError};
use crate::kernel::db_errors::conflict_on_unique;
use crate::kernel::validation::Checks;
use crate::reference::ReferenceData;
use crate::services::accounts::sessions::CurrentUser;
use crate::text::name_key;

/// A new organization, given at registration.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    /// Full legal name, e.g. 西安电子科技大学. Invisible and control characters are refused; names
    /// that differ only in width, case, spacing or invisible characters are the same organization.
    pub name: String,
    /// Organization kind.
    pub kind: OrgKind,
    /// 6-digit GB/T 2260 region code, e.g. `610113` (雁塔区).
    pub region_code: String,
    /// Legal-entity nature code, e.g. `022` (高等院校).
    pub nature_code: Option<String>,
    /// Xi'an development-zone code, e.g. `gaoxin`.
    pub zone: Option<String>,
}

impl NewOrganization {
    /// Checks every field; `prefix` is the field path of this object (e.g. `organization`).
    pub fn check(&self, checks: &mut Checks<&ReferenceData>, prefix: &str) {
        checks.name(&format!("{prefix}.name"), &self.name, 1, MAX_NAME_CHARS);
        self.check_codes(checks, prefix);
    }

    /// The errors of the codes alone (the import checks the name itself).
    pub fn reference_errors(&self, reference: &ReferenceData, prefix: &str) -> Vec<FieldError> {
        let mut checks = Checks::new(reference);
        self.check_codes(&mut checks, prefix);
        checks.errors
    }

    fn check_codes(&self, checks: &mut Checks<&ReferenceData>, prefix: &str) {
        checks.region(&format!("{prefix}.region_code"), &self.region_code);
        if let Some(code) = &self.nature_code {
            checks.one(&format!("{prefix}.nature_code"), "nature_codes", code);
        }
        if let Some(zone) = &self.zone {
            checks.one(&format!("{prefix}.zone"), "zones", zone);
        }
    }
}

/// Longest organization name, in characters.
const MAX_NAME_CHARS: usize = 200;

/// Longest name key kept (the `name_key` column); NFKC may make a key longer than its name.
const MAX_NAME_KEY_CHARS: usize = 200;

/// Inserts a validated new organization; `409` naming `organization.name` when an organization
/// with the same name key exists (the check before the insert answers with its id; the unique
/// index answers a concurrent insert).
pub async fn insert_organization<C: ConnectionTrait>(
    db: &C,
    new: NewOrganization,
) -> AppResult<organizations::Model> {
    let name = new.name.split_whitespace().collect::<Vec<_>>().join(" ");
    let name_key = name_key(&name);
    // Checked here too, not only at registration: the import and the demo loader insert through
    // this function.
    let mut checks = Checks::plain();
    checks.visible("organization.name", &new.name);
    checks.check(
        name_key.chars().count() <= MAX_NAME_KEY_CHARS,
        "organization.name",
        format!("is too long once normalized (at most {MAX_NAME_KEY_CHARS} characters)"),
    );
    checks.finish()?;
    let taken = organizations::Entity::find()
        .filter(organizations::Column::NameKey.eq(&name_key))
        .one(db)
        .await?;
    if let Some(existing) = taken {
        return Err(AppError::Conflict(format!(
            "organization.name: an organization named {} already exists (id {}); register with its organization_id to join it",
            existing.name, existing.id
        )));
    }
    organizations::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        name_key: Set(name_key),
        kind: Set(new.kind),
        region_code: Set(new.region_code),
        nature_code: Set(new.nature_code),
        zone: Set(new.zone),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .map_err(|e| {
        conflict_on_unique(
            e,
            "organization.name: an organization with this name already exists",
        )
    })
}

/// Filters of the organization list.
#[derive(Debug, Default)]
pub struct OrganizationFilter {
    /// Part of the name.
    pub name: Option<String>,
    /// Organization kind.
    pub kind: Option<OrgKind>,
}

/// Lists organizations by name, a page at a time. Returns the page and the total.
pub async fn list(
    db: &DatabaseConnection,
    filter: OrganizationFilter,
    page: u64,
    per_page: u64,
) -> AppResult<(Vec<organizations::Model>, u64)> {
    let mut query = organizations::Entity::find().order_by_asc(organizations::Column::Name);
    if let Some(name) = filter.name.filter(|n| !n.trim().is_empty()) {
        query = query.filter(organizations::Column::NameKey.contains(name_key(&name)));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(organizations::Column::Kind.eq(kind));
    }
    let paginator = query.paginate(db, per_page);
    let total = paginator.num_items().await?;
    let items = paginator.fetch_page(page.saturating_sub(1)).await?;
    Ok((items, total))
}

/// One organization; `404` when unknown.
pub async fn get(db: &DatabaseConnection, id: Uuid) -> AppResult<organizations::Model> {
    organizations::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no organization has this id".into()))
}

/// Whether `actor` may manage the members of `organization_id`: an active member, or the registrar.
fn may_manage_members(actor: &CurrentUser, organization_id: Uuid) -> bool {
    actor.user.role == Role::Registrar
        || (actor.user.organization_id == Some(organization_id)
            && actor.user.membership == Membership::Active)
}

/// The members of an organization (active and pending), for its active members and the registrar.
pub async fn members(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    organization_id: Uuid,
) -> AppResult<Vec<users::Model>> {
    get(db, organization_id).await?;
    if !may_manage_members(actor, organization_id) {
        return Err(AppError::Forbidden(
            "only active members of the organization and the registrar see its members".into(),
        ));
    }
    Ok(users::Entity::find()
        .filter(users::Column::OrganizationId.eq(organization_id))
        .order_by_asc(users::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Approves a pending member; returns the updated user.
pub async fn approve_member(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    organization_id: Uuid,
    user_id: Uuid,
) -> AppResult<users::Model> {
    get(db, organization_id).await?;
    if !may_manage_members(actor, organization_id) {
        return Err(AppError::Forbidden(
            "only active members of the organization and the registrar approve members".into(),
        ));
    }
    let user = users::Entity::find_by_id(user_id)
        .filter(users::Column::OrganizationId.eq(organization_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("this organization has no member with this id".into()))?;
    if user.membership == Membership::Active {
        return Ok(user);
    }
    // Compare-and-set on "pending": the update writes only the membership, so it cannot undo a
    // concurrent change of the user's other fields, and approving twice is harmless.
    users::Entity::update_many()
        .col_expr(users::Column::Membership, Expr::value(Membership::Active))
        .filter(users::Column::Id.eq(user_id))
        .filter(users::Column::OrganizationId.eq(organization_id))
        .filter(users::Column::Membership.eq(Membership::Pending))
        .exec(db)
        .await?;
    users::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("this organization has no member with this id".into()))
}
