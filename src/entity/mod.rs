//! sea-orm entities: one module per table. Rules live in `services`, not here.

pub mod login_failures;
pub mod organizations;
pub mod policy_targets;
pub mod reference_codes;
pub mod reference_versions;
pub mod sessions;
pub mod users;
