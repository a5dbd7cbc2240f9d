//! Saved searches and the notifications they produce when a matching listing is published.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row naming this database, so that a search index can tell which database it mirrors.
        manager
            .create_table(
                Table::create()
                    .table("installation")
                    .col(string_len("id", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("saved_searches")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(string_len("name", 100))
                    .col(string_len("kind", 16))
                    .col(text("q"))
                    .col(string_len_null("industry", 64))
                    .col(string_len_null("tech_field", 64))
                    .col(string_len_null("maturity_stage", 64))
                    .col(string_len_null("district", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_saved_searches_user")
                            .from("saved_searches", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("notifications")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(uuid("saved_search_id"))
                    .col(string_len("listing_kind", 16))
                    .col(uuid("listing_id"))
                    .col(string_len("title", 200))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("read_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notifications_saved_search")
                            .from("notifications", "saved_search_id")
                            .to("saved_searches", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Every server process runs its own indexer: the same match is notified once.
        manager
            .create_index(
                Index::create()
                    .name("uq_notifications_match")
                    .table("notifications")
                    .col("saved_search_id")
                    .col("listing_kind")
                    .col("listing_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_user")
                    .table("notifications")
                    .col("user_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["notifications", "saved_searches", "installation"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
