//! Deals (撮合), technology contracts and their registration (技术合同认定登记), the registration
//! serial counters, the indicator roll-ups and the registrar's audit trail.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    name: &str,
    from: (&'static str, &'static str),
    to: (&'static str, &'static str),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .to_owned()
}

fn index(name: &str, table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("deals")
                    .col(pk_uuid("id"))
                    .col(string_len("title", 200))
                    .col(uuid("broker_id"))
                    .col(uuid("seller_org_id"))
                    .col(uuid("buyer_org_id"))
                    .col(uuid_null("result_id"))
                    .col(uuid_null("demand_id"))
                    .col(big_integer_null("expected_amount_fen"))
                    .col(string_len("stage", 16))
                    .col(uuid_null("contract_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_deals_broker",
                        ("deals", "broker_id"),
                        ("users", "id"),
                    ))
                    .foreign_key(&mut fk(
                        "fk_deals_seller",
                        ("deals", "seller_org_id"),
                        ("organizations", "id"),
                    ))
                    .foreign_key(&mut fk(
                        "fk_deals_buyer",
                        ("deals", "buyer_org_id"),
                        ("organizations", "id"),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("ix_deals_broker", &["broker_id", "created_at"][..]),
            ("ix_deals_seller", &["seller_org_id"][..]),
            ("ix_deals_buyer", &["buyer_org_id"][..]),
        ] {
            manager.create_index(index(name, "deals", columns)).await?;
        }
        // Every move of a deal, kept forever.
        manager
            .create_table(
                Table::create()
                    .table("deal_events")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(uuid("deal_id"))
                    .col(string_len_null("from_stage", 16))
                    .col(string_len("to_stage", 16))
                    .col(text_null("note"))
                    .col(uuid_null("actor_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "fk_deal_events_deal",
                        ("deal_events", "deal_id"),
                        ("deals", "id"),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_deal_events_deal",
                "deal_events",
                &["deal_id", "id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("contracts")
                    .col(pk_uuid("id"))
                    .col(string_len("status", 24))
                    .col(integer("version"))
                    .col(string_len("project_name", 200))
                    .col(string_len("contract_type", 32))
                    .col(string_len("sub_type", 48))
                    .col(uuid_null("seller_org_id"))
                    .col(string_len("seller_name", 200))
                    .col(string_len("seller_nature_code", 3))
                    .col(string_len("seller_region_code", 6))
                    .col(uuid_null("buyer_org_id"))
                    .col(string_len("buyer_name", 200))
                    .col(string_len("buyer_nature_code", 3))
                    .col(string_len("buyer_region_code", 6))
                    .col(uuid_null("broker_id"))
                    .col(uuid_null("deal_id"))
                    .col(uuid_null("result_id"))
                    .col(uuid_null("demand_id"))
                    .col(date("signed_on"))
                    .col(date("valid_from"))
                    .col(date("valid_to"))
                    .col(big_integer("total_amount_fen"))
                    .col(big_integer("non_technical_fen"))
                    .col(big_integer("technical_amount_fen"))
                    .col(string_len("tech_field", 64))
                    .col(json("industry_codes"))
                    .col(json("ip_types"))
                    .col(string_len("rule_version", 16))
                    .col(uuid("submitted_by"))
                    .col(string_len_null("idempotency_key", 200))
                    .col(string_len_null("request_hash", 64))
                    .col(string_len_null("registration_no", 16))
                    .col(date_null("registered_on"))
                    .col(uuid_null("registered_by"))
                    .col(string_len_null("reason_code", 64))
                    .col(text_null("reason_detail"))
                    .col(timestamp_with_time_zone("submitted_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_contracts_submitted_by",
                        ("contracts", "submitted_by"),
                        ("users", "id"),
                    ))
                    .to_owned(),
            )
            .await?;
        // One contract per submitter and key, however many identical requests race.
        manager
            .create_index(
                index(
                    "uq_contracts_idempotency",
                    "contracts",
                    &["submitted_by", "idempotency_key"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_contracts_registration_no",
                    "contracts",
                    &["registration_no"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("ix_contracts_status", &["status", "submitted_at"][..]),
            ("ix_contracts_seller", &["seller_org_id"][..]),
            ("ix_contracts_buyer", &["buyer_org_id"][..]),
            ("ix_contracts_broker", &["broker_id"][..]),
            ("ix_contracts_registered", &["registered_on"][..]),
        ] {
            manager
                .create_index(index(name, "contracts", columns))
                .await?;
        }
        // Each earlier version of a contract (a correction answered, an amendment registered).
        manager
            .create_table(
                Table::create()
                    .table("contract_versions")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(uuid("contract_id"))
                    .col(integer("version"))
                    .col(json("snapshot"))
                    .col(text_null("note"))
                    .col(uuid_null("actor_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "fk_contract_versions_contract",
                        ("contract_versions", "contract_id"),
                        ("contracts", "id"),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_contract_versions_contract",
                "contract_versions",
                &["contract_id", "version"],
            ))
            .await?;
        // The last serial handed out per year, seller region and registration point. Taken with
        // an UPDATE in the registering transaction: serials roll back with a failed registration
        // (no gaps), and concurrent registrations queue on the row (no repeats).
        manager
            .create_table(
                Table::create()
                    .table("registration_serials")
                    .col(integer("year"))
                    .col(string_len("region_prefix", 4))
                    .col(string_len("point", 2))
                    .col(big_integer("last_serial"))
                    .primary_key(
                        Index::create()
                            .col("year")
                            .col("region_prefix")
                            .col("point"),
                    )
                    .to_owned(),
            )
            .await?;
        // Sums of registered contracts per year, month, direction and breakdown value, kept in the
        // transaction that registers or amends a contract: the indicators read a few hundred rows
        // instead of scanning the contracts.
        manager
            .create_table(
                Table::create()
                    .table("indicator_rollups")
                    .col(integer("year"))
                    .col(integer("month"))
                    .col(string_len("direction", 8))
                    .col(string_len("dimension", 24))
                    .col(string_len("key", 64))
                    .col(big_integer("contracts"))
                    .col(big_integer("total_fen"))
                    .col(big_integer("technical_fen"))
                    .primary_key(
                        Index::create()
                            .col("year")
                            .col("direction")
                            .col("dimension")
                            .col("key")
                            .col("month"),
                    )
                    .to_owned(),
            )
            .await?;
        // Everything a registrar does: append only.
        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(uuid("actor_id"))
                    .col(string_len("action", 48))
                    .col(string_len("subject_kind", 24))
                    .col(uuid("subject_id"))
                    .col(json("detail"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_audit_log_subject",
                "audit_log",
                &["subject_kind", "subject_id"],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_log",
            "indicator_rollups",
            "registration_serials",
            "contract_versions",
            "contracts",
            "deal_events",
            "deals",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
