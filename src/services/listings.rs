//! What results and demands share: the lifecycle, who may see and do what, the history of state
//! changes, the industry classification table and the search outbox.
//!
//! Lifecycle: `draft → submitted → published | rejected → archived`.
//! - `submit`: draft or rejected → submitted.
//! - `review` (registrar): submitted → published, or → rejected with a reason.
//! - `archive` (owner or registrar): any state but archived → archived.
//! - editing: allowed in draft, submitted and rejected (the state stays); editing a *published*
//!   listing sends it back to `submitted`, so it leaves the public catalogue until the registrar
//!   approves the new text — nobody ever sees an unreviewed edit as reviewed.
//!
//! Anything else is `409 Conflict`.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{Membership, Role};
use crate::entity::{listing_events, listing_industries, organizations, search_outbox};
use crate::error::{AppError, AppResult, FieldError};
use crate::reference::ReferenceData;
use crate::services::sessions::CurrentUser;

/// The two kinds of listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingKind {
    /// A research result (科技成果).
    Result,
    /// An enterprise demand (企业技术需求), possibly a challenge.
    Demand,
}

impl ListingKind {
    /// The code stored in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Result => "result",
            Self::Demand => "demand",
        }
    }

    /// "result" or "demand", for messages.
    pub fn noun(self) -> &'static str {
        self.as_str()
    }
}

/// A listing's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being written; only the owner sees it.
    Draft,
    /// Waiting for the registrar.
    Submitted,
    /// Public: the only state the public sees and search finds (reached by the registrar's
    /// approval, or at once by an operator's import).
    Published,
    /// Sent back by the registrar with a reason.
    Rejected,
    /// Withdrawn; kept for the record.
    Archived,
}

impl Status {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Published => "published",
            Self::Rejected => "rejected",
            Self::Archived => "archived",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<Self> {
        [
            Self::Draft,
            Self::Submitted,
            Self::Published,
            Self::Rejected,
            Self::Archived,
        ]
        .into_iter()
        .find(|s| s.as_str() == code)
    }

    /// The state after an edit, or `409` when the listing cannot be edited.
    pub fn after_edit(self) -> AppResult<Self> {
        match self {
            Self::Draft | Self::Submitted | Self::Rejected => Ok(self),
            Self::Published => Ok(Self::Submitted),
            Self::Archived => Err(AppError::Conflict(
                "an archived listing cannot be edited".into(),
            )),
        }
    }

    /// The state after submitting, or `409`.
    pub fn after_submit(self) -> AppResult<Self> {
        match self {
            Self::Draft | Self::Rejected => Ok(Self::Submitted),
            other => Err(AppError::Conflict(format!(
                "only a draft or rejected listing can be submitted; this one is {}",
                other.as_str()
            ))),
        }
    }

    /// The state after the registrar's decision, or `409`.
    pub fn after_review(self, approve: bool) -> AppResult<Self> {
        match self {
            Self::Submitted if approve => Ok(Self::Published),
            Self::Submitted => Ok(Self::Rejected),
            other => Err(AppError::Conflict(format!(
                "only a submitted listing can be reviewed; this one is {}",
                other.as_str()
            ))),
        }
    }

    /// The state after archiving, or `409`.
    pub fn after_archive(self) -> AppResult<Self> {
        match self {
            Self::Archived => Err(AppError::Conflict("the listing is already archived".into())),
            _ => Ok(Self::Archived),
        }
    }
}

/// How the current user stands to one listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// An active member of the owning organization.
    Owner,
    /// The market operator.
    Registrar,
    /// Anybody else, logged in or not.
    Public,
}

impl Standing {
    /// The standing of `user` (or an anonymous visitor) to a listing of `organization_id`.
    pub fn of(user: Option<&CurrentUser>, organization_id: Uuid) -> Self {
        match user {
            Some(u) if u.user.role == Role::Registrar.as_str() => Self::Registrar,
            Some(u)
                if u.user.organization_id == Some(organization_id)
                    && u.user.membership == Membership::Active.as_str() =>
            {
                Self::Owner
            }
            _ => Self::Public,
        }
    }

