//! The database schema of techmarket as an ordered list of sea-orm migrations.
//!
//! The same migrations run on SQLite (embedded mode) and PostgreSQL (production); they use only the
//! portable column types of sea-query. `techmarket migrate` and `techmarket serve` apply them.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_create_accounts;
mod m20261127_000002_create_reference;
mod m20261128_000003_create_catalogue;
mod m20261128_000004_create_saved_searches;
mod m20261130_000005_bulk_path_indexes;
mod m20261130_000006_create_contracts;
mod m20261130_000007_create_qualifications;
mod m20261130_000008_contract_list_index;
mod m20261201_000009_listing_revisions;
mod m20261201_000010_lookalike_names_and_throttles;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_accounts::Migration),
            Box::new(m20261127_000002_create_reference::Migration),
            Box::new(m20261128_000003_create_catalogue::Migration),
            Box::new(m20261128_000004_create_saved_searches::Migration),
            Box::new(m20261130_000005_bulk_path_indexes::Migration),
            Box::new(m20261130_000006_create_contracts::Migration),
            Box::new(m20261130_000007_create_qualifications::Migration),
            Box::new(m20261130_000008_contract_list_index::Migration),
            Box::new(m20261201_000009_listing_revisions::Migration),
            Box::new(m20261201_000010_lookalike_names_and_throttles::Migration),
        ]
    }
}
