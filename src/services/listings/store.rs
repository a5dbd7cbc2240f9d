//! The storage both listing tables share: finding (locked or not), listing pages, the history,
//! the industry classification rows and the search outbox.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::access::{
    ensure_visible, organizations_in_district, sees_only_published, visibility_condition,
};
use super::catalogue::PublishedCounts;
use super::{Listed, Listing, ListingKind, Standing, Status};
use crate::entity::{listing_events, listing_industries, organizations, search_outbox};
use crate::error::{AppError, AppResult};
use crate::services::accounts::sessions::CurrentUser;

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
        listing_kind: Set(kind),
        listing_id: Set(listing_id),
        actor_id: Set(actor_id),
        from_status: Set(from),
        to_status: Set(to),
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
        listing_kind: Set(kind),
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
            listing_kind: Set(kind),
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
        .filter(listing_industries::Column::ListingKind.eq(kind))
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
            .and_where(listing_industries::Column::ListingKind.eq(kind))
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
        .filter(listing_industries::Column::ListingKind.eq(kind))
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
        .filter(listing_industries::Column::ListingKind.eq(kind))
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
        .filter(listing_events::Column::ListingKind.eq(kind))
        .filter(listing_events::Column::ListingId.eq(listing_id))
        .order_by_asc(listing_events::Column::Id)
        .all(db)
        .await?)
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
    /// `created_by`.
    fn created_by() -> Self::Column;
    /// `external_id`.
    fn external_id() -> Self::Column;
    /// `created_at`.
    fn created_at() -> Self::Column;
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
            fn created_by() -> Self::Column {
                crate::entity::$module::Column::CreatedBy
            }
            fn external_id() -> Self::Column {
                crate::entity::$module::Column::ExternalId
            }
            fn created_at() -> Self::Column {
                crate::entity::$module::Column::CreatedAt
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
    ensure_visible(E::KIND, standing, record.item.status())?;
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

/// A kind's list filters: the ones every listing list has, and the kind's own as conditions on its
/// table.
pub trait ListFilter: Send {
    /// The kind's table.
    type Table: ListingTable;
    /// The common filters, and the kind's own as conditions.
    fn into_parts(self) -> (CommonFilter, Vec<sea_orm::Condition>);
}

/// The listings of a kind `user` may see under `filter`, newest published first; returns (page,
/// total).
pub async fn list<F: ListFilter>(
    db: &sea_orm::DatabaseConnection,
    counts: &PublishedCounts,
    user: Option<&CurrentUser>,
    filter: F,
    page: u64,
    per_page: u64,
) -> AppResult<(Vec<Listed<<F::Table as EntityTrait>::Model>>, u64)>
where
    <F::Table as EntityTrait>::Model: Listing + Sync,
{
    let (common, extra) = filter.into_parts();
    list_page::<F::Table>(db, counts, user, common, extra, page, per_page).await
}

/// A page of the listings `user` may see, newest published first, with their owners; returns
/// (page, total). `extra` holds the conditions particular to one kind of listing. The total is
/// exact, but for the public's unfiltered list: there it is the number of published listings
/// `counts` keeps (see [`PublishedCounts`] for why), as far as the page agrees with it.
pub async fn list_page<E>(
    db: &sea_orm::DatabaseConnection,
    counts: &PublishedCounts,
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
        query = query.filter(E::status().eq(status));
    }
    // Published listings with no condition but perhaps an industry: the whole public catalogue,
    // or one industry of it, the same for every viewer who sees only published listings.
    let public = only_published
        && extra.is_empty()
        && filter.tech_field.is_none()
        && filter.org_id.is_none()
        && filter.district.is_none()
        && matches!(filter.status, None | Some(Status::Published));
    let count = match (&filter.industry, public) {
        // One industry counts from the industry table's index alone, exactly.
        (Some(industry), true) => {
            Count::Exact(count_published_in_industry(db, E::KIND, industry).await?)
        }
        (None, true) => Count::Published,
        _ => Count::Query,
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
    let items = paginator.fetch_page(page.saturating_sub(1)).await?;
    let total = match count {
        Count::Exact(total) => total,
        Count::Query => paginator.num_items().await?,
        Count::Published => {
            // The query counts what the page shows: every published listing of the kind.
            let kept = counts
                .published(E::KIND, async { Ok(paginator.num_items().await?) })
                .await?;
            total_beside_page(kept, page, per_page, items.len())
        }
    };
    Ok((with_organizations(db, items).await?, total))
}

/// How a list's `total` is found.
enum Count {
    /// Already counted.
    Exact(u64),
    /// Counted by the list's own query.
    Query,
    /// The published listings of the kind, as [`PublishedCounts`] keeps them.
    Published,
}

/// A kept `total` made to agree with the page read beside it: a page that is not full ends the
/// list, so the list holds exactly what comes before it and on it (the first page too, even
/// empty); a full page shows at least that many; an empty page after the first, at most what
/// comes before it. A small catalogue's public total is therefore always exact, and a visitor never
/// sees "0 results" above a listing.
fn total_beside_page(kept: u64, page: u64, per_page: u64, on_page: usize) -> u64 {
    let before = page.saturating_sub(1).saturating_mul(per_page);
    let seen = before.saturating_add(on_page as u64);
    if on_page as u64 >= per_page {
        kept.max(seen)
    } else if on_page > 0 || page <= 1 {
        seen
    } else {
        kept.min(before)
    }
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

#[cfg(test)]
mod tests {
    use super::total_beside_page;

    #[test]
    fn a_kept_total_agrees_with_the_page_beside_it() {
        // A full page: at least what it shows, else what was kept.
        assert_eq!(total_beside_page(1_000_000, 1, 20, 20), 1_000_000);
        assert_eq!(total_beside_page(5, 1, 20, 20), 20);
        assert_eq!(total_beside_page(30, 2, 20, 20), 40);
        // A page that is not full ends the list, whatever was kept.
        assert_eq!(total_beside_page(0, 1, 20, 1), 1);
        assert_eq!(total_beside_page(9, 1, 20, 3), 3);
        assert_eq!(total_beside_page(9, 3, 20, 5), 45);
        assert_eq!(total_beside_page(7, 1, 20, 0), 0);
        // An empty page after the first: at most what comes before it.
        assert_eq!(total_beside_page(100, 3, 20, 0), 40);
        assert_eq!(total_beside_page(30, 3, 20, 0), 30);
    }
}
