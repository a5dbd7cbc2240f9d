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

pub mod fields;
pub mod limits;
pub mod sources;
pub mod workbook;

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::organization_name_key;
use crate::entity::{demands, organizations, results};
use crate::error::{AppError, AppResult, FieldError};
use crate::reference::ReferenceData;
use crate::services::demands::DemandInput;
use crate::services::listings::{self, ListingKind, Status};
use crate::services::organizations::{NewOrganization, insert_organization};
use crate::services::results::ResultInput;

pub use limits::ImportLimits;
use sources::{Format, RawRow, Rows};

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
                .ok_or_else(|| AppError::field("org", "no organization has this id"))?,
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

type RowFailure = (usize, Vec<FieldError>);

fn check_row(
    raw: RawRow,
    kind: ImportKind,
    reference: &ReferenceData,
    fixed_org: Option<&organizations::Model>,
    seen: &mut HashMap<(String, String), usize>,
) -> Result<ReadyRow, RowFailure> {
    let line = raw.line;
    let fail = |field: &str, message: String| (line, vec![FieldError::new(field, message)]);
    let mut value = raw.fields.map_err(|message| fail("row", message))?;
    // PostgreSQL refuses NUL in text (the whole batch would fail); SQLite would store it.
    if let Some(field) = nul_field(&value, String::new()) {
        return Err(fail(
            &field,
            "must not contain NUL characters (U+0000)".into(),
        ));
    }
    fields::labels_to_codes(&mut value, reference);
    let Value::Object(object) = &mut value else {
        return Err(fail("row", "a row must be an object".into()));
    };
    let external_id = match object.remove("external_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() && s.trim().chars().count() <= 128 => {
            Some(s.trim().to_owned())
        }
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            return Err(fail(
                "external_id",
                "must be text of 1 to 128 characters".into(),
            ));
        }
    };
    let organization = match (object.remove("organization"), fixed_org) {
        (None | Some(Value::Null), Some(org)) => OrgRef::Known(org.id),
        (Some(named), Some(org)) => {
            let name = named
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if organization_name_key(name) != org.name_key {
                return Err(fail(
                    "organization",
                    format!(
                        "every row of this import belongs to {}; this row names {name:?}",
                        org.name
                    ),
                ));
            }
            OrgRef::Known(org.id)
        }
        (None | Some(Value::Null), None) => {
            return Err(fail(
                "organization",
                "name the owner ({\"name\",\"kind\",\"region_code\"}) or import with --org".into(),
            ));
        }
        (Some(named), None) => {
            let new: NewOrganization = deserialize(named, "organization", line)?;
            let mut errors = new.reference_errors(reference, "organization");
            if let Err(error) = crate::text::check_name("organization.name", &new.name) {
                errors.push(error);
            }
            if !errors.is_empty() {
                return Err((line, errors));
            }
            OrgRef::ByName(Box::new(new))
        }
    };
    let input = match kind {
        ImportKind::Results => {
            let input: ResultInput = deserialize(value, "", line)?;
            input
                .validate(reference)
                .map_err(|e| (line, field_errors(e)))?;
            Input::Result(Box::new(input))
        }
        ImportKind::Demands => {
            let input: DemandInput = deserialize(value, "", line)?;
            input
                .validate(reference, Some(crate::kernel::dates::today_in_china()))
                .map_err(|e| (line, field_errors(e)))?;
            Input::Demand(Box::new(input))
        }
    };
    if let Some(external_id) = &external_id {
        let owner = match &organization {
            OrgRef::Known(id) => id.to_string(),
            OrgRef::ByName(new) => organization_name_key(&new.name),
        };
        if let Some(first) = seen.insert((owner, external_id.clone()), line) {
            return Err(fail(
                "external_id",
                format!("{external_id:?} repeats line {first} of this file"),
            ));
        }
    }
    Ok(ReadyRow {
        line,
        external_id,
        organization,
        input,
    })
}

/// The path of the first key or text in `value` that holds a NUL character.
fn nul_field(value: &Value, path: String) -> Option<String> {
    let path_or_row = |path: String| {
        if path.is_empty() {
            "row".to_owned()
        } else {
            path
        }
    };
    match value {
        Value::String(text) => text.contains('\0').then(|| path_or_row(path)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_field(item, format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let inner = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.contains('\0') {
                return Some(path_or_row(path.clone()));
            }
            nul_field(item, inner)
        }),
        _ => None,
    }
}

