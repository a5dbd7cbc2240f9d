//! The search projection's write path: the indexer that applies the outbox to the local tantivy
//! index, and the full rebuild. Searching itself is `search_index::SearchIndex`, called from the
//! search handler (`http::search`), matching (`services::matching`) and saved searches.
//!
//! The database is the truth. Every write that changes what search sees adds a row to
//! `search_outbox` in its own transaction. One indexer task per process reads the rows after its
//! checkpoint, looks up each listing's *current* state (published → indexed, anything else →
//! removed), and commits the index with the new checkpoint stored in the same tantivy commit. A crash
//! at any moment therefore loses nothing: on restart the indexer continues from the last commit, and
//! re-applying a row is harmless.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use search_index::{ListingDoc, SearchIndex};
use uuid::Uuid;

use crate::entity::{demands, organizations, results, search_outbox};
use crate::kernel::json::strings;
use crate::reference::ReferenceData;
use crate::services::listings::{ListingKind, ListingTable, Status};

/// Outbox rows applied per round.
const ROWS_PER_ROUND: u64 = 1000;
/// How long a missing outbox id may be waited for (a transaction still in flight on PostgreSQL)
/// before it is taken to be rolled back and skipped.
const GAP_TIMEOUT: Duration = Duration::from_secs(10);
/// Listings read per query during a rebuild.
const REBUILD_PAGE: u64 = 1000;

/// Builds the index document of a listing, or `None` when search must not see it.
async fn document(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    kind: ListingKind,
    id: Uuid,
) -> anyhow::Result<Option<ListingDoc>> {
    let doc = match kind {
        ListingKind::Result => match results::Entity::find_by_id(id).one(db).await? {
            Some(r) if r.status == Status::Published => {
                let org = organizations::Entity::find_by_id(r.organization_id)
                    .one(db)
                    .await?;
                org.map(|o| result_doc(reference, &r, &o))
            }
            _ => None,
        },
        ListingKind::Demand => match demands::Entity::find_by_id(id).one(db).await? {
            Some(d) if d.status == Status::Published => {
                let org = organizations::Entity::find_by_id(d.organization_id)
                    .one(db)
                    .await?;
                org.map(|o| demand_doc(reference, &d, &o))
            }
            _ => None,
        },
    };
    Ok(doc)
}

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

pub(crate) fn result_doc(
    reference: &ReferenceData,
    r: &results::Model,
    o: &organizations::Model,
) -> ListingDoc {
    ListingDoc {
        kind: ListingKind::Result.as_str().into(),
        id: r.id.to_string(),
        title: r.title.clone(),
        summary: r.summary.clone(),
        details: r.details.clone().unwrap_or_default(),
        keywords: strings(&r.keywords),
        org_id: o.id.to_string(),
        org_name: o.name.clone(),
        org_kind: o.kind.as_str().to_owned(),
        district: o.region_code.clone(),
        zone: o.zone.clone(),
        industries: industries(reference, &r.industry_codes),
        tech_field: r.tech_field.clone(),
        maturity_stage: Some(r.maturity_stage.clone()),
        published_at: r.published_at.unwrap_or(r.created_at).timestamp_millis(),
        price_fen: r.price_fen,
        trl: r.trl.and_then(|t| u64::try_from(t).ok()),
    }
}

pub(crate) fn demand_doc(
    reference: &ReferenceData,
    d: &demands::Model,
    o: &organizations::Model,
) -> ListingDoc {
    ListingDoc {
        kind: ListingKind::Demand.as_str().into(),
        id: d.id.to_string(),
        title: d.title.clone(),
        summary: d.description.clone(),
        details: d.indicators.clone().unwrap_or_default(),
        keywords: strings(&d.keywords),
        org_id: o.id.to_string(),
        org_name: o.name.clone(),
        org_kind: o.kind.as_str().to_owned(),
        district: o.region_code.clone(),
        zone: o.zone.clone(),
        industries: industries(reference, &d.industry_codes),
        tech_field: d.tech_field.clone(),
        maturity_stage: None,
        published_at: d.published_at.unwrap_or(d.created_at).timestamp_millis(),
        price_fen: d.budget_fen,
        trl: None,
    }
}

