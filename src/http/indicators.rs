//! `/api/v1/indicators`: the value of registered technology contracts against the policy's targets.

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::{AppQuery, Auth};
use crate::kernel::validation::Checks;
use crate::services::indicators::{self, Breakdown, Direction, Measure, Summary, TransactionValue};
use crate::services::reports::{self, ReportFormat};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(transaction_value))
        .routes(routes!(summary))
        .routes(routes!(transaction_value_chart))
        .routes(routes!(export_indicators))
}

/// Parameters of the transaction-value indicator.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ValueQuery {
    /// Year of registration (default: this year in Beijing).
    year: Option<i32>,
    /// `total` (合同成交额, default) or `technical` (技术交易额).
    measure: Option<Measure>,
    /// `outflow` (技术输出: sellers in Xi'an, default) or `inflow` (技术吸纳: buyers in Xi'an).
    direction: Option<Direction>,
    /// `month` (default), `quarter`, `contract_type`, `tech_field`, `industry`, `seller_nature`,
    /// `district` or `zone` (the Xi'an party's development zone; `none` = 未入园区).
    by: Option<Breakdown>,
}

/// 技术市场合同交易额: registered contracts of a year, broken down, against the policy's target.
///
/// Only `registered` contracts count, in the year and month of their registration date, with their
/// current (amended) amounts; a contract counts for Xi'an when the seller is in Xi'an (outflow)
/// or, with `direction=inflow`, the buyer. A party is in Xi'an when its region code starts with
/// `6101`, or when its organization on the market lies in one of Xi'an's development zones
/// (`zones`): 西咸新区, whose organizations carry 咸阳 codes (6104xx), is the city's 秦创原总窗口
/// (方案 二(二) "全力推动西咸新区秦创原总窗口建设") and counts for Xi'an. With `by=district` such a
/// party is grouped under its zone's code; with `by=zone` a party outside every zone is `none`
/// (未入园区). A contract with several industries counts under its first (`unclassified` without
/// one), so the groups of every breakdown sum to `count` and `value_fen`. Individual contracts
/// are never shown.
///
/// `target_fen` and `progress` are given only for `measure=total` and `direction=outflow`: the
/// plan's "全市技术市场合同交易额达到1500亿元" (2021; 1550亿 2022, 1600亿 2023) is one figure, the
/// 技术合同成交额 of the contracts registered in the city, and contracts are registered where
/// the seller is (技术输出). 技术吸纳 and 技术交易额 have no target: `null`.
///
/// An unknown `by`, `measure` or `direction`, or a parameter the route does not take, is a
/// `422` naming the parameter.
#[utoipa::path(get, path = "/api/v1/indicators/transaction-value", tag = "indicators",
    params(ValueQuery),
    responses(
        (status = 200, description = "the year's value and its breakdown", body = TransactionValue),
        (status = 422, description = "bad parameter"),
    ))]
async fn transaction_value(
    State(state): State<AppState>,
    _known: crate::http::extract::KnownParams<ValueQuery>,
    AppQuery(query): AppQuery<ValueQuery>,
) -> AppResult<axum::Json<TransactionValue>> {
    let year = resolve_year(query.year)?;
    Ok(axum::Json(
        indicators::transaction_value(
            &state.db,
            &state.reference,
            year,
            query.measure.unwrap_or_default(),
            query.direction.unwrap_or_default(),
            query.by.unwrap_or_default(),
        )
        .await?,
    ))
}

/// The year asked for, or this year in Beijing.
pub(crate) fn resolve_year(year: Option<i32>) -> AppResult<i32> {
    match year {
        Some(year) => {
            let mut checks = Checks::plain();
            checks.range("year", year, 1980, 2200);
            checks.finish()?;
            Ok(year)
        }
        None => Ok(chrono::Datelike::year(
            &crate::kernel::dates::today_in_china(),
        )),
    }
}

/// `?year=` of the summary.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct YearQuery {
    /// Year (default: this year in Beijing).
    year: Option<i32>,
}

