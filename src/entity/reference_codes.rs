//! `reference_codes`: every code list and taxonomy, one row per (kind, code).

use sea_orm::entity::prelude::*;

/// One code of one reference list.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reference_codes")]
pub struct Model {
    /// The list (`industries`, `tech_fields`, …).
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    /// The code within the list.
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    /// Chinese label.
    pub label: String,
    /// English label.
    pub label_en: Option<String>,
    /// Code of the parent item (an industry's group, a sub-type's contract type, …).
    pub parent: Option<String>,
    /// Display order within the list.
    pub sort_order: i32,
}

impl ActiveModelBehavior for ActiveModel {}
