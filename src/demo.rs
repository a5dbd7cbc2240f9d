//! Demo data for a fresh database: one account of each role, so that a new user can log in at once.
//! (Demo listings arrive with the catalogue.)

use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde::Deserialize;

use crate::domain::{Membership, Role};
use crate::entity::users;
use crate::error::AppResult;
use crate::services::organizations::{NewOrganization, insert_organization};
use crate::services::{accounts, passwords};

const DEMO_ACCOUNTS: &str = include_str!("../seeds/demo/accounts.json");

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

/// Creates the demo accounts when the database has no user at all; returns what it created.
pub async fn load_if_empty(db: &DatabaseConnection) -> AppResult<Vec<DemoLogin>> {
    if users::Entity::find().count(db).await? > 0 {
        return Ok(Vec::new());
    }
    let accounts: Vec<DemoAccount> = serde_json::from_str(DEMO_ACCOUNTS)
        .map_err(|e| anyhow::anyhow!("seeds/demo/accounts.json: {e}"))?;
    let mut created = Vec::new();
    for account in accounts {
        if account.role == Role::Registrar {
            accounts::create_registrar(
                db,
                &account.email,
                account.password.clone(),
                &account.display_name,
            )
            .await?;
            created.push(DemoLogin {
                role: account.role,
                email: account.email,
                password: account.password,
                organization: None,
            });
            continue;
        }
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
