//! Configuration: flags > environment (`DATABASE_URL`, `TECHMARKET_*`) > `techmarket.toml` > defaults.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Everything the server and the commands can be configured with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// Holds the search index and, unless `database_url` names another database, the SQLite file.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: `sqlite://<data_dir>/techmarket.db`.
    pub database_url: Option<String>,
    /// Address to listen on; port 0 picks a free port.
    pub listen: String,
    /// How long a login token stays valid, in hours.
    pub token_ttl_hours: i64,
    /// Failed logins for one account from one client address within the window before that address
    /// may not try that account again (other addresses, the owner's, are not affected).
    pub login_max_failures: u64,
    /// Failed logins from one client address, for any accounts, within the window before that address
    /// may not log in at all.
    pub login_max_failures_per_ip: u64,
    /// The login-throttling window, in minutes.
    pub login_window_minutes: i64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest file accepted by the HTTP import routes, in bytes.
    pub max_import_bytes: usize,
    /// Origins allowed by CORS (`*` for any); none by default.
    pub cors_origins: Vec<String>,
    /// Load the demo data into an empty database on `serve`.
    pub demo_data: bool,
    /// Maximum database connections per process.
    pub db_max_connections: u32,
    /// How often the indexer looks for new outbox rows, in milliseconds (each round commits).
    pub indexer_poll_ms: u64,
    /// How long the number of published results (and of demands) is kept for the `total` of the
    /// public, unfiltered lists before it is counted again, in milliseconds; 0 counts on every
    /// request. Every other list is counted exactly.
    pub public_total_cache_ms: u64,
    /// Take the client address from the last `X-Forwarded-For` entry (set this only behind a proxy
    /// that appends it); otherwise the TCP peer address is used.
    pub trust_forwarded_for: bool,
    /// This market's registration point (登记点), 0–99: the two digits after the region in every
    /// registration number it gives. Written `1` or `"01"`.
    #[serde(deserialize_with = "two_digits")]
    pub registration_point: u8,
    /// Searches (and matchings) one client address may make per second on average; 0 turns the
    /// limit off.
    pub search_rate_per_second: u32,
    /// How many searches a client may make at once before the average applies.
    pub search_burst: u32,
    /// Most bytes the parts of one imported workbook (`.xlsx`, a zip) may inflate to, in total.
    pub max_import_inflated_bytes: u64,
    /// Most bytes one part of an imported workbook (a sheet, the shared strings) may inflate to.
    pub max_import_part_bytes: u64,
    /// Most entries the zip of an imported workbook may hold.
    pub max_import_zip_entries: usize,
    /// Longest line of an imported JSON-lines file, or row of a CSV file, in bytes.
    pub max_import_row_bytes: usize,
    /// Milliseconds a client has to send a whole request head (request line and headers), from
    /// the connection's start or from the first byte of each further request; a slower client is
    /// answered `408` and disconnected. 0 turns the limit off.
    pub header_read_timeout_ms: u64,
    /// Milliseconds a keep-alive connection may stay open with no request in flight and nothing
    /// sent either way before it is closed. 0 turns the limit off.
    pub idle_timeout_ms: u64,
    /// Connections served at once by this process; more wait in the kernel's backlog until one
    /// closes. 0 turns the cap off.
    pub max_connections: usize,
    /// Longest request line (method, address with its query, version) in bytes; longer: `414`.
    pub max_request_line_bytes: usize,
    /// Largest request head (request line and all headers) in bytes; larger: `431`.
    pub max_header_bytes: usize,
    /// Failed logins for one account from all addresses together within the window after which an
    /// address that has failed for it must wait (a distributed attack); 0 turns this off.
    pub login_max_failures_per_account: u64,
    /// Registration attempts one client address may make within `register_window_minutes`; 0 turns
    /// the limit off.
    pub register_max_per_ip: u64,
    /// The registration-throttling window, in minutes.
    pub register_window_minutes: i64,
    /// Bearer token `/metrics` requires (`Authorization: Bearer …`); empty: no token.
    pub metrics_token: String,
    /// Separate address serving only `/metrics` (e.g. `0.0.0.0:9464`); when set, the main address
    /// does not serve it. Empty: `/metrics` is on the main address, and only with `metrics_token`.
    pub metrics_listen: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            database_url: None,
            listen: "127.0.0.1:8080".to_owned(),
            token_ttl_hours: 7 * 24,
            login_max_failures: 5,
            login_max_failures_per_ip: 50,
            login_window_minutes: 15,
            max_body_bytes: 1024 * 1024,
            max_import_bytes: 32 * 1024 * 1024,
            cors_origins: Vec::new(),
            demo_data: true,
            db_max_connections: 10,
            indexer_poll_ms: 250,
            public_total_cache_ms: 10_000,
            trust_forwarded_for: false,
            registration_point: 1,
            search_rate_per_second: 20,
            search_burst: 60,
            max_import_inflated_bytes: 128 * 1024 * 1024,
            max_import_part_bytes: 32 * 1024 * 1024,
            max_import_zip_entries: 1000,
            max_import_row_bytes: 1024 * 1024,
            header_read_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            max_connections: 512,
            // Just under hyper's fixed 64 KiB limit on the address, so that every address too
            // long gets our problem answer, and well above the longest the API needs (a search
            // for 10 KB of Chinese text is 32 KB percent-encoded).
            max_request_line_bytes: 60 * 1024,
            // Under hyper's own buffer (about 408 KB), for the same reason.
            max_header_bytes: 96 * 1024,
            login_max_failures_per_account: 100,
            register_max_per_ip: 30,
            register_window_minutes: 60,
            metrics_token: String::new(),
            metrics_listen: String::new(),
        }
    }
}

