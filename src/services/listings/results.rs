//! Research results (科技成果): their fields and checks, and the filters of their list. Creating,
//! editing, the lifecycle and reading are the same for every listing (`services::listings`).

use chrono::NaiveDate;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Role;
use crate::entity::results;
use crate::error::AppResult;
use crate::kernel::json::{json_strings, strings};
use crate::kernel::validation::Checks;
use crate::reference::ReferenceData;
use crate::services::listings::{self, CommonFilter, ListFilter, Listed, ListingFields};

/// An IP item of a result (专利、软件著作权 …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IpItem {
    /// IP type code (`invention_patent`, `software_copyright`, …).
    pub ip_type: String,
    /// Patent or registration number.
    #[serde(default)]
    pub number: Option<String>,
    /// Title of the patent or registration.
    #[serde(default)]
    pub title: Option<String>,
}

/// Who to contact about a listing; shown to logged-in users only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Name of the contact person (联系人), 1–50 characters.
    pub name: String,
    /// Telephone number (联系电话) as written, up to 30 characters.
    #[serde(default)]
    pub phone: Option<String>,
    /// E-mail address; must be a valid address.
    #[serde(default)]
    pub email: Option<String>,
}

/// A result as written by its owner (`POST /api/v1/results`, and a row of an import).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultInput {
    /// 成果名称, 2–200 characters.
    pub title: String,
    /// Summary, 10–2000 characters.
    pub summary: String,
    /// Full description, up to 20000 characters.
    #[serde(default)]
    pub details: Option<String>,
    /// Up to 10 keywords.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// 1–5 industry codes of the 6+5+6+1 system.
    pub industry_codes: Vec<String>,
    /// 技术领域 code.
    pub tech_field: String,
    /// Technology readiness level 1–9.
    #[serde(default)]
    pub trl: Option<i32>,
    /// Maturity-stage code.
    pub maturity_stage: String,
    /// 1–9 cooperation-mode codes.
    #[serde(default)]
    pub cooperation_modes: Vec<String>,
    /// IP items, up to 20.
    #[serde(default)]
    pub ip: Vec<IpItem>,
    /// Asking price in fen; absent or null = 面议 (negotiable).
    #[serde(default)]
    pub price_fen: Option<i64>,
    /// Details only the owner and the registrar see.
    #[serde(default)]
    pub confidential_details: Option<String>,
    /// Contact person.
    #[serde(default)]
    pub contact: Option<Contact>,
}

/// `PATCH /api/v1/results/{id}`: the fields to change; `null` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultPatch {
    /// New title.
    pub title: Option<String>,
    /// New summary.
    pub summary: Option<String>,
    /// New details (`null` clears).
    #[serde(default, deserialize_with = "listings::nullable")]
    #[schema(value_type = Option<String>)]
    pub details: Option<Option<String>>,
    /// New keywords.
    pub keywords: Option<Vec<String>>,
    /// New industry codes.
    pub industry_codes: Option<Vec<String>>,
    /// New 技术领域.
    pub tech_field: Option<String>,
    /// New TRL (`null` clears).
    #[serde(default, deserialize_with = "listings::nullable")]
    #[schema(value_type = Option<i32>)]
    pub trl: Option<Option<i32>>,
    /// New maturity stage.
    pub maturity_stage: Option<String>,
    /// New cooperation modes.
    pub cooperation_modes: Option<Vec<String>>,
    /// New IP items.
    pub ip: Option<Vec<IpItem>>,
    /// New price (`null` = 面议).
    #[serde(default, deserialize_with = "listings::nullable")]
    #[schema(value_type = Option<i64>)]
    pub price_fen: Option<Option<i64>>,
    /// New confidential details (`null` clears).
    #[serde(default, deserialize_with = "listings::nullable")]
    #[schema(value_type = Option<String>)]
    pub confidential_details: Option<Option<String>>,
    /// New contact (`null` clears).
    #[serde(default, deserialize_with = "listings::nullable")]
    #[schema(value_type = Option<Contact>)]
    pub contact: Option<Option<Contact>>,
}

impl ListingFields for ResultInput {
    type Table = results::Entity;
    type Row = results::Model;
    type Active = results::ActiveModel;
    type Patch = ResultPatch;

