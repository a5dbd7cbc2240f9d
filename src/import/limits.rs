//! What one imported file may cost: the bounds every reader enforces before it trusts a size that
//! the file itself declares.

use crate::config::Settings;

/// Bounds on one imported file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportLimits {
    /// Most bytes the parts of a workbook may inflate to, in total.
    pub inflated_bytes: u64,
    /// Most bytes one part of a workbook may inflate to.
    pub part_bytes: u64,
    /// Most entries a workbook's zip may hold.
    pub zip_entries: usize,
    /// Longest JSON line or CSV row, in bytes.
    pub row_bytes: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        Self::from_settings(&Settings::default())
    }
}

impl ImportLimits {
    /// The limits configured in `settings`.
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            inflated_bytes: settings.max_import_inflated_bytes,
            part_bytes: settings.max_import_part_bytes,
            zip_entries: settings.max_import_zip_entries,
            row_bytes: settings.max_import_row_bytes,
        }
    }
}

/// A size for people: `1.5 MiB`.
pub fn mib(bytes: u64) -> String {
    if bytes < 1024 * 1024 {
        format!("{:.0} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}
