//! Demo contracts: a believable record of registered technology contracts for 2021–2023 and the
//! current year, so that a first start shows the year's value against the policy's targets.
//!
//! Everything is generated from a fixed seed (the same data on every machine) and goes through
//! [`contracts::register`], so serial numbers, deals, roll-ups and the audit trail are the real
//! ones. Sellers are the demo institutions and enterprises; buyers are demo enterprises or firms
//! elsewhere in China (named, without an account). Amounts follow a heavy-tailed spread scaled
//! so that each policy year lands near its target; the shares of contract types and 技术领域
//! follow Shaanxi's 2022 report (技术服务 about three quarters of the value).

use chrono::{Datelike, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use crate::domain::{OrgKind, Role};
use crate::entity::{contracts, deals, demands, organizations, results, users};
use crate::error::AppResult;
use crate::services::accounts::sessions::CurrentUser;
use crate::services::contracts::{self as contract_service, ContractStatus};
use crate::services::deals::{Stage, record_event};

/// Registered contracts generated per policy year, and for the current year up to today.
const PER_YEAR: [(i32, usize, f64); 3] = [(2021, 620, 1.03), (2022, 650, 0.98), (2023, 690, 1.06)];
/// Contracts of the current year, over a whole year.
const CURRENT_YEAR_PACE: usize = 700;

/// (type, sub-type, weight in 1000ths): 技术服务 dominates, as in the reports.
const TYPES: [(&str, &str, u64); 10] = [
    ("service", "general_service", 520),
    ("service", "technical_training", 40),
    ("service", "technical_intermediary", 30),
    ("development", "commissioned_development", 170),
    ("development", "cooperative_development", 80),
    ("transfer", "patent_right_transfer", 50),
    ("transfer", "know_how_transfer", 20),
    ("licence", "patent_licence", 40),
    ("consulting", "feasibility_study", 25),
    ("consulting", "technology_assessment", 25),
];

/// 技术领域 weights in 1000ths (Shaanxi 2022: 城市建设与社会发展 42%, 电子信息 21% …).
const FIELDS: [(&str, u64); 11] = [
    ("urban_social_development", 380),
    ("electronic_information", 200),
    ("new_energy", 110),
    ("advanced_manufacturing", 80),
    ("aerospace", 60),
    ("new_materials", 50),
    ("biomedicine", 40),
    ("environmental_protection", 35),
    ("modern_transport", 25),
    ("agriculture", 15),
    ("nuclear_applications", 5),
];

/// Buyers outside Xi'an: (name, nature code, region code).
const OUTSIDE_BUYERS: [(&str, &str, &str); 8] = [
    ("北京中关村智联科技有限公司", "150", "110108"),
    ("上海浦东精密制造股份有限公司", "160", "310115"),
    ("深圳南山新能源科技有限公司", "170", "440305"),
    ("咸阳秦都电子材料有限公司", "150", "610402"),
    ("宝鸡渭滨钛业有限公司", "110", "610302"),
    ("成都高新航电设备有限公司", "150", "510107"),
    ("杭州余杭数据服务有限公司", "170", "330110"),
    ("兰州城关环保工程有限公司", "150", "620102"),
];

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 31) as f64
    }
    fn weighted<T: Copy>(&mut self, items: &[(T, u64)]) -> T {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut at = self.below(total);
        for (item, weight) in items {
            if at < *weight {
                return *item;
            }
            at -= weight;
        }
        items[0].0
    }
}

fn nature_of(org: &organizations::Model) -> String {
    org.nature_code.clone().unwrap_or_else(|| {
        match org.kind {
            OrgKind::University => "022",
            OrgKind::ResearchInstitute => "021",
            _ => "150",
        }
        .to_owned()
    })
}

