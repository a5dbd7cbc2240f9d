//! Writing a batch of checked rows: new listings, updates of those an organization already has
//! by `external_id`, their organizations, industry rows, history and search outbox.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{ImportKind, ImportOptions, ImportReport, Input, OrgRef, ReadyRow};
use crate::domain::organization_name_key;
use crate::entity::{demands, organizations, results};
use crate::error::{AppResult, FieldError};
use crate::services::accounts::organizations::insert_organization;
use crate::services::listings::{self, NewListing, Status};

pub(super) async fn write_batch(
    db: &DatabaseConnection,
    kind: ImportKind,
    rows: Vec<ReadyRow>,
    options: &ImportOptions,
    organizations: &mut HashMap<String, Uuid>,
    report: &mut ImportReport,
) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let txn = crate::db::begin_write(db).await?;
    let listing = kind.listing();
    let mut created_orgs = Vec::new();
    let mut owned = Vec::with_capacity(rows.len());
    for row in rows {
        let organization_id = match &row.organization {
            OrgRef::Known(id) => *id,
            OrgRef::ByName(new) => {
                let key = organization_name_key(&new.name);
                match organizations.get(&key) {
                    Some(id) => *id,
                    None => {
                        let existing = organizations::Entity::find()
                            .filter(organizations::Column::NameKey.eq(&key))
                            .one(&txn)
                            .await?;
                        let id = match existing {
                            Some(org) => org.id,
                            None => insert_organization(&txn, (**new).clone()).await?.id,
                        };
                        created_orgs.push(key.clone());
                        organizations.insert(key, id);
                        id
                    }
                }
            }
        };
        owned.push((organization_id, row));
    }
    let keys: Vec<String> = owned
        .iter()
        .filter_map(|(_, row)| row.external_id.clone())
        .collect();
    let existing = find_existing(&txn, kind, &keys).await?;

    // New listings are written with one multi-row INSERT per table; updates one by one.
    let new_status = if options.publish {
        Status::Published
    } else {
        Status::Draft
    };
    let mut new_results = Vec::new();
    let mut new_demands = Vec::new();
    let mut industry_rows = Vec::new();
    let mut event_rows = Vec::new();
    let mut outbox_rows = Vec::new();
    for (organization_id, row) in owned {
        let found = row
            .external_id
            .as_ref()
            .and_then(|e| existing.get(&(organization_id, e.clone())))
            .copied();
        let industries = row.input.industries().to_vec();
        match found {
            Some((id, from)) => {
                let to = if options.publish {
                    Status::Published
                } else {
                    match from.after_edit() {
                        Ok(to) => to,
                        Err(e) => {
                            report
                                .reject(row.line, [FieldError::new("external_id", e.to_string())]);
                            continue;
                        }
                    }
                };
                let counted = match kind {
                    ImportKind::Results => {
                        listings::count_edit::<results::Entity, _>(&txn, id, from, to).await?
                    }
                    ImportKind::Demands => {
                        listings::count_edit::<demands::Entity, _>(&txn, id, from, to).await?
                    }
                };
                if !counted {
                    report.reject(
                        row.line,
                        [FieldError::new(
                            "external_id",
                            "the listing changed while the file was imported: import this row again",
                        )],
                    );
                    continue;
                }
                match row.input {
                    Input::Result(input) => listings::overwrite(&txn, id, *input, from, to).await?,
                    Input::Demand(input) => listings::overwrite(&txn, id, *input, from, to).await?,
                }
                listings::replace_industries(
                    &txn,
                    listing,
                    id,
                    &industries,
                    to == Status::Published,
                )
                .await?;
                if from != to || from == Status::Submitted {
                    let reason = if from == to {
                        "re-imported during review"
                    } else {
                        "re-imported"
                    };
                    listings::record_event(
                        &txn,
                        listing,
                        id,
                        options.actor,
                        Some(from),
                        to,
                        Some(reason.into()),
                    )
                    .await?;
                }
                if from == Status::Published || to == Status::Published {
                    listings::enqueue_for_search(&txn, listing, id).await?;
                }
                report.updated += 1;
            }
            None => {
                let new = NewListing {
                    organization_id,
                    created_by: options.actor,
                    external_id: row.external_id,
                    status: new_status,
                };
                let id = match row.input {
                    Input::Result(input) => {
                        let (model, id) = listings::new_row(new.clone(), *input)?;
                        new_results.push(model);
                        id
                    }
                    Input::Demand(input) => {
                        let (model, id) = listings::new_row(new.clone(), *input)?;
                        new_demands.push(model);
                        id
                    }
                };
                industry_rows.extend(listings::industry_models(
                    listing,
                    id,
                    &industries,
                    new_status == Status::Published,
                ));
                event_rows.push(listings::event_model(
                    listing,
                    id,
                    options.actor,
                    None,
                    new_status,
                    Some("imported".into()),
                ));
                if new_status == Status::Published {
                    outbox_rows.push(listings::outbox_model(listing, id));
                }
                report.created += 1;
            }
        }
    }
    insert_chunked(&txn, new_results).await?;
    insert_chunked(&txn, new_demands).await?;
    insert_chunked(&txn, industry_rows).await?;
    insert_chunked(&txn, event_rows).await?;
    insert_chunked(&txn, outbox_rows).await?;
    if let Err(e) = txn.commit().await {
        // Organizations created in this batch were rolled back with it.
        for key in created_orgs {
            organizations.remove(&key);
        }
        return Err(e.into());
    }
    Ok(())
}

/// Rows per multi-row INSERT: well under SQLite's 32766 and PostgreSQL's 65535 bind parameters
/// for the widest table (about 25 columns).
const INSERT_CHUNK: usize = 500;

async fn insert_chunked<C, A>(db: &C, rows: Vec<A>) -> AppResult<()>
where
    C: ConnectionTrait,
    A: sea_orm::ActiveModelTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(INSERT_CHUNK).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The listings that already carry one of `external_ids`, by (organization, external id).
async fn find_existing<C: ConnectionTrait>(
    db: &C,
    kind: ImportKind,
    external_ids: &[String],
) -> AppResult<HashMap<(Uuid, String), (Uuid, Status)>> {
    let mut found = HashMap::new();
    for chunk in external_ids.chunks(INSERT_CHUNK) {
        let rows: Vec<(Uuid, Uuid, Option<String>, Status)> = match kind {
            ImportKind::Results => results::Entity::find()
                .filter(results::Column::ExternalId.is_in(chunk.iter().cloned()))
                .all(db)
                .await?
                .into_iter()
                .map(|r| (r.id, r.organization_id, r.external_id, r.status))
                .collect(),
            ImportKind::Demands => demands::Entity::find()
                .filter(demands::Column::ExternalId.is_in(chunk.iter().cloned()))
                .all(db)
                .await?
                .into_iter()
                .map(|d| (d.id, d.organization_id, d.external_id, d.status))
                .collect(),
        };
        for (id, organization_id, external_id, status) in rows {
            if let Some(external_id) = external_id {
                found.insert((organization_id, external_id), (id, status));
            }
        }
    }
    Ok(found)
}
