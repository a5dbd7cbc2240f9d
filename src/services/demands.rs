//! Enterprise technology demands (企业技术需求) and 揭榜挂帅 challenges (a demand with a challenge
//! block): create, edit, the lifecycle, reading and listing. Applications are in `applications`.

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::Role;
use crate::entity::{challenge_applications, demands};
use crate::error::{AppError, AppResult, FieldError};
use crate::kernel::dates::today_in_china;
use crate::kernel::json::{json_strings, strings};
use crate::reference::ReferenceData;
use crate::services::listings::{
    self, CodeChecks, Listed, Listing, ListingKind, Standing, Status, acting_organization,
    ensure_owner, ensure_visible,
};
use crate::services::results::Transition;
use crate::services::sessions::CurrentUser;

const KIND: ListingKind = ListingKind::Demand;

/// The 揭榜挂帅 block of a demand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeInput {
    /// The reward (榜额) in fen.
    pub reward_fen: i64,
    /// Last day applications are accepted (`YYYY-MM-DD`).
    pub application_deadline: NaiveDate,
    /// Longest allowed project duration, 1–60 months.
    pub max_duration_months: i32,
    /// Measurable acceptance indicators (考核指标).
    pub indicators: String,
    /// IP ownership terms (产权归属).
    pub ip_terms: String,
    /// `expert_review` or `competition`.
    pub selection_method: String,
}

/// A demand as written by its enterprise (`POST /api/v1/demands`, and a row of an import).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemandInput {
    /// Title, 2–200 characters.
    pub title: String,
    /// The problem to solve, 10–5000 characters.
    pub description: String,
    /// Up to 10 keywords.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// 1–5 industry codes.
    pub industry_codes: Vec<String>,
    /// 技术领域 code.
    pub tech_field: String,
    /// Demand-type code.
    pub demand_type: String,
    /// Budget in fen; absent or null = 面议.
    #[serde(default)]
    pub budget_fen: Option<i64>,
    /// Wanted by (`YYYY-MM-DD`).
    #[serde(default)]
    pub deadline: Option<NaiveDate>,
    /// Present for a 揭榜挂帅 challenge.
    #[serde(default)]
    pub challenge: Option<ChallengeInput>,
}

/// `PATCH /api/v1/demands/{id}`: the fields to change; `null` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemandPatch {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New keywords.
    pub keywords: Option<Vec<String>>,
    /// New industry codes.
    pub industry_codes: Option<Vec<String>>,
    /// New 技术领域.
    pub tech_field: Option<String>,
    /// New demand type.
    pub demand_type: Option<String>,
    /// New budget (`null` = 面议).
    #[serde(default, deserialize_with = "listings::nullable")]
    #[schema(value_type = Option<i64>)]
    pub budget_fen: Option<Option<i64>>,
    /// New deadline (`null` clears).
    #[serde(default, deserialize_with = "listings::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub deadline: Option<Option<NaiveDate>>,
    /// New challenge block (`null` makes it an ordinary demand, unless it has applications).
    #[serde(default, deserialize_with = "listings::nullable")]
    #[schema(value_type = Option<ChallengeInput>)]
    pub challenge: Option<Option<ChallengeInput>>,
}

impl DemandInput {
    /// Checks every field; `today` bounds the dates that must lie ahead (only checked when
    /// `check_dates`, i.e. on creation and when a patch changes them).
    pub fn validate(&self, reference: &ReferenceData, today: Option<NaiveDate>) -> AppResult<()> {
        let mut checks = CodeChecks::new(reference);
        checks.name("title", &self.title, 2, 200);
        checks.text("description", &self.description, 10, 5000);
        checks.keywords("keywords", &self.keywords);
        checks.many("industry_codes", "industries", &self.industry_codes, 1, 5);
        checks.one("tech_field", "tech_fields", &self.tech_field);
        checks.one("demand_type", "demand_types", &self.demand_type);
        checks.money("budget_fen", self.budget_fen);
        if let (Some(today), Some(deadline)) = (today, self.deadline)
            && deadline < today
        {
            checks
                .errors
                .push(FieldError::new("deadline", "must not be in the past"));
        }
        if let Some(challenge) = &self.challenge {
            checks.money("challenge.reward_fen", Some(challenge.reward_fen));
            if let Some(today) = today
                && challenge.application_deadline < today
            {
                checks.errors.push(FieldError::new(
                    "challenge.application_deadline",
                    "must not be in the past",
                ));
            }
            if !(1..=60).contains(&challenge.max_duration_months) {
                checks.errors.push(FieldError::new(
                    "challenge.max_duration_months",
                    "must be 1 to 60 months",
                ));
            }
            checks.text("challenge.indicators", &challenge.indicators, 10, 5000);
            checks.text("challenge.ip_terms", &challenge.ip_terms, 2, 2000);
            checks.one(
                "challenge.selection_method",
                "selection_methods",
                &challenge.selection_method,
            );
        }
        checks.finish()
    }

