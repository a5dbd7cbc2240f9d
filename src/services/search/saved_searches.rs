//! Saved searches, and the notifications a newly published listing that matches one creates.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::ListingKind;
use crate::entity::{notifications, saved_searches};
use crate::error::{AppError, AppResult};
use crate::kernel::validation::Checks;
use crate::reference::ReferenceData;
use crate::services::accounts::sessions::CurrentUser;

/// Saved searches one user may keep.
pub const MAX_PER_USER: u64 = 50;

/// `POST /api/v1/saved-searches`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedSearchInput {
    /// A name, 1–100 characters.
    pub name: String,
    /// The query text, as for `GET /api/v1/search` (may be empty: filters only).
    #[serde(default)]
    pub q: String,
    /// `result` (default) or `demand`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Industry code.
    #[serde(default)]
    pub industry: Option<String>,
    /// 技术领域 code.
    #[serde(default)]
    pub tech_field: Option<String>,
    /// Maturity-stage code.
    #[serde(default)]
    pub maturity_stage: Option<String>,
    /// District (6-digit region code) or development-zone code.
    #[serde(default)]
    pub district: Option<String>,
}

/// A saved search as shown to its owner.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedSearchView {
    /// UUID v7; the `{id}` to delete it by.
    pub id: Uuid,
    /// The name its owner gave it, 1–100 characters.
    pub name: String,
    /// `result` or `demand`.
    pub kind: ListingKind,
    /// Query text.
    pub q: String,
    /// Industry filter: a code from `industries` (null: any industry).
    pub industry: Option<String>,
    /// 技术领域 filter.
    pub tech_field: Option<String>,
    /// Maturity-stage filter.
    pub maturity_stage: Option<String>,
    /// District filter.
    pub district: Option<String>,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
}

impl From<saved_searches::Model> for SavedSearchView {
    fn from(s: saved_searches::Model) -> Self {
        Self {
            id: s.id,
            name: s.name,
            kind: s.kind,
            q: s.q,
            industry: s.industry,
            tech_field: s.tech_field,
            maturity_stage: s.maturity_stage,
            district: s.district,
            created_at: s.created_at,
        }
    }
}

/// A notification as shown to its recipient.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    /// UUID v7; the `{id}` to mark it read by.
    pub id: Uuid,
    /// The saved search that matched.
    pub saved_search_id: Uuid,
    /// `result` or `demand`.
    pub listing_kind: ListingKind,
    /// The listing.
    pub listing_id: Uuid,
    /// Its title.
    pub title: String,
    /// When the match was recorded, once the indexer had taken in the newly published listing.
    pub created_at: DateTime<Utc>,
    /// When it was marked read (null: unread).
    pub read_at: Option<DateTime<Utc>>,
}