/// Values given on the command line; `None` leaves the lower layers in charge.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `--listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// `--no-demo` sets this to false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demo_data: Option<bool>,
}

impl Settings {
    /// Merges the layers. `config_file` defaults to `techmarket.toml` in the working directory and may
    /// be missing.
    pub fn load(
        config_file: Option<&Path>,
        overrides: &Overrides,
    ) -> Result<Self, Box<figment::Error>> {
        let file = config_file.unwrap_or(Path::new("techmarket.toml"));
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("TECHMARKET_"))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(Box::new)
    }

    /// The database URL in effect: the configured one, or the SQLite file in the data directory
    /// (created when missing).
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.clone(),
            _ => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("techmarket.db").display()
            ),
        }
    }

    /// The search-index directory.
    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }
}

/// A number from 0 to 99, written as a number or as digits (`"01"`): environment variables and
/// TOML strings keep the leading zero, which is not a number's.
fn two_digits<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u8, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Number(u64),
        Text(String),
    }
    let value = match Written::deserialize(deserializer)? {
        Written::Number(n) => u8::try_from(n).ok(),
        Written::Text(text) => text.trim().parse::<u8>().ok(),
    };
    value
        .filter(|n| *n < 100)
        .ok_or_else(|| serde::de::Error::custom("a registration point is two digits, e.g. 01"))
}

#[cfg(test)]
#[expect(
    clippy::result_large_err,
    reason = "figment's Jail closures return figment::Error"
)]
mod tests {
    use super::*;

    // Both tests run in a figment Jail: it serialises tests that touch the environment and the
    // working directory, which are process-wide.
    #[test]
    fn the_registration_point_keeps_its_leading_zero_however_it_is_written() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            let load = || Settings::load(None, &Overrides::default());
            jail.set_env("TECHMARKET_REGISTRATION_POINT", "07");
            assert_eq!(load().map(|s| s.registration_point).ok(), Some(7));
            jail.create_file("techmarket.toml", "registration_point = \"12\"\n")?;
            jail.clear_env();
            assert_eq!(load().map(|s| s.registration_point).ok(), Some(12));
            jail.set_env("TECHMARKET_REGISTRATION_POINT", "100");
            assert!(load().is_err());
            Ok(())
        });
    }

    #[test]
    fn flags_beat_file_and_defaults_fill_the_rest() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file(
                "custom.toml",
                "listen = \"0.0.0.0:9000\"\ntoken_ttl_hours = 1\n",
            )?;
            let file = jail.directory().join("custom.toml");
            let from_file =
                Settings::load(Some(&file), &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(from_file.listen, "0.0.0.0:9000");
            assert_eq!(from_file.token_ttl_hours, 1);
            assert_eq!(from_file.login_max_failures, 5);

            let overrides = Overrides {
                listen: Some("127.0.0.1:0".into()),
                data_dir: Some("d".into()),
                ..Overrides::default()
            };
            let flagged = Settings::load(Some(&file), &overrides).map_err(|e| e.to_string())?;
            assert_eq!(flagged.listen, "127.0.0.1:0");
            assert_eq!(
                flagged.effective_database_url(),
                "sqlite://d/techmarket.db?mode=rwc"
            );
            Ok(())
        });
    }

    #[test]
    fn environment_beats_the_file_and_flags_beat_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file(
                "techmarket.toml",
                "listen = \"0.0.0.0:9000\"\ndatabase_url = \"sqlite://file.db\"\n",
            )?;
            jail.set_env("TECHMARKET_LISTEN", "127.0.0.1:7000");
            jail.set_env("TECHMARKET_LOGIN_MAX_FAILURES", "3");
            jail.set_env("DATABASE_URL", "postgres://env@localhost/db");
            let settings =
                Settings::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(settings.listen, "127.0.0.1:7000");
            assert_eq!(settings.login_max_failures, 3);
            assert_eq!(
                settings.effective_database_url(),
                "postgres://env@localhost/db"
            );

            let flags = Overrides {
                database_url: Some("postgres://flag@localhost/db".into()),
                listen: Some("127.0.0.1:0".into()),
                ..Overrides::default()
            };
            let settings = Settings::load(None, &flags).map_err(|e| e.to_string())?;
            assert_eq!(settings.listen, "127.0.0.1:0");
            assert_eq!(
                settings.effective_database_url(),
                "postgres://flag@localhost/db"
            );
            Ok(())
        });
    }
}
