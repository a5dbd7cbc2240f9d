//! Bulk import of results and demands from `.jsonl`, `.csv` and `.xlsx` files.
//!
//! Rows are read one at a time (see `sources`), checked exactly as the API checks them, and written
//! in batches of [`BATCH_ROWS`], one transaction per batch. A bad row is reported with its line,
//! field and message and never stops the good rows. A row with an `external_id` that the owning
//! organization already has updates that listing instead of adding a duplicate.
//!
//! A file-level error (text that is not UTF-8, a quote that never closes, a broken zip or XML, a
//! limit of [`ImportLimits`] exceeded) writes nothing: every file is read twice, first only to
//! check that it can be read to its end (no row is converted or written), then to import. The first
//! pass costs a fraction of the second (no validation, no database), and it keeps the batches of
//! the second: one transaction for a whole file would hold SQLite's write lock for minutes.
//!
//! `sources` reads the files (`workbook` checks a workbook's zip before calamine sees it), `rows`
//! turns a row into a checked input, `writer` writes a batch.

pub mod fields;
pub mod limits;
mod rows;
pub mod sources;
pub mod workbook;
mod writer;

use std::collections::HashMap;
use std::path::PathBuf;

use sea_orm::{DatabaseConnection, EntityTrait};
use serde::Serialize;
use tokio::sync::mpsc;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entity::organizations;
use crate::error::{AppError, AppResult, FieldError};
use crate::kernel::validation;
use crate::reference::ReferenceData;
use crate::services::accounts::organizations::NewOrganization;
use crate::services::listings::ListingKind;
use crate::services::listings::demands::DemandInput;
use crate::services::listings::results::ResultInput;

pub use limits::ImportLimits;
use rows::check_row;
use sources::{Format, RawRow, Rows};
use writer::write_batch;

/// Rows written per transaction.
pub const BATCH_ROWS: usize = 500;

/// Row errors kept in a report (the counts stay exact beyond it).
pub const MAX_REPORTED_ERRORS: usize = 10_000;

/// What is imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// Research results.
    Results,
    /// Demands and challenges.
    Demands,
}

impl ImportKind {
    fn columns(self) -> &'static [fields::Column] {
        match self {
            Self::Results => fields::RESULT_COLUMNS,
            Self::Demands => fields::DEMAND_COLUMNS,
        }
    }

    fn listing(self) -> ListingKind {
        match self {
            Self::Results => ListingKind::Result,
            Self::Demands => ListingKind::Demand,
        }
    }
}

/// How rows are owned and published.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Every row belongs to this organization (rows may then name only this one).
    pub organization_id: Option<Uuid>,
    /// Publish imported listings at once (operator imports); otherwise they are drafts.
    pub publish: bool,
    /// The user importing, for the history (`None` from the command line).
    pub actor: Option<Uuid>,
    /// What the file may cost to read.
    pub limits: ImportLimits,
}

/// One rejected row.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowError {
    /// Line in the file (for spreadsheets, the header is line 1).
    pub line: usize,
    /// The field, or `row` when the whole row is unreadable.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ImportReport {
    /// Rows that added a listing.
    pub created: u64,
    /// Rows that updated a listing with the same `external_id`.
    pub updated: u64,
    /// Rows rejected.
    pub failed: u64,
    /// The rejected rows' errors (at most 10000).
    pub errors: Vec<RowError>,
}

impl ImportReport {
    fn reject(&mut self, line: usize, errors: impl IntoIterator<Item = FieldError>) {
        self.failed += 1;
        for error in errors {
            if self.errors.len() < MAX_REPORTED_ERRORS {
                self.errors.push(RowError {
                    line,
                    field: error.field,
                    message: error.message,
                });
            }
        }
    }
}

/// A row that passed every check, ready to be written.
struct ReadyRow {
    line: usize,
    external_id: Option<String>,
    organization: OrgRef,
    input: Input,
}

enum Input {
    Result(Box<ResultInput>),
    Demand(Box<DemandInput>),
}

impl Input {
    fn industries(&self) -> &[String] {
        match self {
            Self::Result(i) => &i.industry_codes,
            Self::Demand(i) => &i.industry_codes,
        }
    }
}

/// The owner of a row: known, or to be found by name (and created when missing).
enum OrgRef {
    Known(Uuid),
    ByName(Box<NewOrganization>),
}

