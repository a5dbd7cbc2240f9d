//! Deals and technology contracts: the stages of a deal, where a contract is in its registration,
//! and for whom it counts in the indicators. The moves between them are in `services::deals` and
//! `services::contracts`, the indicators in `services::indicators`.

stored_codes! {
    // Stored in `contracts.status`. The command line takes it too (`export contracts --status`,
    // kebab-case there as clap spells it).
    /// Where a contract is in its registration.
    #[derive(clap::ValueEnum)]
    pub enum ContractStatus {
        /// 已提交: waiting for the registrar.
        Submitted = "submitted",
        /// 补正: sent back to the submitter for a correction.
        CorrectionRequested = "correction_requested",
        /// 登记: registered, with a registration number; counts in the indicators.
        Registered = "registered",
        /// 未予登记: rejected with a reason.
        Rejected = "rejected",
    }
}

stored_codes! {
    // Stored in `deals.stage` and `deal_events` (`from_stage`, `to_stage`).
    /// The stages of a deal.
    pub enum Stage {
        /// 意向: the broker has introduced the parties.
        Intent = "intent",
        /// 洽谈: the parties negotiate.
        Negotiating = "negotiating",
        /// 签约: the contract is signed.
        Signed = "signed",
        /// 登记: its contract is registered (set by the registration, not by a move).
        Registered = "registered",
        /// 终止: it came to nothing.
        Lost = "lost",
    }
}

stored_codes! {
    // Stored in `indicator_rollups.direction`; the indicators take it as `?direction=`.
    /// Whose location makes a contract count for Xi'an.
    #[derive(Default)]
    pub enum Direction {
        /// 技术输出: the seller is in Xi'an.
        #[default]
        Outflow = "outflow",
        /// 技术吸纳: the buyer is in Xi'an.
        Inflow = "inflow",
    }
}
