//! Writing a listing's text, the same for results and demands: a draft created by a member, a new
//! row for an import, an edit by the owner (a published listing goes back to review). What differs
//! between the kinds (their fields and checks, who writes them, what an edit must refuse) is each
//! kind's [`ListingFields`].

use std::future::Future;

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, DatabaseConnection, DatabaseTransaction,
    IntoActiveModel, ModelTrait,
};
use uuid::Uuid;

use super::access::{acting_organization, ensure_owner, ensure_visible};
use super::lifecycle::{after_edit, revisions_after_edit};
use super::store::{ListingTable, find, find_locked, record_event, replace_industries};
use super::{Listed, Listing, Standing, Status};
use crate::domain::Role;
use crate::error::{AppError, AppResult};
use crate::kernel::dates::today_in_china;
use crate::reference::ReferenceData;
use crate::services::accounts::sessions::CurrentUser;

/// The fields of one kind of listing as its owner writes them, and the rules that are that kind's
/// own.
pub trait ListingFields: Sized + Send + Sync + 'static {
    /// The table the fields are stored in.
    type Table: ListingTable<Model = Self::Row, ActiveModel = Self::Active>;
    /// A stored row of the table.
    type Row: Listing + ModelTrait<Entity = Self::Table> + IntoActiveModel<Self::Active> + Sync;
    /// A row being written.
    type Active: ActiveModelTrait<Entity = Self::Table>
        + ActiveModelBehavior
        + From<Self::Row>
        + Send
        + Sync;
    /// A partial change (`PATCH`): absent fields keep their value.
    type Patch: Send;

    /// The role whose members write this kind of listing, and what they do (for the `403`).
    const AUTHOR: (Role, &'static str);

    /// Checks every field and reports all problems at once; `today`, when given, is the first day
    /// the listing's own dates may name.
    fn validate(&self, reference: &ReferenceData, today: Option<NaiveDate>) -> AppResult<()>;

    /// The fields of a stored row.
    fn from_row(row: &Self::Row) -> Self;

    /// These fields with a patch applied.
    fn apply(self, patch: Self::Patch) -> Self;

    /// Writes the fields (trimmed) into a row.
    fn write_into(self, row: &mut Self::Active);

    /// The industry codes, kept in the classification table beside the row.
    fn industry_codes(&self) -> &[String];

    /// Whether a patch changes dates that must not lie in the past (only those are checked
    /// against today on an edit, so that a listing whose date has passed can still be edited).
    fn changes_dates(_patch: &Self::Patch) -> bool {
        false
    }

    /// Refuses, before anything is written, a patch the stored listing cannot take (`409`).
    fn refuse_patch(
        _txn: &DatabaseTransaction,
        _id: Uuid,
        _patch: &Self::Patch,
    ) -> impl Future<Output = AppResult<()>> + Send {
        async { Ok(()) }
    }
}

/// Who a new row belongs to and the state it starts in.
#[derive(Debug, Clone)]
pub struct NewListing {
    /// The owning organization.
    pub organization_id: Uuid,
    /// The member who wrote it (`None` for command-line imports).
    pub created_by: Option<Uuid>,
    /// The owner's own id, for re-imports.
    pub external_id: Option<String>,
    /// The first state: `draft` when a member writes it, or what an import asks for.
    pub status: Status,
}

/// A new row, not yet written: its active model and id.
pub fn new_row<F: ListingFields>(new: NewListing, fields: F) -> AppResult<(F::Active, Uuid)> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    let published = (new.status == Status::Published).then_some(now);
    let mut row = <F::Active as ActiveModelTrait>::default();
    let values = [
        (F::Table::id(), id.into()),
        (F::Table::organization_id(), new.organization_id.into()),
        (F::Table::created_by(), new.created_by.into()),
        (F::Table::external_id(), new.external_id.into()),
        (F::Table::status(), new.status.into()),
        (F::Table::rejection_reason(), Option::<String>::None.into()),
        (F::Table::published_at(), published.into()),
        (F::Table::created_at(), now.into()),
        (F::Table::updated_at(), now.into()),
    ];
    for (column, value) in values {
        row.try_set(column, value).map_err(unexpected)?;
    }
    fields.write_into(&mut row);
    Ok((row, id))
}