    /// Whether this viewer sees non-public states and confidential fields.
    pub fn is_privileged(self) -> bool {
        matches!(self, Self::Owner | Self::Registrar)
    }
}

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
    if user.user.role != role.as_str() {
        return Err(AppError::Forbidden(format!(
            "only {} accounts can {what}",
            role.as_str()
        )));
    }
    if user.user.membership != Membership::Active.as_str() {
        return Err(AppError::Forbidden(
            "your membership of the organization is still pending approval".into(),
        ));
    }
    user.user
        .organization_id
        .ok_or_else(|| AppError::Forbidden("your account has no organization".into()))
}

/// A state-change row, not yet written.
pub fn event_model(
    kind: ListingKind,
    listing_id: Uuid,
    actor_id: Option<Uuid>,
    from: Option<Status>,
    to: Status,
    reason: Option<String>,
) -> listing_events::ActiveModel {
    listing_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        listing_kind: Set(kind.as_str().to_owned()),
        listing_id: Set(listing_id),
        actor_id: Set(actor_id),
        from_status: Set(from.map(|s| s.as_str().to_owned())),
        to_status: Set(to.as_str().to_owned()),
        reason: Set(reason),
        at: Set(Utc::now()),
    }
}

/// Records one state change.
pub async fn record_event<C: ConnectionTrait>(
    db: &C,
    kind: ListingKind,
    listing_id: Uuid,
    actor_id: Option<Uuid>,
    from: Option<Status>,
    to: Status,
    reason: Option<String>,
) -> AppResult<()> {
    event_model(kind, listing_id, actor_id, from, to, reason)
        .insert(db)
        .await?;
    Ok(())
}

/// An outbox row, not yet written.
pub fn outbox_model(kind: ListingKind, listing_id: Uuid) -> search_outbox::ActiveModel {
    search_outbox::ActiveModel {
        listing_kind: Set(kind.as_str().to_owned()),
        listing_id: Set(listing_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
}

/// Tells the indexer that a listing's searchable state may have changed.
pub async fn enqueue_for_search<C: ConnectionTrait>(
    db: &C,
    kind: ListingKind,
    listing_id: Uuid,
) -> AppResult<()> {
    outbox_model(kind, listing_id).insert(db).await?;
    Ok(())
}

/// The industry rows of a listing, not yet written.
pub fn industry_models(
    kind: ListingKind,
    listing_id: Uuid,
    codes: &[String],
    published: bool,
) -> impl Iterator<Item = listing_industries::ActiveModel> + '_ {
    codes
        .iter()
        .map(move |code| listing_industries::ActiveModel {
            listing_kind: Set(kind.as_str().to_owned()),
            listing_id: Set(listing_id),
            industry_code: Set(code.clone()),
            published: Set(published),
        })
}

/// Keeps the industry rows' `published` flag in step with the listing's new status.
pub async fn mark_published<C: ConnectionTrait>(
    db: &C,
    kind: ListingKind,
    listing_id: Uuid,
    published: bool,
) -> AppResult<()> {
    use sea_orm::sea_query::Expr;
    listing_industries::Entity::update_many()
        .col_expr(
            listing_industries::Column::Published,
            Expr::value(published),
        )
        .filter(listing_industries::Column::ListingKind.eq(kind.as_str()))
        .filter(listing_industries::Column::ListingId.eq(listing_id))
        .exec(db)
        .await?;
    Ok(())
}

/// `EXISTS (SELECT 1 FROM listing_industries …)` for one listing column and industry: lets a list
/// walk its (status, published_at) index in order and stop after a page.
pub fn in_industry<C: ColumnTrait>(
    kind: ListingKind,
    id_column: C,
    industry: &str,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(listing_industries::Entity)
            .and_where(listing_industries::Column::ListingKind.eq(kind.as_str()))
            .and_where(
                Expr::col((
                    listing_industries::Entity,
                    listing_industries::Column::ListingId,
                ))
                .equals(id_column.as_column_ref()),
            )
            .and_where(listing_industries::Column::IndustryCode.eq(industry))
            .to_owned(),
    )
}

/// The number of published listings of one kind in one industry, from the industry table alone.
pub async fn count_published_in_industry<C: ConnectionTrait>(
    db: &C,
    kind: ListingKind,
    industry: &str,
) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(listing_industries::Entity::find()
        .filter(listing_industries::Column::ListingKind.eq(kind.as_str()))
        .filter(listing_industries::Column::IndustryCode.eq(industry))
        .filter(listing_industries::Column::Published.eq(true))
        .count(db)
        .await?)
}

