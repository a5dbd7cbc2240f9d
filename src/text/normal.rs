//! The pure part of [`crate::text`]: which characters a name may not contain, and the key two names
//! share when people cannot tell them apart. Only `std` and the two Unicode crates, so that the
//! migration that recomputes stored keys compiles this very file (`#[path]`) instead of a copy.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// The first character of `value` that a name may not contain, if any: control characters (Cc,
/// including NUL, tab and line breaks), format characters (Cf: zero-width space and joiners, word
/// joiner, BOM, soft hyphen, bidi controls, …), line and paragraph separators (Zl, Zp), and the
/// private-use and unassigned code points (Co, Cn), which show as nothing or as a box.
pub fn forbidden_char(value: &str) -> Option<char> {
    value.chars().find(|&c| is_forbidden(c))
}

fn is_forbidden(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::PrivateUse
            | GeneralCategory::Unassigned
    )
}

/// A character as people and programs name it: `U+200B`.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// The uniqueness key of a name: NFKC (full-width letters and digits, compatibility ideographs and
/// ligatures become their ordinary forms), format characters removed, every run of whitespace one
/// space, no leading or trailing space, lower case. Two names with the same key look the same.
pub fn name_key(value: &str) -> String {
    let folded: String = value
        .nfkc()
        .filter(|&c| c.general_category() != GeneralCategory::Format)
        .flat_map(char::to_lowercase)
        .collect();
    // Lower-casing can undo NFKC in rare cases (e.g. U+0130); normalise once more.
    let folded: String = folded.nfkc().collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}
