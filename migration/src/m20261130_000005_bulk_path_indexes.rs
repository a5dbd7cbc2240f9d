//! Indexes for the two paths that touch every listing, found by measuring them at 1M listings:
//!
//! - the search-index rebuild reads every published listing in id order a page at a time
//!   (`status = 'published' AND id > last ORDER BY id`). Without `(status, id)` both databases take
//!   the `(status, published_at)` index and sort all published rows again for every page: quadratic,
//!   most of a 285 s rebuild of 1M listings on SQLite;
//! - an import looks up which rows it already holds by `external_id IN (…)`. The unique index is
//!   `(organization_id, external_id)`, which cannot serve that, so every chunk scanned the whole
//!   table: the import rate fell from 5,000–6,000 rows/s at 100k to 1,026 at 1M.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, index name suffix, columns)
const INDEXES: [(&str, &str, &[&str]); 4] = [
    ("results", "status_id", &["status", "id"]),
    ("demands", "status_id", &["status", "id"]),
    ("results", "external_id", &["external_id"]),
    ("demands", "external_id", &["external_id"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, suffix, columns) in INDEXES {
            let mut index = Index::create();
            index.name(format!("idx_{table}_{suffix}")).table(table);
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, suffix, _) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("idx_{table}_{suffix}"))
                        .table(table)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
