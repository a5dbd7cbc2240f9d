//! techmarket: the backend of an online technology market (西安科技大市场).
//!
//! `main.rs` only calls [`cli::main`]; everything else lives here so that tests, the server and the
//! maintenance commands share one code path. A request goes handler (`http`) → service (`services`)
//! → sea-orm (`entity`); the search index (`search-index` crate) is a projection of the database.

pub mod app;
pub mod backup;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod entity;
pub mod error;
pub mod eval;
pub mod http;
pub mod import;
pub mod kernel;
pub mod reference;
pub mod services;
pub mod telemetry;
pub mod text;

pub use app::{AppState, Application};
pub use config::Settings;
