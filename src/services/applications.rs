//! 揭榜 applications to 揭榜挂帅 challenges.
//!
//! Researchers and brokers (active members of their organization) apply to a published challenge
//! before its application deadline, optionally offering one of their organization's published
//! results. Members of the posting organization cannot apply. The posting organization lists the
//! applications and selects one — once per challenge; the others become `not_selected`. Applicants
//! see their own applications and their status.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{ApplicationStatus, Membership, Role};
use crate::entity::{challenge_applications, demands, results};
use crate::error::{AppError, AppResult};
use crate::kernel::dates::today_in_china;
use crate::kernel::validation::Checks;
use crate::services::accounts::sessions::CurrentUser;
use crate::services::listings::demands::DemandRecord;
use crate::services::listings::{self, Listing, ListingKind, Standing, Status, ensure_visible};

/// `POST /api/v1/demands/{id}/applications`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationInput {
    /// A published result of the applicant's organization that the proposal builds on.
    #[serde(default)]
    pub result_id: Option<Uuid>,
    /// How the applicant would solve the challenge, 10–10000 characters.
    pub proposal: String,
}

/// Applies to a challenge.
pub async fn apply(
    db: &DatabaseConnection,
    user: &CurrentUser,
    demand_id: Uuid,
    input: ApplicationInput,
) -> AppResult<challenge_applications::Model> {
    let role_ok = user.user.role == Role::Researcher || user.user.role == Role::Broker;
    if !role_ok {
        return Err(AppError::Forbidden(
            "only researchers and brokers apply to challenges (揭榜)".into(),
        ));
    }
    if user.user.membership != Membership::Active {
        return Err(AppError::Forbidden(
            "your membership of the organization is still pending approval".into(),
        ));
    }
    let applicant_org = user
        .user
        .organization_id
        .ok_or_else(|| AppError::Forbidden("your account has no organization".into()))?;
    let mut checks = Checks::plain();
    checks.text("proposal", &input.proposal, 10, 10_000);
    checks.finish()?;
    let proposal = input.proposal.trim().to_owned();

    let txn = crate::db::begin_write(db).await?;
    let demand = open_challenge(&txn, Some(user), demand_id).await?;
    if demand.item.organization_id == applicant_org {
        return Err(AppError::Forbidden(
            "members of the posting organization cannot apply to its own challenge".into(),
        ));
    }
    if let Some(result_id) = input.result_id {
        let result = results::Entity::find_by_id(result_id).one(&txn).await?;
        let fits = result
            .is_some_and(|r| r.organization_id == applicant_org && r.status == Status::Published);
        let mut checks = Checks::plain();
        checks.check(
            fits,
            "result_id",
            "must be a published result of your own organization",
        );
        checks.finish()?;
    }
    let duplicate = challenge_applications::Entity::find()
        .filter(challenge_applications::Column::DemandId.eq(demand_id))
        .filter(challenge_applications::Column::ApplicantId.eq(user.user.id))
        .one(&txn)
        .await?;
    if duplicate.is_some() {
        return Err(AppError::Conflict(
            "you have already applied to this challenge".into(),
        ));
    }
    let application = challenge_applications::ActiveModel {
        id: Set(Uuid::now_v7()),
        demand_id: Set(demand_id),
        applicant_id: Set(user.user.id),
        applicant_org_id: Set(applicant_org),
        result_id: Set(input.result_id),
        proposal: Set(proposal),
        status: Set(ApplicationStatus::Submitted),
        created_at: Set(Utc::now()),
        decided_at: Set(None),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        crate::kernel::db_errors::conflict_on_unique(
            e,
            "you have already applied to this challenge",
        )
    })?;
    txn.commit().await?;
    Ok(application)
}

/// The published challenge `demand_id`, still open for applications.
async fn open_challenge<C: sea_orm::ConnectionTrait>(
    db: &C,
    user: Option<&CurrentUser>,
    demand_id: Uuid,
) -> AppResult<DemandRecord> {
    // Locked: a selection waits for this application to be written, or this application sees the
    // selection — never an undecided application left behind a selection.
    let demand = listings::find_locked::<demands::Entity, _>(db, demand_id).await?;
    let standing = Standing::of(user, demand.item.organization_id);
    ensure_visible(ListingKind::Demand, standing, demand.item.status())?;
    if demand.item.status() != Status::Published {
        return Err(AppError::Conflict(
            "applications open once the challenge is published".into(),
        ));
    }
    if !demand.item.is_challenge {
        return Err(AppError::Conflict(
            "this demand is not a 揭榜挂帅 challenge; contact the enterprise instead".into(),
        ));
    }
    if demand.item.selected_application_id.is_some() {
        return Err(AppError::Conflict(
            "this challenge has already selected its solver".into(),
        ));
    }
    if let Some(deadline) = demand.item.application_deadline
        && today_in_china() > deadline
    {
        return Err(AppError::Conflict(format!(
            "applications to this challenge closed on {deadline}"
        )));
    }
    Ok(demand)
}

