//! Domain services: the rules of the market. Each public async function is one database transaction.

pub mod accounts;
pub mod applications;
pub mod audit;
pub mod catalogue;
pub mod chart;
pub mod contracts;
pub mod deals;
pub mod demands;
pub mod indicators;
pub mod listings;
pub mod login_throttle;
pub mod matching;
pub mod organizations;
pub mod passwords;
pub mod qualifications;
pub mod reports;
pub mod results;
pub mod saved_searches;
pub mod sessions;
