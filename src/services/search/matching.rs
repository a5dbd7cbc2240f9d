//! Matching demands with results and back, with reasons a person can read.

use sea_orm::DatabaseConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::AppState;
use crate::entity::{demands, results};
use crate::error::AppResult;
use crate::reference::{CodeLabel, ReferenceData};
use crate::services::accounts::sessions::CurrentUser;
use crate::services::listings;
use crate::services::listings::ListingKind;
use crate::services::search::Indexed;

/// The listing a match points to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchedListing {
    /// UUID of the published result or demand.
    pub id: String,
    /// Its title (成果名称 or 需求名称).
    pub title: String,
    /// Industry codes.
    pub industry_codes: Vec<String>,
    /// The same industries with their Chinese labels (人工智能 …), in the same order.
    pub industries: Vec<CodeLabel>,
    /// The organization that owns or posted it.
    pub organization: MatchedOrganization,
}

/// The owner of a matched listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchedOrganization {
    /// UUID of the organization.
    pub id: String,
    /// Full name of the organization.
    pub name: String,
}

/// One match: the listing under `result` or `demand`, with why it matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchItem {
    /// A matching result (for a demand's matches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<MatchedListing>,
    /// A matching demand (for a result's matches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demand: Option<MatchedListing>,
    /// Relevance from the search index (higher is better): the shared words, raised a little by
    /// shared industries and the same 技术领域. Not on a fixed scale: compare it only within one
    /// answer.
    pub score: f32,
    /// Telling words of the listing found in the match, its keywords first: never a function or
    /// report word (开展, 小于, 工况) nor a measurement (10万公里, 550℃). A match shares at least two,
    /// or one that names the listing's subject in its title.
    pub matched_terms: Vec<String>,
    /// Why, in Chinese: 共同关键词：机器视觉、缺陷检测, 同属人工智能产业, 技术领域相同：电子信息,
    /// 成熟度符合需求：通过中试 …
    pub reasons: Vec<String>,
}

/// `{"items": [...]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Matches {
    /// Best first.
    pub items: Vec<MatchItem>,
}

/// Maturity stages a result should have reached to suit a demand of this type.
fn stages_for(demand_type: &str) -> Vec<String> {
    let stages: &[&str] = match demand_type {
        "result_introduction" | "licence" => &["pilot_scale", "mass_production"],
        "tech_development" => &["has_sample", "lab_scale", "pilot_scale"],
        _ => &[],
    };
    stages.iter().map(|s| (*s).to_owned()).collect()
}

/// Why a hit matches, in Chinese, strongest first: the shared words (the index left out stop
/// words, measurements and words inside other shown words), then shared industries, the same
/// 技术领域 and a fitting stage. A word is shown only if it is telling on its own: the list must
/// never read "共同关键词：开展、小于".
fn reasons(reference: &ReferenceData, hit: &search_index::MatchHit, field: &str) -> Vec<String> {
    let mut reasons = Vec::new();
    let words: Vec<&str> = hit
        .matched_terms
        .iter()
        .map(String::as_str)
        .filter(|w| search_index::telling::is_telling(w))
        .take(5)
        .collect();
    if !words.is_empty() {
        reasons.push(format!("共同关键词：{}", words.join("、")));
    }
    reasons.extend(
        hit.shared_industries
            .iter()
            .map(|code| format!("同属{}产业", reference.label("industries", code))),
    );
    if hit.same_tech_field {
        reasons.push(format!(
            "技术领域相同：{}",
            reference.label("tech_fields", field)
        ));
    }
    if let Some(stage) = &hit.fitting_stage {
        reasons.push(format!(
            "成熟度符合需求：{}",
            reference.label("maturity_stages", stage)
        ));
    }
    reasons
}

impl MatchedListing {
    /// The listing of a match, its industries labelled from `reference`.
    fn new(hit: &search_index::MatchHit, reference: &ReferenceData) -> Self {
        Self {
            id: hit.id.clone(),
            title: hit.title.clone(),
            industry_codes: hit.industry_codes.clone(),
            industries: reference.labelled("industries", &hit.industry_codes),
            organization: MatchedOrganization {
                id: hit.org_id.clone(),
                name: hit.org_name.clone(),
            },
        }
    }
}

async fn run(
    state: &AppState,
    request: search_index::MatchRequest,
    target: ListingKind,
) -> AppResult<Matches> {
    let field = request.source.tech_field.clone();
    let hits = super::matches(&state.search, request).await?;
    let mut items = Vec::with_capacity(hits.len());
    for hit in hits {
        let reasons = reasons(&state.reference, &hit, &field);
        let listing = MatchedListing::new(&hit, &state.reference);
        let (result, demand) = match target {
            ListingKind::Result => (Some(listing), None),
            ListingKind::Demand => (None, Some(listing)),
        };
        items.push(MatchItem {
            result,
            demand,
            score: hit.score,
            matched_terms: hit.matched_terms,
            reasons,
        });
    }
    Ok(Matches { items })
}

/// Published results ranked for a demand the user may see.
pub async fn for_demand(
    state: &AppState,
    user: Option<&CurrentUser>,
    id: Uuid,
    limit: usize,
) -> AppResult<Matches> {
    let db: &DatabaseConnection = &state.db;
    let (record, _) = listings::get::<demands::Entity>(db, user, id).await?;
    let request = search_index::MatchRequest {
        source: record.item.document(&state.reference, &record.organization),
        target_kind: ListingKind::Result.as_str().into(),
        preferred_stages: stages_for(&record.item.demand_type),
        limit,
    };
    run(state, request, ListingKind::Result).await
}

/// A published listing that looks like the same thing as the one being submitted.
#[derive(Debug, Serialize, ToSchema)]
pub struct PossibleDuplicate {
    /// The existing listing.
    pub listing: MatchedListing,
    /// How much of the shorter of the two texts (title, summary and details) the other contains,
    /// counted in runs of four characters, 0–1: 1 for a copy, also one without the details.
    pub similarity: f32,
}

/// Listings of the same kind, already published by anyone, whose text and a listing's share at
/// least this share of the shorter one's runs of four characters. Among the 310 demo results, two
/// different results share at most 0.22 (two ground-source heat listings), and a copy of one
/// without its details at most 0.42 of another; a copy shares 1.0 with its original.
pub const DUPLICATE_SIMILARITY: f32 = 0.6;

/// Published listings of the same kind that look like duplicates of `source`.
pub async fn possible_duplicates(
    state: &AppState,
    source: search_index::ListingDoc,
) -> AppResult<Vec<PossibleDuplicate>> {
    let request = search_index::MatchRequest {
        target_kind: source.kind.clone(),
        source,
        preferred_stages: Vec::new(),
        limit: 5,
    };
    let hits = super::matches(&state.search, request).await?;
    Ok(hits
        .into_iter()
        .filter(|h| h.similarity >= DUPLICATE_SIMILARITY)
        .map(|h| PossibleDuplicate {
            similarity: h.similarity,
            listing: MatchedListing::new(&h, &state.reference),
        })
        .collect())
}

/// Published demands ranked for a result the user may see.
pub async fn for_result(
    state: &AppState,
    user: Option<&CurrentUser>,
    id: Uuid,
    limit: usize,
) -> AppResult<Matches> {
    let (record, _) = listings::get::<results::Entity>(&state.db, user, id).await?;
    let request = search_index::MatchRequest {
        source: record.item.document(&state.reference, &record.organization),
        target_kind: ListingKind::Demand.as_str().into(),
        preferred_stages: Vec::new(),
        limit,
    };
    run(state, request, ListingKind::Demand).await
}