/// Every yearly indicator of the policy (秦创原 方案) with the value the market's data gives for
/// it, its target and the progress; each says in `basis` exactly what is counted. Indicators the
/// market does not record have `actual: null`. `contract_value` is the 技术输出 合同成交额
/// (the measure and direction of the plan's 技术市场合同交易额 target); `brokers` counts the
/// brokers credited with at least one contract registered in the year that counts for Xi'an.
#[utoipa::path(get, path = "/api/v1/indicators/summary", tag = "indicators",
    params(YearQuery),
    responses(
        (status = 200, description = "the policy's indicators for the year", body = Summary),
        (status = 422, description = "bad year"),
    ))]
async fn summary(
    State(state): State<AppState>,
    _known: crate::http::extract::KnownParams<YearQuery>,
    AppQuery(query): AppQuery<YearQuery>,
) -> AppResult<axum::Json<Summary>> {
    let year = resolve_year(query.year)?;
    Ok(axum::Json(
        indicators::summary(&state.db, &state.reference, year).await?,
    ))
}

/// Parameters of the chart.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ChartQuery {
    /// Year of registration (default: this year in Beijing).
    year: Option<i32>,
    /// `total` (default) or `technical`.
    measure: Option<Measure>,
    /// `outflow` (default) or `inflow`.
    direction: Option<Direction>,
}

/// The year's cumulative value by month, as an SVG image to paste into a report (the same
/// numbers as `transaction-value?by=month`). The policy's target is drawn only for
/// `measure=total` and `direction=outflow`, the figure it is set for; the other charts have no
/// target line and no 完成目标 share.
#[utoipa::path(get, path = "/api/v1/indicators/transaction-value.svg", tag = "indicators",
    params(ChartQuery),
    responses(
        (status = 200, description = "the chart", content_type = "image/svg+xml", body = String),
        (status = 422, description = "bad parameter"),
    ))]
async fn transaction_value_chart(
    State(state): State<AppState>,
    _known: crate::http::extract::KnownParams<ChartQuery>,
    AppQuery(query): AppQuery<ChartQuery>,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let year = resolve_year(query.year)?;
    let value = indicators::transaction_value(
        &state.db,
        &state.reference,
        year,
        query.measure.unwrap_or_default(),
        query.direction.unwrap_or_default(),
        Breakdown::Month,
    )
    .await?;
    let svg = crate::services::indicators::chart::transaction_value_svg(&value);
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "image/svg+xml; charset=utf-8",
        )],
        svg,
    )
        .into_response())
}

/// Parameters of the indicator export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    /// Year of registration (default: this year in Beijing).
    year: Option<i32>,
    /// `csv` (default) or `xlsx`.
    format: Option<ReportFormat>,
}

/// Every breakdown of the year's transaction value, both directions and both measures, as a
/// spreadsheet with Chinese headers (registrar only). CSV: one long table (分组维度, 统计口径,
/// 分组代码, 分组, 合同数, 合同成交额（元）, 技术交易额（元）). XLSX: that table, one sheet per
/// breakdown with a 合计 row per direction, and the policy summary. The same file as
/// `techmarket export indicators`.
#[utoipa::path(get, path = "/api/v1/indicators/export", tag = "indicators",
    security(("bearer" = [])),
    params(ExportQuery),
    responses(
        (status = 200, description = "the file", content_type = "text/csv", body = String),
        (status = 403, description = "not the registrar"),
        (status = 422, description = "bad parameter"),
    ))]
async fn export_indicators(
    State(state): State<AppState>,
    Auth(user): Auth,
    _known: crate::http::extract::KnownParams<ExportQuery>,
    AppQuery(query): AppQuery<ExportQuery>,
) -> AppResult<axum::response::Response> {
    let year = resolve_year(query.year)?;
    let report = reports::indicators_report_for(&state.db, &state.reference, &user, year).await?;
    crate::http::download(&report, query.format.unwrap_or_default())
}
