//! HTTP-level tests through the real router and a real server on port 0.
//!
//! Each test gets its own database: a temporary SQLite file by default, or a fresh PostgreSQL
//! database when `TEST_DATABASE_URL` names a server (`postgres://postgres@127.0.0.1:5432/test`).

mod accounts;
mod audit;
mod backup;
mod catalogue;
mod cli;
mod confidentiality;
mod contract_races;
mod contracts;
mod crash;
mod errors;
mod faults;
mod filter_codes;
mod helpers;
mod hostile_text;
mod hostile_uploads;
mod imports;
mod indicator_definitions;
mod labels;
mod lifecycle;
mod limits;
mod list_totals;
mod nodes;
mod organizations;
mod qualifications;
mod races;
mod reference;
mod reports;
mod search;
mod service;