/// Replaces the industry rows of a listing.
pub async fn replace_industries<C: ConnectionTrait>(
    db: &C,
    kind: ListingKind,
    listing_id: Uuid,
    codes: &[String],
    published: bool,
) -> AppResult<()> {
    listing_industries::Entity::delete_many()
        .filter(listing_industries::Column::ListingKind.eq(kind.as_str()))
        .filter(listing_industries::Column::ListingId.eq(listing_id))
        .exec(db)
        .await?;
    if codes.is_empty() {
        return Ok(());
    }
    listing_industries::Entity::insert_many(industry_models(kind, listing_id, codes, published))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The history of a listing, oldest first.
pub async fn events<C: ConnectionTrait>(
    db: &C,
    kind: ListingKind,
    listing_id: Uuid,
) -> AppResult<Vec<listing_events::Model>> {
    use sea_orm::QueryOrder;
    Ok(listing_events::Entity::find()
        .filter(listing_events::Column::ListingKind.eq(kind.as_str()))
        .filter(listing_events::Column::ListingId.eq(listing_id))
        .order_by_asc(listing_events::Column::Id)
        .all(db)
        .await?)
}

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
    let from = record.item.status()?;
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
pub async fn history_for<C: ConnectionTrait>(
    db: &C,
    kind: ListingKind,
    standing: Standing,
    status: Status,
    id: Uuid,
) -> AppResult<Vec<listing_events::Model>> {
    ensure_visible(kind, standing, status)?;
    if !standing.is_privileged() {
        return Err(AppError::Forbidden(
            "the history of a listing is shown to its owner and the registrar".into(),
        ));
    }
    events(db, kind, id).await
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
            Decision::Reject => match self.reason.map(|r| r.trim().to_owned()) {
                Some(reason) if !reason.is_empty() && reason.chars().count() <= 2000 => {
                    Ok(Transition::Reject { reason, revision })
                }
                _ => Err(AppError::field(
                    "reason",
                    "a rejection needs a reason (1–2000 characters) that tells the owner what to change",
                )),
            },
        }
    }
}

/// The columns a lifecycle change writes, for both listing tables.
pub trait ListingTable: EntityTrait {
    /// Which kind of listing the table holds.
    const KIND: ListingKind;
    /// `id`.
    fn id() -> Self::Column;
    /// `status`.
    fn status() -> Self::Column;
    /// `updated_at`.
    fn updated_at() -> Self::Column;
    /// `published_at`.
    fn published_at() -> Self::Column;
    /// `rejection_reason`.
    fn rejection_reason() -> Self::Column;
    /// `organization_id`.
    fn organization_id() -> Self::Column;
    /// `tech_field`.
    fn tech_field() -> Self::Column;
    /// `revision`.
    fn revision() -> Self::Column;
    /// `submitted_revision`.
    fn submitted_revision() -> Self::Column;
}

macro_rules! listing_table {
    ($entity:path, $module:ident, $kind:expr) => {
        impl ListingTable for $entity {
            const KIND: ListingKind = $kind;
            fn id() -> Self::Column {
                crate::entity::$module::Column::Id
            }
            fn status() -> Self::Column {
                crate::entity::$module::Column::Status
            }
            fn updated_at() -> Self::Column {
                crate::entity::$module::Column::UpdatedAt
            }
            fn published_at() -> Self::Column {
                crate::entity::$module::Column::PublishedAt
            }
            fn rejection_reason() -> Self::Column {
                crate::entity::$module::Column::RejectionReason
            }
            fn organization_id() -> Self::Column {
                crate::entity::$module::Column::OrganizationId
            }
            fn tech_field() -> Self::Column {
                crate::entity::$module::Column::TechField
            }
            fn revision() -> Self::Column {
                crate::entity::$module::Column::Revision
            }
            fn submitted_revision() -> Self::Column {
                crate::entity::$module::Column::SubmittedRevision
            }
        }
    };
}

listing_table!(crate::entity::results::Entity, results, ListingKind::Result);
listing_table!(crate::entity::demands::Entity, demands, ListingKind::Demand);

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
        .col_expr(E::status(), Expr::value(to.as_str()))
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
    let mut update = update
        .filter(E::id().eq(id))
        .filter(E::status().eq(from.as_str()));
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
    user: &crate::services::sessions::CurrentUser,
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

