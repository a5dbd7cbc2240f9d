//! Deals (撮合): a broker's work from the first introduction of a seller and a buyer to a
//! registered contract. Every move is an event with a note, kept forever.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, Condition,
    ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::{ContractStatus, Membership, Role};
use crate::entity::{deal_events, deals, demands, organizations, results};
use crate::error::{AppError, AppResult};
use crate::kernel::validation::Checks;
use crate::services::accounts::sessions::CurrentUser;
use crate::services::audit;

pub use crate::domain::Stage;

// The moves a broker may make between the stored stages (declared in `domain`).
impl Stage {
    /// Whether a deal may move from `self` to `to` by hand. Deals only move forward; `lost` can be
    /// declared from any open stage; `registered` is reached only by registering the contract.
    pub fn can_move_to(self, to: Stage) -> bool {
        use Stage::*;
        matches!(
            (self, to),
            (Intent, Negotiating)
                | (Intent, Signed)
                | (Negotiating, Signed)
                | (Intent | Negotiating | Signed, Lost)
        )
    }
}

/// `POST /api/v1/deals`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealInput {
    /// What the deal is about, 1–200 characters.
    pub title: String,
    /// The listed result it is about.
    #[serde(default)]
    pub result_id: Option<Uuid>,
    /// The demand it answers.
    #[serde(default)]
    pub demand_id: Option<Uuid>,
    /// The selling organization.
    pub seller_org_id: Uuid,
    /// The buying organization.
    pub buyer_org_id: Uuid,
    /// Expected contract value in fen (≥ 0).
    #[serde(default)]
    pub expected_amount_fen: Option<i64>,
}

/// `POST /api/v1/deals/{id}/stage`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    /// `negotiating`, `signed` or `lost`.
    pub stage: Stage,
    /// What happened (at most 2,000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

/// One move of a deal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DealEventView {
    /// Stage before (`null` when the deal was opened).
    pub from_stage: Option<Stage>,
    /// Stage after.
    pub to_stage: Stage,
    /// What happened, in the mover's words (null when none was given); a registration
    /// writes 合同已登记 with the 合同登记编号.
    pub note: Option<String>,
    /// Who moved it (`null` for a registration).
    pub actor_id: Option<Uuid>,
    /// When the move was made.
    pub at: DateTime<Utc>,
}

/// A deal, as its broker, its parties and the registrar see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DealView {
    /// UUID v7 of the deal; a contract names it in `deal_id`.
    pub id: Uuid,
    /// What the deal is about, as the broker wrote it (1–200 characters).
    pub title: String,
    /// Current stage.
    pub stage: Stage,
    /// The broker who owns it.
    pub broker_id: Uuid,
    /// Seller organization.
    pub seller_org_id: Uuid,
    /// Buyer organization.
    pub buyer_org_id: Uuid,
    /// The listed research result it is about, if any.
    pub result_id: Option<Uuid>,
    /// The enterprise demand it answers, if any.
    pub demand_id: Option<Uuid>,
    /// Expected value in fen.
    pub expected_amount_fen: Option<i64>,
    /// The registered contract that closed it.
    pub contract_id: Option<Uuid>,
    /// When the broker opened it (at stage `intent`).
    pub created_at: DateTime<Utc>,
    /// Last move.
    pub updated_at: DateTime<Utc>,
    /// Every move, oldest first (only on a single deal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<DealEventView>>,
}

impl From<deals::Model> for DealView {
    fn from(d: deals::Model) -> Self {
        Self {
            id: d.id,
            title: d.title,
            stage: d.stage,
            broker_id: d.broker_id,
            seller_org_id: d.seller_org_id,
            buyer_org_id: d.buyer_org_id,
            result_id: d.result_id,
            demand_id: d.demand_id,
            expected_amount_fen: d.expected_amount_fen,
            contract_id: d.contract_id,
            created_at: d.created_at,
            updated_at: d.updated_at,
            events: None,
        }
    }
}

/// Whether `user` may read `deal`: its broker, the registrar, and members of either party.
fn may_read(user: &CurrentUser, deal: &deals::Model) -> bool {
    user.is_registrar()
        || deal.broker_id == user.user.id
        || user
            .active_organization()
            .is_some_and(|org| org == deal.seller_org_id || org == deal.buyer_org_id)
}