/// Applies outbox rows after the index's checkpoint; returns how many rows were read.
pub struct Indexer {
    db: DatabaseConnection,
    reference: Arc<ReferenceData>,
    index: Arc<SearchIndex>,
    gaps: HashMap<i64, Instant>,
    poll_interval: Duration,
}

impl Indexer {
    /// An indexer for one index, looking for new outbox rows every `poll_interval`.
    pub fn new(
        db: DatabaseConnection,
        reference: Arc<ReferenceData>,
        index: Arc<SearchIndex>,
        poll_interval: Duration,
    ) -> Self {
        Self {
            db,
            reference,
            index,
            gaps: HashMap::new(),
            poll_interval,
        }
    }

    /// One round: read the rows after the checkpoint, apply them, commit. Returns the rows read.
    pub async fn run_once(&mut self) -> anyhow::Result<usize> {
        let index = self.index.clone();
        let checkpoint = tokio::task::spawn_blocking(move || index.checkpoint()).await??;
        let rows = search_outbox::Entity::find()
            .filter(search_outbox::Column::Id.gt(checkpoint))
            .order_by_asc(search_outbox::Column::Id)
            .limit(ROWS_PER_ROUND)
            .all(&self.db)
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut seen = HashSet::new();
        let mut upserts = Vec::new();
        let mut deletes = Vec::new();
        for row in &rows {
            if !seen.insert((row.listing_kind, row.listing_id)) {
                continue;
            }
            match document(&self.db, &self.reference, row.listing_kind, row.listing_id).await? {
                Some(doc) => upserts.push(doc),
                None => deletes.push((
                    row.listing_kind.as_str().to_owned(),
                    row.listing_id.to_string(),
                )),
            }
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let next = advance_checkpoint(&mut self.gaps, checkpoint, &ids, Instant::now());
        let index = self.index.clone();
        let applied = upserts.clone();
        tokio::task::spawn_blocking(move || {
            index.apply(&applied, &deletes)?;
            index.commit(next)
        })
        .await??;
        // Notifications follow the index: a failure here is logged and does not undo the batch.
        if let Err(e) =
            crate::services::saved_searches::notify_matches(&self.db, &self.index, &upserts).await
        {
            tracing::error!(error = %e, "notifying saved searches failed");
        }
        Ok(rows.len())
    }

    /// Runs a round every poll interval, logging failures and carrying on, until `stop` turns
    /// true (or its sender is gone); then applies every row written until then and returns.
    pub async fn run(mut self, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            // Read before the round: a round that starts after the stop sees every row that
            // was written before it.
            let stopping = *stop.borrow_and_update();
            match self.run_once().await {
                Ok(n) if n as u64 == ROWS_PER_ROUND => continue,
                Ok(_) if stopping => return,
                Ok(_) => {}
                Err(e) if stopping => {
                    tracing::error!(error = %e, "the last indexer round failed; the next start catches up");
                    return;
                }
                Err(e) => tracing::error!(error = %e, "indexer round failed; retrying"),
            }
            tokio::select! {
                () = tokio::time::sleep(self.poll_interval) => {}
                changed = stop.changed() => {
                    if changed.is_err() {
                        // The server is gone without asking for a last round.
                        return;
                    }
                }
            }
        }
    }
}

/// The new checkpoint: the highest id up to which every id has been seen. A missing id may be a
/// transaction still in flight (ids are handed out before commit on PostgreSQL): rows after it are
/// applied now and again later, which is harmless, and the gap is skipped after [`GAP_TIMEOUT`].
fn advance_checkpoint(
    gaps: &mut HashMap<i64, Instant>,
    checkpoint: i64,
    ids: &[i64],
    now: Instant,
) -> i64 {
    let mut at = checkpoint;
    for &id in ids {
        while at + 1 < id {
            let first_seen = *gaps.entry(at + 1).or_insert(now);
            if now.duration_since(first_seen) < GAP_TIMEOUT {
                return at;
            }
            gaps.remove(&(at + 1));
            at += 1;
        }
        at = id;
    }
    gaps.retain(|gap, _| *gap > at);
    at
}

