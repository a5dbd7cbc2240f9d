//! Listings count their revisions, so that a review names the text it approves: `revision` goes up
//! with every edit, and `submitted_revision` is the revision the owner last submitted. An approval
//! of a listing edited after its submission must name the revision it read.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 2] = ["results", "demands"];
const COLUMNS: [&str; 2] = ["revision", "submitted_revision"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE statement.
        for table in TABLES {
            for column in COLUMNS {
                manager
                    .alter_table(
                        Table::alter()
                            .table(table)
                            .add_column(ColumnDef::new(column).integer().not_null().default(1))
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            for column in COLUMNS {
                manager
                    .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                    .await?;
            }
        }
        Ok(())
    }
}
