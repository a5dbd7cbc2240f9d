//! Readers that turn a `.jsonl`, `.csv` or `.xlsx` file into JSON rows, one at a time.
//!
//! Each reader runs on a blocking thread and hands rows to the importer through a bounded channel,
//! so an import of any size holds only a batch of rows in memory.

use std::io::{BufRead, Read, Seek};
use std::path::Path;

use super::fields::{Column, convert, map_headers, set_path};
use super::limits::{ImportLimits, mib};
use calamine::{DataRef, Reader, Xlsx};
use serde_json::{Map, Value};

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

/// Where a reader hands its rows (`false`: stop reading). `None` only checks that the whole file
/// can be read, so that a file-level error is found before any row is written.
pub type Rows<'a> = Option<&'a mut dyn FnMut(RawRow) -> bool>;

/// Hands `row` on; `false` when the importer stopped listening.
fn hand(rows: &mut Rows<'_>, row: impl FnOnce() -> RawRow) -> bool {
    match rows {
        Some(send) => send(row()),
        None => true,
    }
}

/// Reads JSON lines. `progress` gets the bytes read so far. A line that is not UTF-8 or longer
/// than `limits.row_bytes` stops the file; a line that is not a JSON object is a bad row.
pub fn read_jsonl<R: BufRead>(
    mut reader: R,
    limits: &ImportLimits,
    mut rows: Rows<'_>,
    progress: &dyn Fn(u64),
) -> Result<(), String> {
    let mut line = Vec::new();
    let mut number = 0;
    let mut bytes = 0u64;
    let mut any = false;
    let cap = limits.row_bytes as u64 + 1;
    loop {
        line.clear();
        let read = (&mut reader)
            .take(cap)
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("line {}: {e}", number + 1))?;
        if read == 0 {
            return if any {
                Ok(())
            } else {
                Err("the file is empty".to_owned())
            };
        }
        number += 1;
        if read as u64 == cap && line.last() != Some(&b'\n') {
            return Err(format!(
                "line {number} is longer than {} (max_import_row_bytes)",
                mib(limits.row_bytes as u64)
            ));
        }
        bytes += read as u64;
        progress(bytes);
        let text = std::str::from_utf8(&line).map_err(|e| not_utf8(number, e.valid_up_to()))?;
        let text = text.trim().trim_start_matches('\u{feff}');
        if text.is_empty() {
            continue;
        }
        any = true;
        let sent = hand(&mut rows, || {
            let fields = match serde_json::from_str::<Value>(text) {
                Ok(value @ Value::Object(_)) => Ok(value),
                Ok(_) => Err("each line must be one JSON object".to_owned()),
                Err(e) => Err(format!("not valid JSON: {e}")),
            };
            RawRow {
                line: number,
                fields,
            }
        });
        if !sent {
            return Ok(());
        }
    }
}

fn not_utf8(line: usize, valid_bytes: usize) -> String {
    format!(
        "line {line} is not UTF-8 text (after byte {valid_bytes} of the line): save the file as \
         UTF-8 (in Excel: \"CSV UTF-8\"; a GBK/ANSI file cannot be read)"
    )
}

/// Reads CSV with a header row of Chinese or English column names. Text that is not UTF-8, a quote
/// that never closes and a row longer than `limits.row_bytes` stop the file.
pub fn read_csv<R: Read>(
    reader: R,
    columns: &'static [Column],
    limits: &ImportLimits,
    mut rows: Rows<'_>,
    progress: &dyn Fn(u64),
) -> Result<(), String> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(CsvGuard::new(reader, limits.row_bytes));
    let unreadable = |line: u64, e: csv::Error| match e.kind() {
        csv::ErrorKind::Utf8 { pos, err } => not_utf8(
            pos.as_ref().map_or(line, |p| p.line()) as usize,
            err.valid_up_to(),
        ),
        _ => format!("line {line}: {e}"),
    };
    let headers: Vec<String> = csv
        .headers()
        .map_err(|e| unreadable(1, e))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    if headers.is_empty() {
        return Err("the file is empty".to_owned());
    }
    let mapped = map_headers(&headers, columns)?;
    let mut record = csv::StringRecord::new();
    loop {
        let line = csv.position().line();
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                progress(csv.position().byte());
                let sent = hand(&mut rows, || {
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
                    RawRow {
                        line: line as usize,
                        fields,
                    }
                });
                if !sent {
                    return Ok(());
                }
            }
            Err(e) => return Err(unreadable(line, e)),
        }
    }
    csv.get_ref().finish()
}