/// Rebuilds the index from the database: every published listing, with the checkpoint set to the
/// outbox position read *before* the scan (so changes made during the scan are replayed after it).
/// `progress` receives (done, total).
pub async fn rebuild(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    index: &Arc<SearchIndex>,
    progress: impl Fn(u64, u64),
) -> anyhow::Result<u64> {
    let checkpoint = search_outbox::Entity::find()
        .order_by_desc(search_outbox::Column::Id)
        .one(db)
        .await?
        .map_or(0, |r| r.id);
    let published = Status::Published;
    let total = results::Entity::find()
        .filter(results::Column::Status.eq(published))
        .count(db)
        .await?
        + demands::Entity::find()
            .filter(demands::Column::Status.eq(published))
            .count(db)
            .await?;
    let clearing = index.clone();
    tokio::task::spawn_blocking(move || {
        clearing.clear()?;
        clearing.begin_bulk()
    })
    .await??;
    let organizations: HashMap<Uuid, organizations::Model> = organizations::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut done = 0u64;
    let mut report = |n: u64| {
        done += n;
        progress(done, total);
    };
    index_published::<results::Entity>(
        db,
        index,
        |r| {
            organizations
                .get(&r.organization_id)
                .map(|o| result_doc(reference, r, o))
        },
        &mut report,
    )
    .await?;
    index_published::<demands::Entity>(
        db,
        index,
        |d| {
            organizations
                .get(&d.organization_id)
                .map(|o| demand_doc(reference, d, o))
        },
        &mut report,
    )
    .await?;
    tracing::info!(
        listings = done,
        "listings added to the search index; committing and merging its segments"
    );
    let merging = Instant::now();
    let committing = index.clone();
    tokio::task::spawn_blocking(move || committing.finish_bulk(checkpoint)).await??;
    tracing::info!(took = ?merging.elapsed(), "search index committed and merged");
    Ok(done)
}

/// Adds every published listing of one table to the index, a page at a time; `indexed` receives
/// the number of documents of each page.
async fn index_published<E>(
    db: &DatabaseConnection,
    index: &Arc<SearchIndex>,
    to_doc: impl Fn(&E::Model) -> Option<ListingDoc>,
    indexed: &mut impl FnMut(u64),
) -> anyhow::Result<()>
where
    E: ListingTable,
    E::Model: Sync,
{
    // Keyset pagination (`id > last`): OFFSET would rescan every earlier row, quadratic at 1M.
    let mut last: Option<sea_orm::Value> = None;
    loop {
        let mut query = E::find().filter(E::status().eq(Status::Published));
        if let Some(last) = last.take() {
            query = query.filter(E::id().gt(last));
        }
        let page = query
            .order_by_asc(E::id())
            .limit(REBUILD_PAGE)
            .all(db)
            .await?;
        let Some(tail) = page.last() else { break };
        last = Some(tail.get(E::id()));
        let docs: Vec<ListingDoc> = page.iter().filter_map(&to_doc).collect();
        let count = docs.len() as u64;
        let writing = index.clone();
        tokio::task::spawn_blocking(move || writing.add_new(&docs)).await??;
        indexed(count);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkpoint_stops_at_a_fresh_gap_and_skips_an_old_one() {
        let mut gaps = HashMap::new();
        let start = Instant::now();
        assert_eq!(advance_checkpoint(&mut gaps, 0, &[1, 2, 3], start), 3);
        // 5 is missing: wait for it.
        assert_eq!(advance_checkpoint(&mut gaps, 3, &[4, 6, 7], start), 4);
        assert_eq!(
            advance_checkpoint(&mut gaps, 4, &[6, 7], start + Duration::from_secs(1)),
            4
        );
        // It arrives: everything is covered.
        assert_eq!(advance_checkpoint(&mut gaps, 4, &[5, 6, 7], start), 7);
        // A gap that never fills is skipped after the timeout.
        assert_eq!(advance_checkpoint(&mut gaps, 7, &[9], start), 7);
        let later = start + GAP_TIMEOUT + Duration::from_secs(1);
        assert_eq!(advance_checkpoint(&mut gaps, 7, &[9], later), 9);
        assert!(gaps.is_empty());
    }
}
