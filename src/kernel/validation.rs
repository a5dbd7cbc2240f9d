//! Field validation: one builder, [`Checks`], with one method per rule and one wording per rule,
//! so that the same mistake reads the same on every route (a length is always "must be at most 200
//! characters", never "1 to 200 characters" here and "at most 200" there).
//!
//! A service makes a builder, runs every rule of its input, and [`finish`](Checks::finish)es: the
//! client gets every invalid field of the request at once, sorted by field, as one `422`.
//! Each rule records its error and returns whether the value passed, so that a rule that only
//! makes sense on a valid value (a sub-type of a known type, a part of a valid total) can be
//! skipped rather than reported twice.
//!
//! Rules that look codes up need the reference data: [`Checks::new`] takes it, and only such a
//! builder has [`one`](Checks::one), [`many`](Checks::many) and [`region`](Checks::region).
//! [`Checks::plain`] makes a builder for inputs without codes, so that a service with no codes to
//! check need not be handed the reference data.

use std::fmt::Display;

use chrono::NaiveDate;
use validator::ValidateEmail;

use crate::domain::{MAX_AMOUNT_FEN, MAX_EMAIL_CHARS};
use crate::error::{AppError, AppResult, FieldError};
use crate::reference::ReferenceData;

/// Most keywords a listing has.
pub const MAX_KEYWORDS: usize = 10;

/// Longest keyword, in characters.
pub const MAX_KEYWORD_CHARS: usize = 30;

/// Collects the field errors of one input; `R` is the reference data the code rules look codes up
/// in (`()` for a builder without them).
#[derive(Debug)]
pub struct Checks<R = ()> {
    reference: R,
    /// The errors found so far, in the order found. Public so that a caller can move errors that
    /// another check produced (e.g. [`crate::text::check_name`]) into the same answer.
    pub errors: Vec<FieldError>,
}

impl Checks {
    /// A builder for an input without reference codes.
    pub fn plain() -> Self {
        Self {
            reference: (),
            errors: Vec::new(),
        }
    }
}

impl<'a> Checks<&'a ReferenceData> {
    /// A builder whose code rules look codes up in `reference`.
    pub fn new(reference: &'a ReferenceData) -> Self {
        Self {
            reference,
            errors: Vec::new(),
        }
    }

    /// A code of reference list `kind`, e.g. `one("tech_field", "tech_fields", "ai")`.
    pub fn one(&mut self, field: &str, kind: &str, code: &str) -> bool {
        let known = self.reference.contains(kind, code);
        self.check(
            known,
            field,
            format!("{code:?} is not a code of {kind} (see GET /api/v1/reference)"),
        )
    }

    /// A list of codes of reference list `kind`: `min..=max` of them, each known (named by its
    /// index, e.g. `industry_codes[2]`), none repeated.
    pub fn many(
        &mut self,
        field: &str,
        kind: &str,
        codes: &[String],
        min: usize,
        max: usize,
    ) -> bool {
        let before = self.errors.len();
        self.check(
            (min..=max).contains(&codes.len()),
            field,
            if min == max {
                format!("give exactly {min}")
            } else {
                format!("give {min} to {max} codes")
            },
        );
        for (i, code) in codes.iter().enumerate() {
            let item = format!("{field}[{i}]");
            self.one(&item, kind, code);
            self.check(!codes[..i].contains(code), &item, "is repeated");
        }
        self.errors.len() == before
    }

    /// A 6-digit GB/T 2260 region code known to the reference data.
    pub fn region(&mut self, field: &str, code: &str) -> bool {
        let known = self.reference.is_region_code(code);
        self.check(
            known,
            field,
            "must be a 6-digit GB/T 2260 region code, e.g. 610113 for 雁塔区",
        )
    }
}

impl<R> Checks<R> {
    /// The escape hatch for a rule that is truly one-off (e.g. "the buyer must be another
    /// organization than the seller"): records `message` for `field` unless `ok`. A rule that
    /// recurs belongs here as its own method, with its one wording.
    pub fn check(&mut self, ok: bool, field: &str, message: impl Into<String>) -> bool {
        if !ok {
            self.errors.push(FieldError::new(field, message));
        }
        ok
    }

    /// Free text: its length in characters once trimmed (what is stored) within `min..=max`, and
    /// no NUL character (PostgreSQL refuses NUL in text; SQLite would store it).
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> bool {
        let length = self.chars(field, value.trim(), min, max);
        let no_nul = self.check(
            !value.contains('\0'),
            field,
            "must not contain NUL characters",
        );
        length && no_nul
    }

    /// A length in characters as given, untrimmed, within `min..=max`: for a secret such as a
    /// password, where every character counts and spaces are not decoration.
    pub fn chars(&mut self, field: &str, value: &str, min: usize, max: usize) -> bool {
        let count = value.chars().count();
        if count < min {
            self.check(
                false,
                field,
                if min <= 1 {
                    "must not be empty".to_owned()
                } else {
                    format!("must be at least {min} characters")
                },
            )
        } else {
            self.check(
                count <= max,
                field,
                format!("must be at most {max} characters"),
            )
        }
    }