/// Watches the bytes the CSV reader consumes: the csv crate accepts a quote that never closes (the
/// field runs to the end of the file) and buffers a row of any length.
struct CsvGuard<R> {
    inner: R,
    state: CsvState,
    /// Line of the byte being read, from 1.
    line: u64,
    /// Line where the row being read (or its open quote) started.
    row_line: u64,
    row_bytes: usize,
    limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CsvState {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: it closes the field unless another quote follows.
    QuoteInQuoted,
}

impl<R> CsvGuard<R> {
    fn new(inner: R, limit: usize) -> Self {
        Self {
            inner,
            state: CsvState::FieldStart,
            line: 1,
            row_line: 1,
            row_bytes: 0,
            limit,
        }
    }

    /// At the end of the file: was every quoted field closed?
    fn finish(&self) -> Result<(), String> {
        if self.state == CsvState::Quoted {
            return Err(format!(
                "line {}: a quoted field (\") never closes: close the quote, or double a quote \
                 inside a field (\"\")",
                self.row_line
            ));
        }
        Ok(())
    }

    fn observe(&mut self, byte: u8) {
        use CsvState::*;
        let newline = byte == b'\n' || byte == b'\r';
        self.state = match (self.state, byte) {
            (Quoted, b'"') => QuoteInQuoted,
            (Quoted, _) => Quoted,
            (QuoteInQuoted, b'"') => Quoted,
            (FieldStart, b'"') => Quoted,
            (_, b',') => FieldStart,
            (_, _) if newline => FieldStart,
            _ => Unquoted,
        };
        if byte == b'\n' {
            self.line += 1;
        }
        if newline && self.state == FieldStart {
            self.row_bytes = 0;
            self.row_line = self.line;
        } else {
            self.row_bytes += 1;
        }
    }
}

impl<R: Read> Read for CsvGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        for &byte in &buf[..read] {
            self.observe(byte);
        }
        if self.row_bytes > self.limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "the row starting at line {} is longer than {} (max_import_row_bytes)",
                    self.row_line,
                    mib(self.limit as u64)
                ),
            ));
        }
        Ok(read)
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
/// Call [`super::workbook::check`] on the bytes first: calamine trusts what the file declares.
/// `progress` gets the number of rows read.
pub fn read_xlsx<RS: Read + Seek>(
    source: RS,
    columns: &'static [Column],
    mut rows: Rows<'_>,
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
    let mut flush = |row: u32, texts: &mut Vec<(usize, String)>, mapped: &[&'static Column]| {
        let cells = std::mem::take(texts);
        hand(&mut rows, || RawRow {
            line: row as usize + 1,
            fields: Ok(row_from_cells(
                cells
                    .into_iter()
                    .filter_map(|(col, text)| mapped.get(col).map(|c| (c, text))),
            )),
        })
    };
    loop {
        let cell = cells
            .next_cell()
            .map_err(|e| format!("sheet {sheet}: {e}"))?;
        let Some(cell) = cell else { break };
        let (row, col) = cell.get_position();
        // Cells without a reference are numbered by counting; keep them inside the sheet too.
        if row >= MAX_SHEET_ROWS || col >= MAX_SHEET_COLUMNS {
            return Err(format!(
                "sheet {sheet}: a cell lies outside the sheet (row {}, column {})",
                u64::from(row) + 1,
                u64::from(col) + 1
            ));
        }
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
            mapped = map_positions(&headers, columns)?;
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
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err("the workbook's first sheet is empty".to_owned());
    }
    if mapped.is_empty() {
        map_positions(&headers, columns)?;
    }
    if let Some(row) = current_row {
        flush(row, &mut texts, &mapped);
        progress(u64::from(row));
    }
    Ok(())
}

/// Rows and columns of an Excel sheet.
const MAX_SHEET_ROWS: u32 = 1_048_576;
const MAX_SHEET_COLUMNS: u32 = 16_384;

/// The column of each header position; blank headers are ignored.
fn map_positions(
    headers: &[String],
    columns: &'static [Column],
) -> Result<Vec<&'static Column>, String> {
    let named: Vec<String> = headers
        .iter()
        .filter(|h| !h.trim().is_empty())
        .cloned()
        .collect();
    let positions = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| !h.trim().is_empty())
        .map(|(i, _)| i);
    let by_name = map_headers(&named, columns)?;
    let mut by_position: Vec<Option<&'static Column>> = vec![None; headers.len()];
    for (position, column) in positions.zip(by_name) {
        by_position[position] = Some(column);
    }
    Ok(by_position
        .into_iter()
        .map(|c| c.unwrap_or(&BLANK))
        .collect())
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
