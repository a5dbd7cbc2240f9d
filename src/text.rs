//! Text rules shared by every service: names must be visible text, and names that look the same
//! share one key for uniqueness. A kernel: no HTTP, no SQL.
//!
//! The Unicode tables come from `unicode-properties` (general category, Unicode 16) and
//! `unicode-normalization` (NFKC); both are small, `no_std`-capable table crates.

mod normal;

pub use normal::{code_point, forbidden_char, name_key};

use crate::error::FieldError;

/// Checks a name people will read (an organization, a display name, a contract party, a project, a
/// deal title): it may not contain invisible or control characters (see [`forbidden_char`]). The
/// error names `field` and the character, e.g. `must not contain the invisible character U+200B`.
pub fn check_name(field: &str, value: &str) -> Result<(), FieldError> {
    match name_message(value) {
        None => Ok(()),
        Some(message) => Err(FieldError::new(field, message)),
    }
}

/// What is wrong with a name; `None` when it is fine.
fn name_message(value: &str) -> Option<String> {
    let c = forbidden_char(value)?;
    Some(if c.is_control() {
        format!(
            "must not contain control characters or line breaks (found {})",
            code_point(c)
        )
    } else {
        format!(
            "must not contain the invisible or formatting character {}",
            code_point(c)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_control_characters_are_refused_by_code_point() {
        for (c, shown) in [
            ('\u{200B}', "U+200B"),
            ('\u{2060}', "U+2060"),
            ('\u{FEFF}', "U+FEFF"),
            ('\u{00AD}', "U+00AD"),
            ('\u{202E}', "U+202E"),
            ('\u{200D}', "U+200D"),
            ('\0', "U+0000"),
            ('\n', "U+000A"),
            ('\u{2028}', "U+2028"),
            ('\u{E000}', "U+E000"),
        ] {
            let name = format!("西安电子科技大学{c}");
            let error = check_name("organization.name", &name).expect_err(shown);
            assert_eq!(error.field, "organization.name");
            assert!(error.message.contains(shown), "{}", error.message);
        }
        assert!(check_name("name", "西安电子科技大学 (XDU) №1").is_ok());
        assert!(check_name("name", "Ｘｉ'ａｎ　交大").is_ok());
    }

    #[test]
    fn names_that_look_the_same_share_a_key() {
        let key = name_key("西安电子科技大学");
        for lookalike in [
            "西安电子科技大学\u{200B}",
            "西安电子\u{2060}科技大学",
            "\u{FEFF}西安电子科技大学",
            "西安电子科技\u{00AD}大学",
            "  西安电子科技大学 ",
        ] {
            assert_eq!(name_key(lookalike), key, "{lookalike:?}");
        }
        assert_eq!(name_key("Ｘｉｄｉａｎ　　University"), "xidian university");
        assert_eq!(name_key("XIDIAN  university\t"), "xidian university");
        assert_eq!(name_key("㈱西电"), "(株)西电");
        assert_ne!(name_key("西安电子科技大学"), name_key("西安交通大学"));
    }
}
