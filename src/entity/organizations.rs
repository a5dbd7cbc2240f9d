//! `organizations`: universities, institutes, enterprises, transfer agencies, platforms, government.

use sea_orm::entity::prelude::*;

use crate::domain::OrgKind;

/// One organization.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    /// UUID v7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Full legal name.
    pub name: String,
    /// Case- and space-folded name, unique.
    pub name_key: String,
    /// Organization kind code (`university`, `enterprise`, …).
    pub kind: OrgKind,
    /// 6-digit GB/T 2260 region code.
    pub region_code: String,
    /// Legal-entity nature code (`022` 高等院校, …).
    pub nature_code: Option<String>,
    /// Xi'an development zone code, when located in one.
    pub zone: Option<String>,
    /// When the organization was created.
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