/// Creates a draft for the member's organization.
pub async fn create<F: ListingFields>(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    user: &CurrentUser,
    fields: F,
) -> AppResult<Listed<F::Row>> {
    let (role, what) = F::AUTHOR;
    let organization_id = acting_organization(user, role, what)?;
    fields.validate(reference, Some(today_in_china()))?;
    let txn = crate::db::begin_write(db).await?;
    let new = NewListing {
        organization_id,
        created_by: Some(user.user.id),
        external_id: None,
        status: Status::Draft,
    };
    let id = insert(&txn, new, fields).await?;
    let kind = F::Table::KIND;
    record_event(
        &txn,
        kind,
        id,
        Some(user.user.id),
        None,
        Status::Draft,
        None,
    )
    .await?;
    let record = find::<F::Table, _>(&txn, id).await?;
    txn.commit().await?;
    Ok(record)
}

/// Inserts validated fields as a new row with its industry rows; returns its id.
async fn insert<F: ListingFields>(
    txn: &DatabaseTransaction,
    new: NewListing,
    fields: F,
) -> AppResult<Uuid> {
    let industries = fields.industry_codes().to_vec();
    let published = new.status == Status::Published;
    let (row, id) = new_row(new, fields)?;
    row.insert(txn).await?;
    replace_industries(txn, F::Table::KIND, id, &industries, published).await?;
    Ok(id)
}

/// Edits a listing (owner only), its row locked for the edit. A published listing goes back to
/// review.
pub async fn update<F: ListingFields>(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    user: &CurrentUser,
    id: Uuid,
    patch: F::Patch,
) -> AppResult<Listed<F::Row>> {
    let kind = F::Table::KIND;
    let txn = crate::db::begin_write(db).await?;
    let record = find_locked::<F::Table, _>(&txn, id).await?;
    let standing = Standing::of(Some(user), record.item.organization_id());
    let from = record.item.status();
    ensure_visible(kind, standing, from)?;
    ensure_owner(kind, standing)?;
    let to = from.after_edit()?;
    F::refuse_patch(&txn, id, &patch).await?;
    let today = F::changes_dates(&patch).then(today_in_china);
    let fields = F::from_row(&record.item).apply(patch);
    fields.validate(reference, today)?;
    let industries = fields.industry_codes().to_vec();
    let revisions = revisions_after_edit(record.item.revisions(), from, to);
    let mut row: F::Active = record.item.into();
    fields.write_into(&mut row);
    let values = [
        (F::Table::status(), to.into()),
        (F::Table::revision(), revisions.current.into()),
        (F::Table::submitted_revision(), revisions.submitted.into()),
        (F::Table::updated_at(), Utc::now().into()),
    ];
    for (column, value) in values {
        row.try_set(column, value).map_err(unexpected)?;
    }
    row.update(&txn).await?;
    replace_industries(&txn, kind, id, &industries, to == Status::Published).await?;
    after_edit(
        &txn,
        kind,
        id,
        Some(user.user.id),
        (from, to),
        revisions.current,
    )
    .await?;
    let record = find::<F::Table, _>(&txn, id).await?;
    txn.commit().await?;
    Ok(record)
}

/// Writes an import's new fields over a stored row read in state `from`, leaving it in `to`; the
/// caller has counted the edit (a compare-and-set on the revision) and keeps the history.
pub async fn overwrite<F: ListingFields>(
    txn: &DatabaseTransaction,
    id: Uuid,
    fields: F,
    from: Status,
    to: Status,
) -> AppResult<()> {
    let now = Utc::now();
    let mut row = <F::Active as ActiveModelTrait>::default();
    let mut values = vec![
        (F::Table::id(), id.into()),
        (F::Table::status(), to.into()),
        (F::Table::updated_at(), now.into()),
    ];
    if to == Status::Published && from != Status::Published {
        values.push((F::Table::published_at(), Some(now).into()));
    }
    for (column, value) in values {
        row.try_set(column, value).map_err(unexpected)?;
    }
    fields.write_into(&mut row);
    row.update(txn).await?;
    Ok(())
}

/// A value that does not fit its column is a mistake in this module, never the user's.
fn unexpected(error: sea_orm::DbErr) -> AppError {
    AppError::Internal(anyhow::anyhow!(
        "a listing column took a value of another type: {error}"
    ))
}
