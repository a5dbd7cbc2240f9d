//! The lifecycle of a listing: which moves a standing may make from a state, and the locked,
//! compare-and-set write of a move with its history, audit and search outbox.

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::access::{ensure_owner, ensure_visible};
use super::store::{
    ListingTable, enqueue_for_search, events, find, find_locked, mark_published, record_event,
};
use super::{Listed, Listing, ListingKind, Standing, Status};
use crate::entity::listing_events;
use crate::error::{AppError, AppResult};
use crate::kernel::validation::Checks;
use crate::services::accounts::sessions::CurrentUser;

/// What a lifecycle action does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Owner submits for review.
    Submit,
    /// Registrar approves the text of `revision` (see [`Revisions::ensure_reviewed`]).
    Approve {
        /// The revision the registrar read.
        revision: Option<i32>,
    },
    /// Registrar rejects with a reason.
    Reject {
        /// What the owner must change.
        reason: String,
        /// The revision the registrar read.
        revision: Option<i32>,
    },
    /// Owner or registrar archives.
    Archive,
}

/// Where a listing's text stands: its current revision and the one last submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revisions {
    /// Goes up with every edit.
    pub current: i32,
    /// The revision the owner last submitted.
    pub submitted: i32,
}

impl Revisions {
    /// The revision a review decides on, or `409` when the registrar may not have read it: a
    /// review that names a revision must name the current one; one that names none is taken to
    /// be of the submitted text, which is only right if nobody edited it since.
    pub fn ensure_reviewed(self, named: Option<i32>) -> AppResult<i32> {
        match named {
            Some(revision) if revision == self.current => Ok(revision),
            Some(revision) => Err(AppError::Conflict(format!(
                "revision {revision} was reviewed, but the listing is now at revision {}: \
                 read it again and review that text",
                self.current
            ))),
            None if self.current == self.submitted => Ok(self.current),
            None => Err(AppError::Conflict(format!(
                "the owner edited the listing after submitting it (it is now at revision {}): \
                 read it again and name the revision you decide on (\"revision\": {})",
                self.current, self.current
            ))),
        }
    }
}

/// A lifecycle action checked against who takes it and the listing's state: the state it leads
/// to, the reason to record, and for a review the revision decided on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// The new state.
    pub to: Status,
    /// The rejection reason.
    pub reason: Option<String>,
    /// The revision a review decided on.
    pub reviewed_revision: Option<i32>,
}

/// The move a lifecycle action makes, after checking who may take it.
pub fn decide(
    kind: ListingKind,
    standing: Standing,
    from: Status,
    revisions: Revisions,
    transition: Transition,
) -> AppResult<Move> {
    let plain = |to| Move {
        to,
        reason: None,
        reviewed_revision: None,
    };
    match transition {
        Transition::Submit => {
            ensure_owner(kind, standing)?;
            Ok(plain(from.after_submit()?))
        }
        Transition::Approve { .. } | Transition::Reject { .. }
            if standing != Standing::Registrar =>
        {
            Err(AppError::Forbidden(
                "only the registrar reviews listings".into(),
            ))
        }
        Transition::Approve { revision } => {
            let to = from.after_review(true)?;
            Ok(Move {
                reviewed_revision: Some(revisions.ensure_reviewed(revision)?),
                ..plain(to)
            })
        }
        Transition::Reject { reason, revision } => {
            let to = from.after_review(false)?;
            Ok(Move {
                to,
                reason: Some(reason),
                reviewed_revision: Some(revisions.ensure_reviewed(revision)?),
            })
        }
        Transition::Archive => {
            if !standing.is_privileged() {
                ensure_owner(kind, standing)?;
            }
            Ok(plain(from.after_archive()?))
        }
    }
}