    const AUTHOR: (Role, &'static str) = (Role::Researcher, "list research results");

    fn validate(&self, reference: &ReferenceData, _today: Option<NaiveDate>) -> AppResult<()> {
        let mut checks = Checks::new(reference);
        checks.name("title", &self.title, 2, 200);
        checks.text("summary", &self.summary, 10, 2000);
        if let Some(details) = &self.details {
            checks.text("details", details, 0, 20_000);
        }
        checks.keywords("keywords", &self.keywords);
        checks.many("industry_codes", "industries", &self.industry_codes, 1, 5);
        checks.one("tech_field", "tech_fields", &self.tech_field);
        if let Some(trl) = self.trl {
            checks.range("trl", trl, 1, 9);
        }
        checks.one("maturity_stage", "maturity_stages", &self.maturity_stage);
        checks.many(
            "cooperation_modes",
            "cooperation_modes",
            &self.cooperation_modes,
            1,
            9,
        );
        checks.count("ip", self.ip.len(), 20, "IP items");
        for (i, item) in self.ip.iter().enumerate() {
            checks.one(&format!("ip[{i}].ip_type"), "ip_types", &item.ip_type);
            if let Some(number) = &item.number {
                checks.text(&format!("ip[{i}].number"), number, 1, 64);
            }
            if let Some(title) = &item.title {
                checks.text(&format!("ip[{i}].title"), title, 1, 200);
            }
        }
        checks.money("price_fen", self.price_fen);
        if let Some(confidential) = &self.confidential_details {
            checks.text("confidential_details", confidential, 0, 5000);
        }
        if let Some(contact) = &self.contact {
            checks.text("contact.name", &contact.name, 1, 50);
            if let Some(phone) = &contact.phone {
                checks.text("contact.phone", phone, 1, 30);
            }
            if let Some(email) = &contact.email {
                checks.email("contact.email", email);
            }
        }
        checks.finish()
    }

    fn from_row(model: &results::Model) -> Self {
        Self {
            title: model.title.clone(),
            summary: model.summary.clone(),
            details: model.details.clone(),
            keywords: strings(&model.keywords),
            industry_codes: strings(&model.industry_codes),
            tech_field: model.tech_field.clone(),
            trl: model.trl,
            maturity_stage: model.maturity_stage.clone(),
            cooperation_modes: strings(&model.cooperation_modes),
            ip: serde_json::from_value(model.ip.clone()).unwrap_or_default(),
            price_fen: model.price_fen,
            confidential_details: model.confidential_details.clone(),
            contact: model
                .contact
                .clone()
                .and_then(|c| serde_json::from_value(c).ok()),
        }
    }

    fn apply(mut self, patch: ResultPatch) -> Self {
        macro_rules! take {
            ($($field:ident),*) => { $(if let Some(v) = patch.$field { self.$field = v; })* };
        }
        take!(
            title,
            summary,
            details,
            keywords,
            industry_codes,
            tech_field,
            trl,
            maturity_stage,
            cooperation_modes,
            ip,
            price_fen,
            confidential_details,
            contact
        );
        self
    }

    fn write_into(self, model: &mut results::ActiveModel) {
        model.title = Set(self.title.trim().to_owned());
        model.summary = Set(self.summary.trim().to_owned());
        model.details = Set(self.details.map(|d| d.trim().to_owned()));
        model.keywords = Set(json_strings(&self.keywords));
        model.industry_codes = Set(json_strings(&self.industry_codes));
        model.tech_field = Set(self.tech_field);
        model.trl = Set(self.trl);
        model.maturity_stage = Set(self.maturity_stage);
        model.cooperation_modes = Set(json_strings(&self.cooperation_modes));
        model.ip = Set(serde_json::to_value(&self.ip).unwrap_or_default());
        model.price_fen = Set(self.price_fen);
        model.confidential_details = Set(self.confidential_details);
        model.contact = Set(self.contact.and_then(|c| serde_json::to_value(c).ok()));
    }

    fn industry_codes(&self) -> &[String] {
        &self.industry_codes
    }
}

/// A result with its owner.
pub type ResultRecord = Listed<results::Model>;

/// Filters of the result list.
#[derive(Debug, Default, Clone)]
pub struct ResultFilter {
    /// The filters every listing list has.
    pub common: CommonFilter,
    /// Maturity-stage code.
    pub maturity_stage: Option<String>,
}

impl ListFilter for ResultFilter {
    type Table = results::Entity;

    fn into_parts(self) -> (CommonFilter, Vec<Condition>) {
        let stage = self
            .maturity_stage
            .map(|stage| Condition::all().add(results::Column::MaturityStage.eq(stage)));
        (self.common, stage.into_iter().collect())
    }
}
