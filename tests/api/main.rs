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
mod contracts;
mod crash;
mod errors;
mod faults;
mod filter_codes;
mod helpers;
mod imports;
mod indicator_definitions;
mod lifecycle;
mod nodes;
mod organizations;
mod qualifications;
mod reference;
mod reports;
mod search;
mod service;
