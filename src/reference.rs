//! Reference data: the code lists and taxonomies of the market.
//!
//! The versioned files in `seeds/reference/` are compiled into the binary, loaded into the
//! `reference_codes` and `policy_targets` tables by [`load_into_database`] (a list is rewritten only when
//! its file's version differs from the loaded one), and read back into a [`ReferenceData`] that the
//! services validate codes against.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};

use crate::entity::{policy_targets, reference_codes, reference_versions};

/// A seed file with code items.
#[derive(Debug, Deserialize)]
struct CodeFile {
    kind: String,
    version: String,
    source: String,
    items: Vec<CodeItem>,
}

#[derive(Debug, Deserialize)]
struct CodeItem {
    code: String,
    label: String,
    label_en: Option<String>,
    parent: Option<String>,
}

/// The policy-target seed file.
#[derive(Debug, Deserialize)]
struct TargetFile {
    kind: String,
    version: String,
    source: String,
    items: Vec<TargetItem>,
}

#[derive(Debug, Deserialize)]
struct TargetItem {
    code: String,
    label: String,
    unit: String,
    year: i32,
    target: i64,
}

macro_rules! seed_files {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_str!(concat!("../seeds/reference/", $name, ".json")))),*]
    };
}

/// Every code-list seed file, compiled in: (kind, JSON text).
const CODE_FILES: [(&str, &str); 19] = seed_files!(
    "industry_groups",
    "industries",
    "tech_fields",
    "maturity_stages",
    "trl_levels",
    "contract_types",
    "contract_sub_types",
    "refusal_reasons",
    "cooperation_modes",
    "ip_types",
    "demand_types",
    "org_kinds",
    "nature_codes",
    "provinces",
    "districts",
    "zones",
    "roles",
    "selection_methods",
    "qualifications",
);

const POLICY_TARGETS: &str = include_str!("../seeds/reference/policy_targets.json");

fn parse_code_files() -> Result<Vec<CodeFile>, DbErr> {
    CODE_FILES
        .iter()
        .map(|(name, text)| {
            let file: CodeFile = serde_json::from_str(text)
                .map_err(|e| DbErr::Custom(format!("seeds/reference/{name}.json: {e}")))?;
            if file.kind != *name {
                return Err(DbErr::Custom(format!(
                    "seeds/reference/{name}.json declares kind {}",
                    file.kind
                )));
            }
            Ok(file)
        })
        .collect()
}

/// Loads every reference list whose seed version differs from the one in the database.
/// Returns the kinds that were (re)loaded. Safe to run from several processes at once: rows are
/// upserted, never deleted and re-inserted.
pub async fn load_into_database(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let files = parse_code_files()?;
    let targets: TargetFile = serde_json::from_str(POLICY_TARGETS)
        .map_err(|e| DbErr::Custom(format!("seeds/reference/policy_targets.json: {e}")))?;
    let loaded: HashMap<String, String> = reference_versions::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.kind, v.version))
        .collect();

    let txn = crate::db::begin_write(db).await?;
    let mut changed = Vec::new();
    for file in &files {
        if loaded.get(&file.kind) == Some(&file.version) {
            continue;
        }
        let rows = file
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| reference_codes::ActiveModel {
                kind: Set(file.kind.clone()),
                code: Set(item.code.clone()),
                label: Set(item.label.clone()),
                label_en: Set(item.label_en.clone()),
                parent: Set(item.parent.clone()),
                sort_order: Set(i32::try_from(i).unwrap_or(i32::MAX)),
            });
        reference_codes::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([reference_codes::Column::Kind, reference_codes::Column::Code])
                    .update_columns([
                        reference_codes::Column::Label,
                        reference_codes::Column::LabelEn,
                        reference_codes::Column::Parent,
                        reference_codes::Column::SortOrder,
                    ])
                    .to_owned(),
            )
            .exec(&txn)
            .await?;
        // Codes dropped from a newer file stay in the table (old records may still carry them) but
        // are no longer offered: a later issue can mark them retired; for now lists only grow.
        record_version(&txn, &file.kind, &file.version, &file.source).await?;
        changed.push(file.kind.clone());
    }
    if loaded.get(&targets.kind) != Some(&targets.version) {
        let rows = targets.items.iter().map(|t| policy_targets::ActiveModel {
            code: Set(t.code.clone()),
            year: Set(t.year),
            label: Set(t.label.clone()),
            unit: Set(t.unit.clone()),
            target: Set(t.target),
        });
        policy_targets::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([policy_targets::Column::Code, policy_targets::Column::Year])
                    .update_columns([
                        policy_targets::Column::Label,
                        policy_targets::Column::Unit,
                        policy_targets::Column::Target,
                    ])
                    .to_owned(),
            )
            .exec(&txn)
            .await?;
        record_version(&txn, &targets.kind, &targets.version, &targets.source).await?;
        changed.push(targets.kind.clone());
    }
    txn.commit().await?;
    Ok(changed)
}

