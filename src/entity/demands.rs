//! `demands`: enterprise technology demands (企业技术需求), and 揭榜挂帅 challenges.

listing_model! {
    /// One demand; a challenge when `is_challenge`.
    table: "demands",
    fields: {
        /// 需求名称 (the demand's title).
        pub title: String,
        /// The problem to solve.
        pub description: String,
        /// JSON array of strings.
        pub keywords: Json,
        /// JSON array of industry codes.
        pub industry_codes: Json,
        /// 技术领域 code.
        pub tech_field: String,
        /// Demand-type code.
        pub demand_type: String,
        /// Budget in fen; `None` = 面议.
        pub budget_fen: Option<i64>,
        /// Wanted by.
        pub deadline: Option<Date>,
        /// Whether this is a 揭榜挂帅 challenge.
        pub is_challenge: bool,
        /// Challenge reward (榜额) in fen.
        pub reward_fen: Option<i64>,
        /// Last day to apply.
        pub application_deadline: Option<Date>,
        /// Longest allowed project duration.
        pub max_duration_months: Option<i32>,
        /// Acceptance indicators (考核指标).
        pub indicators: Option<String>,
        /// IP ownership terms (产权归属).
        pub ip_terms: Option<String>,
        /// Selection-method code.
        pub selection_method: Option<String>,
        /// The selected application, once chosen.
        pub selected_application_id: Option<Uuid>,
    }
}