/// Reads `null` as `Some(None)` and absence as `None`, so that a patch can clear a field
/// (`#[serde(default, deserialize_with = "…::nullable")]`).
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// One listing with its owner; `404` when unknown.
pub async fn find<E, C>(db: &C, id: Uuid) -> AppResult<Listed<E::Model>>
where
    E: ListingTable,
    E::Model: Listing,
    C: ConnectionTrait,
{
    find_with::<E, C>(db, id, false).await
}

/// One listing with its owner, its row locked until the end of the transaction `db` (`SELECT …
/// FOR UPDATE` on PostgreSQL; SQLite's write transactions already exclude each other): every
/// read-then-write of a listing starts here, so two writers of one listing take turns and the
/// second sees what the first wrote.
pub async fn find_locked<E, C>(db: &C, id: Uuid) -> AppResult<Listed<E::Model>>
where
    E: ListingTable,
    E::Model: Listing,
    C: ConnectionTrait,
{
    find_with::<E, C>(db, id, true).await
}

async fn find_with<E, C>(db: &C, id: Uuid, locked: bool) -> AppResult<Listed<E::Model>>
where
    E: ListingTable,
    E::Model: Listing,
    C: ConnectionTrait,
{
    use sea_orm::QuerySelect;
    let mut select = E::find().filter(E::id().eq(id));
    if locked {
        select = select.lock_exclusive();
    }
    let item = select
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no {} has this id", E::KIND.noun())))?;
    with_organization(db, item).await
}

/// One listing as `user` may see it (`404` when they may not), with the user's standing to it.
pub async fn get<E>(
    db: &sea_orm::DatabaseConnection,
    user: Option<&CurrentUser>,
    id: Uuid,
) -> AppResult<(Listed<E::Model>, Standing)>
where
    E: ListingTable,
    E::Model: Listing,
{
    let record = find::<E, _>(db, id).await?;
    let standing = Standing::of(user, record.item.organization_id());
    ensure_visible(E::KIND, standing, record.item.status()?)?;
    Ok((record, standing))
}

/// The filters every listing list has.
#[derive(Debug, Default, Clone)]
pub struct CommonFilter {
    /// Industry code.
    pub industry: Option<String>,
    /// 技术领域 code.
    pub tech_field: Option<String>,
    /// A district's 6-digit region code, or a development-zone code.
    pub district: Option<String>,
    /// Owning organization.
    pub org_id: Option<Uuid>,
    /// Status (the public sees only published listings whatever is asked).
    pub status: Option<Status>,
}