    fn from_model(m: &demands::Model) -> Self {
        Self {
            title: m.title.clone(),
            description: m.description.clone(),
            keywords: strings(&m.keywords),
            industry_codes: strings(&m.industry_codes),
            tech_field: m.tech_field.clone(),
            demand_type: m.demand_type.clone(),
            budget_fen: m.budget_fen,
            deadline: m.deadline,
            challenge: challenge_of(m),
        }
    }

    fn apply(mut self, patch: DemandPatch) -> Self {
        macro_rules! take {
            ($($field:ident),*) => { $(if let Some(v) = patch.$field { self.$field = v; })* };
        }
        take!(
            title,
            description,
            keywords,
            industry_codes,
            tech_field,
            demand_type,
            budget_fen,
            deadline,
            challenge
        );
        self
    }

    /// Writes the fields into an active model (trimmed).
    pub fn write_into(self, model: &mut demands::ActiveModel) {
        model.title = Set(self.title.trim().to_owned());
        model.description = Set(self.description.trim().to_owned());
        model.keywords = Set(json_strings(&self.keywords));
        model.industry_codes = Set(json_strings(&self.industry_codes));
        model.tech_field = Set(self.tech_field);
        model.demand_type = Set(self.demand_type);
        model.budget_fen = Set(self.budget_fen);
        model.deadline = Set(self.deadline);
        model.is_challenge = Set(self.challenge.is_some());
        let c = self.challenge;
        model.reward_fen = Set(c.as_ref().map(|c| c.reward_fen));
        model.application_deadline = Set(c.as_ref().map(|c| c.application_deadline));
        model.max_duration_months = Set(c.as_ref().map(|c| c.max_duration_months));
        model.indicators = Set(c.as_ref().map(|c| c.indicators.trim().to_owned()));
        model.ip_terms = Set(c.as_ref().map(|c| c.ip_terms.trim().to_owned()));
        model.selection_method = Set(c.map(|c| c.selection_method));
    }
}

/// The challenge block of a stored demand.
pub fn challenge_of(m: &demands::Model) -> Option<ChallengeInput> {
    if !m.is_challenge {
        return None;
    }
    Some(ChallengeInput {
        reward_fen: m.reward_fen.unwrap_or_default(),
        application_deadline: m.application_deadline?,
        max_duration_months: m.max_duration_months.unwrap_or_default(),
        indicators: m.indicators.clone().unwrap_or_default(),
        ip_terms: m.ip_terms.clone().unwrap_or_default(),
        selection_method: m.selection_method.clone().unwrap_or_default(),
    })
}

/// A demand with its owner.
pub type DemandRecord = Listed<demands::Model>;

/// Finds a demand with its owner; `404` when unknown.
pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<DemandRecord> {
    listings::find::<demands::Entity, _>(db, id).await
}

/// Creates a draft demand for the enterprise user's organization.
pub async fn create(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    user: &CurrentUser,
    input: DemandInput,
) -> AppResult<DemandRecord> {
    let organization_id = acting_organization(user, Role::Enterprise, "post demands")?;
    input.validate(reference, Some(today_in_china()))?;
    let txn = crate::db::begin_write(db).await?;
    let id = insert(
        &txn,
        organization_id,
        Some(user.user.id),
        None,
        Status::Draft,
        input,
    )
    .await?;
    listings::record_event(
        &txn,
        KIND,
        id,
        Some(user.user.id),
        None,
        Status::Draft,
        None,
    )
    .await?;
    let record = find(&txn, id).await?;
    txn.commit().await?;
    Ok(record)
}

