//! The catalogue by industry (以产业行业分类的科技成果库): how many published results and demands
//! each industry and each group of the 6+5+6+1 system holds, and how many of each kind are
//! published in all (the `total` of the public lists).

use std::collections::HashMap;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{ListingKind, ListingStatus};
use crate::error::AppResult;
use crate::kernel::recent::Recent;
use crate::reference::ReferenceData;

/// Published listings of one industry or group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogueEntry {
    /// Industry or group code.
    pub code: String,
    /// Chinese label.
    pub label: String,
    /// The group of an industry (absent on groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Published results.
    pub results: i64,
    /// Published demands (challenges included).
    pub demands: i64,
}

/// `GET /api/v1/catalogue`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Catalogue {
    /// The 4 groups; a listing in two industries of one group counts once for the group.
    pub groups: Vec<CatalogueEntry>,
    /// The 18 industries.
    pub industries: Vec<CatalogueEntry>,
    /// All published results.
    pub total_results: i64,
    /// All published demands.
    pub total_demands: i64,
}

/// How long computed counts are served before they are computed again. Counting every published
/// listing per group takes a few hundred milliseconds at 100,000 listings; counts a few seconds old
/// are good enough for a catalogue page.
pub const CACHE_TTL: Duration = Duration::from_secs(10);

/// The last computed catalogue of this process.
pub type CatalogueCache = Recent<Catalogue>;

/// The catalogue, at most [`CACHE_TTL`] old.
pub async fn cached(
    cache: &CatalogueCache,
    db: &DatabaseConnection,
    reference: &ReferenceData,
) -> AppResult<Catalogue> {
    cache
        .get_or_compute(CACHE_TTL, catalogue(db, reference))
        .await
}

/// Counts published listings per industry and per group.
pub async fn catalogue(db: &DatabaseConnection, reference: &ReferenceData) -> AppResult<Catalogue> {
    // One statement per question, written in the SQL that SQLite and PostgreSQL share.
    // `published` on the industry rows mirrors the listings' status, so these scan one index.
    let published = "li.published = TRUE";
    let by_industry = format!(
        "SELECT li.industry_code AS code, li.listing_kind AS kind, COUNT(*) AS n \
         FROM listing_industries li WHERE {published} \
         GROUP BY li.industry_code, li.listing_kind"
    );
    let by_group = format!(
        "SELECT rc.parent AS code, li.listing_kind AS kind, COUNT(DISTINCT li.listing_id) AS n \
         FROM listing_industries li \
         JOIN reference_codes rc ON rc.kind = 'industries' AND rc.code = li.industry_code \
         WHERE {published} GROUP BY rc.parent, li.listing_kind"
    );
    // The codes are the enums' fixed text, never user input: written into the SQL as literals.
    let (result, demand) = (ListingKind::Result.as_str(), ListingKind::Demand.as_str());
    let status = ListingStatus::Published.as_str();
    let totals = format!(
        "SELECT 'all' AS code, '{result}' AS kind, COUNT(*) AS n FROM results WHERE status = '{status}' \
         UNION ALL SELECT 'all', '{demand}', COUNT(*) FROM demands WHERE status = '{status}'"
    );
    let industry_counts = counts(db, &by_industry).await?;
    let group_counts = counts(db, &by_group).await?;
    let total_counts = counts(db, &totals).await?;
    let entry =
        |code: &str, label: &str, group: Option<String>, table: &HashMap<(String, String), i64>| {
            CatalogueEntry {
                code: code.to_owned(),
                label: label.to_owned(),
                group,
                results: table
                    .get(&(code.to_owned(), result.to_owned()))
                    .copied()
                    .unwrap_or(0),
                demands: table
                    .get(&(code.to_owned(), demand.to_owned()))
                    .copied()
                    .unwrap_or(0),
            }
        };
    Ok(Catalogue {
        groups: reference
            .list("industry_groups")
            .iter()
            .map(|g| entry(&g.code, &g.label, None, &group_counts))
            .collect(),
        industries: reference
            .list("industries")
            .iter()
            .map(|i| entry(&i.code, &i.label, i.parent.clone(), &industry_counts))
            .collect(),
        total_results: total_counts
            .get(&("all".to_owned(), result.to_owned()))
            .copied()
            .unwrap_or(0),
        total_demands: total_counts
            .get(&("all".to_owned(), demand.to_owned()))
            .copied()
            .unwrap_or(0),
    })
}

async fn counts(db: &DatabaseConnection, sql: &str) -> AppResult<HashMap<(String, String), i64>> {
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    let mut out = HashMap::new();
    for row in rows {
        let code: Option<String> = row.try_get("", "code")?;
        let kind: String = row.try_get("", "kind")?;
        let n: i64 = row.try_get("", "n")?;
        if let Some(code) = code {
            out.insert((code, kind), n);
        }
    }
    Ok(out)
}

/// The number of published listings of each kind: the `total` of the public, unfiltered list of
/// results or demands, the catalogue's first page.
///
/// Why a per-process count kept for a short period (`public_total_cache_ms`, 10 s by default),
/// and not an exact count on every request: at 1,000,000 listings `COUNT(*)` over the published
/// part of the `(status, published_at, id)` index takes 30–45 ms on SQLite, where the page itself
/// takes under a millisecond (BENCHMARKS.md, "Catalogue: import and list"). Nobody can tell a
/// count 10 s old from a fresh one on a page of 20, and the page it comes with still corrects it
/// wherever it shows the end of the list (see `store::total_beside_page`). Only this list is
/// served from it: the owner's and the registrar's lists (which hold unpublished listings) and
/// every filtered list are counted exactly, so the people who publish and archive see their
/// change at once.
///
/// Why not a counter row kept in the publishing transaction: it would be exact on every node,
/// but every publication, archive and edit of a published listing in the market would queue on
/// one row per kind (the registrar's reviews and every `--publish` import batch), and every
/// path that moves a listing in or out of `published` (lifecycle, editing, imports, demo data,
/// restores) would have to keep it, with a check and a rebuild for the day one does not. A count
/// that is at most a few seconds old, from the same query the list would run, has no such cost.
#[derive(Clone)]
pub struct PublishedCounts {
    period: Duration,
    results: Recent<u64>,
    demands: Recent<u64>,
}

impl PublishedCounts {
    /// Counts kept for `period` (zero: counted on every request).
    pub fn new(period: Duration) -> Self {
        Self {
            period,
            results: Recent::default(),
            demands: Recent::default(),
        }
    }

    /// The published listings of `kind`: the count kept in this process when it is less than
    /// the period old, else `count`'s answer, kept for the next requests.
    pub async fn published(
        &self,
        kind: ListingKind,
        count: impl Future<Output = AppResult<u64>>,
    ) -> AppResult<u64> {
        let slot = match kind {
            ListingKind::Result => &self.results,
            ListingKind::Demand => &self.demands,
        };
        slot.get_or_compute(self.period, count).await
    }
}
