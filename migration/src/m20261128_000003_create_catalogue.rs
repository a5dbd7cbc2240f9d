//! The catalogue: research results, enterprise demands, 揭榜挂帅 challenges and their applications,
//! the industry classification of listings, the history of every state change, and the outbox that
//! feeds the search index.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("results")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(uuid_null("created_by"))
                    .col(string_len_null("external_id", 128))
                    .col(string_len("title", 200))
                    .col(text("summary"))
                    .col(text_null("details"))
                    .col(json("keywords"))
                    .col(json("industry_codes"))
                    .col(string_len("tech_field", 64))
                    .col(integer_null("trl"))
                    .col(string_len("maturity_stage", 64))
                    .col(json("cooperation_modes"))
                    .col(json("ip"))
                    .col(big_integer_null("price_fen"))
                    .col(text_null("confidential_details"))
                    .col(json_null("contact"))
                    .col(string_len("status", 16))
                    .col(text_null("rejection_reason"))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_results_organization")
                            .from("results", "organization_id")
                            .to("organizations", "id"),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("demands")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(uuid_null("created_by"))
                    .col(string_len_null("external_id", 128))
                    .col(string_len("title", 200))
                    .col(text("description"))
                    .col(json("keywords"))
                    .col(json("industry_codes"))
                    .col(string_len("tech_field", 64))
                    .col(string_len("demand_type", 64))
                    .col(big_integer_null("budget_fen"))
                    .col(date_null("deadline"))
                    .col(boolean("is_challenge"))
                    .col(big_integer_null("reward_fen"))
                    .col(date_null("application_deadline"))
                    .col(integer_null("max_duration_months"))
                    .col(text_null("indicators"))
                    .col(text_null("ip_terms"))
                    .col(string_len_null("selection_method", 64))
                    .col(uuid_null("selected_application_id"))
                    .col(string_len("status", 16))
                    .col(text_null("rejection_reason"))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_demands_organization")
                            .from("demands", "organization_id")
                            .to("organizations", "id"),
                    )
                    .to_owned(),
            )
            .await?;

        // Indexes for the public lists (published, newest first) and their filters and counts.
        let list_indexes: [(&str, &str, &[&str]); 7] = [
            (
                "results",
                "status_published",
                &["status", "published_at", "id"],
            ),
            ("results", "organization", &["organization_id", "status"]),
            (
                "results",
                "tech_field",
                &["status", "tech_field", "maturity_stage"],
            ),
            ("results", "maturity_stage", &["status", "maturity_stage"]),
            (
                "demands",
                "status_published",
                &["status", "published_at", "id"],
            ),
            ("demands", "organization", &["organization_id", "status"]),
            (
                "demands",
                "tech_field",
                &["status", "tech_field", "demand_type"],
            ),
        ];
        for (table, suffix, columns) in list_indexes {
            let mut index = Index::create();
            index.name(format!("idx_{table}_{suffix}")).table(table);
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        for table in ["results", "demands"] {
            // Re-importing a row with the same external id updates it instead of duplicating.
            manager
                .create_index(
                    Index::create()
                        .name(format!("uq_{table}_external_id"))
                        .table(table)
                        .col("organization_id")
                        .col("external_id")
                        .unique()
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("listing_industries")
                    .col(string_len("listing_kind", 16))
                    .col(uuid("listing_id"))
                    .col(string_len("industry_code", 64))
                    // Mirrors the listing's status (published or not), so that the catalogue and
                    // the industry filter count from this table's index alone.
                    .col(boolean("published"))
                    .primary_key(
                        Index::create()
                            .col("listing_kind")
                            .col("listing_id")
                            .col("industry_code"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_listing_industries_code")
                    .table("listing_industries")
                    .col("listing_kind")
                    .col("industry_code")
                    .col("published")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("listing_events")
                    .col(pk_uuid("id"))
                    .col(string_len("listing_kind", 16))
                    .col(uuid("listing_id"))
                    .col(uuid_null("actor_id"))
                    .col(string_len_null("from_status", 16))
                    .col(string_len("to_status", 16))
                    .col(text_null("reason"))
                    .col(timestamp_with_time_zone("at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_listing_events_listing")
                    .table("listing_events")
                    .col("listing_kind")
                    .col("listing_id")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("challenge_applications")
                    .col(pk_uuid("id"))
                    .col(uuid("demand_id"))
                    .col(uuid("applicant_id"))
                    .col(uuid("applicant_org_id"))
                    .col(uuid_null("result_id"))
                    .col(text("proposal"))
                    .col(string_len("status", 16))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("decided_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_applications_demand")
                            .from("challenge_applications", "demand_id")
                            .to("demands", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_applications_applicant")
                    .table("challenge_applications")
                    .col("demand_id")
                    .col("applicant_id")
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("search_outbox")
                    .col(big_pk_auto("id"))
                    .col(string_len("listing_kind", 16))
                    .col(uuid("listing_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "search_outbox",
            "challenge_applications",
            "listing_events",
            "listing_industries",
            "demands",
            "results",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
