//! Checks an `.xlsx` upload before calamine opens it.
//!
//! calamine trusts what the file says about itself: it reserves as many shared strings as
//! `<sst uniqueCount>` declares (`1e17` aborts the process, `2^64-1` panics), and parses cell
//! references with arithmetic that overflows (in debug builds: a panic) on references beyond the
//! sheet. A zip also declares how big each part inflates to; a small upload may declare gigabytes.
//! So before calamine sees the bytes, this module
//! 1. counts the central-directory headers in the raw bytes (the zip reader allocates for every
//!    entry when it opens the archive) against `max_import_zip_entries`;
//! 2. sums the inflated sizes the central directory declares, per part and in total, against
//!    `max_import_part_bytes` and `max_import_inflated_bytes`;
//! 3. inflates every XML part once, never more bytes than it declared (the zip reader fails a part
//!    that grows past its declared size, and [`Capped`] stops at it in any case), and looks at each
//!    attribute calamine would trust: `sst@uniqueCount` must not exceed the strings the part
//!    holds, and every `dimension@ref`, `row@r` and `c@r` must lie inside A1:XFD1048576.
//!
//! The cost is one extra inflation and XML scan of the workbook, bounded by the same limits.

use std::io::{BufReader, Read, Seek, SeekFrom};

use quick_xml::events::{BytesStart, Event};

use super::limits::{ImportLimits, mib};

/// Rows of an Excel sheet.
const MAX_ROWS: u32 = 1_048_576;
/// Columns of an Excel sheet (`XFD`).
const MAX_COLUMNS: u32 = 16_384;

/// Checks the workbook in `source` (rewound afterwards); the error is a message for the uploader.
pub fn check<R: Read + Seek>(source: &mut R, limits: &ImportLimits) -> Result<(), String> {
    let headers =
        count_central_headers(source).map_err(|e| format!("cannot read the file: {e}"))?;
    if headers > limits.zip_entries {
        return Err(format!(
            "the workbook holds {headers} zip entries, more than the {} allowed \
             (max_import_zip_entries): save it again from a spreadsheet program",
            limits.zip_entries
        ));
    }
    rewind(source)?;
    let mut zip = zip::ZipArchive::new(&mut *source).map_err(|e| {
        format!("not a readable .xlsx workbook (an .xlsx file is a zip archive): {e}")
    })?;
    let mut parts = Vec::with_capacity(zip.len());
    let mut total = 0u64;
    for index in 0..zip.len() {
        let part = zip.by_index_raw(index).map_err(|e| broken(&e))?;
        let name = part.name().map_err(|e| broken(&e))?.into_owned();
        let size = part.size();
        if part.encrypted() {
            return Err(format!(
                "{name} is encrypted: remove the workbook's password and send it again"
            ));
        }
        if size > limits.part_bytes {
            return Err(format!(
                "{name} inflates to {}, more than the {} allowed for one part of a workbook \
                 (max_import_part_bytes): split the workbook or import it as CSV",
                mib(size),
                mib(limits.part_bytes)
            ));
        }
        total = total.saturating_add(size);
        if total > limits.inflated_bytes {
            return Err(format!(
                "the workbook inflates to more than the {} allowed (max_import_inflated_bytes): \
                 split it or import it as CSV",
                mib(limits.inflated_bytes)
            ));
        }
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".xml") || lower.ends_with(".rels") {
            parts.push((index, name, size));
        }
    }
    for (index, name, size) in parts {
        let part = zip.by_index(index).map_err(|e| broken(&e))?;
        scan_part(&name, Capped::new(part, size))?;
    }
    drop(zip);
    rewind(source)
}

fn rewind<R: Seek>(source: &mut R) -> Result<(), String> {
    source
        .seek(SeekFrom::Start(0))
        .map(|_| ())
        .map_err(|e| format!("cannot read the file: {e}"))
}

fn broken(error: &zip::result::ZipError) -> String {
    format!("not a readable .xlsx workbook: {error}")
}

/// Central-directory headers (`PK\x01\x02`) anywhere in the file: at least as many as the entries
/// any reader can find in it, whatever its end record claims.
fn count_central_headers<R: Read + Seek>(source: &mut R) -> std::io::Result<usize> {
    const SIGNATURE: [u8; 4] = *b"PK\x01\x02";
    source.seek(SeekFrom::Start(0))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut kept = 0; // bytes carried over from the previous chunk (a signature may straddle)
    let mut count = 0;
    loop {
        let read = source.read(&mut buf[kept..])?;
        if read == 0 {
            return Ok(count);
        }
        let end = kept + read;
        count += buf[..end]
            .windows(SIGNATURE.len())
            .filter(|w| *w == SIGNATURE)
            .count();
        let carry = (SIGNATURE.len() - 1).min(end);
        buf.copy_within(end - carry..end, 0);
        kept = carry;
    }
}

/// Reads at most `limit` bytes from a part and fails beyond them, whatever the decompressor does.
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R> Capped<R> {
    fn new(inner: R, limit: u64) -> Self {
        Self { inner, left: limit }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // One byte more than allowed tells a part that grows past its size from one that ends.
        let room = usize::try_from(self.left.saturating_add(1))
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let read = self.inner.read(&mut buf[..room])?;
        if read as u64 > self.left {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the part inflates beyond its declared size",
            ));
        }
        self.left -= read as u64;
        Ok(read)
    }
}

