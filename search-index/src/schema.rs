//! The index schema: one document per published listing (result or demand).

use tantivy::schema::{
    FAST, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};

use crate::analyzers;

/// Every field, resolved once.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// `result:<uuid>` or `demand:<uuid>`: the unique key, for updates and deletes.
    pub key: Field,
    /// The listing's UUID.
    pub id: Field,
    /// `result` or `demand` (fast, for filters).
    pub kind: Field,
    /// Title (Chinese analyzer).
    pub title: Field,
    /// Summary or description, and details: stored for snippets, not indexed (see `text`).
    pub body: Field,
    /// Everything a listing says (title, keywords, body), jieba search mode: the main field of
    /// relevance, since one field's BM25 statistics rank better than the sum of short fields'.
    pub text: Field,
    /// The same text as overlapping Han-character bigrams: catches words jieba segments
    /// differently in a query and in a document.
    pub text_bigram: Field,
    /// Keywords (Chinese analyzer).
    pub keywords: Field,
    /// Owner's name (Chinese analyzer).
    pub org_name: Field,
    /// Owner's UUID.
    pub org_id: Field,
    /// Industry codes (stored, for display; fast, for counts).
    pub industry_codes: Field,
    /// 技术领域 code (fast, for counts).
    pub tech_field_code: Field,
    /// Maturity stage code (fast, for counts).
    pub stage_code: Field,
    /// Facet `/<industry code>`.
    pub industry: Field,
    /// Facet `/<industry group code>`.
    pub industry_group: Field,
    /// Facet `/<技术领域 code>`.
    pub tech_field: Field,
    /// Facet `/<maturity stage code>` (results only).
    pub maturity_stage: Field,
    /// Facet `/<6-digit region code>`; a development zone adds `/<zone code>`.
    pub district: Field,
    /// The owner's region code and development-zone code (fast, for filters).
    pub district_codes: Field,
    /// Facet `/<organization kind>`.
    pub org_kind: Field,
    /// Publication time, Unix milliseconds (fast, for "newest").
    pub published_at: Field,
    /// Price or budget in fen; `i64::MAX` for 面议 so that it sorts last by ascending price (fast).
    pub price_fen: Field,
    /// The same, with `i64::MIN` for 面议, so that it sorts last by descending price (fast).
    pub price_fen_desc: Field,
    /// TRL 1–9, 0 when unknown (fast).
    pub trl: Field,
}

/// Builds the schema and its field handles.
pub fn build() -> (Schema, Fields) {
    // Only `text` and `text_bigram` keep positions: `text` for phrases (it holds the title and
    // keywords too), `text_bigram` so that an exclusion finds its text across word boundaries;
    // positions of the short fields would only make the index bigger.
    let chinese = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(analyzers::CHINESE_SEARCH)
                .set_index_option(IndexRecordOption::WithFreqs),
        )
        .set_stored();
    let facet = FacetOptions::default();
    let mut b = Schema::builder();
    let fields = Fields {
        key: b.add_text_field("key", STRING),
        id: b.add_text_field("id", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED | FAST),
        title: b.add_text_field("title", chinese.clone()),
        body: b.add_text_field("body", STORED),
        text: b.add_text_field(
            "text",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(analyzers::CHINESE_SEARCH)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            ),
        ),
        text_bigram: b.add_text_field(
            "text_bigram",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(analyzers::CJK_BIGRAM)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            ),
        ),
        keywords: b.add_text_field("keywords", chinese.clone()),
        org_name: b.add_text_field("org_name", chinese),
        org_id: b.add_text_field("org_id", STRING | STORED),
        industry_codes: b.add_text_field("industry_codes", STRING | STORED | FAST),
        tech_field_code: b.add_text_field("tech_field_code", STRING | FAST),
        stage_code: b.add_text_field("stage_code", STRING | FAST),
        industry: b.add_facet_field("industry", facet.clone()),
        industry_group: b.add_facet_field("industry_group", facet.clone()),
        tech_field: b.add_facet_field("tech_field", facet.clone().set_stored()),
        maturity_stage: b.add_facet_field("maturity_stage", facet.clone().set_stored()),
        district: b.add_facet_field("district", facet.clone()),
        district_codes: b.add_text_field("district_codes", STRING | FAST),
        org_kind: b.add_facet_field("org_kind", facet),
        published_at: b.add_i64_field("published_at", INDEXED | FAST),
        price_fen: b.add_i64_field("price_fen", FAST),
        price_fen_desc: b.add_i64_field("price_fen_desc", FAST),
        trl: b.add_u64_field("trl", INDEXED | FAST),
    };
    (b.build(), fields)
}

/// The field handles of an opened index's schema.
pub fn resolve(schema: &Schema) -> tantivy::Result<Fields> {
    let f = |name: &str| schema.get_field(name);
    Ok(Fields {
        key: f("key")?,
        id: f("id")?,
        kind: f("kind")?,
        title: f("title")?,
        body: f("body")?,
        text: f("text")?,
        text_bigram: f("text_bigram")?,
        keywords: f("keywords")?,
        org_name: f("org_name")?,
        org_id: f("org_id")?,
        industry_codes: f("industry_codes")?,
        tech_field_code: f("tech_field_code")?,
        stage_code: f("stage_code")?,
        industry: f("industry")?,
        industry_group: f("industry_group")?,
        tech_field: f("tech_field")?,
        maturity_stage: f("maturity_stage")?,
        district: f("district")?,
        district_codes: f("district_codes")?,
        org_kind: f("org_kind")?,
        published_at: f("published_at")?,
        price_fen: f("price_fen")?,
        price_fen_desc: f("price_fen_desc")?,
        trl: f("trl")?,
    })
}