/// Reads a file on a blocking thread and imports it. `progress` receives (done, total) in the unit of
/// the format (bytes for JSON lines and CSV, rows for spreadsheets).
pub async fn import_file(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    kind: ImportKind,
    path: PathBuf,
    options: ImportOptions,
    progress: impl Fn(u64) + Send + Sync + 'static,
) -> anyhow::Result<ImportReport> {
    let format = Format::from_path(&path).map_err(anyhow::Error::msg)?;
    let mut file = std::fs::File::open(&path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    let (tx, rx) = mpsc::channel(BATCH_ROWS * 2);
    let limits = options.limits;
    let reader = tokio::task::spawn_blocking(move || {
        check_file(format, kind, &mut file, &limits)?;
        std::io::Seek::rewind(&mut file).map_err(|e| format!("cannot read the file: {e}"))?;
        let mut send = |row| tx.blocking_send(row).is_ok();
        read(format, kind, &mut file, &limits, Some(&mut send), &progress)
    });
    let report = import_rows(db, reference, kind, rx, options).await?;
    reader
        .await
        .map_err(|e| anyhow::anyhow!("reader thread: {e}"))?
        .map_err(anyhow::Error::msg)?;
    Ok(report)
}

/// Imports rows held in memory (the HTTP import).
pub async fn import_bytes(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    kind: ImportKind,
    format: Format,
    bytes: bytes::Bytes,
    options: ImportOptions,
) -> AppResult<ImportReport> {
    let (tx, rx) = mpsc::channel(BATCH_ROWS * 2);
    let limits = options.limits;
    let reader = tokio::task::spawn_blocking(move || {
        let mut source = std::io::Cursor::new(bytes);
        check_file(format, kind, &mut source, &limits)?;
        source.set_position(0);
        let mut send = |row| tx.blocking_send(row).is_ok();
        read(format, kind, &mut source, &limits, Some(&mut send), &|_| {})
    });
    let report = import_rows(db, reference, kind, rx, options).await?;
    reader
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|message| AppError::field("file", message))?;
    Ok(report)
}

/// The first pass over a file: everything that can make it unreadable is found here, before any
/// row is written. A workbook is first checked for what calamine would trust
/// ([`workbook::check`]); the second pass reads the same bytes and needs no second check.
fn check_file<R: std::io::Read + std::io::Seek>(
    format: Format,
    kind: ImportKind,
    source: &mut R,
    limits: &ImportLimits,
) -> Result<(), String> {
    if format == Format::Xlsx {
        workbook::check(source, limits)?;
    }
    read(format, kind, source, limits, None, &|_| {})
}

/// Reads `source` to its end, handing rows to `rows` (none: only checks the file).
fn read<R: std::io::Read + std::io::Seek>(
    format: Format,
    kind: ImportKind,
    source: R,
    limits: &ImportLimits,
    rows: Rows<'_>,
    progress: &dyn Fn(u64),
) -> Result<(), String> {
    match format {
        Format::JsonLines => {
            sources::read_jsonl(std::io::BufReader::new(source), limits, rows, progress)
        }
        Format::Csv => sources::read_csv(source, kind.columns(), limits, rows, progress),
        Format::Xlsx => sources::read_xlsx(source, kind.columns(), rows, progress),
    }
}

/// Checks and writes rows as they arrive, a batch at a time.
pub async fn import_rows(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    kind: ImportKind,
    mut rx: mpsc::Receiver<RawRow>,
    options: ImportOptions,
) -> AppResult<ImportReport> {
    let fixed_org = match options.organization_id {
        Some(id) => Some(
            organizations::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| validation::not_found("org", "organization"))?,
        ),
        None => None,
    };
    let mut report = ImportReport::default();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut organizations: HashMap<String, Uuid> = HashMap::new();
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    loop {
        let room = BATCH_ROWS - batch.len();
        let received = rx.recv_many(&mut batch, room).await;
        let finished = received == 0;
        if batch.len() >= BATCH_ROWS || (finished && !batch.is_empty()) {
            let ready: Vec<ReadyRow> = batch
                .drain(..)
                .filter_map(|raw| {
                    check_row(raw, kind, reference, fixed_org.as_ref(), &mut seen)
                        .map_err(|(line, errors)| report.reject(line, errors))
                        .ok()
                })
                .collect();
            write_batch(db, kind, ready, &options, &mut organizations, &mut report).await?;
        }
        if finished {
            return Ok(report);
        }
    }
}
