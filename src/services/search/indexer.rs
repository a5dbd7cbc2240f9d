//! The search projection's write path: the indexer that applies the outbox to the local tantivy
//! index, and the full rebuild. The read path is this module's parent (`services::search`).
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

use super::documents::{Indexed, published_document};
use crate::entity::{demands, organizations, results, search_outbox};
use crate::reference::ReferenceData;
use crate::services::listings::{Listing, ListingTable, Status};

/// Outbox rows applied per round.
const ROWS_PER_ROUND: u64 = 1000;
/// How long a missing outbox id may be waited for (a transaction still in flight on PostgreSQL)
/// before it is taken to be rolled back and skipped.
const GAP_TIMEOUT: Duration = Duration::from_secs(10);
/// Listings read per query during a rebuild.
const REBUILD_PAGE: u64 = 1000;

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
            match published_document(&self.db, &self.reference, row.listing_kind, row.listing_id)
                .await?
            {
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
            crate::services::search::saved_searches::notify_matches(&self.db, &self.index, &upserts)
                .await
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
    index_published::<results::Entity>(db, reference, index, &organizations, &mut report).await?;
    index_published::<demands::Entity>(db, reference, index, &organizations, &mut report).await?;
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
    reference: &ReferenceData,
    index: &Arc<SearchIndex>,
    owners: &HashMap<Uuid, organizations::Model>,
    indexed: &mut impl FnMut(u64),
) -> anyhow::Result<()>
where
    E: ListingTable,
    E::Model: Indexed + Sync,
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
        let docs: Vec<ListingDoc> = page
            .iter()
            .filter_map(|row| {
                let owner = owners.get(&row.organization_id())?;
                Some(row.document(reference, owner))
            })
            .collect();
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
