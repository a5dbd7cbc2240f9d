//! The command line: `serve`, `migrate`, `seed`, `reindex`, `import`, `export`, `backup`,
//! `restore`, `rebuild-indicators`, `eval`, `create-registrar`.

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
    /// Rebuild the search index from the database (stop the server using this data directory first).
    Reindex,
    /// Import results or demands from a .jsonl, .csv or .xlsx file (Chinese or English headers).
    Import {
        /// What the file holds.
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Measure search quality over a corpus of paper records (CSL JSON lines): nDCG@10 and P@10
    /// of title queries against keyword-sharing neighbours, and known-item recall, for the
    /// product's ranking and for baseline analyzers. Uses temporary indexes only.
    Eval {
        /// The paper corpus, e.g. ../shared/data/csl/csl_docs.jsonl; without it only the judged
        /// set is scored.
        corpus: Option<PathBuf>,
        /// Number of sampled title queries.
        #[arg(long, default_value_t = 400)]
        sample: usize,
        /// The seeds folder whose `demo/` catalogue and `eval/` judgements are scored first.
        #[arg(long, default_value = "seeds")]
        judged: PathBuf,
    },
    /// Recompute the indicator roll-ups from the registered contracts; with `--check`, only
    /// compare (exit code 1 when they differ).
    RebuildIndicators {
        /// Compare without changing anything.
        #[arg(long)]
        check: bool,
    },
    /// Write a consistent copy of the database to a file, while the nodes keep serving
    /// (SQLite: VACUUM INTO; PostgreSQL: pg_dump).
    Backup {
        /// The backup file (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Replace the database's data by a backup (stop every node first). Every node's search
    /// index is rebuilt on its next start.
    Restore {
        /// The backup file.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Replace a database that holds data.
        #[arg(long)]
        force: bool,
    },
    /// Export a report as CSV or XLSX with Chinese headers.
    Export {
        /// Which report.
        #[command(subcommand)]
        what: ExportWhat,
    },
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

/// What an import file holds.
#[derive(Debug, Subcommand)]
pub enum ImportWhat {
    /// Research results (科技成果).
    Results(ImportArgs),
    /// Enterprise demands and 揭榜挂帅 challenges.
    Demands(ImportArgs),
}

/// Options of `techmarket import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file: .jsonl (one JSON object per line, the fields of the API), .csv or .xlsx.
    pub file: PathBuf,
    /// Owner of every row; otherwise each row names its `organization` (found by name, or created).
    #[arg(long, value_name = "ORG_ID")]
    pub org: Option<uuid::Uuid>,
    /// Publish the imported listings at once instead of leaving them as drafts.
    #[arg(long)]
    pub publish: bool,
    /// Also write every rejected row's errors to this CSV file (line, field, message).
    #[arg(long, value_name = "FILE")]
    pub errors_csv: Option<PathBuf>,
}

/// What an export writes.
#[derive(Debug, Subcommand)]
pub enum ExportWhat {
    /// The technology contracts of a year (registered ones by registration date).
    Contracts {
        /// Options of every export.
        #[command(flatten)]
        args: ExportArgs,
        /// Which contracts.
        #[arg(long, value_enum, default_value = "registered")]
        status: crate::services::contracts::ContractStatus,
    },
    /// Every breakdown of the year's transaction value (and, in XLSX, the policy summary).
    Indicators {
        /// Options of every export.
        #[command(flatten)]
        args: ExportArgs,
    },
}

/// Options of `techmarket export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Year (of registration).
    #[arg(long)]
    pub year: i32,
    /// File format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: crate::services::reports::ReportFormat,
    /// Write to this file [default: standard output].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Exit code of an import that rejected some rows (the good rows were imported).
pub const EXIT_ROWS_REJECTED: u8 = 3;

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
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one parsed command; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
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
        Command::Serve { .. } => serve(settings).await.map(|()| ExitCode::SUCCESS),
        Command::Migrate => {
            let db = crate::db::connect(&settings).await?;
            crate::db::migrate(&db).await?;
            println!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { what } => import(settings, what).await,
        Command::Backup { out } => {
            let report = crate::backup::backup(&settings, &out).await?;
            println!(
                "{:?} backup written to {} ({:.1} MB)",
                report.kind,
                out.display(),
                report.bytes as f64 / 1e6
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { from, force } => {
            let kind = crate::backup::restore(&settings, &from, force).await?;
            println!(
                "{kind:?} database restored from {}; every node rebuilds its search index on start",
                from.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::RebuildIndicators { check } => {
            let db = crate::db::connect(&settings).await?;
            crate::db::migrate(&db).await?;
            let found = if check {
                crate::services::indicators::verify(&db).await
            } else {
                crate::services::indicators::rebuild(&db).await
            }
            .map_err(describe)?;
            println!(
                "{} roll-up rows recomputed from the registered contracts; {} {}",
                found.rows,
                found.mismatched,
                if check {
                    "differ from the stored ones"
                } else {
                    "were wrong and are now corrected"
                }
            );
            Ok(if check && found.mismatched > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Export { what } => export(settings, what).await.map(|()| ExitCode::SUCCESS),
        Command::Reindex => reindex(settings).await.map(|()| ExitCode::SUCCESS),
        Command::Eval {
            corpus,
            sample,
            judged,
        } => {
            tokio::task::spawn_blocking(move || {
                crate::eval::run_judged(&judged)?;
                corpus.map_or(Ok(()), |corpus| crate::eval::run(&corpus, sample))
            })
            .await??;
            Ok(ExitCode::SUCCESS)
        }
        Command::Seed => {
            let db = crate::db::connect(&settings).await?;
            crate::db::migrate(&db).await?;
            let reference = crate::reference::ReferenceData::read(&db).await?;
            let summary = crate::demo::load_if_empty(&db, &reference, settings.registration_point)
                .await
                .map_err(describe)?;
            print_demo(&summary);
            if summary.logins.is_empty() {
                println!(
                    "reference data is up to date; the database already has users, so no demo data was added"
                );
            }
            Ok(ExitCode::SUCCESS)
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
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let demo = settings.demo_data;
    let application = Application::build(settings).await?;
    let state: &AppState = application.state();
    if demo {
        let summary = crate::demo::load_if_empty(
            &state.db,
            &state.reference,
            state.settings.registration_point,
        )
        .await
        .map_err(describe)?;
        print_demo(&summary);
    }
    // Before the address is printed: whoever reads it may stop the server at once.
    let shutdown = shutdown_signal();
    let addr = application.local_addr()?;
    announce(format_args!("listening on http://{addr}"));
    announce(format_args!("API documentation: http://{addr}/docs"));
    application.run_until(shutdown).await
}

/// Prints a line of the server's start for a person or a supervisor to read. Whoever started the
/// server may stop reading its output once it has the address (a closed pipe): the server goes on
/// serving, where `println!` would panic and end it.
fn announce(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out
        .write_fmt(line)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
}

async fn export(settings: Settings, what: ExportWhat) -> anyhow::Result<()> {
    use crate::services::reports;
    use std::io::Write;

    let db = crate::db::connect(&settings).await?;
    crate::db::migrate(&db).await?;
    let reference = crate::reference::ReferenceData::read(&db).await?;
    let (report, args) = match what {
        ExportWhat::Contracts { args, status } => (
            reports::contracts_report(&db, &reference, args.year, status)
                .await
                .map_err(describe)?,
            args,
        ),
        ExportWhat::Indicators { args } => (
            reports::indicators_report(&db, &reference, args.year)
                .await
                .map_err(describe)?,
            args,
        ),
    };
    let bytes = report.render(args.format).map_err(describe)?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            let rows: usize = report.sheets.first().map_or(0, |s| s.rows.len());
            eprintln!("{}: {rows} rows", path.display());
        }
        None => std::io::stdout()
            .lock()
            .write_all(&bytes)
            .context("writing to standard output")?,
    }
    Ok(())
}

async fn reindex(settings: Settings) -> anyhow::Result<()> {
    use indicatif::{ProgressBar, ProgressStyle};

    let db = crate::db::connect(&settings).await?;
    crate::db::migrate(&db).await?;
    let reference = crate::reference::ReferenceData::read(&db).await?;
    let dir = settings.index_dir();
    let index =
        tokio::task::spawn_blocking(move || search_index::SearchIndex::open_or_create(&dir))
            .await?
            .context("opening the search index (is a server running on this data directory?)")?;
    index.set_owner(&crate::db::installation_id(&db).await?)?;
    let index = std::sync::Arc::new(index);
    let bar = ProgressBar::new(0);
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} listings {per_sec} eta {eta}",
    )?);
    let progress = bar.clone();
    let started = std::time::Instant::now();
    let count = crate::services::search::rebuild(&db, &reference, &index, move |done, total| {
        progress.set_length(total);
        progress.set_position(done);
    })
    .await?;
    bar.finish_and_clear();
    println!(
        "search index rebuilt: {count} published listings in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn import(settings: Settings, what: ImportWhat) -> anyhow::Result<ExitCode> {
    use crate::import::{ImportKind, ImportOptions, import_file, sources::Format};
    use indicatif::{ProgressBar, ProgressStyle};

    let (kind, args) = match what {
        ImportWhat::Results(args) => (ImportKind::Results, args),
        ImportWhat::Demands(args) => (ImportKind::Demands, args),
    };
    let format = Format::from_path(&args.file).map_err(anyhow::Error::msg)?;
    let db = crate::db::connect(&settings).await?;
    crate::db::migrate(&db).await?;
    let reference = crate::reference::ReferenceData::read(&db).await?;
    let bar = match format {
        Format::Xlsx => {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template(
                "{spinner} {pos} rows {per_sec} {elapsed}",
            )?);
            bar
        }
        _ => {
            let size = std::fs::metadata(&args.file)
                .with_context(|| format!("reading {}", args.file.display()))?
                .len();
            let bar = ProgressBar::new(size);
            bar.set_style(ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )?);
            bar
        }
    };
    let started = std::time::Instant::now();
    let progress = bar.clone();
    let options = ImportOptions {
        organization_id: args.org,
        publish: args.publish,
        actor: None,
        limits: crate::import::ImportLimits::from_settings(&settings),
    };
    let report = import_file(
        &db,
        &reference,
        kind,
        args.file.clone(),
        options,
        move |done| progress.set_position(done),
    )
    .await?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let rows = report.created + report.updated + report.failed;
    println!(
        "{}: {} created, {} updated, {} rejected ({rows} rows in {seconds:.1} s, {:.0} rows/s)",
        args.file.display(),
        report.created,
        report.updated,
        report.failed,
        rows as f64 / seconds.max(0.001)
    );
    for error in report.errors.iter().take(20) {
        println!("  line {}: {}: {}", error.line, error.field, error.message);
    }
    if report.errors.len() > 20 {
        println!("  … and {} more errors", report.errors.len() - 20);
    }
    if let Some(path) = &args.errors_csv {
        let mut writer =
            csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
        writer.write_record(["line", "field", "message"])?;
        for error in &report.errors {
            // The field and the message can quote the imported file: no formula runs from them.
            let safe = crate::services::reports::spreadsheet_safe;
            writer.write_record([
                error.line.to_string(),
                safe(&error.field).into_owned(),
                safe(&error.message).into_owned(),
            ])?;
        }
        writer.flush()?;
        println!("errors written to {}", path.display());
    }
    if report.failed > 0 {
        Ok(ExitCode::from(EXIT_ROWS_REJECTED))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

fn print_demo(summary: &crate::demo::DemoSummary) {
    let created = &summary.logins;
    if created.is_empty() {
        return;
    }
    announce(format_args!(
        "demo data loaded: {} published results, {} published demands (challenges included), {} registered contracts, {} organization qualifications",
        summary.results, summary.demands, summary.contracts, summary.qualifications
    ));
    announce(format_args!(
        "demo accounts (for trying the market; change or remove them in production):"
    ));
    for login in created {
        announce(format_args!(
            "  {:<10} {:<34} password {:<22} {}",
            login.role.as_str(),
            login.email,
            login.password,
            login.organization.as_deref().unwrap_or("")
        ));
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
