//! A listing as the index stores it: the one place that decides what search, matching and saved
//! searches read of a result or a demand.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use search_index::ListingDoc;
use uuid::Uuid;

use crate::entity::{demands, organizations, results};
use crate::kernel::json::strings;
use crate::reference::ReferenceData;
use crate::services::listings::{Listing, ListingKind, ListingTable, Status};

/// A listing the index can hold.
pub trait Indexed: Listing {
    /// Its index document, owned by `owner`.
    fn document(&self, reference: &ReferenceData, owner: &organizations::Model) -> ListingDoc;
}

impl Indexed for results::Model {
    fn document(&self, reference: &ReferenceData, owner: &organizations::Model) -> ListingDoc {
        ListingDoc {
            kind: ListingKind::Result.as_str().into(),
            id: self.id.to_string(),
            title: self.title.clone(),
            summary: self.summary.clone(),
            details: self.details.clone().unwrap_or_default(),
            keywords: strings(&self.keywords),
            industries: industries(reference, &self.industry_codes),
            tech_field: self.tech_field.clone(),
            maturity_stage: Some(self.maturity_stage.clone()),
            published_at: self
                .published_at
                .unwrap_or(self.created_at)
                .timestamp_millis(),
            price_fen: self.price_fen,
            trl: self.trl.and_then(|t| u64::try_from(t).ok()),
            identifiers: ip_numbers(&self.ip),
            ..owned_by(owner)
        }
    }
}

impl Indexed for demands::Model {
    /// A demand's challenge indicators (考核指标) are its searchable details.
    fn document(&self, reference: &ReferenceData, owner: &organizations::Model) -> ListingDoc {
        ListingDoc {
            kind: ListingKind::Demand.as_str().into(),
            id: self.id.to_string(),
            title: self.title.clone(),
            summary: self.description.clone(),
            details: self.indicators.clone().unwrap_or_default(),
            keywords: strings(&self.keywords),
            industries: industries(reference, &self.industry_codes),
            tech_field: self.tech_field.clone(),
            maturity_stage: None,
            published_at: self
                .published_at
                .unwrap_or(self.created_at)
                .timestamp_millis(),
            price_fen: self.budget_fen,
            trl: None,
            ..owned_by(owner)
        }
    }
}

/// The numbers of a result's IP items (`[{ip_type, number, title}]`).
fn ip_numbers(ip: &serde_json::Value) -> Vec<String> {
    ip.as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("number")?.as_str())
        .filter(|number| !number.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// The owner's part of a document.
fn owned_by(owner: &organizations::Model) -> ListingDoc {
    ListingDoc {
        org_id: owner.id.to_string(),
        org_name: owner.name.clone(),
        org_kind: owner.kind.as_str().to_owned(),
        district: owner.region_code.clone(),
        zone: owner.zone.clone(),
        ..ListingDoc::default()
    }
}

/// Each industry code with its group, so that a search by group finds the listing.
fn industries(reference: &ReferenceData, codes: &serde_json::Value) -> Vec<(String, String)> {
    strings(codes)
        .into_iter()
        .map(|code| {
            let group = reference
                .list("industries")
                .iter()
                .find(|c| c.code == code)
                .and_then(|c| c.parent.clone())
                .unwrap_or_default();
            (code, group)
        })
        .collect()
}

/// The document of listing `id` of kind `kind`, or `None` when search must not see it: unknown,
/// or not published.
pub async fn published_document<C: ConnectionTrait>(
    db: &C,
    reference: &ReferenceData,
    kind: ListingKind,
    id: Uuid,
) -> anyhow::Result<Option<ListingDoc>> {
    match kind {
        ListingKind::Result => published::<results::Entity, _>(db, reference, id).await,
        ListingKind::Demand => published::<demands::Entity, _>(db, reference, id).await,
    }
}

async fn published<E, C>(
    db: &C,
    reference: &ReferenceData,
    id: Uuid,
) -> anyhow::Result<Option<ListingDoc>>
where
    E: ListingTable,
    E::Model: Indexed,
    C: ConnectionTrait,
{
    let row = E::find()
        .filter(E::id().eq(id))
        .filter(E::status().eq(Status::Published))
        .one(db)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let owner = organizations::Entity::find_by_id(row.organization_id())
        .one(db)
        .await?;
    Ok(owner.map(|owner| row.document(reference, &owner)))
}