impl From<notifications::Model> for NotificationView {
    fn from(n: notifications::Model) -> Self {
        Self {
            id: n.id,
            saved_search_id: n.saved_search_id,
            listing_kind: n.listing_kind,
            listing_id: n.listing_id,
            title: n.title,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

/// Saves a search for the user.
pub async fn create(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    user: &CurrentUser,
    input: SavedSearchInput,
) -> AppResult<saved_searches::Model> {
    let mut checks = Checks::new(reference);
    checks.name("name", &input.name, 1, 100);
    let name = input.name.trim().to_owned();
    checks.text("q", &input.q, 0, search_index::MAX_QUERY_CHARS);
    // The body keeps `kind` a string, so an unknown code is one more field error of the list.
    let kind = match input.kind.as_deref() {
        None => Some(ListingKind::Result),
        Some(code) => ListingKind::parse(code),
    };
    checks.check(kind.is_some(), "kind", "must be result or demand");
    for (field, list, value) in [
        ("industry", "industries", &input.industry),
        ("tech_field", "tech_fields", &input.tech_field),
        ("maturity_stage", "maturity_stages", &input.maturity_stage),
    ] {
        if let Some(code) = value {
            checks.one(field, list, code);
        }
    }
    if let Some(district) = &input.district {
        checks.check(
            reference.contains("districts", district) || reference.contains("zones", district),
            "district",
            "must be a Xi'an district code or a development-zone code",
        );
    }
    checks.finish()?;
    let kind = kind.unwrap_or(ListingKind::Result);
    let count = saved_searches::Entity::find()
        .filter(saved_searches::Column::UserId.eq(user.user.id))
        .count(db)
        .await?;
    if count >= MAX_PER_USER {
        return Err(AppError::Conflict(format!(
            "you already keep {MAX_PER_USER} saved searches; delete one first"
        )));
    }
    Ok(saved_searches::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.user.id),
        name: Set(name),
        kind: Set(kind),
        q: Set(input.q.trim().to_owned()),
        industry: Set(input.industry),
        tech_field: Set(input.tech_field),
        maturity_stage: Set(input.maturity_stage),
        district: Set(input.district),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?)
}

/// The user's saved searches, oldest first.
pub async fn list(
    db: &DatabaseConnection,
    user: &CurrentUser,
) -> AppResult<Vec<saved_searches::Model>> {
    Ok(saved_searches::Entity::find()
        .filter(saved_searches::Column::UserId.eq(user.user.id))
        .order_by_asc(saved_searches::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Deletes one of the user's saved searches (and its notifications); `404` for anyone else's.
pub async fn delete(db: &DatabaseConnection, user: &CurrentUser, id: Uuid) -> AppResult<()> {
    let deleted = saved_searches::Entity::delete_many()
        .filter(saved_searches::Column::Id.eq(id))
        .filter(saved_searches::Column::UserId.eq(user.user.id))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(AppError::NotFound(
            "you have no saved search with this id".into(),
        ));
    }
    Ok(())
}

/// The user's notifications, newest first; returns (page, total).
pub async fn notifications(
    db: &DatabaseConnection,
    user: &CurrentUser,
    unread_only: bool,
    page: u64,
    per_page: u64,
) -> AppResult<(Vec<notifications::Model>, u64)> {
    let mut query = notifications::Entity::find()
        .filter(notifications::Column::UserId.eq(user.user.id))
        .order_by_desc(notifications::Column::CreatedAt)
        .order_by_desc(notifications::Column::Id);
    if unread_only {
        query = query.filter(notifications::Column::ReadAt.is_null());
    }
    let paginator = query.paginate(db, per_page);
    let total = paginator.num_items().await?;
    Ok((paginator.fetch_page(page - 1).await?, total))
}

/// Marks one of the user's notifications read; `404` for anyone else's.
pub async fn mark_read(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: Uuid,
) -> AppResult<notifications::Model> {
    let notification = notifications::Entity::find_by_id(id)
        .filter(notifications::Column::UserId.eq(user.user.id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("you have no notification with this id".into()))?;
    if notification.read_at.is_some() {
        return Ok(notification);
    }
    let mut active: notifications::ActiveModel = notification.into();
    active.read_at = Set(Some(Utc::now()));
    Ok(active.update(db).await?)
}

/// After the indexer applied a batch: notifies every saved search that matches a listing of the
/// batch published after the search was saved. Safe to run on every node: a match is recorded once.
pub async fn notify_matches(
    db: &DatabaseConnection,
    index: &std::sync::Arc<search_index::SearchIndex>,
    upserted: &[search_index::ListingDoc],
) -> anyhow::Result<usize> {
    if upserted.is_empty() {
        return Ok(0);
    }
    let searches = saved_searches::Entity::find().all(db).await?;
    let mut rows = Vec::new();
    for search in searches {
        let saved_at = search.created_at.timestamp_millis();
        let candidates: Vec<&search_index::ListingDoc> = upserted
            .iter()
            .filter(|d| d.kind == search.kind.as_str() && d.published_at >= saved_at)
            .collect();
        if candidates.is_empty() {
            continue;
        }
        let ids: Vec<String> = candidates.iter().map(|d| d.id.clone()).collect();
        let request = search_index::SearchRequest {
            q: search.q.clone(),
            kind: search.kind.as_str().to_owned(),
            industry: search.industry.clone(),
            tech_field: search.tech_field.clone(),
            maturity_stage: search.maturity_stage.clone(),
            district: search.district.clone(),
            ..Default::default()
        };
        let found = super::matching_among(index, request, ids).await?;
        for id in found {
            let (Ok(listing_id), Some(doc)) =
                (Uuid::parse_str(&id), candidates.iter().find(|d| d.id == id))
            else {
                continue;
            };
            rows.push(notifications::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(search.user_id),
                saved_search_id: Set(search.id),
                listing_kind: Set(search.kind),
                listing_id: Set(listing_id),
                title: Set(doc.title.chars().take(200).collect()),
                created_at: Set(Utc::now()),
                read_at: Set(None),
            });
        }
    }
    let count = rows.len();
    for row in rows {
        notifications::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    notifications::Column::SavedSearchId,
                    notifications::Column::ListingKind,
                    notifications::Column::ListingId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(count)
}
