//! `GET /api/v1/search`: Chinese full-text search over published listings.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::extract::State;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::domain::ListingKind;
use crate::error::AppResult;
use crate::http::extract::{AppQuery, ClientIp, Pagination};
use crate::kernel::validation::Checks;
use crate::reference::{CodeLabel, ReferenceData};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

/// What to search.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Kind {
    /// Research results (default).
    #[default]
    Result,
    /// Demands and challenges.
    Demand,
}

/// The order of hits.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum SortParam {
    /// Best match first (default); newest first when there is no query text.
    #[default]
    Relevance,
    /// Most recently published first.
    Newest,
    /// Cheapest first, 面议 last.
    PriceAsc,
    /// Most expensive first, 面议 last.
    PriceDesc,
}

/// Parameters of `GET /api/v1/search`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// Any text: words, "quoted phrases", -excluded words. Never an error.
    q: Option<String>,
    /// `result` (default) or `demand`.
    kind: Option<Kind>,
    /// Industry code.
    industry: Option<String>,
    /// 技术领域 code.
    tech_field: Option<String>,
    /// Maturity-stage code (results).
    maturity_stage: Option<String>,
    /// District (6-digit region code) or development zone of the owner.
    district: Option<String>,
    /// `relevance` (default), `newest`, `price_asc`, `price_desc`.
    sort: Option<SortParam>,
}

// The views borrow from the index's answer, which is shared with the cache of recent searches:
// a popular search is serialized straight from memory, never copied.

/// The owner shown with a hit.
#[derive(Debug, Serialize, ToSchema)]
struct HitOrganization<'a> {
    id: &'a str,
    name: &'a str,
}

/// One hit.
#[derive(Debug, Serialize, ToSchema)]
struct SearchItem<'a> {
    id: &'a str,
    kind: &'a str,
    title: &'a str,
    /// About 80 characters around the matches; HTML-escaped, matched words in `<em>`.
    snippet: &'a str,
    score: f32,
    industry_codes: &'a [String],
    /// The same industries with their Chinese labels, in the same order.
    industries: Vec<CodeLabel>,
    organization: HitOrganization<'a>,
}

/// Facet counts over all matching listings.
#[derive(Debug, Serialize, ToSchema)]
struct Facets<'a> {
    industry: &'a BTreeMap<String, u64>,
    tech_field: &'a BTreeMap<String, u64>,
    maturity_stage: &'a BTreeMap<String, u64>,
}

/// The Chinese label of every code in `facets`, by facet: `{"industry": {"artificial_intelligence":
/// "人工智能"}, …}`.
#[derive(Debug, Serialize, ToSchema)]
struct FacetLabels<'a> {
    /// The label of each industry code of `facets.industry`.
    industry: BTreeMap<&'a str, &'a str>,
    /// The label of each 技术领域 code of `facets.tech_field`.
    tech_field: BTreeMap<&'a str, &'a str>,
    /// The label of each maturity-stage code of `facets.maturity_stage`.
    maturity_stage: BTreeMap<&'a str, &'a str>,
}

impl<'a> FacetLabels<'a> {
    fn new(reference: &'a ReferenceData, facets: &Facets<'a>) -> Self {
        let labels = |list: &str, counts: &'a BTreeMap<String, u64>| {
            counts
                .keys()
                .map(|code| (code.as_str(), reference.label(list, code)))
                .collect()
        };
        Self {
            industry: labels("industries", facets.industry),
            tech_field: labels("tech_fields", facets.tech_field),
            maturity_stage: labels("maturity_stages", facets.maturity_stage),
        }
    }
}

/// The answer.
#[derive(Debug, Serialize, ToSchema)]
struct SearchAnswer<'a> {
    items: Vec<SearchItem<'a>>,
    total: usize,
    page: u64,
    per_page: u64,
    facets: Facets<'a>,
    facet_labels: FacetLabels<'a>,
    /// Time spent searching, in milliseconds.
    took_ms: u64,
}

/// Search published results (or demands) by Chinese text, with filters, facet counts and snippets.
/// Any `q` is valid: text the search cannot use is searched as plain words. A filter code that
/// is not in the reference data, or a parameter the route does not take, is a `422` naming it.
/// Codes are for programs and labels for people: `facets` counts by code, and `facet_labels` gives
/// the Chinese label of every code in `facets`; each hit keeps its `industry_codes` and names them
/// in `industries` (`[{"code","label"}]`, same order).
#[utoipa::path(get, path = "/api/v1/search", tag = "search",
    params(SearchQuery, Pagination),
    responses(
        (status = 200, description = "hits, facets and timing", body = SearchAnswer),
        (status = 422, description = "bad kind, sort, filter code, pagination or unknown parameter"),
        (status = 429, description = "too many searches from this address (see `Retry-After`)"),
    ))]
async fn search(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    _known: crate::http::extract::KnownParams<SearchQuery, Pagination>,
    AppQuery(query): AppQuery<SearchQuery>,
    AppQuery(pagination): AppQuery<Pagination>,
) -> AppResult<axum::response::Response> {
    state.search_limiter.check(&client)?;
    let started = Instant::now();
    let (page, per_page) = pagination.resolve()?;
    state.reference.check_listing_filters(
        query.industry.as_deref(),
        query.tech_field.as_deref(),
        &[(
            "maturity_stage",
            "maturity_stages",
            query.maturity_stage.as_deref(),
        )],
        query.district.as_deref(),
    )?;
    let offset = (page - 1).saturating_mul(per_page);
    let mut checks = Checks::plain();
    checks.check(
        offset <= 10_000,
        "page",
        "search results go 10000 deep; narrow the query or the filters",
    );
    checks.finish()?;
    let request = search_index::SearchRequest {
        q: query.q.unwrap_or_default(),
        kind: match query.kind.unwrap_or_default() {
            Kind::Result => ListingKind::Result.as_str().into(),
            Kind::Demand => ListingKind::Demand.as_str().into(),
        },
        industry: query.industry,
        tech_field: query.tech_field,
        maturity_stage: query.maturity_stage,
        district: query.district,
        sort: match query.sort.unwrap_or_default() {
            SortParam::Relevance => search_index::Sort::Relevance,
            SortParam::Newest => search_index::Sort::Newest,
            SortParam::PriceAsc => search_index::Sort::PriceAsc,
            SortParam::PriceDesc => search_index::Sort::PriceDesc,
        },
        offset: offset as usize,
        limit: per_page as usize,
    };
    let results = crate::services::search::search(&state.search, request).await?;
    let items = results
        .hits
        .iter()
        .map(|hit| SearchItem {
            id: &hit.id,
            kind: &hit.kind,
            title: &hit.title,
            snippet: &hit.snippet,
            score: hit.score,
            industry_codes: &hit.industry_codes,
            industries: state.reference.labelled("industries", &hit.industry_codes),
            organization: HitOrganization {
                id: &hit.org_id,
                name: &hit.org_name,
            },
        })
        .collect();
    let facets = Facets {
        industry: &results.industry,
        tech_field: &results.tech_field,
        maturity_stage: &results.maturity_stage,
    };
    Ok(axum::Json(SearchAnswer {
        items,
        total: results.total,
        page,
        per_page,
        facet_labels: FacetLabels::new(&state.reference, &facets),
        facets,
        took_ms: started.elapsed().as_millis() as u64,
    })
    .into_response())
}