/// A page of the listings `user` may see, newest published first, with their owners; returns
/// (page, total). `extra` holds the conditions particular to one kind of listing.
pub async fn list_page<E>(
    db: &sea_orm::DatabaseConnection,
    user: Option<&CurrentUser>,
    filter: CommonFilter,
    extra: Vec<sea_orm::Condition>,
    page: u64,
    per_page: u64,
) -> AppResult<(Vec<Listed<E::Model>>, u64)>
where
    E: ListingTable,
    E::Model: Listing + Sync,
{
    use sea_orm::sea_query::{NullOrdering, Order};
    use sea_orm::{PaginatorTrait, QueryOrder};

    let mut query = E::find().filter(visibility_condition(
        user,
        E::status(),
        E::organization_id(),
    ));
    let only_published = filter.status == Some(Status::Published) || sees_only_published(user);
    if let Some(status) = filter.status {
        query = query.filter(E::status().eq(status.as_str()));
    }
    // The public list of one industry counts from the industry table's index alone.
    let industry_only = only_published
        && extra.is_empty()
        && filter.tech_field.is_none()
        && filter.org_id.is_none()
        && filter.district.is_none()
        && matches!(filter.status, None | Some(Status::Published));
    let fast_count = match (&filter.industry, industry_only) {
        (Some(industry), true) => Some(count_published_in_industry(db, E::KIND, industry).await?),
        _ => None,
    };
    if let Some(industry) = filter.industry {
        query = query.filter(in_industry(E::KIND, E::id(), &industry));
    }
    if let Some(tech_field) = filter.tech_field {
        query = query.filter(E::tech_field().eq(tech_field));
    }
    for condition in extra {
        query = query.filter(condition);
    }
    if let Some(org_id) = filter.org_id {
        query = query.filter(E::organization_id().eq(org_id));
    }
    if let Some(district) = filter.district {
        query =
            query.filter(E::organization_id().in_subquery(organizations_in_district(&district)));
    }
    // Published listings always have a publication time, so their order can come straight from
    // the (status, published_at, id) index; lists that may hold drafts put those last.
    let query = if only_published {
        query
            .order_by_desc(E::published_at())
            .order_by_desc(E::id())
    } else {
        query
            .order_by_with_nulls(E::published_at(), Order::Desc, NullOrdering::Last)
            .order_by_desc(E::id())
    };
    let paginator = query.paginate(db, per_page);
    let total = match fast_count {
        Some(total) => total,
        None => paginator.num_items().await?,
    };
    let items = paginator.fetch_page(page.saturating_sub(1)).await?;
    Ok((with_organizations(db, items).await?, total))
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
        .filter(E::status().eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(counted.rows_affected == 1)
}

/// What every listing model tells about itself.
pub trait Listing {
    /// The owning organization.
    fn organization_id(&self) -> Uuid;
    /// The stored status code.
    fn status_code(&self) -> &str;
    /// Its current and submitted revisions.
    fn revisions(&self) -> Revisions;

    /// The parsed status.
    fn status(&self) -> AppResult<Status> {
        Status::parse(self.status_code()).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("unknown status {}", self.status_code()))
        })
    }
}

impl Listing for crate::entity::results::Model {
    fn organization_id(&self) -> Uuid {
        self.organization_id
    }
    fn status_code(&self) -> &str {
        &self.status
    }
    fn revisions(&self) -> Revisions {
        Revisions {
            current: self.revision,
            submitted: self.submitted_revision,
        }
    }
}

impl Listing for crate::entity::demands::Model {
    fn organization_id(&self) -> Uuid {
        self.organization_id
    }
    fn status_code(&self) -> &str {
        &self.status
    }
    fn revisions(&self) -> Revisions {
        Revisions {
            current: self.revision,
            submitted: self.submitted_revision,
        }
    }
}

/// A listing with its owning organization.
#[derive(Debug, Clone)]
pub struct Listed<M> {
    /// The listing.
    pub item: M,
    /// Its owner.
    pub organization: organizations::Model,
}

/// Loads the owner of one listing.
pub async fn with_organization<C: ConnectionTrait, M: Listing>(
    db: &C,
    item: M,
) -> AppResult<Listed<M>> {
    let organization = organizations::Entity::find_by_id(item.organization_id())
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("listing without owner")))?;
    Ok(Listed { item, organization })
}

/// Loads the owners of a page of listings in one query.
pub async fn with_organizations<C: ConnectionTrait, M: Listing>(
    db: &C,
    items: Vec<M>,
) -> AppResult<Vec<Listed<M>>> {
    let ids: Vec<Uuid> = items.iter().map(Listing::organization_id).collect();
    let organizations = organizations::Entity::find()
        .filter(organizations::Column::Id.is_in(ids))
        .all(db)
        .await?;
    items
        .into_iter()
        .map(|item| {
            let organization = organizations
                .iter()
                .find(|o| o.id == item.organization_id())
                .cloned()
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("listing without owner")))?;
            Ok(Listed { item, organization })
        })
        .collect()
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
        Some(u) if u.user.role == Role::Registrar.as_str() => false,
        Some(u) => {
            u.user.membership != Membership::Active.as_str() || u.user.organization_id.is_none()
        }
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
    let published = status_column.eq(Status::Published.as_str());
    match user {
        Some(u) if u.user.role == Role::Registrar.as_str() => Condition::all(),
        Some(u) if u.user.membership == Membership::Active.as_str() => match u.user.organization_id
        {
            Some(org) => Condition::any()
                .add(published)
                .add(organization_column.eq(org)),
            None => Condition::all().add(published),
        },
        _ => Condition::all().add(published),
    }
}

/// Collects field errors for code lists checked against the reference data.
pub struct CodeChecks<'a> {
    reference: &'a ReferenceData,
    /// The errors found so far.
    pub errors: Vec<FieldError>,
}