/// Streams one XML part and refuses what calamine would trust to allocate or compute.
fn scan_part<R: Read>(name: &str, part: R) -> Result<(), String> {
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(part));
    // As calamine reads it.
    let config = xml.config_mut();
    config.check_end_names = false;
    config.check_comments = false;
    let mut buf = Vec::with_capacity(1024);
    let mut declared_strings: Option<u128> = None;
    let mut strings = 0u128;
    loop {
        buf.clear();
        let event = xml.read_event_into(&mut buf).map_err(|e| match e {
            quick_xml::Error::Io(e) => format!("{name} cannot be inflated: {e}"),
            e => format!(
                "{name}: not well-formed XML at byte {}: {e}",
                xml.buffer_position()
            ),
        })?;
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "sst" => declared_strings = number(&e, "uniqueCount"),
                "si" => strings += 1,
                "dimension" => {
                    if let Some(range) = attribute(&e, "ref") {
                        check_range(name, &range)?;
                    }
                }
                "row" => {
                    if let Some(row) = attribute(&e, "r")
                        && !row
                            .parse::<u32>()
                            .is_ok_and(|r| (1..=MAX_ROWS).contains(&r))
                    {
                        return Err(format!(
                            "{name}: row {row:?} lies outside the sheet (rows 1 to {MAX_ROWS})"
                        ));
                    }
                }
                "c" => {
                    if let Some(cell) = attribute(&e, "r") {
                        check_cell(name, &cell)?;
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    match declared_strings {
        Some(declared) if declared > strings => Err(format!(
            "{name} declares {declared} shared strings but holds {strings}: the file is damaged \
             or was not written by a spreadsheet program; save it again from Excel or WPS"
        )),
        _ => Ok(()),
    }
}

fn attribute(element: &BytesStart<'_>, key: &str) -> Option<String> {
    element
        .try_get_attribute(key)
        .ok()
        .flatten()
        .map(|a| a.value.into_owned())
}

/// A count attribute as calamine reads it; digits too many for any integer count as the largest.
fn number(element: &BytesStart<'_>, key: &str) -> Option<u128> {
    let text = attribute(element, key)?;
    let digits = text.trim().trim_start_matches('+');
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None; // calamine ignores what is not a number
    }
    Some(digits.parse().unwrap_or(u128::MAX))
}

/// A cell reference such as `B12`: (row, column), both from 1, inside the sheet.
fn cell_position(reference: &str) -> Option<(u32, u32)> {
    let letters = reference
        .bytes()
        .take_while(u8::is_ascii_alphabetic)
        .count();
    let (column, row) = reference.split_at(letters);
    if !(1..=3).contains(&letters) || row.is_empty() || row.len() > 7 {
        return None;
    }
    let column = column.bytes().fold(0u32, |n, b| {
        n * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1
    });
    let row: u32 = row
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| row.parse().ok())??;
    ((1..=MAX_ROWS).contains(&row) && (1..=MAX_COLUMNS).contains(&column)).then_some((row, column))
}

fn check_cell(name: &str, reference: &str) -> Result<(u32, u32), String> {
    cell_position(reference).ok_or_else(|| {
        format!("{name}: cell {reference:?} lies outside the sheet (A1 to XFD{MAX_ROWS})")
    })
}

fn check_range(name: &str, range: &str) -> Result<(), String> {
    let mut corners = range.split(':');
    let start = check_cell(name, corners.next().unwrap_or_default())?;
    let Some(end) = corners.next() else {
        return Ok(());
    };
    let end = check_cell(name, end)?;
    if corners.next().is_some() || end.0 < start.0 || end.1 < start.1 {
        return Err(format!(
            "{name}: the sheet's dimension {range:?} is not a range"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references_inside_the_sheet_only() {
        assert_eq!(cell_position("A1"), Some((1, 1)));
        assert_eq!(cell_position("xfd1048576"), Some((1_048_576, 16_384)));
        for outside in [
            "XFE1",
            "A1048577",
            "A0",
            "ZZZZZZZZ1",
            "A99999999999",
            "1A",
            "$A$1",
            "",
        ] {
            assert_eq!(cell_position(outside), None, "{outside}");
        }
        assert!(check_range("s", "A1:XFD1048576").is_ok());
        assert!(check_range("s", "B2:A1").is_err());
        assert!(check_range("s", "A1:B2:C3").is_err());
    }

    #[test]
    fn a_declared_string_count_beyond_the_strings_held_is_refused() {
        let sst = |count: &str| {
            format!(r#"<sst uniqueCount="{count}"><si><t>a</t></si><si><t>b</t></si></sst>"#)
        };
        assert!(scan_part("s", sst("2").as_bytes()).is_ok());
        assert!(scan_part("s", sst("1").as_bytes()).is_ok());
        for huge in [
            "3",
            "100000000000000000",
            "18446744073709551615",
            "9".repeat(60).as_str(),
        ] {
            assert!(scan_part("s", sst(huge).as_bytes()).is_err(), "{huge}");
        }
    }

    #[test]
    fn a_part_longer_than_declared_is_refused() {
        let mut capped = Capped::new(&b"0123456789"[..], 4);
        let mut out = Vec::new();
        assert!(capped.read_to_end(&mut out).is_err());
        let mut exact = Capped::new(&b"0123"[..], 4);
        out.clear();
        assert_eq!(exact.read_to_end(&mut out).ok(), Some(4));
    }
}
