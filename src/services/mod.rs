//! Domain services: the rules of the market. A function that takes the `DatabaseConnection` is one
//! database transaction of its own (a request's one service call); a function generic over a
//! `ConnectionTrait` runs inside the caller's transaction, as one step of it.

pub mod accounts;
pub mod applications;
pub mod audit;
pub mod contracts;
pub mod deals;
pub mod indicators;
pub mod listings;
pub mod qualifications;
pub mod reports;
pub mod search;