    /// A name people read (a title, an organization, a display name, a contract's parties):
    /// [`text`](Self::text), and [`visible`](Self::visible).
    pub fn name(&mut self, field: &str, value: &str, min: usize, max: usize) -> bool {
        let text = self.text(field, value, min, max);
        // A NUL is already reported by `text`; `visible` would name it a second time.
        if value.contains('\0') {
            return false;
        }
        self.visible(field, value) && text
    }

    /// No invisible or control character ([`crate::text::check_name`], whose message names the
    /// character by code point).
    pub fn visible(&mut self, field: &str, value: &str) -> bool {
        match crate::text::check_name(field, value) {
            Ok(()) => true,
            Err(error) => {
                self.errors.push(error);
                false
            }
        }
    }

    /// Keywords: at most [`MAX_KEYWORDS`], each 1 to [`MAX_KEYWORD_CHARS`] characters.
    pub fn keywords(&mut self, field: &str, keywords: &[String]) -> bool {
        let mut ok = self.count(field, keywords.len(), MAX_KEYWORDS, "keywords");
        for (i, keyword) in keywords.iter().enumerate() {
            ok &= self.text(&format!("{field}[{i}]"), keyword, 1, MAX_KEYWORD_CHARS);
        }
        ok
    }

    /// A number of items, e.g. `count("ip", 21, 20, "IP items")`: "give at most 20 IP items".
    pub fn count(&mut self, field: &str, count: usize, max: usize, items: &str) -> bool {
        self.check(count <= max, field, format!("give at most {max} {items}"))
    }

    /// A value within `lo..=hi`: a number, or a date (shown `YYYY-MM-DD`).
    pub fn range<T: PartialOrd + Display>(&mut self, field: &str, value: T, lo: T, hi: T) -> bool {
        let ok = lo <= value && value <= hi;
        self.check(ok, field, format!("must be {lo} to {hi}"))
    }

    /// An amount of money in fen, when given: from 0 to [`MAX_AMOUNT_FEN`] (1,000 亿元, above
    /// any real contract and far below where sums of amounts overflow).
    pub fn money(&mut self, field: &str, fen: Option<i64>) -> bool {
        self.check(
            fen.is_none_or(|f| (0..=MAX_AMOUNT_FEN).contains(&f)),
            field,
            format!("must be a whole number of fen from 0 to {MAX_AMOUNT_FEN} (1,000 亿元)"),
        )
    }

    /// An e-mail address: at most [`MAX_EMAIL_CHARS`] characters, and of the form
    /// `name@domain` ([`validator::ValidateEmail`], the HTML5 rule).
    pub fn email(&mut self, field: &str, value: &str) -> bool {
        self.chars(field, value, 0, MAX_EMAIL_CHARS)
            && self.check(
                value.validate_email(),
                field,
                "must be an e-mail address such as name@example.cn",
            )
    }

    /// A day not before `today` (the caller's calendar: China time for the market's dates).
    pub fn not_past(&mut self, field: &str, date: NaiveDate, today: NaiveDate) -> bool {
        self.check(date >= today, field, "must not be in the past")
    }

    /// A day not before the day in field `earlier_field`, e.g. `valid_to` not before
    /// `valid_from`.
    pub fn not_before(
        &mut self,
        field: &str,
        date: NaiveDate,
        earlier_field: &str,
        earlier: NaiveDate,
    ) -> bool {
        self.check(
            date >= earlier,
            field,
            format!("must not be before {earlier_field}"),
        )
    }

    /// An id that must name an existing `thing` (looked up by the caller), e.g. `found(false,
    /// "buyer_org_id", "organization")`: "no organization has this id".
    pub fn found(&mut self, found: bool, field: &str, thing: &str) -> bool {
        self.check(found, field, not_found_message(thing))
    }

    /// `Err(422)` with every error found, sorted by field (the order of a field's own errors
    /// kept), or `Ok`.
    pub fn finish(mut self) -> AppResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            self.errors.sort_by(|a, b| a.field.cmp(&b.field));
            Err(AppError::Validation(self.errors))
        }
    }
}

/// The `422` of an id that names no existing `thing`, for a lookup that cannot go on without it
/// (the same wording as [`Checks::found`]).
pub fn not_found(field: &str, thing: &str) -> AppError {
    AppError::field(field, not_found_message(thing))
}

