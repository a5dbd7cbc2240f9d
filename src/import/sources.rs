//! Readers that turn a `.jsonl`, `.csv` or `.xlsx` file into JSON rows, one at a time.
//!
//! Each reader runs on a blocking thread and hands rows to the importer through a bounded channel,
//! so an import of any size holds only a batch of rows in memory.

use std::io::{BufRead, Read, Seek};
use std::path::Path;

use calamine::{DataRef, Reader, Xlsx};
use serde_json::{Map, Value};
use tokio::sync::mpsc::Sender;

use super::fields::{Column, convert, map_headers, set_path};

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    JsonLines,
    /// Comma-separated values with a header row.
    Csv,
    /// An Excel workbook; the first sheet, with a header row.
    Xlsx,
}

impl Format {
    /// The format of a file, by its extension.
    pub fn from_path(path: &Path) -> Result<Self, String> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("jsonl" | "ndjson" | "json") => Ok(Self::JsonLines),
            Some("csv") => Ok(Self::Csv),
            Some("xlsx") => Ok(Self::Xlsx),
            _ => Err(format!(
                "{}: use a .jsonl, .csv or .xlsx file",
                path.display()
            )),
        }
    }
}

/// One row read from a file: its line (1-based, the header being line 1 in a spreadsheet) and its
/// fields, or why it could not be read.
#[derive(Debug)]
pub struct RawRow {
    /// Line in the file.
    pub line: usize,
    /// The row as a JSON object, or a message.
    pub fields: Result<Value, String>,
}

/// Reads JSON lines. `progress` gets the bytes read so far.
pub fn read_jsonl<R: BufRead>(
    mut reader: R,
    tx: &Sender<RawRow>,
    progress: &dyn Fn(u64),
) -> Result<(), String> {
    let mut line = String::new();
    let mut number = 0;
    let mut bytes = 0u64;
    loop {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .map_err(|e| format!("line {}: {e}", number + 1))?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        bytes += read as u64;
        progress(bytes);
        let text = line.trim().trim_start_matches('\u{feff}');
        if text.is_empty() {
            continue;
        }
        let fields = match serde_json::from_str::<Value>(text) {
            Ok(value @ Value::Object(_)) => Ok(value),
            Ok(_) => Err("each line must be one JSON object".to_owned()),
            Err(e) => Err(format!("not valid JSON: {e}")),
        };
        if tx
            .blocking_send(RawRow {
                line: number,
                fields,
            })
            .is_err()
        {
            return Ok(());
        }
    }
}

/// Reads CSV with a header row of Chinese or English column names.
pub fn read_csv<R: Read>(
    reader: R,
    columns: &'static [Column],
    tx: &Sender<RawRow>,
    progress: &dyn Fn(u64),
) -> Result<(), String> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers: Vec<String> = csv
        .headers()
        .map_err(|e| format!("header row: {e}"))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    let mapped = map_headers(&headers, columns)?;
    let mut record = csv::StringRecord::new();
    loop {
        let line = csv.position().line() as usize;
        match csv.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                progress(csv.position().byte());
                let fields = if record.len() > mapped.len() {
                    Err(format!(
                        "{} cells but only {} columns",
                        record.len(),
                        mapped.len()
                    ))
                } else {
                    Ok(row_from_cells(
                        mapped.iter().zip(record.iter().map(str::to_owned)),
                    ))
                };
                if tx.blocking_send(RawRow { line, fields }).is_err() {
                    return Ok(());
                }
            }
            Err(e) => {
                let fields = Err(format!("unreadable row: {e}"));
                if tx.blocking_send(RawRow { line, fields }).is_err() {
                    return Ok(());
                }
            }
        }
    }
}

fn row_from_cells<'a>(cells: impl Iterator<Item = (&'a &'a Column, String)>) -> Value {
    let mut row = Map::new();
    for (column, text) in cells {
        if column.path == BLANK.path {
            continue;
        }
        if let Some(value) = convert(column.shape, &text) {
            set_path(&mut row, column.path, value);
        }
    }
    Value::Object(row)
}

/// Reads the first sheet of an Excel workbook, cell by cell (the sheet is never loaded whole).
/// `progress` gets the number of rows read.
pub fn read_xlsx<RS: Read + Seek>(
    source: RS,
    columns: &'static [Column],
    tx: &Sender<RawRow>,
    progress: &dyn Fn(u64),
) -> Result<(), String> {
    let mut workbook: Xlsx<RS> =
        Xlsx::new(source).map_err(|e| format!("not a readable .xlsx workbook: {e}"))?;
    let sheet = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| "the workbook has no sheet".to_owned())?;
    let mut cells = workbook
        .worksheet_cells_reader(&sheet)
        .map_err(|e| format!("sheet {sheet}: {e}"))?;
    let mut headers: Vec<String> = Vec::new();
    let mut mapped: Vec<&Column> = Vec::new();
    let mut current_row: Option<u32> = None;
    let mut texts: Vec<(usize, String)> = Vec::new();
    let flush = |row: u32, texts: &mut Vec<(usize, String)>, mapped: &[&'static Column]| {
        let fields =
            Ok(row_from_cells(texts.drain(..).filter_map(|(col, text)| {
                mapped.get(col).map(|c| (c, text))
            })));
        tx.blocking_send(RawRow {
            line: row as usize + 1,
            fields,
        })
        .is_ok()
    };
    loop {
        let cell = cells
            .next_cell()
            .map_err(|e| format!("sheet {sheet}: {e}"))?;
        let Some(cell) = cell else { break };
        let (row, col) = cell.get_position();
        let text = cell_text(cell.get_value());
        if row == 0 {
            let col = col as usize;
            if headers.len() <= col {
                headers.resize(col + 1, String::new());
            }
            headers[col] = text;
            continue;
        }
        if mapped.is_empty() {
            let named: Vec<String> = headers
                .iter()
                .filter(|h| !h.trim().is_empty())
                .cloned()
                .collect();
            let positions: Vec<usize> = headers
                .iter()
                .enumerate()
                .filter(|(_, h)| !h.trim().is_empty())
                .map(|(i, _)| i)
                .collect();
            let by_name = map_headers(&named, columns)?;
            // Re-index by column position, leaving blank headers unmapped.
            let mut by_position: Vec<Option<&'static Column>> = vec![None; headers.len()];
            for (position, column) in positions.into_iter().zip(by_name) {
                by_position[position] = Some(column);
            }
            mapped = by_position
                .into_iter()
                .map(|c| c.unwrap_or(&BLANK))
                .collect();
        }
        if current_row.is_some_and(|r| r != row) {
            let previous = current_row.unwrap_or(row);
            if !flush(previous, &mut texts, &mapped) {
                return Ok(());
            }
            progress(u64::from(previous));
        }
        current_row = Some(row);
        if !text.is_empty() {
            texts.push((col as usize, text));
        }
    }
    if let Some(row) = current_row {
        flush(row, &mut texts, &mapped);
        progress(u64::from(row));
    }
    Ok(())
}

/// Stands for a column with an empty header: its cells are ignored.
static BLANK: Column = Column {
    path: "_ignored",
    shape: super::fields::Shape::Text,
    aliases: &[],
};

fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Int(n) => n.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => (*f as i64).to_string(),
        DataRef::Float(f) => f.to_string(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(dt) => dt
            .as_datetime()
            .map(|d| d.date().format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => format!("#ERROR {e}"),
        DataRef::Empty => String::new(),
    }
}
