//! Demo data for a fresh database: one account of each role, 310 research results of 17 Xi'an
//! universities and institutes, 125 enterprise demands of which 14 are 揭榜挂帅 challenges — all
//! published, loaded through the same import path as `techmarket import`. The texts are written for
//! this project; the institutions are real, the enterprises and all figures invented. Then about
//! 2,400 technology contracts over 2021–2023 and this year ([`contracts`]).

pub mod contracts;
pub mod qualifications;

use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde::Deserialize;

use crate::domain::{Membership, Role};
use crate::entity::users;
use crate::error::AppResult;
use crate::import::sources::Format;
use crate::import::{ImportKind, ImportOptions, ImportReport, import_bytes};
use crate::reference::ReferenceData;
use crate::services::accounts::organizations::{NewOrganization, insert_organization};
use crate::services::accounts::{self, passwords};

const DEMO_ACCOUNTS: &str = include_str!("../../seeds/demo/accounts.json");
const DEMO_RESULTS: [&str; 2] = [
    include_str!("../../seeds/demo/results_a.jsonl"),
    include_str!("../../seeds/demo/results_b.jsonl"),
];
const DEMO_DEMANDS: &str = include_str!("../../seeds/demo/demands.jsonl");

#[derive(Deserialize)]
struct DemoAccount {
    email: String,
    password: String,
    display_name: String,
    role: Role,
    organization: Option<NewOrganization>,
}

/// An account created by [`load_if_empty`], for printing.
pub struct DemoLogin {
    /// Role of the account.
    pub role: Role,
    /// Login e-mail.
    pub email: String,
    /// Login password (demo only).
    pub password: String,
    /// Organization name.
    pub organization: Option<String>,
}

/// What [`load_if_empty`] loaded.
#[derive(Default)]
pub struct DemoSummary {
    /// The demo accounts.
    pub logins: Vec<DemoLogin>,
    /// Published results.
    pub results: u64,
    /// Published demands (challenges included).
    pub demands: u64,
    /// Registered demo contracts.
    pub contracts: u64,
    /// Recorded qualifications of demo organizations.
    pub qualifications: u64,
}

/// Whether the database holds any market data: an account, an organization, a listing, a deal,
/// a contract or a qualification. Demo data goes only into a database with none of them — an
/// imported catalogue (`techmarket import … --publish` into a new database has organizations and
/// results but no user) must never be mixed with invented listings and contracts.
pub async fn has_market_data(db: &DatabaseConnection) -> AppResult<bool> {
    use crate::entity::{
        contracts as contract_rows, deals, demands, organization_qualifications, organizations,
        results,
    };
    Ok(users::Entity::find().count(db).await? > 0
        || organizations::Entity::find().count(db).await? > 0
        || results::Entity::find().count(db).await? > 0
        || demands::Entity::find().count(db).await? > 0
        || deals::Entity::find().count(db).await? > 0
        || contract_rows::Entity::find().count(db).await? > 0
        || organization_qualifications::Entity::find()
            .count(db)
            .await?
            > 0)
}

/// Loads the demo data when the database has no market data at all ([`has_market_data`]);
/// returns what it loaded.
pub async fn load_if_empty(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    registration_point: u8,
) -> AppResult<DemoSummary> {
    if has_market_data(db).await? {
        return Ok(DemoSummary::default());
    }
    let mut summary = DemoSummary {
        logins: create_accounts(db).await?,
        ..DemoSummary::default()
    };
    let options = ImportOptions {
        publish: true,
        ..ImportOptions::default()
    };
    for file in DEMO_RESULTS {
        let report = import_demo(db, reference, ImportKind::Results, file, &options).await?;
        summary.results += report.created + report.updated;
    }
    let report = import_demo(db, reference, ImportKind::Demands, DEMO_DEMANDS, &options).await?;
    summary.demands += report.created + report.updated;
    summary.contracts = contracts::load(db, &format!("{registration_point:02}")).await?;
    summary.qualifications = qualifications::load(db).await?;
    Ok(summary)
}

async fn import_demo(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    kind: ImportKind,
    file: &'static str,
    options: &ImportOptions,
) -> AppResult<ImportReport> {
    let report = import_bytes(
        db,
        reference,
        kind,
        Format::JsonLines,
        bytes::Bytes::from_static(file.as_bytes()),
        options.clone(),
    )
    .await?;
    // The demo files are checked by a test; a rejected row here is a bug worth shouting about.
    for error in &report.errors {
        tracing::error!(line = error.line, field = %error.field, "demo row rejected: {}", error.message);
    }
    Ok(report)
}

async fn create_accounts(db: &DatabaseConnection) -> AppResult<Vec<DemoLogin>> {
    let accounts: Vec<DemoAccount> = serde_json::from_str(DEMO_ACCOUNTS)
        .map_err(|e| anyhow::anyhow!("seeds/demo/accounts.json: {e}"))?;
    let mut created = Vec::new();
    for account in accounts {
        let hash = passwords::hash(account.password.clone()).await?;
        let txn = crate::db::begin_write(db).await?;
        let organization = match account.organization {
            Some(org) => Some(insert_organization(&txn, org).await?),
            None => None,
        };
        accounts::insert_user(
            &txn,
            &account.email,
            hash,
            &account.display_name,
            account.role,
            organization.as_ref().map(|o| o.id),
            Membership::Active,
        )
        .await?;
        txn.commit().await?;
        created.push(DemoLogin {
            role: account.role,
            email: account.email,
            password: account.password,
            organization: organization.map(|o| o.name),
        });
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_files_cover_every_industry_and_field_and_enough_institutions() {
        let mut institutions = std::collections::HashSet::new();
        let mut industries = std::collections::HashSet::new();
        let mut fields = std::collections::HashSet::new();
        let mut results = 0;
        for file in DEMO_RESULTS {
            for line in file.lines().filter(|l| !l.trim().is_empty()) {
                let row: serde_json::Value = serde_json::from_str(line).expect("json line");
                results += 1;
                institutions.insert(row["organization"]["name"].as_str().map(str::to_owned));
                fields.insert(row["tech_field"].as_str().map(str::to_owned));
                for code in row["industry_codes"].as_array().expect("industries") {
                    industries.insert(code.as_str().map(str::to_owned));
                }
            }
        }
        assert!(results >= 300, "{results} results");
        assert!(
            institutions.len() >= 15,
            "{} institutions",
            institutions.len()
        );
        assert_eq!(industries.len(), 18);
        assert_eq!(fields.len(), 11);
        let demands: Vec<serde_json::Value> = DEMO_DEMANDS
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert!(demands.len() >= 100);
        let challenges = demands
            .iter()
            .filter(|d| d["challenge"].is_object())
            .count();
        assert!(challenges >= 10, "{challenges} challenges");
    }
}
