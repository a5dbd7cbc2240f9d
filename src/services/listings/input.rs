//! Input helpers of both listing kinds: the check of reference codes and a patch's nullable fields.

use serde::Deserialize;

use crate::error::{AppError, AppResult, FieldError};
use crate::reference::ReferenceData;

/// Reads `null` as `Some(None)` and absence as `None`, so that a patch can clear a field
/// (`#[serde(default, deserialize_with = "…::nullable")]`).
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Collects field errors for code lists checked against the reference data.
pub struct CodeChecks<'a> {
    reference: &'a ReferenceData,
    /// The errors found so far.
    pub errors: Vec<FieldError>,
}

impl<'a> CodeChecks<'a> {
    /// Starts with no errors.
    pub fn new(reference: &'a ReferenceData) -> Self {
        Self {
            reference,
            errors: Vec::new(),
        }
    }

    /// `code` must be in list `kind`.
    pub fn one(&mut self, field: &str, kind: &str, code: &str) {
        if !self.reference.contains(kind, code) {
            self.errors.push(FieldError::new(
                field,
                format!("{code:?} is not a code of {kind} (see GET /api/v1/reference)"),
            ));
        }
    }

    /// Every code must be in list `kind`, without repeats, `min..=max` of them.
    pub fn many(&mut self, field: &str, kind: &str, codes: &[String], min: usize, max: usize) {
        if codes.len() < min || codes.len() > max {
            self.errors.push(FieldError::new(
                field,
                if min == max {
                    format!("give exactly {min}")
                } else {
                    format!("give {min} to {max} codes")
                },
            ));
        }
        for (i, code) in codes.iter().enumerate() {
            self.one(&format!("{field}[{i}]"), kind, code);
            if codes[..i].contains(code) {
                self.errors
                    .push(FieldError::new(format!("{field}[{i}]"), "is repeated"));
            }
        }
    }

    /// A free-text field: trimmed length in characters within `min..=max`.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let chars = value.trim().chars().count();
        if chars < min {
            self.errors.push(FieldError::new(
                field,
                if min <= 1 {
                    "must not be empty".to_owned()
                } else {
                    format!("must be at least {min} characters")
                },
            ));
        } else if chars > max {
            self.errors.push(FieldError::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
        if value.contains('\0') {
            self.errors
                .push(FieldError::new(field, "must not contain NUL characters"));
        }
    }

    /// A name people read (a listing's title): [`text`](Self::text), and no invisible or control
    /// character ([`crate::text::check_name`]).
    pub fn name(&mut self, field: &str, value: &str, min: usize, max: usize) {
        self.text(field, value, min, max);
        if let Err(error) = crate::text::check_name(field, value)
            && !value.contains('\0')
        {
            self.errors.push(error);
        }
    }

    /// Keywords: up to 10, each 1–30 characters, no repeats.
    pub fn keywords(&mut self, field: &str, keywords: &[String]) {
        if keywords.len() > 10 {
            self.errors
                .push(FieldError::new(field, "give at most 10 keywords"));
        }
        for (i, keyword) in keywords.iter().enumerate() {
            self.text(&format!("{field}[{i}]"), keyword, 1, 30);
        }
    }

    /// An amount of money in fen: from 0 to [`MAX_AMOUNT_FEN`](crate::domain::MAX_AMOUNT_FEN).
    pub fn money(&mut self, field: &str, fen: Option<i64>) {
        use crate::domain::MAX_AMOUNT_FEN;
        if fen.is_some_and(|f| !(0..=MAX_AMOUNT_FEN).contains(&f)) {
            self.errors.push(FieldError::new(
                field,
                format!("must be a whole number of fen from 0 to {MAX_AMOUNT_FEN} (1,000 亿元)"),
            ));
        }
    }

    /// `Err(422)` with every error found, or `Ok`.
    pub fn finish(mut self) -> AppResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            self.errors.sort_by(|a, b| a.field.cmp(&b.field));
            Err(AppError::Validation(self.errors))
        }
    }
}