fn not_found_message(thing: &str) -> String {
    format!("no {thing} has this id")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages<R>(checks: Checks<R>) -> Vec<(String, String)> {
        match checks.finish() {
            Ok(()) => Vec::new(),
            Err(AppError::Validation(errors)) => {
                errors.into_iter().map(|e| (e.field, e.message)).collect()
            }
            Err(other) => panic!("not a validation error: {other}"),
        }
    }

    fn one(field: &str, message: &str) -> Vec<(String, String)> {
        vec![(field.to_owned(), message.to_owned())]
    }

    #[test]
    fn text_counts_trimmed_characters_and_refuses_nul() {
        let mut checks = Checks::plain();
        assert!(checks.text("a", "  西安  ", 2, 2));
        assert!(!checks.text("b", "   ", 1, 10));
        assert!(!checks.text("c", "短", 2, 10));
        assert!(!checks.text("d", "长长长", 1, 2));
        assert!(!checks.text("e", "x\0y", 0, 10));
        assert!(checks.text("f", "", 0, 10));
        assert_eq!(
            messages(checks),
            vec![
                ("b".to_owned(), "must not be empty".to_owned()),
                ("c".to_owned(), "must be at least 2 characters".to_owned()),
                ("d".to_owned(), "must be at most 2 characters".to_owned()),
                ("e".to_owned(), "must not contain NUL characters".to_owned()),
            ]
        );
    }

    #[test]
    fn chars_counts_spaces() {
        let mut checks = Checks::plain();
        assert!(checks.chars("password", "          ", 10, 256));
        assert!(!checks.chars("password", " short ", 10, 256));
        assert_eq!(
            messages(checks),
            one("password", "must be at least 10 characters")
        );
    }

    #[test]
    fn a_name_is_visible_text_and_nul_is_named_once() {
        let mut checks = Checks::plain();
        assert!(checks.name("ok", "西安电子科技大学 (XDU) №1", 1, 200));
        assert!(!checks.name("blank", "\u{3000}", 1, 200));
        assert!(!checks.name("zwsp", "西电\u{200B}", 1, 200));
        assert!(!checks.name("nul", "西电\0", 1, 200));
        let found = messages(checks);
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(
            found[0],
            ("blank".to_owned(), "must not be empty".to_owned())
        );
        assert_eq!(
            found[1],
            (
                "nul".to_owned(),
                "must not contain NUL characters".to_owned()
            )
        );
        assert!(found[2].1.contains("U+200B"), "{found:?}");
    }

    #[test]
    fn keywords_counts_and_items() {
        let mut checks = Checks::plain();
        let eleven: Vec<String> = (0..11).map(|i| format!("词{i}")).collect();
        assert!(!checks.keywords("keywords", &eleven));
        assert!(!checks.keywords("more", &[String::new(), "x".repeat(31)]));
        assert_eq!(
            messages(checks),
            vec![
                ("keywords".to_owned(), "give at most 10 keywords".to_owned()),
                ("more[0]".to_owned(), "must not be empty".to_owned()),
                (
                    "more[1]".to_owned(),
                    "must be at most 30 characters".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn ranges_money_and_dates() {
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date");
        let mut checks = Checks::plain();
        assert!(checks.range("trl", 9, 1, 9));
        assert!(!checks.range("year", 1979, 1980, 2200));
        assert!(!checks.range(
            "signed_on",
            day("1979-12-31"),
            day("1980-01-01"),
            day("2100-12-31")
        ));
        assert!(checks.money("none", None));
        assert!(checks.money("max", Some(MAX_AMOUNT_FEN)));
        assert!(!checks.money("price_fen", Some(-1)));
        assert!(!checks.not_past("deadline", day("2026-01-01"), day("2026-01-02")));
        assert!(checks.not_past("today", day("2026-01-02"), day("2026-01-02")));
        assert!(!checks.not_before(
            "valid_to",
            day("2021-12-31"),
            "valid_from",
            day("2022-01-01")
        ));
        let found = messages(checks);
        assert_eq!(
            found,
            vec![
                ("deadline".to_owned(), "must not be in the past".to_owned()),
                (
                    "price_fen".to_owned(),
                    format!(
                        "must be a whole number of fen from 0 to {MAX_AMOUNT_FEN} (1,000 亿元)"
                    )
                ),
                (
                    "signed_on".to_owned(),
                    "must be 1980-01-01 to 2100-12-31".to_owned()
                ),
                (
                    "valid_to".to_owned(),
                    "must not be before valid_from".to_owned()
                ),
                ("year".to_owned(), "must be 1980 to 2200".to_owned()),
            ]
        );
    }

    #[test]
    fn email_length_then_form() {
        let mut checks = Checks::plain();
        assert!(checks.email("ok", "li@xidian.edu.cn"));
        assert!(!checks.email("form", "li at xidian"));
        assert!(!checks.email("long", &format!("{}@example.cn", "a".repeat(250))));
        assert_eq!(
            messages(checks),
            vec![
                (
                    "form".to_owned(),
                    "must be an e-mail address such as name@example.cn".to_owned()
                ),
                (
                    "long".to_owned(),
                    "must be at most 254 characters".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn errors_are_sorted_by_field_keeping_each_fields_order() {
        let mut checks = Checks::plain();
        checks.check(false, "b", "first");
        checks.check(false, "a", "only");
        checks.check(false, "b", "second");
        checks.found(false, "c", "deal");
        assert_eq!(
            messages(checks),
            vec![
                ("a".to_owned(), "only".to_owned()),
                ("b".to_owned(), "first".to_owned()),
                ("b".to_owned(), "second".to_owned()),
                ("c".to_owned(), "no deal has this id".to_owned()),
            ]
        );
        assert!(Checks::plain().finish().is_ok());
    }
}
