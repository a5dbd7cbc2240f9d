//! Accounts and organizations: registration, login, logout, and the registrar created from the
//! command line (here); an organization's members and its approval of newcomers
//! (`organizations`); password hashing and strength (`passwords`); bearer sessions (`sessions`);
//! the throttle of failed logins (`login_throttle`).

pub mod login_throttle;
pub mod organizations;
pub mod passwords;
pub mod sessions;
pub mod view;

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::config::Settings;
use crate::domain::{Membership, OrgKind, Role, normalize_email};
use crate::entity::{organizations as organization_rows, users};
use crate::error::{AppError, AppResult};
use crate::kernel::db_errors::conflict_on_unique;
use crate::kernel::validation::{self, Checks};
use crate::reference::ReferenceData;
use organizations::{NewOrganization, insert_organization};
use sessions::IssuedToken;

/// `POST /api/v1/auth/register`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// E-mail address; the login name.
    pub email: String,
    /// 10 to 256 characters, not all spaces, at least 4 different characters, not a sequence, a
    /// repetition or one of the most common passwords.
    pub password: String,
    /// Name shown to other users; invisible and control characters are refused.
    pub display_name: String,
    /// `researcher`, `enterprise` or `broker` (registrars are created by the operator).
    pub role: Role,
    /// Join this existing organization (the membership waits for approval by one of its members).
    pub organization_id: Option<Uuid>,
    /// Or create this organization and become its first member.
    pub organization: Option<NewOrganization>,
}

/// A user with their organization, as returned by the account services.
pub struct Account {
    /// The user.
    pub user: users::Model,
    /// Their organization.
    pub organization: Option<organization_rows::Model>,
}

/// Registers a user (and possibly a new organization) and logs them in.
pub async fn register(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    settings: &Settings,
    input: Registration,
    ip: &str,
) -> AppResult<(Account, IssuedToken)> {
    validate_registration(reference, &input)?;
    // Counted after validation (a typo costs nothing) and before the e-mail is looked up, so that
    // each probe of an e-mail costs one attempt; the password is hashed before the lookup, so a
    // taken e-mail answers as slowly as a new one.
    login_throttle::check_registration(db, settings, ip).await?;
    let email = normalize_email(&input.email);
    let password_hash = passwords::hash(input.password).await?;

    let txn = crate::db::begin_write(db).await?;
    if users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(
            "email: this e-mail cannot be registered; if it is yours, log in instead".into(),
        ));
    }
    let (organization, membership) = match (input.organization_id, input.organization) {
        (Some(id), None) => {
            let organization = organization_rows::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or_else(|| validation::not_found("organization_id", "organization"))?;
            let mut checks = Checks::plain();
            check_kind_fits_role(
                &mut checks,
                input.role,
                organization.kind.as_str(),
                "organization_id",
            );
            checks.finish()?;
            (organization, Membership::Pending)
        }
        (None, Some(new)) => (insert_organization(&txn, new).await?, Membership::Active),
        // Both or neither: rejected by validate_registration.
        _ => {
            return Err(AppError::field(
                "organization",
                "give exactly one of organization_id and organization",
            ));
        }
    };
    let user = insert_user(
        &txn,
        &email,
        password_hash,
        &input.display_name,
        input.role,
        Some(organization.id),
        membership,
    )
    .await?;
    let token = sessions::issue(&txn, user.id, token_ttl(settings)).await?;
    txn.commit().await?;
    Ok((
        Account {
            user,
            organization: Some(organization),
        },
        token,
    ))
}

/// The rules of a new account's name and password, shared by registration and the registrar the
/// operator creates.
fn check_account<R>(checks: &mut Checks<R>, email: &str, password: &str, display_name: &str) {
    checks.email("email", email);
    passwords::check_new(checks, "password", password);
    checks.name("display_name", display_name, 1, MAX_DISPLAY_NAME_CHARS);
}

/// Longest display name, in characters.
const MAX_DISPLAY_NAME_CHARS: usize = 100;

