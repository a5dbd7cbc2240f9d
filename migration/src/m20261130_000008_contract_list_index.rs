//! The registrar's list of a year's registered contracts, newest registration first: one index
//! serves its filter, its order and its total, however many contracts there are.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_contracts_status_registered")
                    .table("contracts")
                    .col("status")
                    .col("registered_on")
                    .col("registration_no")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_contracts_status_registered")
                    .table("contracts")
                    .to_owned(),
            )
            .await
    }
}