/// Opens a deal at stage `intent`; only brokers do.
pub async fn open(
    db: &DatabaseConnection,
    user: &CurrentUser,
    input: DealInput,
) -> AppResult<deals::Model> {
    if user.user.role != Role::Broker || user.user.membership != Membership::Active {
        return Err(AppError::Forbidden(
            "only active broker accounts open deals".into(),
        ));
    }
    let mut checks = Checks::plain();
    checks.name("title", &input.title, 1, 200);
    let title = input.title.trim().to_owned();
    checks.money("expected_amount_fen", input.expected_amount_fen);
    checks.check(
        input.seller_org_id != input.buyer_org_id,
        "buyer_org_id",
        "the buyer must be another organization than the seller",
    );
    let txn = begin_write(db).await?;
    for (field, id) in [
        ("seller_org_id", input.seller_org_id),
        ("buyer_org_id", input.buyer_org_id),
    ] {
        let found = organizations::Entity::find_by_id(id).one(&txn).await?;
        checks.found(found.is_some(), field, "organization");
    }
    if let Some(id) = input.result_id {
        let found = results::Entity::find_by_id(id).one(&txn).await?;
        checks.found(found.is_some(), "result_id", "result");
    }
    if let Some(id) = input.demand_id {
        let found = demands::Entity::find_by_id(id).one(&txn).await?;
        checks.found(found.is_some(), "demand_id", "demand");
    }
    checks.finish()?;
    let now = Utc::now();
    let deal = deals::ActiveModel {
        id: Set(Uuid::now_v7()),
        title: Set(title),
        broker_id: Set(user.user.id),
        seller_org_id: Set(input.seller_org_id),
        buyer_org_id: Set(input.buyer_org_id),
        result_id: Set(input.result_id),
        demand_id: Set(input.demand_id),
        expected_amount_fen: Set(input.expected_amount_fen),
        stage: Set(Stage::Intent),
        contract_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    record_event(&txn, deal.id, None, Stage::Intent, None, Some(user.user.id)).await?;
    txn.commit().await?;
    Ok(deal)
}

/// Writes one event of a deal.
pub(crate) async fn record_event<C: ConnectionTrait>(
    db: &C,
    deal_id: Uuid,
    from: Option<Stage>,
    to: Stage,
    note: Option<String>,
    actor_id: Option<Uuid>,
) -> Result<(), sea_orm::DbErr> {
    deal_events::Entity::insert(deal_events::ActiveModel {
        id: NotSet,
        deal_id: Set(deal_id),
        from_stage: Set(from),
        to_stage: Set(to),
        note: Set(note),
        actor_id: Set(actor_id),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Moves a deal: its broker or the registrar; `404` for anybody who may not read it, `403` for a
/// party that may read but not move it, `409` for a move the stages do not allow.
pub async fn move_stage(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: Uuid,
    input: StageInput,
) -> AppResult<deals::Model> {
    let note = input
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if let Some(note) = &note {
        let mut checks = Checks::plain();
        checks.text("note", note, 0, 2000);
        checks.finish()?;
    }
    let txn = begin_write(db).await?;
    let deal = deals::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|d| may_read(user, d))
        .ok_or_else(|| AppError::NotFound("no deal has this id".into()))?;
    if deal.broker_id != user.user.id && !user.is_registrar() {
        return Err(AppError::Forbidden(
            "only the deal's broker or the registrar move a deal".into(),
        ));
    }
    let from = deal.stage;
    if !from.can_move_to(input.stage) {
        return Err(AppError::Conflict(format!(
            "a deal cannot move from {} to {}",
            from.as_str(),
            input.stage.as_str()
        )));
    }
    // A compare-and-set on the stage read: of two concurrent moves (or a move and the
    // registration that closes the deal) only the first moves it; the other gets `409`.
    let now = Utc::now();
    let moved = deals::Entity::update_many()
        .col_expr(deals::Column::Stage, Expr::value(input.stage))
        .col_expr(deals::Column::UpdatedAt, Expr::value(now))
        .filter(deals::Column::Id.eq(id))
        .filter(deals::Column::Stage.eq(from))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "the deal moved from {} meanwhile; read it again",
            from.as_str()
        )));
    }
    let deal = deals::Model {
        stage: input.stage,
        updated_at: now,
        ..deal
    };
    record_event(
        &txn,
        id,
        Some(from),
        input.stage,
        note.clone(),
        Some(user.user.id),
    )
    .await?;
    if user.is_registrar() {
        audit::record(
            &txn,
            user.user.id,
            "deal.move",
            "deal",
            id,
            serde_json::json!({"from": from.as_str(), "to": input.stage.as_str(), "note": note}),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(deal)
}

/// One deal with its events, for those who may read it (`404` for anybody else).
pub async fn get(db: &DatabaseConnection, user: &CurrentUser, id: Uuid) -> AppResult<DealView> {
    let deal = deals::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|d| may_read(user, d))
        .ok_or_else(|| AppError::NotFound("no deal has this id".into()))?;
    let events = deal_events::Entity::find()
        .filter(deal_events::Column::DealId.eq(id))
        .order_by_asc(deal_events::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| DealEventView {
            from_stage: e.from_stage,
            to_stage: e.to_stage,
            note: e.note,
            actor_id: e.actor_id,
            at: e.created_at,
        })
        .collect();
    let mut view = DealView::from(deal);
    view.events = Some(events);
    Ok(view)
}

