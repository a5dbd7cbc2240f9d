//! Listings (research results and demands): their kinds, their lifecycle states, and the states of
//! 揭榜 applications to challenges. The moves between states are in `services::listings`.

stored_codes! {
    // Stored in `listing_events`, `listing_industries`, `notifications` and `search_outbox`
    // (`listing_kind`) and in `saved_searches.kind`.
    /// The two kinds of listing.
    pub enum ListingKind {
        /// A research result (科技成果).
        Result = "result",
        /// An enterprise demand (企业技术需求), possibly a challenge.
        Demand = "demand",
    }
}

impl ListingKind {
    /// "result" or "demand", for messages.
    pub fn noun(self) -> &'static str {
        self.as_str()
    }
}

stored_codes! {
    // Stored in `results.status`, `demands.status` and `listing_events` (`from_status`,
    // `to_status`).
    /// A listing's lifecycle state.
    pub enum Status {
        /// Being written; only the owner sees it.
        Draft = "draft",
        /// Waiting for the registrar.
        Submitted = "submitted",
        /// Public: the only state the public sees and search finds (reached by the registrar's
        /// approval, or at once by an operator's import).
        Published = "published",
        /// Sent back by the registrar with a reason.
        Rejected = "rejected",
        /// Withdrawn; kept for the record.
        Archived = "archived",
    }
}

stored_codes! {
    // Stored in `challenge_applications.status`.
    /// The status of a 揭榜 application.
    pub enum ApplicationStatus {
        /// Waiting for the poster's decision.
        Submitted = "submitted",
        /// Chosen by the poster.
        Selected = "selected",
        /// Another application was chosen.
        NotSelected = "not_selected",
    }
}
