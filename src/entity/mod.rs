//! sea-orm entities: one module per table. Rules live in `services`, not here.

/// The model of a listing table (`results`, `demands`): the columns every listing has, declared
/// once, around the kind's own fields. Identity first (id, organization, author, external id),
/// then the kind's fields, then the lifecycle (status, rejection, publication, times, revisions),
/// which `services::listings` reads and writes for both kinds through `ListingTable`.
macro_rules! listing_model {
    (
        $(#[$meta:meta])*
        table: $table:literal,
        fields: { $($fields:tt)* }
    ) => {
        use sea_orm::entity::prelude::*;

        use crate::domain::ListingStatus;

        $(#[$meta])*
        #[sea_orm::model]
        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = $table)]
        pub struct Model {
            /// UUID v7.
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            /// The organization that owns (for a demand: posted) it.
            pub organization_id: Uuid,
            /// The member who created it (`None` for command-line imports).
            pub created_by: Option<Uuid>,
            /// Id in the owner's own system, for re-imports.
            pub external_id: Option<String>,
            $($fields)*
            /// `draft`, `submitted`, `published`, `rejected`, `archived`.
            pub status: ListingStatus,
            /// Why the registrar rejected it.
            pub rejection_reason: Option<String>,
            /// When it was (last) published.
            pub published_at: Option<DateTimeUtc>,
            /// Creation time.
            pub created_at: DateTimeUtc,
            /// Last change.
            pub updated_at: DateTimeUtc,
            /// Goes up with every edit of the text (from 1).
            pub revision: i32,
            /// The revision the owner last submitted for review.
            pub submitted_revision: i32,
        }

        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub mod audit_log;
pub mod challenge_applications;
pub mod contract_versions;
pub mod contracts;
pub mod deal_events;
pub mod deals;
pub mod demands;
pub mod listing_events;
pub mod listing_industries;
pub mod login_failures;
pub mod notifications;
pub mod organization_qualifications;
pub mod organizations;
pub mod policy_targets;
pub mod reference_codes;
pub mod reference_versions;
pub mod registration_attempts;
pub mod results;
pub mod saved_searches;
pub mod search_outbox;
pub mod sessions;
pub mod users;