/// Deals the user may read, newest first: with `mine`, only those the user brokers or whose
/// parties include the user's organization (the registrar otherwise sees all).
pub async fn list(
    db: &DatabaseConnection,
    user: &CurrentUser,
    mine: bool,
    page: u64,
    per_page: u64,
) -> AppResult<(Vec<deals::Model>, u64)> {
    let mut condition = Condition::any().add(deals::Column::BrokerId.eq(user.user.id));
    if let Some(org) = user.active_organization() {
        condition = condition
            .add(deals::Column::SellerOrgId.eq(org))
            .add(deals::Column::BuyerOrgId.eq(org));
    }
    let mut query = deals::Entity::find();
    if mine || !user.is_registrar() {
        query = query.filter(condition);
    }
    let paginator = query
        .order_by_desc(deals::Column::CreatedAt)
        .order_by_desc(deals::Column::Id)
        .paginate(db, per_page);
    let total = paginator.num_items().await?;
    let items = paginator.fetch_page(page - 1).await?;
    Ok((items, total))
}

/// A broker's results in one year.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct BrokerYear {
    /// Year (of opening for deals, of registration for contracts).
    pub year: i32,
    /// Deals opened in the year, by their current stage.
    pub deals_by_stage: std::collections::BTreeMap<String, u64>,
    /// Contracts registered in the year that credit the broker.
    pub registered_contracts: u64,
    /// Their 合同成交额 in fen.
    pub total_amount_fen: i64,
    /// Their 技术交易额 in fen.
    pub technical_amount_fen: i64,
}

/// `GET /api/v1/brokers/{id}/performance`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BrokerPerformance {
    /// The broker.
    pub broker_id: Uuid,
    /// Name shown.
    pub display_name: String,
    /// Per year, oldest first.
    pub years: Vec<BrokerYear>,
}

/// A broker's deals and credited registered contracts per year: for the broker and the registrar
/// (`404` for anybody else, and for an id that is not a broker's).
pub async fn performance(
    db: &DatabaseConnection,
    user: &CurrentUser,
    broker_id: Uuid,
) -> AppResult<BrokerPerformance> {
    use crate::entity::{contracts, users};
    let not_found = || AppError::NotFound("no broker has this id".into());
    if broker_id != user.user.id && !user.is_registrar() {
        return Err(not_found());
    }
    let broker = users::Entity::find_by_id(broker_id)
        .one(db)
        .await?
        .filter(|u| u.role == Role::Broker)
        .ok_or_else(not_found)?;
    let mut years: std::collections::BTreeMap<i32, BrokerYear> = Default::default();
    let deals = deals::Entity::find()
        .filter(deals::Column::BrokerId.eq(broker_id))
        .all(db)
        .await?;
    for deal in deals {
        let year = chrono::Datelike::year(&deal.created_at);
        let entry = years.entry(year).or_insert_with(|| BrokerYear {
            year,
            ..Default::default()
        });
        // Keyed by the code, so that the JSON object lists the stages in the order of their codes.
        *entry
            .deals_by_stage
            .entry(deal.stage.as_str().to_owned())
            .or_default() += 1;
    }
    let credited = contracts::Entity::find()
        .filter(contracts::Column::BrokerId.eq(broker_id))
        .filter(contracts::Column::Status.eq(ContractStatus::Registered))
        .all(db)
        .await?;
    for contract in credited {
        let Some(on) = contract.registered_on else {
            continue;
        };
        let year = chrono::Datelike::year(&on);
        let entry = years.entry(year).or_insert_with(|| BrokerYear {
            year,
            ..Default::default()
        });
        entry.registered_contracts += 1;
        // Unbounded in count: checked, and a clear answer rather than a wrapped total.
        let overflow = || {
            AppError::Conflict(format!(
                "the broker's contracts of {year} sum beyond what one figure holds"
            ))
        };
        entry.total_amount_fen = entry
            .total_amount_fen
            .checked_add(contract.total_amount_fen)
            .ok_or_else(overflow)?;
        entry.technical_amount_fen = entry
            .technical_amount_fen
            .checked_add(contract.technical_amount_fen)
            .ok_or_else(overflow)?;
    }
    Ok(BrokerPerformance {
        broker_id,
        display_name: broker.display_name,
        years: years.into_values().collect(),
    })
}