/// Moves a listing through its lifecycle in one transaction: reads it locked, checks the move,
/// writes it (compare-and-set), records it, and returns the listing as it is afterwards.
pub async fn transition<E>(
    db: &sea_orm::DatabaseConnection,
    user: &CurrentUser,
    id: Uuid,
    transition: Transition,
) -> AppResult<Listed<E::Model>>
where
    E: ListingTable,
    E::Model: Listing,
{
    let txn = crate::db::begin_write(db).await?;
    let record = find_locked::<E, _>(&txn, id).await?;
    let standing = Standing::of(Some(user), record.item.organization_id());
    let from = record.item.status();
    ensure_visible(E::KIND, standing, from)?;
    let step = decide(E::KIND, standing, from, record.item.revisions(), transition)?;
    write_transition::<E, _>(
        &txn,
        id,
        Some(user.user.id),
        from,
        step.to,
        step.reason,
        step.reviewed_revision,
    )
    .await?;
    audit_registrar_move(
        &txn,
        user,
        E::KIND,
        id,
        from,
        step.to,
        step.reviewed_revision,
    )
    .await?;
    let record = find::<E, _>(&txn, id).await?;
    txn.commit().await?;
    Ok(record)
}

/// The history of a listing, for its owner and the registrar only.
pub async fn history<E>(
    db: &sea_orm::DatabaseConnection,
    user: &CurrentUser,
    id: Uuid,
) -> AppResult<Vec<listing_events::Model>>
where
    E: ListingTable,
    E::Model: Listing,
{
    let record = find::<E, _>(db, id).await?;
    let standing = Standing::of(Some(user), record.item.organization_id());
    ensure_visible(E::KIND, standing, record.item.status())?;
    if !standing.is_privileged() {
        return Err(AppError::Forbidden(
            "the history of a listing is shown to its owner and the registrar".into(),
        ));
    }
    events(db, E::KIND, id).await
}

/// The registrar's decision on a submitted listing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// `approve` or `reject`.
    pub decision: Decision,
    /// Required when rejecting: what the owner must change.
    #[serde(default)]
    pub reason: Option<String>,
    /// The revision of the listing the registrar read (its `revision` field). A decision on
    /// another revision is `409`; without it, the decision is on the submitted text and is `409`
    /// if the owner edited the listing since submitting it.
    #[serde(default)]
    pub revision: Option<i32>,
}

/// A review decision.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Publish it (`submitted` → `published`), clearing any earlier rejection reason.
    Approve,
    /// Send back with a reason.
    Reject,
}

impl Review {
    /// The lifecycle transition of this decision; a rejection needs a reason.
    pub fn into_transition(self) -> AppResult<Transition> {
        let revision = self.revision;
        match self.decision {
            Decision::Approve => Ok(Transition::Approve { revision }),
            Decision::Reject => {
                let mut checks = Checks::plain();
                let reason = self.reason.unwrap_or_default();
                checks.text("reason", &reason, 1, 2000);
                checks.finish()?;
                Ok(Transition::Reject {
                    reason: reason.trim().to_owned(),
                    revision,
                })
            }
        }
    }
}

/// Writes a lifecycle move `from → to` of listing `id`: the status (with the publication time or
/// the rejection reason), its history row, and — when publication changes — the industry rows'
/// flag and the search outbox.
///
/// The update is a compare-and-set on `from` (and, for a review, on the revision reviewed): the
/// caller read the row locked, so this only fails if a writer got past the lock, but it makes the
/// rule hold whoever calls — of two concurrent moves out of one state exactly one is written, and
/// the other is a `409`.
pub async fn write_transition<E: ListingTable, C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    actor_id: Option<Uuid>,
    from: Status,
    to: Status,
    reason: Option<String>,
    reviewed_revision: Option<i32>,
) -> AppResult<()> {
    use sea_orm::sea_query::Expr;
    let now = Utc::now();
    let mut update = E::update_many()
        .col_expr(E::status(), Expr::value(to))
        .col_expr(E::updated_at(), Expr::value(now));
    match to {
        Status::Published => {
            update = update
                .col_expr(E::published_at(), Expr::value(now))
                .col_expr(E::rejection_reason(), Expr::value(Option::<String>::None));
        }
        Status::Rejected => {
            update = update.col_expr(E::rejection_reason(), Expr::value(reason.clone()));
        }
        Status::Submitted => {
            update = update.col_expr(E::submitted_revision(), Expr::col(E::revision()));
        }
        _ => {}
    }
    let mut update = update.filter(E::id().eq(id)).filter(E::status().eq(from));
    if let Some(revision) = reviewed_revision {
        update = update.filter(E::revision().eq(revision));
    }
    if update.exec(db).await?.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "the {} changed while this request ran (it is no longer {} at the revision read): \
             read it again",
            E::KIND.noun(),
            from.as_str()
        )));
    }
    record_event(db, E::KIND, id, actor_id, Some(from), to, reason).await?;
    if from == Status::Published || to == Status::Published {
        mark_published(db, E::KIND, id, to == Status::Published).await?;
        enqueue_for_search(db, E::KIND, id).await?;
    }
    Ok(())
}