/// The applications of a challenge: all of them for the posting organization and the registrar;
/// their own for applicants; `403` for anybody else.
pub async fn list_for_demand(
    db: &DatabaseConnection,
    user: &CurrentUser,
    demand_id: Uuid,
) -> AppResult<Vec<challenge_applications::Model>> {
    let demand = listings::find::<demands::Entity, _>(db, demand_id).await?;
    let standing = Standing::of(Some(user), demand.item.organization_id);
    ensure_visible(ListingKind::Demand, standing, demand.item.status())?;
    let mut query = challenge_applications::Entity::find()
        .filter(challenge_applications::Column::DemandId.eq(demand_id))
        .order_by_asc(challenge_applications::Column::CreatedAt);
    if !standing.is_privileged() {
        query = query.filter(challenge_applications::Column::ApplicantId.eq(user.user.id));
    }
    let applications = query.all(db).await?;
    if !standing.is_privileged() && applications.is_empty() {
        return Err(AppError::Forbidden(
            "the applications of a challenge are shown to its poster; you have not applied".into(),
        ));
    }
    Ok(applications)
}

/// The applications the user made, newest first.
pub async fn mine(
    db: &DatabaseConnection,
    user: &CurrentUser,
) -> AppResult<Vec<challenge_applications::Model>> {
    Ok(challenge_applications::Entity::find()
        .filter(challenge_applications::Column::ApplicantId.eq(user.user.id))
        .order_by_desc(challenge_applications::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Selects one application (active members of the posting organization). One selection per
/// challenge: the other applications become `not_selected`.
pub async fn select(
    db: &DatabaseConnection,
    user: &CurrentUser,
    demand_id: Uuid,
    application_id: Uuid,
) -> AppResult<challenge_applications::Model> {
    let txn = crate::db::begin_write(db).await?;
    let demand = listings::find_locked::<demands::Entity, _>(&txn, demand_id).await?;
    let standing = Standing::of(Some(user), demand.item.organization_id);
    ensure_visible(ListingKind::Demand, standing, demand.item.status())?;
    if standing != Standing::Owner {
        return Err(AppError::Forbidden(
            "only members of the posting organization select an application".into(),
        ));
    }
    if demand.item.selected_application_id.is_some() {
        return Err(AppError::Conflict(
            "this challenge has already selected an application".into(),
        ));
    }
    let application = challenge_applications::Entity::find_by_id(application_id)
        .filter(challenge_applications::Column::DemandId.eq(demand_id))
        .one(&txn)
        .await?
        .ok_or_else(|| {
            AppError::NotFound("this challenge has no application with this id".into())
        })?;
    let now = Utc::now();
    // Claim the selection with a conditional update, so that two concurrent selections cannot both
    // succeed (on PostgreSQL the second waits for the first and then matches no row).
    let claimed = demands::Entity::update_many()
        .col_expr(
            demands::Column::SelectedApplicationId,
            Expr::value(application_id),
        )
        .col_expr(demands::Column::UpdatedAt, Expr::value(now))
        .filter(demands::Column::Id.eq(demand_id))
        .filter(demands::Column::SelectedApplicationId.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict(
            "this challenge has already selected an application".into(),
        ));
    }
    challenge_applications::Entity::update_many()
        .col_expr(
            challenge_applications::Column::Status,
            Expr::value(ApplicationStatus::NotSelected),
        )
        .col_expr(challenge_applications::Column::DecidedAt, Expr::value(now))
        .filter(challenge_applications::Column::DemandId.eq(demand_id))
        .filter(challenge_applications::Column::Id.ne(application_id))
        .exec(&txn)
        .await?;
    let mut chosen: challenge_applications::ActiveModel = application.into();
    chosen.status = Set(ApplicationStatus::Selected);
    chosen.decided_at = Set(Some(now));
    let chosen = chosen.update(&txn).await?;
    txn.commit().await?;
    Ok(chosen)
}

/// A 揭榜 application.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    /// UUID v7 of the application.
    pub id: Uuid,
    /// The challenge.
    pub demand_id: Uuid,
    /// The applicant.
    pub applicant_id: Uuid,
    /// The applicant's organization.
    pub applicant_org_id: Uuid,
    /// The result offered.
    pub result_id: Option<Uuid>,
    /// The proposal.
    pub proposal: String,
    /// `submitted`, `selected` or `not_selected`.
    pub status: ApplicationStatus,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When the poster decided.
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<challenge_applications::Model> for ApplicationView {
    fn from(a: challenge_applications::Model) -> Self {
        Self {
            id: a.id,
            demand_id: a.demand_id,
            applicant_id: a.applicant_id,
            applicant_org_id: a.applicant_org_id,
            result_id: a.result_id,
            proposal: a.proposal,
            status: a.status,
            created_at: a.created_at,
            decided_at: a.decided_at,
        }
    }
}
