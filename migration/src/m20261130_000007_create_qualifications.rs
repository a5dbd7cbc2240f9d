//! Organization qualifications the registrar records (国家高新技术企业, 科技型中小企业, 市级以上研发
//! 平台, 市级以上技术转移机构): the data behind the policy's counts of such organizations.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("organization_qualifications")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(string_len("qualification", 32))
                    .col(string_len_null("certificate_no", 64))
                    .col(date("valid_from"))
                    .col(date_null("valid_to"))
                    .col(date_null("withdrawn_on"))
                    .col(uuid("recorded_by"))
                    .col(timestamp_with_time_zone("recorded_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_organization_qualifications_organization")
                            .from("organization_qualifications", "organization_id")
                            .to("organizations", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_organization_qualifications_organization")
                    .table("organization_qualifications")
                    .col("organization_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_organization_qualifications_qualification")
                    .table("organization_qualifications")
                    .col("qualification")
                    .col("valid_from")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table("organization_qualifications")
                    .to_owned(),
            )
            .await
    }
}
