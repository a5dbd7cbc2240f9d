//! Domain vocabulary shared by services and views: roles, organization kinds, memberships, the
//! bound on amounts of money.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The largest amount of money any field takes (a contract, a deal's expected value, a price, a
/// budget, a reward): 1,000 亿元 (10¹³ fen), two thirds of Xi'an's whole yearly 技术合同交易额 target
/// and far above the largest technology contracts reported (tens of 亿元). Sums stay within `i64`
/// because of it: a roll-up row holds at most `indicators::ROLLUP_CEILING_FEN` (checked when a
/// contract is added, so adding one contract cannot overflow), every other sum over contracts (a
/// broker's yearly totals) uses checked arithmetic and answers `409` where it would overflow, and
/// the exports write each amount by itself and sum nothing.
pub const MAX_AMOUNT_FEN: i64 = 10_000_000_000_000;

/// What a user does in the market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Member of a university or research institute: lists research results.
    Researcher,
    /// Member of a company: posts demands, searches.
    Enterprise,
    /// 技术经理人, member of a technology-transfer agency: brokers deals.
    Broker,
    /// The market operator: reviews listings, registers contracts. Created only by the operator.
    Registrar,
}

impl Role {
    /// The code stored in the database and used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Researcher => "researcher",
            Self::Enterprise => "enterprise",
            Self::Broker => "broker",
            Self::Registrar => "registrar",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<Self> {
        [
            Self::Researcher,
            Self::Enterprise,
            Self::Broker,
            Self::Registrar,
        ]
        .into_iter()
        .find(|r| r.as_str() == code)
    }

    /// The organization kinds a user of this role may belong to.
    pub fn allowed_org_kinds(self) -> &'static [OrgKind] {
        match self {
            Self::Researcher => &[OrgKind::University, OrgKind::ResearchInstitute],
            Self::Enterprise => &[OrgKind::Enterprise],
            Self::Broker => &[OrgKind::TransferAgency, OrgKind::Platform],
            Self::Registrar => &[OrgKind::Platform, OrgKind::Government],
        }
    }
}

/// The kind of an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// 高等院校.
    University,
    /// 科研院所.
    ResearchInstitute,
    /// 企业.
    Enterprise,
    /// 技术转移机构.
    TransferAgency,
    /// 服务平台.
    Platform,
    /// 政府部门.
    Government,
}

impl OrgKind {
    /// The code stored in the database and used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::University => "university",
            Self::ResearchInstitute => "research_institute",
            Self::Enterprise => "enterprise",
            Self::TransferAgency => "transfer_agency",
            Self::Platform => "platform",
            Self::Government => "government",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<Self> {
        [
            Self::University,
            Self::ResearchInstitute,
            Self::Enterprise,
            Self::TransferAgency,
            Self::Platform,
            Self::Government,
        ]
        .into_iter()
        .find(|k| k.as_str() == code)
    }
}

/// A user's standing in their organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Membership {
    /// Acts for the organization.
    Active,
    /// Asked to join an existing organization; waits for a member (or the registrar) to approve.
    Pending,
}

impl Membership {
    /// The code stored in the database and used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Pending => "pending",
        }
    }
}

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