/// A new demand row in `status`, not yet written: its active model and id.
pub fn new_model(
    organization_id: Uuid,
    created_by: Option<Uuid>,
    external_id: Option<String>,
    status: Status,
    input: DemandInput,
) -> (demands::ActiveModel, Uuid) {
    let now = Utc::now();
    let id = Uuid::now_v7();
    let mut model = demands::ActiveModel {
        id: Set(id),
        organization_id: Set(organization_id),
        created_by: Set(created_by),
        external_id: Set(external_id),
        selected_application_id: Set(None),
        status: Set(status),
        rejection_reason: Set(None),
        published_at: Set((status == Status::Published).then_some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    input.write_into(&mut model);
    (model, id)
}

/// Inserts a validated demand in `status`; returns its id.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    organization_id: Uuid,
    created_by: Option<Uuid>,
    external_id: Option<String>,
    status: Status,
    input: DemandInput,
) -> AppResult<Uuid> {
    let industries = input.industry_codes.clone();
    let (model, id) = new_model(organization_id, created_by, external_id, status, input);
    model.insert(db).await?;
    listings::replace_industries(db, KIND, id, &industries, status == Status::Published).await?;
    Ok(id)
}

/// Reads one demand as `user` may see it.
pub async fn get(
    db: &DatabaseConnection,
    user: Option<&CurrentUser>,
    id: Uuid,
) -> AppResult<(DemandRecord, Standing)> {
    listings::get::<demands::Entity>(db, user, id).await
}

/// Edits a demand (owner only). A published demand goes back to review.
pub async fn update(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    user: &CurrentUser,
    id: Uuid,
    patch: DemandPatch,
) -> AppResult<DemandRecord> {
    let txn = crate::db::begin_write(db).await?;
    let record = listings::find_locked::<demands::Entity, _>(&txn, id).await?;
    let standing = Standing::of(Some(user), record.item.organization_id);
    let from = record.item.status();
    ensure_visible(KIND, standing, from)?;
    ensure_owner(KIND, standing)?;
    let to = from.after_edit()?;
    let dates_change = patch.deadline.is_some() || patch.challenge.is_some();
    if matches!(patch.challenge, Some(None)) && has_applications(&txn, id).await? {
        return Err(AppError::Conflict(
            "this challenge has applications; it cannot become an ordinary demand".into(),
        ));
    }
    let input = DemandInput::from_model(&record.item).apply(patch);
    input.validate(reference, dates_change.then(today_in_china))?;
    let industries = input.industry_codes.clone();
    let revisions = record.item.revisions();
    let mut model: demands::ActiveModel = record.item.into();
    input.write_into(&mut model);
    let revisions = listings::revisions_after_edit(revisions, from, to);
    model.status = Set(to);
    model.revision = Set(revisions.current);
    model.submitted_revision = Set(revisions.submitted);
    model.updated_at = Set(Utc::now());
    model.update(&txn).await?;
    listings::replace_industries(&txn, KIND, id, &industries, to == Status::Published).await?;
    listings::after_edit(
        &txn,
        KIND,
        id,
        Some(user.user.id),
        (from, to),
        revisions.current,
    )
    .await?;
    let record = find(&txn, id).await?;
    txn.commit().await?;
    Ok(record)
}

async fn has_applications<C: ConnectionTrait>(db: &C, demand_id: Uuid) -> AppResult<bool> {
    Ok(challenge_applications::Entity::find()
        .filter(challenge_applications::Column::DemandId.eq(demand_id))
        .count(db)
        .await?
        > 0)
}

/// Moves a demand through its lifecycle.
pub async fn transition(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: Uuid,
    transition: Transition,
) -> AppResult<DemandRecord> {
    listings::transition::<demands::Entity>(db, user, id, transition).await
}

/// Filters of the demand list.
#[derive(Debug, Default, Clone)]
pub struct DemandFilter {
    /// Industry code.
    pub industry: Option<String>,
    /// 技术领域 code.
    pub tech_field: Option<String>,
    /// Demand-type code.
    pub demand_type: Option<String>,
    /// District or development zone of the posting enterprise.
    pub district: Option<String>,
    /// Posting organization.
    pub org_id: Option<Uuid>,
    /// Lifecycle status (the public sees only published demands whatever is asked).
    pub status: Option<Status>,
    /// Only challenges (`true`) or only ordinary demands (`false`).
    pub challenge: Option<bool>,
}

/// Lists demands `user` may see, newest published first; returns (page, total).
pub async fn list(
    db: &DatabaseConnection,
    user: Option<&CurrentUser>,
    filter: DemandFilter,
    page: u64,
    per_page: u64,
) -> AppResult<(Vec<DemandRecord>, u64)> {
    let mut extra = Vec::new();
    if let Some(demand_type) = filter.demand_type {
        extra.push(Condition::all().add(demands::Column::DemandType.eq(demand_type)));
    }
    if let Some(challenge) = filter.challenge {
        extra.push(Condition::all().add(demands::Column::IsChallenge.eq(challenge)));
    }
    let common = listings::CommonFilter {
        industry: filter.industry,
        tech_field: filter.tech_field,
        district: filter.district,
        org_id: filter.org_id,
        status: filter.status,
    };
    listings::list_page::<demands::Entity>(db, user, common, extra, page, per_page).await
}

/// The history of a demand, for its owner and the registrar.
pub async fn history(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: Uuid,
) -> AppResult<Vec<crate::entity::listing_events::Model>> {
    let record = find(db, id).await?;
    let standing = Standing::of(Some(user), record.item.organization_id);
    listings::history_for(db, KIND, standing, record.item.status(), id).await
}
