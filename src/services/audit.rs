//! The registrar's audit trail: one row per action, written in the action's own transaction, never
//! changed or deleted.

use chrono::Utc;
use sea_orm::{ActiveValue::NotSet, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use uuid::Uuid;

use crate::entity::audit_log;

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
