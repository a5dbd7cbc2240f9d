//! One row of a file: converted to the API's input, checked exactly as the API checks it, and
//! refused with its fields named (NUL included).

use std::collections::HashMap;

use serde_json::Value;

use super::sources::RawRow;
use super::{ImportKind, Input, OrgRef, ReadyRow, fields};
use crate::domain::organization_name_key;
use crate::entity::organizations;
use crate::error::{AppError, FieldError};
use crate::reference::ReferenceData;
use crate::services::accounts::organizations::NewOrganization;
use crate::services::listings::ListingFields;
use crate::services::listings::demands::DemandInput;
use crate::services::listings::results::ResultInput;

type RowFailure = (usize, Vec<FieldError>);

pub(super) fn check_row(
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
            ListingFields::validate(&input, reference, None)
                .map_err(|e| (line, field_errors(e)))?;
            Input::Result(Box::new(input))
        }
        ImportKind::Demands => {
            let input: DemandInput = deserialize(value, "", line)?;
            ListingFields::validate(
                &input,
                reference,
                Some(crate::kernel::dates::today_in_china()),
            )
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
