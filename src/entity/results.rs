//! `results`: research results (科技成果).

listing_model! {
    /// One research result.
    table: "results",
    fields: {
        /// 成果名称.
        pub title: String,
        /// Short description.
        pub summary: String,
        /// Long description.
        pub details: Option<String>,
        /// JSON array of strings.
        pub keywords: Json,
        /// JSON array of industry codes.
        pub industry_codes: Json,
        /// 技术领域 code.
        pub tech_field: String,
        /// Technology readiness level, 1–9.
        pub trl: Option<i32>,
        /// Maturity stage code.
        pub maturity_stage: String,
        /// JSON array of cooperation-mode codes.
        pub cooperation_modes: Json,
        /// JSON array of `{ip_type, number, title}`.
        pub ip: Json,
        /// Asking price in fen; `None` = 面议.
        pub price_fen: Option<i64>,
        /// Only for the owner and the registrar.
        pub confidential_details: Option<String>,
        /// JSON `{name, phone, email}`.
        pub contact: Option<Json>,
    }
}