fn deserialize<T: serde::de::DeserializeOwned>(
    value: Value,
    prefix: &str,
    line: usize,
) -> Result<T, RowFailure> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let mut field = crate::error::serde_field_error(&path, error.inner());
        if !prefix.is_empty() {
            field.field = format!("{prefix}.{}", field.field);
        }
        (line, vec![field])
    })
}

fn field_errors(error: AppError) -> Vec<FieldError> {
    match error {
        AppError::Validation(errors) => errors,
        other => vec![FieldError::new("row", other.to_string())],
    }
}

async fn write_batch(
    db: &DatabaseConnection,
    kind: ImportKind,
    rows: Vec<ReadyRow>,
    options: &ImportOptions,
    organizations: &mut HashMap<String, Uuid>,
    report: &mut ImportReport,
) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let txn = crate::db::begin_write(db).await?;
    let listing = kind.listing();
    let mut created_orgs = Vec::new();
    let mut owned = Vec::with_capacity(rows.len());
    for row in rows {
        let organization_id = match &row.organization {
            OrgRef::Known(id) => *id,
            OrgRef::ByName(new) => {
                let key = organization_name_key(&new.name);
                match organizations.get(&key) {
                    Some(id) => *id,
                    None => {
                        let existing = organizations::Entity::find()
                            .filter(organizations::Column::NameKey.eq(&key))
                            .one(&txn)
                            .await?;
                        let id = match existing {
                            Some(org) => org.id,
                            None => insert_organization(&txn, (**new).clone()).await?.id,
                        };
                        created_orgs.push(key.clone());
                        organizations.insert(key, id);
                        id
                    }
                }
            }
        };
        owned.push((organization_id, row));
    }
    let keys: Vec<String> = owned
        .iter()
        .filter_map(|(_, row)| row.external_id.clone())
        .collect();
    let existing = find_existing(&txn, kind, &keys).await?;

    // New listings are written with one multi-row INSERT per table; updates one by one.
    let new_status = if options.publish {
        Status::Published
    } else {
        Status::Draft
    };
    let mut new_results = Vec::new();
    let mut new_demands = Vec::new();
    let mut industry_rows = Vec::new();
    let mut event_rows = Vec::new();
    let mut outbox_rows = Vec::new();
    for (organization_id, row) in owned {
        let found = row
            .external_id
            .as_ref()
            .and_then(|e| existing.get(&(organization_id, e.clone())))
            .copied();
        let industries = row.input.industries().to_vec();
        match found {
            Some((id, from)) => {
                let to = if options.publish {
                    Status::Published
                } else {
                    match from.after_edit() {
                        Ok(to) => to,
                        Err(e) => {
                            report
                                .reject(row.line, [FieldError::new("external_id", e.to_string())]);
                            continue;
                        }
                    }
                };
                let counted = match kind {
                    ImportKind::Results => {
                        listings::count_edit::<results::Entity, _>(&txn, id, from, to).await?
                    }
                    ImportKind::Demands => {
                        listings::count_edit::<demands::Entity, _>(&txn, id, from, to).await?
                    }
                };
                if !counted {
                    report.reject(
                        row.line,
                        [FieldError::new(
                            "external_id",
                            "the listing changed while the file was imported: import this row again",
                        )],
                    );
                    continue;
                }
                update_existing(&txn, id, row.input, to, from).await?;
                listings::replace_industries(
                    &txn,
                    listing,
                    id,
                    &industries,
                    to == Status::Published,
                )
                .await?;
                if from != to || from == Status::Submitted {
                    let reason = if from == to {
                        "re-imported during review"
                    } else {
                        "re-imported"
                    };
                    listings::record_event(
                        &txn,
                        listing,
                        id,
                        options.actor,
                        Some(from),
                        to,
                        Some(reason.into()),
                    )
                    .await?;
                }
                if from == Status::Published || to == Status::Published {
                    listings::enqueue_for_search(&txn, listing, id).await?;
                }
                report.updated += 1;
            }
            None => {
                let id = match row.input {
                    Input::Result(input) => {
                        let (model, id) = crate::services::results::new_model(
                            organization_id,
                            options.actor,
                            row.external_id,
                            new_status,
                            *input,
                        );
                        new_results.push(model);
                        id
                    }
                    Input::Demand(input) => {
                        let (model, id) = crate::services::demands::new_model(
                            organization_id,
                            options.actor,
                            row.external_id,
                            new_status,
                            *input,
                        );
                        new_demands.push(model);
                        id
                    }
                };
                industry_rows.extend(listings::industry_models(
                    listing,
                    id,
                    &industries,
                    new_status == Status::Published,
                ));
                event_rows.push(listings::event_model(
                    listing,
                    id,
                    options.actor,
                    None,
                    new_status,
                    Some("imported".into()),
                ));
                if new_status == Status::Published {
                    outbox_rows.push(listings::outbox_model(listing, id));
                }
                report.created += 1;
            }
        }
    }
    insert_chunked(&txn, new_results).await?;
    insert_chunked(&txn, new_demands).await?;
    insert_chunked(&txn, industry_rows).await?;
    insert_chunked(&txn, event_rows).await?;
    insert_chunked(&txn, outbox_rows).await?;
    if let Err(e) = txn.commit().await {
        // Organizations created in this batch were rolled back with it.
        for key in created_orgs {
            organizations.remove(&key);
        }
        return Err(e.into());
    }
    Ok(())
}

