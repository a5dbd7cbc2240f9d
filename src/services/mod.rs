//! Domain services: the rules of the market. Each public async function is one database transaction.

pub mod accounts;
pub mod applications;
pub mod catalogue;
pub mod demands;
pub mod listings;
pub mod login_throttle;
pub mod matching;
pub mod organizations;
pub mod passwords;
pub mod results;
pub mod saved_searches;
pub mod sessions;
