//! What every domain module needs and no domain owns: the market's calendar (China time), JSON
//! string arrays as they are stored, access checks, the meaning of database errors, the
//! validation of input fields (one wording per rule), and values kept for a while rather than
//! computed on every request. Domain modules take shared needs from here
//! rather than from a sibling's internals, so that no two domains import each other for a helper.

pub mod access;
pub mod dates;
pub mod db_errors;
pub mod json;
pub mod page;
pub mod recent;
pub mod validation;
