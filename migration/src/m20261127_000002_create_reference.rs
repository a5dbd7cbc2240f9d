//! Reference data (taxonomies and code lists) loaded from the versioned files in `seeds/reference/`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("reference_codes")
                    .col(string_len("kind", 64))
                    .col(string_len("code", 64))
                    .col(string_len("label", 200))
                    .col(string_len_null("label_en", 200))
                    .col(string_len_null("parent", 64))
                    .col(integer("sort_order"))
                    .primary_key(Index::create().col("kind").col("code"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("policy_targets")
                    .col(string_len("code", 64))
                    .col(integer("year"))
                    .col(string_len("label", 200))
                    .col(string_len("unit", 16))
                    .col(big_integer("target"))
                    .primary_key(Index::create().col("code").col("year"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("reference_versions")
                    .col(string_len("kind", 64))
                    .col(string_len("version", 32))
                    .col(string("source"))
                    .col(timestamp_with_time_zone("loaded_at"))
                    .primary_key(Index::create().col("kind"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["reference_versions", "policy_targets", "reference_codes"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
