//! Domain vocabulary shared by services and views: every closed set of codes stored in a column
//! (roles, memberships and organization kinds in `accounts`; listing kinds, listing statuses and
//! application statuses in `listings`; contract statuses, deal stages and the indicators'
//! directions in `contracts`), the bound on amounts of money, and how names and e-mail addresses
//! are folded.
//!
//! Each code set is declared once with [`stored_codes!`]: the one list of variants and codes gives
//! the sea-orm mapping (a `String` column holding exactly the code, so the stored text is what it
//! always was and no migration is needed), the JSON spelling and `as_str`/`parse`.

/// Declares an enum whose variants are stored, and written in JSON, as fixed text codes.
///
/// Each variant is written `Variant = "code"`; the code is used for the database (sea-orm
/// `string_value`, in a `String` column, so PostgreSQL compares text and no `CAST` to an enum type
/// is emitted), for serde (`rename`, so JSON and the OpenAPI enum show the code) and for
/// `as_str`/`parse`. Attributes before the enum (doc comments, extra derives such as
/// `clap::ValueEnum`) and before each variant are kept.
macro_rules! stored_codes {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident = $code:tt,
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            sea_orm::EnumIter,
            sea_orm::DeriveActiveEnum,
            serde::Serialize,
            serde::Deserialize,
            utoipa::ToSchema,
        )]
        #[sea_orm(
            rs_type = "String",
            db_type = "String(sea_orm::sea_query::StringLen::None)"
        )]
        pub enum $name {
            $(
                $(#[$variant_meta])*
                #[sea_orm(string_value = $code)]
                #[serde(rename = $code)]
                $variant,
            )+
        }

        impl $name {
            /// The code stored in the database and used in JSON and messages.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)+
                }
            }

            /// The value of a code, or `None` when `code` is not one of them.
            pub fn parse(code: &str) -> Option<Self> {
                <Self as sea_orm::Iterable>::iter().find(|v| v.as_str() == code)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

mod accounts;
mod contracts;
mod listings;

pub use accounts::{Membership, OrgKind, Role};
pub use contracts::{ContractStatus, Direction, Stage};
pub use listings::{ApplicationStatus, ListingKind, Status as ListingStatus};

/// The largest amount of money any field takes (a contract, a deal's expected value, a price, a
/// budget, a reward): 1,000 亿元 (10¹³ fen), two thirds of Xi'an's whole yearly 技术合同交易额 target
/// and far above the largest technology contracts reported (tens of 亿元). Sums stay within `i64`
/// because of it: a roll-up row holds at most `indicators::ROLLUP_CEILING_FEN` (checked when a
/// contract is added, so adding one contract cannot overflow), every other sum over contracts (a
/// broker's yearly totals) uses checked arithmetic and answers `409` where it would overflow, and
/// the exports write each amount by itself and sum nothing.
pub const MAX_AMOUNT_FEN: i64 = 10_000_000_000_000;

/// Folds an organization name for uniqueness: see [`crate::text::name_key`] (NFKC, format
/// characters removed, whitespace collapsed, lower-cased).
pub fn organization_name_key(name: &str) -> String {
    crate::text::name_key(name)
}

/// Longest e-mail address kept (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// Normalises an e-mail address for storage and lookup: trimmed, lower-cased, without control
/// characters (PostgreSQL rejects NUL in text) and cut to [`MAX_EMAIL_CHARS`], so that even a hostile
/// login attempt can be looked up and recorded.
pub fn normalize_email(email: &str) -> String {
    email
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_EMAIL_CHARS)
        .collect::<String>()
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for role in ["researcher", "enterprise", "broker", "registrar"] {
            assert_eq!(Role::parse(role).map(Role::as_str), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
        assert_eq!(
            OrgKind::parse("research_institute"),
            Some(OrgKind::ResearchInstitute)
        );
    }

    /// The stored text, the JSON and `as_str` are one code: the database sees exactly what the
    /// columns held before they were typed.
    #[test]
    fn stored_text_json_and_as_str_agree() {
        use sea_orm::{ActiveEnum, Iterable};
        fn check<E: ActiveEnum<Value = String> + Iterable + serde::Serialize + Copy>(
            as_str: fn(E) -> &'static str,
        ) {
            for v in E::iter() {
                assert_eq!(v.to_value(), as_str(v));
                assert_eq!(
                    serde_json::to_value(v).ok(),
                    Some(serde_json::Value::from(as_str(v)))
                );
            }
        }
        check(Role::as_str);
        check(OrgKind::as_str);
        check(Membership::as_str);
        check(ListingKind::as_str);
        check(ListingStatus::as_str);
        check(ApplicationStatus::as_str);
        check(ContractStatus::as_str);
        check(Stage::as_str);
        check(Direction::as_str);
        assert_eq!(
            ContractStatus::CorrectionRequested.to_value(),
            "correction_requested"
        );
        assert_eq!(ApplicationStatus::NotSelected.as_str(), "not_selected");
    }

    #[test]
    fn emails_lose_control_characters_and_excess_length() {
        assert_eq!(normalize_email(" A@B.cn\u{0}\n"), "a@b.cn");
        assert_eq!(
            normalize_email(&"x".repeat(400)).chars().count(),
            MAX_EMAIL_CHARS
        );
    }

    #[test]
    fn organization_names_fold_case_and_space() {
        assert_eq!(
            organization_name_key("  Xidian   University "),
            "xidian university"
        );
        assert_eq!(organization_name_key("西安交通大学"), "西安交通大学");
    }
}
