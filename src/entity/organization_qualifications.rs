//! `organization_qualifications`: recognitions an organization holds (国家高新技术企业 …), as
//! recorded by the registrar.

use sea_orm::entity::prelude::*;

/// One recognition of one organization.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organization_qualifications")]
pub struct Model {
    /// UUID v7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The organization that holds it.
    pub organization_id: Uuid,
    /// A code of the `qualifications` reference list.
    pub qualification: String,
    /// The certificate or list number (证书编号 / 入库编号).
    pub certificate_no: Option<String>,
    /// First day it holds.
    pub valid_from: Date,
    /// Last day it holds (`None`: without end).
    pub valid_to: Option<Date>,
    /// The day it was withdrawn (撤销); it no longer holds from that day.
    pub withdrawn_on: Option<Date>,
    /// The registrar who recorded it.
    pub recorded_by: Uuid,
    /// When the registrar recorded it.
    pub recorded_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
