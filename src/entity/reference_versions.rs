//! `reference_versions`: which version of each seed file is loaded.

use sea_orm::entity::prelude::*;

/// The loaded version of one reference list.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reference_versions")]
pub struct Model {
    /// The list.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    /// Version string of the seed file.
    pub version: String,
    /// Where the list comes from.
    pub source: String,
    /// When this version was loaded.
    pub loaded_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