/// Puts a registrar's move of a listing (approval, rejection, archiving) in the audit trail, in
/// the move's own transaction; other users' moves are in the listing's history only.
pub async fn audit_registrar_move<C: ConnectionTrait>(
    db: &C,
    user: &crate::services::accounts::sessions::CurrentUser,
    kind: ListingKind,
    id: Uuid,
    from: Status,
    to: Status,
    reviewed_revision: Option<i32>,
) -> AppResult<()> {
    if user.is_registrar() {
        crate::services::audit::record(
            db,
            user.user.id,
            &format!("{}.{}", kind.as_str(), to.as_str()),
            kind.as_str(),
            id,
            serde_json::json!({
                "from": from.as_str(),
                "to": to.as_str(),
                "revision": reviewed_revision,
            }),
        )
        .await?;
    }
    Ok(())
}

/// What follows an edit that moved a listing `from → to` (a published listing goes back to review)
/// and made it `revision`: the history row when the state changed or the registrar may be reading
/// it (an edit during review is on the record), and the search outbox when it was public.
pub async fn after_edit<C: ConnectionTrait>(
    db: &C,
    kind: ListingKind,
    id: Uuid,
    actor_id: Option<Uuid>,
    (from, to): (Status, Status),
    revision: i32,
) -> AppResult<()> {
    let reason = if from != to {
        Some(format!(
            "edited after publication: back to review (revision {revision})"
        ))
    } else if from == Status::Submitted {
        Some(format!("edited during review (revision {revision})"))
    } else {
        None
    };
    if let Some(reason) = reason {
        record_event(db, kind, id, actor_id, Some(from), to, Some(reason)).await?;
    }
    if from == Status::Published {
        enqueue_for_search(db, kind, id).await?;
    }
    Ok(())
}

/// The revisions after an edit that moves a listing `from → to`: one more, and an edit that sends
/// a published listing back to review submits the new text.
pub fn revisions_after_edit(before: Revisions, from: Status, to: Status) -> Revisions {
    let current = before.current.saturating_add(1);
    Revisions {
        current,
        submitted: if from != to && to == Status::Submitted {
            current
        } else {
            before.submitted
        },
    }
}

/// Counts an edit of listing `id` read in state `from` that leaves it in `to`, as a compare-and-set
/// on `from` for writers that did not lock the row (a re-import): the revision goes up, and a move
/// to review or publication makes the new revision the submitted one. `false` when the listing is
/// no longer in `from`.
pub async fn count_edit<E: ListingTable, C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    from: Status,
    to: Status,
) -> AppResult<bool> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    let next = Expr::col(E::revision()).add(1);
    let mut update = E::update_many().col_expr(E::revision(), next.clone());
    if (from != to && to == Status::Submitted) || to == Status::Published {
        update = update.col_expr(E::submitted_revision(), next);
    }
    let counted = update
        .filter(E::id().eq(id))
        .filter(E::status().eq(from))
        .exec(db)
        .await?;
    Ok(counted.rows_affected == 1)
}
