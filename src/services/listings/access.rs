//! Who may see and act on a listing: visibility by status and standing, as checks and as the
//! SQL conditions of the lists.

use sea_orm::ColumnTrait;
use uuid::Uuid;

use super::{ListingKind, Standing, Status};
use crate::domain::{Membership, Role};
use crate::entity::organizations;
use crate::error::{AppError, AppResult};
use crate::services::accounts::sessions::CurrentUser;

/// `404` unless the viewer may see a listing in `status`: the public sees only published listings.
pub fn ensure_visible(kind: ListingKind, standing: Standing, status: Status) -> AppResult<()> {
    if standing.is_privileged() || status == Status::Published {
        Ok(())
    } else {
        Err(AppError::NotFound(format!(
            "no {} has this id",
            kind.noun()
        )))
    }
}

/// `403` unless the user is an active member of the owning organization (the registrar reviews but
/// does not write other organizations' listings).
pub fn ensure_owner(kind: ListingKind, standing: Standing) -> AppResult<()> {
    match standing {
        Standing::Owner => Ok(()),
        _ => Err(AppError::Forbidden(format!(
            "only members of the organization that owns this {} may change it",
            kind.noun()
        ))),
    }
}

/// The organization an active member of the right role acts for; `403` otherwise.
pub fn acting_organization(user: &CurrentUser, role: Role, what: &str) -> AppResult<Uuid> {
    if user.user.role != role {
        return Err(AppError::Forbidden(format!(
            "only {} accounts can {what}",
            role.as_str()
        )));
    }
    if user.user.membership != Membership::Active {
        return Err(AppError::Forbidden(
            "your membership of the organization is still pending approval".into(),
        ));
    }
    user.user
        .organization_id
        .ok_or_else(|| AppError::Forbidden("your account has no organization".into()))
}

/// `SELECT id FROM organizations` in a district (6-digit code) or development zone.
pub fn organizations_in_district(district: &str) -> sea_orm::sea_query::SelectStatement {
    let column = if district.bytes().all(|b| b.is_ascii_digit()) {
        organizations::Column::RegionCode
    } else {
        organizations::Column::Zone
    };
    sea_orm::sea_query::Query::select()
        .column(organizations::Column::Id)
        .from(organizations::Entity)
        .and_where(column.eq(district))
        .to_owned()
}

/// Whether `user` sees only published listings in lists (anonymous users, members of no
/// organization, pending members).
pub fn sees_only_published(user: Option<&CurrentUser>) -> bool {
    match user {
        Some(u) if u.user.role == Role::Registrar => false,
        Some(u) => u.user.membership != Membership::Active || u.user.organization_id.is_none(),
        None => true,
    }
}

/// The condition that limits a list to what `user` may see: published listings, plus everything of
/// the user's own organization, plus everything for the registrar.
pub fn visibility_condition<C: ColumnTrait>(
    user: Option<&CurrentUser>,
    status_column: C,
    organization_column: C,
) -> sea_orm::Condition {
    use sea_orm::Condition;
    let published = status_column.eq(Status::Published);
    match user {
        Some(u) if u.user.role == Role::Registrar => Condition::all(),
        Some(u) if u.user.membership == Membership::Active => match u.user.organization_id {
            Some(org) => Condition::any()
                .add(published)
                .add(organization_column.eq(org)),
            None => Condition::all().add(published),
        },
        _ => Condition::all().add(published),
    }
}