/// Rows per multi-row INSERT: well under SQLite's 32766 and PostgreSQL's 65535 bind parameters
/// for the widest table (about 25 columns).
const INSERT_CHUNK: usize = 500;

async fn insert_chunked<C, A>(db: &C, rows: Vec<A>) -> AppResult<()>
where
    C: ConnectionTrait,
    A: sea_orm::ActiveModelTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(INSERT_CHUNK).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The listings that already carry one of `external_ids`, by (organization, external id).
async fn find_existing<C: ConnectionTrait>(
    db: &C,
    kind: ImportKind,
    external_ids: &[String],
) -> AppResult<HashMap<(Uuid, String), (Uuid, Status)>> {
    let mut found = HashMap::new();
    for chunk in external_ids.chunks(INSERT_CHUNK) {
        let rows: Vec<(Uuid, Uuid, Option<String>, String)> = match kind {
            ImportKind::Results => results::Entity::find()
                .filter(results::Column::ExternalId.is_in(chunk.iter().cloned()))
                .all(db)
                .await?
                .into_iter()
                .map(|r| (r.id, r.organization_id, r.external_id, r.status))
                .collect(),
            ImportKind::Demands => demands::Entity::find()
                .filter(demands::Column::ExternalId.is_in(chunk.iter().cloned()))
                .all(db)
                .await?
                .into_iter()
                .map(|d| (d.id, d.organization_id, d.external_id, d.status))
                .collect(),
        };
        for (id, organization_id, external_id, status) in rows {
            if let (Some(external_id), Some(status)) = (external_id, Status::parse(&status)) {
                found.insert((organization_id, external_id), (id, status));
            }
        }
    }
    Ok(found)
}

async fn update_existing<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    input: Input,
    to: Status,
    from: Status,
) -> AppResult<()> {
    let now = Utc::now();
    let published_at = (to == Status::Published && from != Status::Published).then_some(now);
    match input {
        Input::Result(input) => {
            let mut model = results::ActiveModel {
                id: Set(id),
                status: Set(to.as_str().to_owned()),
                updated_at: Set(now),
                ..Default::default()
            };
            if let Some(at) = published_at {
                model.published_at = Set(Some(at));
            }
            input.write_into(&mut model);
            model.update(db).await?;
        }
        Input::Demand(input) => {
            let mut model = demands::ActiveModel {
                id: Set(id),
                status: Set(to.as_str().to_owned()),
                updated_at: Set(now),
                ..Default::default()
            };
            if let Some(at) = published_at {
                model.published_at = Set(Some(at));
            }
            input.write_into(&mut model);
            model.update(db).await?;
        }
    }
    Ok(())
}
