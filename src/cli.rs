//! The command line: `serve`, `migrate`, `seed`, `create-registrar`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::app::{AppState, Application, shutdown_signal};
use crate::config::{Overrides, Settings};
use crate::error::AppError;

/// techmarket — the online technology market of Xi'an (西安科技大市场).
#[derive(Debug, Parser)]
#[command(name = "techmarket", version, about, long_about = None)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Directory for the index and the default SQLite database [default: ./data].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://FILE?mode=rwc or postgres://USER@HOST/DB [env: DATABASE_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Configuration file [default: ./techmarket.toml, optional].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate, load demo data into an empty database, and serve the HTTP API.
    Serve {
        /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:8080].
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Do not load demo data into an empty database.
        #[arg(long)]
        no_demo: bool,
    },
    /// Apply database migrations and load reference data.
    Migrate,
    /// Load reference data and, into an empty database, the demo data.
    Seed,
    /// Create a registrar (market operator) account, or reset its password.
    CreateRegistrar {
        /// E-mail address of the account.
        #[arg(long)]
        email: String,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Name shown to users.
        #[arg(long, default_value = "登记机构")]
        display_name: String,
    },
}

/// Parses the command line, runs the command and maps failure to exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::telemetry::init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut overrides = Overrides {
        data_dir: cli.global.data_dir,
        database_url: cli.global.database_url,
        ..Overrides::default()
    };
    if let Command::Serve { listen, no_demo } = &cli.command {
        overrides.listen = listen.clone();
        if *no_demo {
            overrides.demo_data = Some(false);
        }
    }
    let settings = Settings::load(cli.global.config.as_deref(), &overrides)
        .context("reading configuration")?;

    match cli.command {
        Command::Serve { .. } => serve(settings).await,
        Command::Migrate => {
            let db = crate::db::connect(&settings).await?;
            crate::db::migrate(&db).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Seed => {
            let db = crate::db::connect(&settings).await?;
            crate::db::migrate(&db).await?;
            let created = crate::demo::load_if_empty(&db).await.map_err(describe)?;
            print_demo_logins(&created);
            if created.is_empty() {
                println!(
                    "reference data is up to date; the database already has users, so no demo data was added"
                );
            }
            Ok(())
        }
        Command::CreateRegistrar {
            email,
            display_name,
            ..
        } => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let db = crate::db::connect(&settings).await?;
            crate::db::migrate(&db).await?;
            let created =
                crate::services::accounts::create_registrar(&db, &email, password, &display_name)
                    .await
                    .map_err(describe)?;
            if created {
                println!("registrar {email} created");
            } else {
                println!("registrar {email} exists; password updated");
            }
            Ok(())
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let demo = settings.demo_data;
    let application = Application::build(settings).await?;
    let state: &AppState = application.state();
    if demo {
        let created = crate::demo::load_if_empty(&state.db)
            .await
            .map_err(describe)?;
        print_demo_logins(&created);
    }
    let addr = application.local_addr()?;
    println!("listening on http://{addr}");
    println!("API documentation: http://{addr}/docs");
    application.run_until(shutdown_signal()).await
}

fn print_demo_logins(created: &[crate::demo::DemoLogin]) {
    if created.is_empty() {
        return;
    }
    println!("demo accounts (for trying the market; change or remove them in production):");
    for login in created {
        println!(
            "  {:<10} {:<34} password {:<22} {}",
            login.role.as_str(),
            login.email,
            login.password,
            login.organization.as_deref().unwrap_or("")
        );
    }
}

/// Turns a service error into a message for the terminal.
fn describe(error: AppError) -> anyhow::Error {
    match error {
        AppError::Internal(e) => e,
        AppError::Validation(fields) => anyhow::anyhow!(
            "{}",
            fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}
