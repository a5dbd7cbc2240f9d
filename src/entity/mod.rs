//! sea-orm entities: one module per table. Rules live in `services`, not here.

pub mod audit_log;
pub mod challenge_applications;
pub mod contract_versions;
pub mod contracts;
pub mod deal_events;
pub mod deals;
pub mod demands;
pub mod listing_events;
pub mod listing_industries;
pub mod login_failures;
pub mod notifications;
pub mod organization_qualifications;
pub mod organizations;
pub mod policy_targets;
pub mod reference_codes;
pub mod reference_versions;
pub mod registration_attempts;
pub mod results;
pub mod saved_searches;
pub mod search_outbox;
pub mod sessions;
pub mod users;
