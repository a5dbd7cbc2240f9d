//! The registrar's audit trail: one row per action, written in the action's own transaction, never
//! changed or deleted.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entity::audit_log;
use crate::error::AppResult;
use crate::kernel::access::ensure_registrar;
use crate::services::accounts::sessions::CurrentUser;

/// Records that `actor_id` did `action` to a `subject_kind` with id `subject_id`.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor_id: Uuid,
    action: &str,
    subject_kind: &str,
    subject_id: Uuid,
    detail: serde_json::Value,
) -> Result<(), DbErr> {
    audit_log::Entity::insert(audit_log::ActiveModel {
        id: NotSet,
        actor_id: Set(actor_id),
        action: Set(action.to_owned()),
        subject_kind: Set(subject_kind.to_owned()),
        subject_id: Set(subject_id),
        detail: Set(detail),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// One action of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    /// Ascending id: the order the actions were taken in.
    pub id: i64,
    /// The registrar who acted.
    pub actor_id: Uuid,
    /// What was done: `contract.register`, `contract.reject`, `contract.amend`, `deal.move`,
    /// `result.published`, `qualification.record`, …
    pub action: String,
    /// `contract`, `deal`, `result`, `demand`, `organization`.
    pub subject_kind: String,
    /// Which one.
    pub subject_id: Uuid,
    /// The particulars (registration number, reason, stages …).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// When the registrar took the action.
    pub created_at: DateTime<Utc>,
}

impl From<audit_log::Model> for AuditEntryView {
    fn from(m: audit_log::Model) -> Self {
        Self {
            id: m.id,
            actor_id: m.actor_id,
            action: m.action,
            subject_kind: m.subject_kind,
            subject_id: m.subject_id,
            detail: m.detail,
            created_at: m.created_at,
        }
    }
}

/// Which actions to list; every field narrows.
#[derive(Debug, Default)]
pub struct AuditFilter {
    /// One subject (a contract, a listing …).
    pub subject_id: Option<Uuid>,
    /// One kind of action.
    pub action: Option<String>,
    /// One registrar.
    pub actor_id: Option<Uuid>,
}

/// The audit trail, newest first (registrar only); returns a page and the total.
pub async fn list(
    db: &DatabaseConnection,
    user: &CurrentUser,
    filter: &AuditFilter,
    page: u64,
    per_page: u64,
) -> AppResult<(Vec<AuditEntryView>, u64)> {
    ensure_registrar(user)?;
    let mut query = audit_log::Entity::find().order_by_desc(audit_log::Column::Id);
    if let Some(subject_id) = filter.subject_id {
        query = query.filter(audit_log::Column::SubjectId.eq(subject_id));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::Column::Action.eq(action.as_str()));
    }
    if let Some(actor_id) = filter.actor_id {
        query = query.filter(audit_log::Column::ActorId.eq(actor_id));
    }
    let paginator = query.paginate(db, per_page);
    let total = paginator.num_items().await?;
    let items = paginator.fetch_page(page - 1).await?;
    Ok((items.into_iter().map(Into::into).collect(), total))
}