impl<'a> CodeChecks<'a> {
    /// Starts with no errors.
    pub fn new(reference: &'a ReferenceData) -> Self {
        Self {
            reference,
            errors: Vec::new(),
        }
    }

    /// `code` must be in list `kind`.
    pub fn one(&mut self, field: &str, kind: &str, code: &str) {
        if !self.reference.contains(kind, code) {
            self.errors.push(FieldError::new(
                field,
                format!("{code:?} is not a code of {kind} (see GET /api/v1/reference)"),
            ));
        }
    }

    /// Every code must be in list `kind`, without repeats, `min..=max` of them.
    pub fn many(&mut self, field: &str, kind: &str, codes: &[String], min: usize, max: usize) {
        if codes.len() < min || codes.len() > max {
            self.errors.push(FieldError::new(
                field,
                if min == max {
                    format!("give exactly {min}")
                } else {
                    format!("give {min} to {max} codes")
                },
            ));
        }
        for (i, code) in codes.iter().enumerate() {
            self.one(&format!("{field}[{i}]"), kind, code);
            if codes[..i].contains(code) {
                self.errors
                    .push(FieldError::new(format!("{field}[{i}]"), "is repeated"));
            }
        }
    }

    /// A free-text field: trimmed length in characters within `min..=max`.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let chars = value.trim().chars().count();
        if chars < min {
            self.errors.push(FieldError::new(
                field,
                if min <= 1 {
                    "must not be empty".to_owned()
                } else {
                    format!("must be at least {min} characters")
                },
            ));
        } else if chars > max {
            self.errors.push(FieldError::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
        if value.contains('\0') {
            self.errors
                .push(FieldError::new(field, "must not contain NUL characters"));
        }
    }

    /// A name people read (a listing's title): [`text`](Self::text), and no invisible or control
    /// character ([`crate::text::check_name`]).
    pub fn name(&mut self, field: &str, value: &str, min: usize, max: usize) {
        self.text(field, value, min, max);
        if let Err(error) = crate::text::check_name(field, value)
            && !value.contains('\0')
        {
            self.errors.push(error);
        }
    }

    /// Keywords: up to 10, each 1–30 characters, no repeats.
    pub fn keywords(&mut self, field: &str, keywords: &[String]) {
        if keywords.len() > 10 {
            self.errors
                .push(FieldError::new(field, "give at most 10 keywords"));
        }
        for (i, keyword) in keywords.iter().enumerate() {
            self.text(&format!("{field}[{i}]"), keyword, 1, 30);
        }
    }

    /// An amount of money in fen: from 0 to [`MAX_AMOUNT_FEN`](crate::domain::MAX_AMOUNT_FEN).
    pub fn money(&mut self, field: &str, fen: Option<i64>) {
        use crate::domain::MAX_AMOUNT_FEN;
        if fen.is_some_and(|f| !(0..=MAX_AMOUNT_FEN).contains(&f)) {
            self.errors.push(FieldError::new(
                field,
                format!("must be a whole number of fen from 0 to {MAX_AMOUNT_FEN} (1,000 亿元)"),
            ));
        }
    }

    /// `Err(422)` with every error found, or `Ok`.
    pub fn finish(mut self) -> AppResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            self.errors.sort_by(|a, b| a.field.cmp(&b.field));
            Err(AppError::Validation(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;

    #[test]
    fn the_lifecycle_allows_only_its_transitions() {
        assert_eq!(Draft.after_submit().ok(), Some(Submitted));
        assert_eq!(Rejected.after_submit().ok(), Some(Submitted));
        assert!(Submitted.after_submit().is_err());
        assert!(Published.after_submit().is_err());
        assert_eq!(Submitted.after_review(true).ok(), Some(Published));
        assert_eq!(Submitted.after_review(false).ok(), Some(Rejected));
        assert!(Draft.after_review(true).is_err());
        assert!(Published.after_review(false).is_err());
        assert_eq!(Published.after_edit().ok(), Some(Submitted));
        assert_eq!(Draft.after_edit().ok(), Some(Draft));
        assert!(Archived.after_edit().is_err());
        assert!(Archived.after_archive().is_err());
        assert_eq!(Published.after_archive().ok(), Some(Archived));
    }
}
