//! What the application hands to the index: a plain description of one published listing.

use tantivy::TantivyDocument;
use tantivy::schema::Facet;

use crate::schema::Fields;

/// One published listing, as the index needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListingDoc {
    /// `result` or `demand`.
    pub kind: String,
    /// UUID as text.
    pub id: String,
    /// Title.
    pub title: String,
    /// Summary (a demand's description): what the listing says of itself in short.
    pub summary: String,
    /// Details (a demand's indicators); empty when there are none.
    pub details: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Owner's UUID.
    pub org_id: String,
    /// Owner's name.
    pub org_name: String,
    /// Owner's kind (`university`, …).
    pub org_kind: String,
    /// Owner's 6-digit region code.
    pub district: String,
    /// Owner's development zone.
    pub zone: Option<String>,
    /// Industry codes with their group codes: `(industry, group)`.
    pub industries: Vec<(String, String)>,
    /// 技术领域 code.
    pub tech_field: String,
    /// Maturity stage (results only).
    pub maturity_stage: Option<String>,
    /// Publication time, Unix milliseconds.
    pub published_at: i64,
    /// Price or budget in fen; `None` = 面议.
    pub price_fen: Option<i64>,
    /// TRL, when known.
    pub trl: Option<u64>,
    /// Numbers the listing carries (patent and registration numbers), findable as written and
    /// without their office's letters (ZL202110000000.1 and 202110000000.1).
    pub identifiers: Vec<String>,
}

impl ListingDoc {
    /// The unique key of a listing in the index.
    pub fn key_of(kind: &str, id: &str) -> String {
        format!("{kind}:{id}")
    }

    /// Summary and details, one paragraph each: the text snippets are cut from.
    pub fn body(&self) -> String {
        if self.details.is_empty() {
            self.summary.clone()
        } else {
            format!("{}\n{}", self.summary, self.details)
        }
    }

    /// Converts to a tantivy document.
    pub fn to_document(&self, f: &Fields) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_text(f.key, Self::key_of(&self.kind, &self.id));
        doc.add_text(f.id, &self.id);
        doc.add_text(f.kind, &self.kind);
        doc.add_text(f.title, &self.title);
        let body = self.body();
        let lead = format!(
            "{}\n{}\n{}",
            self.title,
            self.keywords.join("，"),
            self.summary
        );
        let identifiers: Vec<&str> = self
            .identifiers
            .iter()
            .flat_map(|number| identifier_forms(number))
            .collect();
        doc.add_text(
            f.text,
            format!("{lead}\n{}\n{}", self.details, identifiers.join(" ")),
        );
        // Bigrams only refine the order of hits found by words, and a listing's bigrams cost
        // more to index than its words (one per Han character, from a vocabulary of millions):
        // the short description gets them, the details only words. A rebuild of long listings
        // takes a quarter less time (BENCHMARKS.md).
        doc.add_text(f.text_bigram, &lead);
        doc.add_text(f.body, body);
        for keyword in &self.keywords {
            doc.add_text(f.keywords, keyword);
        }
        doc.add_text(f.org_id, &self.org_id);
        doc.add_text(f.org_name, &self.org_name);
        for (industry, group) in &self.industries {
            doc.add_text(f.industry_codes, industry);
            doc.add_facet(f.industry, facet(industry));
            doc.add_facet(f.industry_group, facet(group));
        }
        doc.add_facet(f.tech_field, facet(&self.tech_field));
        doc.add_text(f.tech_field_code, &self.tech_field);
        if let Some(stage) = &self.maturity_stage {
            doc.add_facet(f.maturity_stage, facet(stage));
            doc.add_text(f.stage_code, stage);
        }
        doc.add_facet(f.district, facet(&self.district));
        doc.add_text(f.district_codes, &self.district);
        if let Some(zone) = &self.zone {
            doc.add_facet(f.district, facet(zone));
            doc.add_text(f.district_codes, zone);
        }
        doc.add_facet(f.org_kind, facet(&self.org_kind));
        doc.add_i64(f.published_at, self.published_at);
        doc.add_i64(f.price_fen, self.price_fen.unwrap_or(i64::MAX));
        doc.add_i64(f.price_fen_desc, self.price_fen.unwrap_or(i64::MIN));
        doc.add_u64(f.trl, self.trl.unwrap_or(0));
        doc
    }
}

/// A number as written and, when it starts with letters before its digits (a patent office's
/// ZL, CN), without them: people type either.
fn identifier_forms(number: &str) -> Vec<&str> {
    let number = number.trim();
    let digits = number.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    if digits.len() < number.len() && digits.starts_with(|c: char| c.is_ascii_digit()) {
        vec![number, digits]
    } else {
        vec![number]
    }
}

/// A one-level facet `/<code>`; codes are ASCII or digits, so no escaping is needed, but a stray
/// slash is replaced rather than creating a deeper path.
pub fn facet(code: &str) -> Facet {
    Facet::from_path([code.replace('/', "_")])
}