fn validate_registration(reference: &ReferenceData, input: &Registration) -> AppResult<()> {
    let mut checks = Checks::new(reference);
    check_account(
        &mut checks,
        &input.email,
        &input.password,
        &input.display_name,
    );
    checks.check(
        input.role != Role::Registrar,
        "role",
        "registrar accounts cannot register themselves; the market operator creates them",
    );
    match (&input.organization_id, &input.organization) {
        (Some(_), Some(_)) => {
            checks.check(
                false,
                "organization",
                "give either organization_id (to join) or organization (to create), not both",
            );
        }
        (None, None) => {
            checks.check(
                false,
                "organization",
                "required: organization_id of an existing organization, or a new organization",
            );
        }
        (None, Some(new)) => {
            new.check(&mut checks, "organization");
            // A registrar is refused above; naming a kind for it would be a second message.
            if input.role != Role::Registrar {
                check_kind_fits_role(
                    &mut checks,
                    input.role,
                    new.kind.as_str(),
                    "organization.kind",
                );
            }
        }
        (Some(_), None) => {}
    }
    checks.finish()
}

fn check_kind_fits_role<R>(checks: &mut Checks<R>, role: Role, kind: &str, field: &str) {
    let allowed = role.allowed_org_kinds();
    let fits = OrgKind::parse(kind).is_some_and(|k| allowed.contains(&k));
    let names = allowed
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(" or ");
    checks.check(
        fits,
        field,
        format!(
            "a {} must belong to an organization of kind {names}; this one is {kind}",
            role.as_str()
        ),
    );
}

/// Inserts a user whose input has been validated and whose password has been hashed.
pub(crate) async fn insert_user<C: ConnectionTrait>(
    db: &C,
    email: &str,
    password_hash: String,
    display_name: &str,
    role: Role,
    organization_id: Option<Uuid>,
    membership: Membership,
) -> AppResult<users::Model> {
    users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(normalize_email(email)),
        password_hash: Set(password_hash),
        display_name: Set(display_name.trim().to_owned()),
        role: Set(role),
        organization_id: Set(organization_id),
        membership: Set(membership),
        created_at: Set(Utc::now()),
        last_login_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(|e| conflict_on_unique(e, "an account with this e-mail already exists"))
}

fn token_ttl(settings: &Settings) -> Duration {
    Duration::hours(settings.token_ttl_hours.max(1))
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Credentials {
    /// E-mail address.
    pub email: String,
    /// The account's password, in clear; failed logins are throttled by address and account.
    pub password: String,
}

/// Checks credentials (with throttling) and issues a token.
pub async fn login(
    db: &DatabaseConnection,
    settings: &Settings,
    credentials: Credentials,
    ip: &str,
) -> AppResult<(Account, IssuedToken)> {
    let email = normalize_email(&credentials.email);
    login_throttle::check(db, settings, &email, ip).await?;
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .one(db)
        .await?;
    let stored = match &user {
        Some(user) => user.password_hash.clone(),
        None => passwords::dummy_hash().await?,
    };
    let matches = passwords::verify(credentials.password, stored).await?;
    let user = match user {
        Some(user) if matches => user,
        _ => {
            login_throttle::record_failure(db, settings, &email, ip).await?;
            return Err(AppError::Unauthorized("wrong e-mail or password".into()));
        }
    };
    login_throttle::clear(db, &email, ip).await?;

    let txn = crate::db::begin_write(db).await?;
    let mut active: users::ActiveModel = user.into();
    active.last_login_at = Set(Some(Utc::now()));
    let user = active.update(&txn).await?;
    let token = sessions::issue(&txn, user.id, token_ttl(settings)).await?;
    let organization = match user.organization_id {
        Some(id) => organization_rows::Entity::find_by_id(id).one(&txn).await?,
        None => None,
    };
    txn.commit().await?;
    Ok((Account { user, organization }, token))
}

/// Creates a registrar account, or resets the password of an existing registrar with that e-mail.
/// Returns whether a new account was created.
pub async fn create_registrar(
    db: &DatabaseConnection,
    email: &str,
    password: String,
    display_name: &str,
) -> AppResult<bool> {
    let email = normalize_email(email);
    let mut checks = Checks::plain();
    check_account(&mut checks, &email, &password, display_name);
    checks.finish()?;
    let password_hash = passwords::hash(password).await?;
    let txn = crate::db::begin_write(db).await?;
    let existing = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .one(&txn)
        .await?;
    let created = match existing {
        Some(user) if user.role == Role::Registrar => {
            let mut active: users::ActiveModel = user.into();
            active.password_hash = Set(password_hash);
            active.update(&txn).await?;
            false
        }
        Some(_) => {
            return Err(AppError::Conflict(format!(
                "{email} belongs to an account that is not a registrar"
            )));
        }
        None => {
            insert_user(
                &txn,
                &email,
                password_hash,
                display_name,
                Role::Registrar,
                None,
                Membership::Active,
            )
            .await?;
            true
        }
    };
    txn.commit().await?;
    Ok(created)
}