/// The people the demo acts as.
pub(super) async fn actor(db: &DatabaseConnection, role: Role) -> AppResult<Option<CurrentUser>> {
    let Some(user) = users::Entity::find()
        .filter(users::Column::Role.eq(role))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let organization = match user.organization_id {
        Some(id) => organizations::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    Ok(Some(CurrentUser {
        user,
        organization,
        session_id: Uuid::nil(),
    }))
}

/// Generates and registers the demo contracts; returns how many were registered.
pub async fn load(db: &DatabaseConnection, registration_point: &str) -> AppResult<u64> {
    let (Some(registrar), Some(broker)) = (
        actor(db, Role::Registrar).await?,
        actor(db, Role::Broker).await?,
    ) else {
        return Ok(0);
    };
    let orgs = organizations::Entity::find().all(db).await?;
    let sellers: Vec<&organizations::Model> = orgs
        .iter()
        .filter(|o| o.region_code.starts_with("6101") && o.kind != OrgKind::TransferAgency)
        .collect();
    let buyers: Vec<&organizations::Model> = orgs
        .iter()
        .filter(|o| o.kind == OrgKind::Enterprise)
        .collect();
    if sellers.is_empty() || buyers.is_empty() {
        return Ok(0);
    }
    let result_rows = results::Entity::find().all(db).await?;
    let demand_rows = demands::Entity::find().all(db).await?;
    let today = crate::kernel::dates::today_in_china();
    let mut rng = Lcg(20_210_101);
    let mut registered = 0;
    let mut years: Vec<(i32, usize, Option<f64>)> = PER_YEAR
        .iter()
        .map(|(y, n, r)| (*y, *n, Some(*r)))
        .collect();
    let elapsed = today.ordinal() as f64 / 365.0;
    years.push((
        today.year(),
        (CURRENT_YEAR_PACE as f64 * elapsed) as usize,
        None,
    ));
    for (year, count, ratio) in years {
        // Heavy-tailed weights, scaled to the target (or to this year's pace).
        let weights: Vec<f64> = (0..count)
            .map(|_| (rng.unit() * 3.2).exp().powi(2))
            .collect();
        let sum: f64 = weights.iter().sum();
        let goal_fen = match ratio {
            Some(r) => (15_000_000_000_000 + 500_000_000_000 * i64::from(year - 2021)) as f64 * r,
            None => 15_800_000_000_000f64 * elapsed,
        };
        let last_day = if year == today.year() {
            today
        } else {
            NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(today)
        };
        let first_day = NaiveDate::from_ymd_opt(year, 1, 4).unwrap_or(today);
        let span = (last_day - first_day).num_days().max(1) as u64;
        for weight in weights {
            let (contract_type, sub_type) = rng.weighted(&TYPES.map(|(t, s, w)| ((t, s), w)));
            let tech_field = rng.weighted(&FIELDS);
            let seller = sellers[rng.below(sellers.len() as u64) as usize];
            let total = ((goal_fen * weight / sum) / 100.0).round().max(1.0) as i64 * 100;
            let share = match contract_type {
                "development" | "transfer" => rng.below(30),
                _ => rng.below(8),
            } as i64;
            let non_technical = total / 100 * share;
            let registered_on = first_day + Duration::days(rng.below(span) as i64);
            let signed_on = registered_on - Duration::days(5 + rng.below(50) as i64);
            let (buyer_org, buyer_name, buyer_nature, buyer_region) = if rng.below(10) < 7 {
                let b = buyers[rng.below(buyers.len() as u64) as usize];
                (
                    Some(b.id),
                    b.name.clone(),
                    nature_of(b),
                    b.region_code.clone(),
                )
            } else {
                let (name, nature, region) =
                    OUTSIDE_BUYERS[rng.below(OUTSIDE_BUYERS.len() as u64) as usize];
                (None, name.to_owned(), nature.to_owned(), region.to_owned())
            };
            let result = result_rows
                .iter()
                .filter(|r| r.organization_id == seller.id)
                .nth(rng.below(8) as usize)
                .filter(|_| rng.below(10) < 4);
            let demand = buyer_org
                .and_then(|b| demand_rows.iter().find(|d| d.organization_id == b))
                .filter(|_| rng.below(10) < 3);
            let industries = match result {
                Some(r) => r.industry_codes.clone(),
                None => serde_json::json!([]),
            };
            let project_name = match result {
                Some(r) => format!(
                    "{}技术{}",
                    r.title.chars().take(24).collect::<String>(),
                    label(contract_type)
                ),
                None => format!("{}{}项目", field_label(tech_field), label(contract_type)),
            };
            let brokered = rng.below(10) < 4;
            let submitted_at = (registered_on - Duration::days(rng.below(20) as i64))
                .and_hms_opt(9, 0, 0)
                .map_or_else(Utc::now, |t| t.and_utc() - Duration::hours(8));
            let deal_id = match (brokered, buyer_org) {
                (true, Some(buyer)) => Some(
                    open_demo_deal(
                        db,
                        &broker,
                        seller.id,
                        buyer,
                        &project_name,
                        total,
                        submitted_at,
                    )
                    .await?,
                ),
                _ => None,
            };
            let contract = contracts::ActiveModel {
                id: Set(Uuid::now_v7()),
                status: Set(ContractStatus::Submitted),
                version: Set(1),
                project_name: Set(project_name),
                contract_type: Set(contract_type.into()),
                sub_type: Set(sub_type.into()),
                seller_org_id: Set(Some(seller.id)),
                seller_name: Set(seller.name.clone()),
                seller_nature_code: Set(nature_of(seller)),
                seller_region_code: Set(seller.region_code.clone()),
                buyer_org_id: Set(buyer_org),
                buyer_name: Set(buyer_name),
                buyer_nature_code: Set(buyer_nature),
                buyer_region_code: Set(buyer_region),
                broker_id: Set(brokered.then_some(broker.user.id)),
                deal_id: Set(deal_id),
                result_id: Set(result.map(|r| r.id)),
                demand_id: Set(demand.map(|d| d.id)),
                signed_on: Set(signed_on),
                valid_from: Set(signed_on),
                valid_to: Set(signed_on + Duration::days(365 * (1 + rng.below(3) as i64))),
                total_amount_fen: Set(total),
                non_technical_fen: Set(non_technical),
                technical_amount_fen: Set(total - non_technical),
                tech_field: Set(tech_field.into()),
                industry_codes: Set(industries),
                ip_types: Set(serde_json::json!([])),
                rule_version: Set(contract_service::rule_version_on(signed_on).into()),
                submitted_by: Set(broker.user.id),
                idempotency_key: Set(None),
                request_hash: Set(None),
                registration_no: Set(None),
                registered_on: Set(None),
                registered_by: Set(None),
                reason_code: Set(None),
                reason_detail: Set(None),
                submitted_at: Set(submitted_at),
                updated_at: Set(submitted_at),
            }
            .insert(db)
            .await?;
            // This year's last few weeks are still waiting for the registrar.
            if year == today.year() && (today - registered_on).num_days() < 20 {
                continue;
            }
            contract_service::register(
                db,
                &registrar,
                contract.id,
                registration_point,
                registered_on,
            )
            .await?;
            registered += 1;
        }
    }
    Ok(registered)
}

/// Opens a deal as the demo broker and takes it to `signed` (registration then closes it).
async fn open_demo_deal(
    db: &DatabaseConnection,
    broker: &CurrentUser,
    seller: Uuid,
    buyer: Uuid,
    title: &str,
    expected: i64,
    at: chrono::DateTime<Utc>,
) -> AppResult<Uuid> {
    let id = Uuid::now_v7();
    deals::ActiveModel {
        id: Set(id),
        title: Set(title.chars().take(200).collect()),
        broker_id: Set(broker.user.id),
        seller_org_id: Set(seller),
        buyer_org_id: Set(buyer),
        result_id: Set(None),
        demand_id: Set(None),
        expected_amount_fen: Set(Some(expected)),
        stage: Set(Stage::Signed),
        contract_id: Set(None),
        created_at: Set(at - Duration::days(60)),
        updated_at: Set(at),
    }
    .insert(db)
    .await?;
    for (from, to, note) in [
        (None, Stage::Intent, "经纪人介绍双方对接"),
        (
            Some(Stage::Intent),
            Stage::Negotiating,
            "双方就技术方案和价款洽谈",
        ),
        (Some(Stage::Negotiating), Stage::Signed, "合同签订"),
    ] {
        record_event(
            db,
            id,
            from,
            to,
            Some(note.to_owned()),
            Some(broker.user.id),
        )
        .await?;
    }
    Ok(id)
}

fn label(contract_type: &str) -> &'static str {
    match contract_type {
        "development" => "开发",
        "transfer" => "转让",
        "licence" => "许可",
        "consulting" => "咨询",
        _ => "服务",
    }
}

fn field_label(field: &str) -> &'static str {
    match field {
        "urban_social_development" => "城市建设",
        "electronic_information" => "电子信息",
        "new_energy" => "新能源",
        "advanced_manufacturing" => "先进制造",
        "aerospace" => "航空航天",
        "new_materials" => "新材料",
        "biomedicine" => "生物医药",
        "environmental_protection" => "环保",
        "modern_transport" => "现代交通",
        "agriculture" => "农业",
        _ => "核技术应用",
    }
}
