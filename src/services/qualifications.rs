//! Qualifications of organizations (国家高新技术企业, 科技型中小企业, 市级以上研发平台, 市级以上技术
//! 转移机构), recorded by the registrar from the authorities' published lists. They feed the
//! policy's organization counts in the indicator summary (`indicators` reads this table).
//!
//! A qualification holds on a day when `valid_from ≤ day ≤ valid_to` (no `valid_to`: without
//! end) and it was not withdrawn on or before that day. Withdrawal keeps the record: a count for
//! a past year stays what it was.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entity::{organization_qualifications as qualifications, organizations};
use crate::error::{AppError, AppResult};
use crate::kernel::access::ensure_registrar;
use crate::kernel::dates::today_in_china;
use crate::kernel::validation::Checks;
use crate::reference::ReferenceData;
use crate::services::accounts::sessions::CurrentUser;

/// `POST /api/v1/organizations/{id}/qualifications`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QualificationInput {
    /// A code of the `qualifications` reference list.
    pub qualification: String,
    /// The certificate or list number, up to 64 characters.
    pub certificate_no: Option<String>,
    /// First day it holds.
    pub valid_from: NaiveDate,
    /// Last day it holds (omit: without end).
    pub valid_to: Option<NaiveDate>,
}

/// `POST /api/v1/organizations/{id}/qualifications/{qualification_id}/withdraw`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalInput {
    /// The day it stops holding (default: today in Beijing).
    pub withdrawn_on: Option<NaiveDate>,
}

/// A qualification as the API shows it (public: the authorities publish these lists).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QualificationView {
    /// UUID v7; the `{qualification_id}` to withdraw it by.
    pub id: Uuid,
    /// The organization.
    pub organization_id: Uuid,
    /// A code of the `qualifications` reference list (e.g. `high_tech_enterprise`,
    /// 国家高新技术企业).
    pub qualification: String,
    /// Chinese name.
    pub label: String,
    /// Certificate or list number.
    pub certificate_no: Option<String>,
    /// First day it holds.
    pub valid_from: NaiveDate,
    /// Last day it holds.
    pub valid_to: Option<NaiveDate>,
    /// The day it was withdrawn.
    pub withdrawn_on: Option<NaiveDate>,
    /// When it was recorded.
    pub recorded_at: chrono::DateTime<Utc>,
}

fn view(reference: &ReferenceData, model: qualifications::Model) -> QualificationView {
    let label = reference.label_or_code("qualifications", &model.qualification);
    QualificationView {
        id: model.id,
        organization_id: model.organization_id,
        qualification: model.qualification,
        label,
        certificate_no: model.certificate_no,
        valid_from: model.valid_from,
        valid_to: model.valid_to,
        withdrawn_on: model.withdrawn_on,
        recorded_at: model.recorded_at,
    }
}

fn check(reference: &ReferenceData, input: &QualificationInput) -> AppResult<()> {
    let mut checks = Checks::new(reference);
    checks.one("qualification", "qualifications", &input.qualification);
    if let Some(number) = &input.certificate_no {
        checks.text("certificate_no", number, 1, 64);
    }
    if let Some(valid_to) = input.valid_to {
        checks.not_before("valid_to", valid_to, "valid_from", input.valid_from);
    }
    checks.finish()
}

async fn ensure_organization<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<()> {
    organizations::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|_| ())
        .ok_or_else(|| AppError::NotFound("no organization has this id".into()))
}

/// Records a qualification of an organization (registrar only).
pub async fn record(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    user: &CurrentUser,
    organization_id: Uuid,
    input: QualificationInput,
) -> AppResult<QualificationView> {
    ensure_registrar(user)?;
    check(reference, &input)?;
    let txn = crate::db::begin_write(db).await?;
    ensure_organization(&txn, organization_id).await?;
    let model = qualifications::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        qualification: Set(input.qualification),
        certificate_no: Set(input.certificate_no.map(|n| n.trim().to_owned())),
        valid_from: Set(input.valid_from),
        valid_to: Set(input.valid_to),
        withdrawn_on: Set(None),
        recorded_by: Set(user.user.id),
        recorded_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    crate::services::audit::record(
        &txn,
        user.user.id,
        "qualification.record",
        "organization",
        organization_id,
        serde_json::json!({
            "qualification_id": model.id,
            "qualification": model.qualification,
            "valid_from": model.valid_from,
            "valid_to": model.valid_to,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(view(reference, model))
}

/// Every qualification recorded for an organization, withdrawn ones included, oldest first.
pub async fn list(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    organization_id: Uuid,
) -> AppResult<Vec<QualificationView>> {
    ensure_organization(db, organization_id).await?;
    Ok(qualifications::Entity::find()
        .filter(qualifications::Column::OrganizationId.eq(organization_id))
        .order_by_asc(qualifications::Column::ValidFrom)
        .order_by_asc(qualifications::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| view(reference, m))
        .collect())
}

/// Withdraws (撤销) a qualification from a day on (registrar only); `409` if already withdrawn.
pub async fn withdraw(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    user: &CurrentUser,
    organization_id: Uuid,
    id: Uuid,
    input: WithdrawalInput,
) -> AppResult<QualificationView> {
    ensure_registrar(user)?;
    let txn = crate::db::begin_write(db).await?;
    let found = qualifications::Entity::find_by_id(id)
        .filter(qualifications::Column::OrganizationId.eq(organization_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("this organization has no such qualification".into()))?;
    if found.withdrawn_on.is_some() {
        return Err(AppError::Conflict("already withdrawn".into()));
    }
    let on = input.withdrawn_on.unwrap_or_else(today_in_china);
    let mut checks = Checks::plain();
    checks.not_before("withdrawn_on", on, "valid_from", found.valid_from);
    checks.finish()?;
    // Compare-and-set on "not withdrawn": of two concurrent withdrawals one is written (and
    // audited), the other is `409`.
    let withdrawn = qualifications::Entity::update_many()
        .col_expr(qualifications::Column::WithdrawnOn, Expr::value(Some(on)))
        .filter(qualifications::Column::Id.eq(id))
        .filter(qualifications::Column::WithdrawnOn.is_null())
        .exec(&txn)
        .await?;
    if withdrawn.rows_affected != 1 {
        return Err(AppError::Conflict("already withdrawn".into()));
    }
    let model = qualifications::Model {
        withdrawn_on: Some(on),
        ..found
    };
    crate::services::audit::record(
        &txn,
        user.user.id,
        "qualification.withdraw",
        "organization",
        organization_id,
        serde_json::json!({"qualification_id": id, "withdrawn_on": on}),
    )
    .await?;
    txn.commit().await?;
    Ok(view(reference, model))
}
