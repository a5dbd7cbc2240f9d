//! Demo qualifications: recognitions for the demo organizations in Xi'an, so that the summary's
//! organization counts show the path from the market's records to the policy's indicators.

use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::{DatabaseConnection, EntityTrait, TransactionTrait};
use uuid::Uuid;

use crate::domain::{OrgKind, Role};
use crate::entity::{organization_qualifications as qualifications, organizations};
use crate::error::AppResult;
use crate::kernel::dates::today_in_china;
use crate::services::indicators::XIAN_PREFIX;

/// A stable number from 0 to 99 for an organization, so every seeding picks the same ones.
fn draw(org: &organizations::Model, salt: u32) -> u32 {
    org.name
        .chars()
        .fold(salt.wrapping_mul(2_654_435_761), |h, c| {
            h.wrapping_mul(31).wrapping_add(c as u32)
        })
        % 100
}

fn row(
    org: &organizations::Model,
    qualification: &str,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
    registrar: Uuid,
) -> qualifications::ActiveModel {
    use sea_orm::ActiveValue::Set;
    qualifications::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.id),
        qualification: Set(qualification.to_owned()),
        certificate_no: Set(None),
        valid_from: Set(valid_from),
        valid_to: Set(valid_to),
        withdrawn_on: Set(None),
        recorded_by: Set(registrar),
        recorded_at: Set(Utc::now()),
    }
}

/// Records the demo qualifications; returns how many.
///
/// Enterprises: about 60% are 高新技术企业 (three-year certificates from 2019–2022, renewed) and
/// about 70% enter the 科技型中小企业 list each year; one university or institute in three runs
/// an R&D platform; every transfer agency is recognised.
pub async fn load(db: &DatabaseConnection) -> AppResult<u64> {
    let Some(registrar) = super::contracts::actor(db, Role::Registrar).await? else {
        return Ok(0);
    };
    let date = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d);
    let this_year = today_in_china().year();
    let mut rows = Vec::new();
    for org in organizations::Entity::find().all(db).await? {
        if !org.region_code.starts_with(XIAN_PREFIX) {
            continue;
        }
        let id = registrar.user.id;
        match org.kind {
            OrgKind::Enterprise => {
                if draw(&org, 1) < 60 {
                    let mut from = 2019 + draw(&org, 2) as i32 % 4;
                    while from <= this_year {
                        if let (Some(start), Some(end)) =
                            (date(from, 11, 1), date(from + 3, 10, 31))
                        {
                            rows.push(row(&org, "high_tech_enterprise", start, Some(end), id));
                        }
                        from += 3;
                    }
                }
                for year in 2021..=this_year {
                    if draw(&org, year as u32) < 70
                        && let (Some(start), Some(end)) = (date(year, 1, 1), date(year, 12, 31))
                    {
                        rows.push(row(&org, "tech_sme", start, Some(end), id));
                    }
                }
            }
            OrgKind::University | OrgKind::ResearchInstitute if draw(&org, 3) < 34 => {
                if let Some(start) = date(2021 + draw(&org, 4) as i32 % 3, 7, 1) {
                    rows.push(row(&org, "rd_platform", start, None, id));
                }
            }
            OrgKind::TransferAgency => {
                if let Some(start) = date(2020, 3, 1) {
                    rows.push(row(&org, "transfer_agency", start, None, id));
                }
            }
            _ => {}
        }
    }
    let count = rows.len() as u64;
    let txn = db.begin().await?;
    for chunk in rows.chunks(200) {
        qualifications::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(count)
}