async fn record_version<C: ConnectionTrait>(
    db: &C,
    kind: &str,
    version: &str,
    source: &str,
) -> Result<(), DbErr> {
    reference_versions::Entity::insert(reference_versions::ActiveModel {
        kind: Set(kind.to_owned()),
        version: Set(version.to_owned()),
        source: Set(source.to_owned()),
        loaded_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(reference_versions::Column::Kind)
            .update_columns([
                reference_versions::Column::Version,
                reference_versions::Column::Source,
                reference_versions::Column::LoadedAt,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// One code of a reference list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Code {
    /// The code (snake_case ASCII, or digits for GB/T and nature codes).
    pub code: String,
    /// Chinese label.
    pub label: String,
    /// English label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_en: Option<String>,
    /// The parent code (an industry's group, a nature code's category, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// A code with its Chinese label, as an answer names a code for people beside the code it keeps
/// for programs.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CodeLabel {
    /// The code, as in `GET /api/v1/reference`.
    pub code: String,
    /// Its Chinese label (the code itself for a code the reference data no longer lists).
    pub label: String,
}

/// One yearly target of the policy.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PolicyTarget {
    /// Indicator code.
    pub code: String,
    /// Chinese name.
    pub label: String,
    /// `fen` (money) or `count`.
    pub unit: String,
    /// Calendar year the target is set for.
    pub year: i32,
    /// The target value in `unit`.
    pub target: i64,
}

/// All reference lists, as read from the database, keyed by kind.
#[derive(Debug, Clone, Default)]
pub struct ReferenceData {
    lists: BTreeMap<String, Vec<Code>>,
    /// The policy targets, by code then year.
    pub targets: Vec<PolicyTarget>,
    /// Loaded version per kind.
    pub versions: BTreeMap<String, String>,
}

impl ReferenceData {
    /// Reads every list from the database.
    pub async fn read(db: &DatabaseConnection) -> Result<Self, DbErr> {
        let mut lists: BTreeMap<String, Vec<Code>> = BTreeMap::new();
        let rows = reference_codes::Entity::find()
            .order_by_asc(reference_codes::Column::Kind)
            .order_by_asc(reference_codes::Column::SortOrder)
            .all(db)
            .await?;
        for row in rows {
            lists.entry(row.kind).or_default().push(Code {
                code: row.code,
                label: row.label,
                label_en: row.label_en,
                parent: row.parent,
            });
        }
        let targets = policy_targets::Entity::find()
            .filter(policy_targets::Column::Year.gt(0))
            .order_by_asc(policy_targets::Column::Code)
            .order_by_asc(policy_targets::Column::Year)
            .all(db)
            .await?
            .into_iter()
            .map(|t| PolicyTarget {
                code: t.code,
                label: t.label,
                unit: t.unit,
                year: t.year,
                target: t.target,
            })
            .collect();
        let versions = reference_versions::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|v| (v.kind, v.version))
            .collect();
        Ok(Self {
            lists,
            targets,
            versions,
        })
    }

    /// The codes of one list (empty when the list is unknown).
    pub fn list(&self, kind: &str) -> &[Code] {
        self.lists.get(kind).map(Vec::as_slice).unwrap_or_default()
    }

    /// The Chinese label of `code` in list `kind`, or the code itself when the list lacks it (a
    /// code dropped from a newer list may still be on old records). Every label the API and the
    /// reports show comes from here.
    pub fn label<'a>(&'a self, kind: &str, code: &'a str) -> &'a str {
        self.list(kind)
            .iter()
            .find(|c| c.code == code)
            .map_or(code, |c| c.label.as_str())
    }

    /// [`ReferenceData::label`], owned.
    pub fn label_or_code(&self, kind: &str, code: &str) -> String {
        self.label(kind, code).to_owned()
    }

    /// Each of `codes` of list `kind` with its label, in their order.
    pub fn labelled(&self, kind: &str, codes: &[String]) -> Vec<CodeLabel> {
        codes
            .iter()
            .map(|code| CodeLabel {
                code: code.clone(),
                label: self.label_or_code(kind, code),
            })
            .collect()
    }

    /// Whether `code` is in list `kind`.
    pub fn contains(&self, kind: &str, code: &str) -> bool {
        self.list(kind).iter().any(|c| c.code == code)
    }

    /// Whether `code` is a plausible GB/T 2260 county-level region code: six digits whose first two
    /// are a province-level division. Inside Xi'an (`6101xx`) the code must be one of its districts
    /// and counties, or `610100` for the city as a whole.
    pub fn is_region_code(&self, code: &str) -> bool {
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        if !self.contains("provinces", &code[..2]) {
            return false;
        }
        if code.starts_with("6101") && code != "610100" {
            return self.contains("districts", code);
        }
        true
    }

    /// Checks the code filters every listing list and search take (industry, 技术领域, district),
    /// with a kind's own code filters (`own`) between them, in the order the parameters are listed.
    pub fn check_listing_filters(
        &self,
        industry: Option<&str>,
        tech_field: Option<&str>,
        own: &[(&str, &str, Option<&str>)],
        district: Option<&str>,
    ) -> Result<(), crate::error::AppError> {
        let mut filters = vec![
            ("industry", "industries", industry),
            ("tech_field", "tech_fields", tech_field),
        ];
        filters.extend_from_slice(own);
        filters.push(("district", DISTRICT_FILTER, district));
        self.check_filters(&filters)
    }

    /// Checks the code filters of a list route: each `(parameter, list, value)` names a code
    /// that must be in `list`, or with [`DISTRICT_FILTER`] a region code or a development-zone
    /// code. An unknown code would otherwise match nothing and look like an empty market; it is
    /// a `422` naming the parameter instead.
    pub fn check_filters(
        &self,
        filters: &[(&str, &str, Option<&str>)],
    ) -> Result<(), crate::error::AppError> {
        let mut checks = crate::kernel::validation::Checks::new(self);
        for (parameter, list, value) in filters {
            let Some(value) = value else { continue };
            if *list == DISTRICT_FILTER {
                checks.check(
                    self.is_region_code(value) || self.contains("zones", value),
                    parameter,
                    "must be a 6-digit GB/T 2260 region code (e.g. 610113) or a development-zone code from GET /api/v1/reference (zones)",
                );
            } else {
                checks.one(parameter, list, value);
            }
        }
        checks.finish()
    }
}

/// The pseudo-list of [`ReferenceData::check_filters`] for a district filter: a region code or a
/// development-zone code.
pub const DISTRICT_FILTER: &str = "district";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_file_parses_and_parents_exist() -> Result<(), DbErr> {
        let files = parse_code_files()?;
        let codes = |kind: &str| -> Vec<String> {
            files
                .iter()
                .find(|f| f.kind == kind)
                .map(|f| f.items.iter().map(|i| i.code.clone()).collect())
                .unwrap_or_default()
        };
        assert_eq!(codes("industries").len(), 18);
        assert_eq!(codes("industry_groups").len(), 4);
        assert_eq!(codes("tech_fields").len(), 11);
        assert_eq!(codes("contract_types").len(), 5);
        let groups = codes("industry_groups");
        let types = codes("contract_types");
        for file in &files {
            let parents = match file.kind.as_str() {
                "industries" => groups.clone(),
                "contract_sub_types" => types.clone(),
                _ => codes(&file.kind),
            };
            for item in &file.items {
                if let Some(parent) = &item.parent {
                    assert!(parents.contains(parent), "{}: {}", file.kind, item.code);
                }
            }
        }
        let targets: TargetFile =
            serde_json::from_str(POLICY_TARGETS).map_err(|e| DbErr::Custom(e.to_string()))?;
        let value_2021 = targets
            .items
            .iter()
            .find(|t| t.code == "contract_value" && t.year == 2021)
            .map(|t| t.target);
        // 1500 亿元 = 1500 × 10^8 元 × 100 fen.
        assert_eq!(value_2021, Some(1_500 * 100_000_000 * 100));
        Ok(())
    }
}
