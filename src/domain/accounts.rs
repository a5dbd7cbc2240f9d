//! Who users are: their role, their standing in their organization, and the kinds of organization.

stored_codes! {
    // Stored in `users.role`.
    /// What a user does in the market.
    pub enum Role {
        /// Member of a university or research institute: lists research results.
        Researcher = "researcher",
        /// Member of a company: posts demands, searches.
        Enterprise = "enterprise",
        /// 技术经理人, member of a technology-transfer agency: brokers deals.
        Broker = "broker",
        /// The market operator: reviews listings, registers contracts. Created only by the operator.
        Registrar = "registrar",
    }
}

impl Role {
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

stored_codes! {
    // Stored in `organizations.kind`.
    /// The kind of an organization.
    pub enum OrgKind {
        /// 高等院校.
        University = "university",
        /// 科研院所.
        ResearchInstitute = "research_institute",
        /// 企业.
        Enterprise = "enterprise",
        /// 技术转移机构.
        TransferAgency = "transfer_agency",
        /// 服务平台.
        Platform = "platform",
        /// 政府部门.
        Government = "government",
    }
}

stored_codes! {
    // Stored in `users.membership`.
    /// A user's standing in their organization.
    pub enum Membership {
        /// Acts for the organization.
        Active = "active",
        /// Asked to join an existing organization; waits for a member (or the registrar) to approve.
        Pending = "pending",
    }
}
