//! Enterprise technology demands (企业技术需求) and 揭榜挂帅 challenges (a demand with a challenge
//! block): their fields and checks, and the filters of their list. Creating, editing, the
//! lifecycle and reading are the same for every listing (`services::listings`); applications to a
//! challenge are in `applications`.

use chrono::NaiveDate;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::Role;
use crate::entity::{challenge_applications, demands};
use crate::error::{AppError, AppResult};
use crate::kernel::json::{json_strings, strings};
use crate::kernel::validation::Checks;
use crate::reference::ReferenceData;
use crate::services::listings::{self, CommonFilter, ListFilter, Listed, ListingFields};

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

impl ListingFields for DemandInput {
    type Table = demands::Entity;
    type Row = demands::Model;
    type Active = demands::ActiveModel;
    type Patch = DemandPatch;

    const AUTHOR: (Role, &'static str) = (Role::Enterprise, "post demands");

    /// `today` bounds the deadline and the application deadline: given on creation, and on an edit
    /// only when the patch changes them.
    fn validate(&self, reference: &ReferenceData, today: Option<NaiveDate>) -> AppResult<()> {
        let mut checks = Checks::new(reference);
        checks.name("title", &self.title, 2, 200);
        checks.text("description", &self.description, 10, 5000);
        checks.keywords("keywords", &self.keywords);
        checks.many("industry_codes", "industries", &self.industry_codes, 1, 5);
        checks.one("tech_field", "tech_fields", &self.tech_field);
        checks.one("demand_type", "demand_types", &self.demand_type);
        checks.money("budget_fen", self.budget_fen);
        if let (Some(today), Some(deadline)) = (today, self.deadline) {
            checks.not_past("deadline", deadline, today);
        }
        if let Some(challenge) = &self.challenge {
            checks.money("challenge.reward_fen", Some(challenge.reward_fen));
            if let Some(today) = today {
                let deadline = challenge.application_deadline;
                checks.not_past("challenge.application_deadline", deadline, today);
            }
            let months = challenge.max_duration_months;
            checks.range("challenge.max_duration_months", months, 1, 60);
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

    fn from_row(m: &demands::Model) -> Self {
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

    fn write_into(self, model: &mut demands::ActiveModel) {
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

    fn industry_codes(&self) -> &[String] {
        &self.industry_codes
    }

    fn changes_dates(patch: &DemandPatch) -> bool {
        patch.deadline.is_some() || patch.challenge.is_some()
    }

    /// A challenge that has applications stays a challenge: the applicants answered it.
    async fn refuse_patch(
        txn: &DatabaseTransaction,
        id: Uuid,
        patch: &DemandPatch,
    ) -> AppResult<()> {
        if matches!(patch.challenge, Some(None)) && has_applications(txn, id).await? {
            return Err(AppError::Conflict(
                "this challenge has applications; it cannot become an ordinary demand".into(),
            ));
        }
        Ok(())
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

async fn has_applications<C: ConnectionTrait>(db: &C, demand_id: Uuid) -> AppResult<bool> {
    Ok(challenge_applications::Entity::find()
        .filter(challenge_applications::Column::DemandId.eq(demand_id))
        .count(db)
        .await?
        > 0)
}

/// Filters of the demand list.
#[derive(Debug, Default, Clone)]
pub struct DemandFilter {
    /// The filters every listing list has.
    pub common: CommonFilter,
    /// Demand-type code.
    pub demand_type: Option<String>,
    /// Only challenges (`true`) or only ordinary demands (`false`).
    pub challenge: Option<bool>,
}

impl ListFilter for DemandFilter {
    type Table = demands::Entity;

    fn into_parts(self) -> (CommonFilter, Vec<Condition>) {
        let mut extra = Vec::new();
        if let Some(demand_type) = self.demand_type {
            extra.push(Condition::all().add(demands::Column::DemandType.eq(demand_type)));
        }
        if let Some(challenge) = self.challenge {
            extra.push(Condition::all().add(demands::Column::IsChallenge.eq(challenge)));
        }
        (self.common, extra)
    }
}
