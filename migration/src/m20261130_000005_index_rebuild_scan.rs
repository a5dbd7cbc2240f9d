//! An index for the search-index rebuild, which reads every published listing in id order a page
//! at a time (`status = 'published' AND id > last ORDER BY id`). Without it both databases take the
//! `(status, published_at)` index and sort all published rows again for every page: quadratic, 190 s
//! of a 1M-listing rebuild on SQLite.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["results", "demands"] {
            manager
                .create_index(
                    Index::create()
                        .name(format!("idx_{table}_status_id"))
                        .table(table)
                        .col("status")
                        .col("id")
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["results", "demands"] {
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("idx_{table}_status_id"))
                        .table(table)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
