//! Reports for the registrar: the contracts of a year and every breakdown of the indicators, as
//! CSV or XLSX with Chinese headers, for a spreadsheet or a report to the city.
//!
//! Amounts are written in 元 with exactly two decimals: CSV cells are exact decimal text built
//! from the integer fen; XLSX cells are numbers (Excel keeps every number as a double, which
//! holds any amount up to 90 万亿元 to the fen) shown with two decimals. CSV starts with a UTF-8
//! byte-order mark, without which Excel reads Chinese as mojibake.

use futures_util::TryStreamExt;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::entity::contracts;
use crate::error::{AppError, AppResult};
use crate::kernel::access::ensure_registrar;
use crate::kernel::json::strings;
use crate::reference::ReferenceData;
use crate::services::accounts::sessions::CurrentUser;
use crate::services::contracts::{ContractStatus, year_condition};
use crate::services::indicators::{self, Breakdown, Direction, Measure};

/// The file format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    /// Comma-separated values, UTF-8 with a byte-order mark; one table.
    #[default]
    Csv,
    /// An Excel workbook; several sheets where the report has them.
    Xlsx,
}

impl ReportFormat {
    /// The media type of the file.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

/// One cell of a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text (a name, a label, a date, digits such as the 合同登记编号), written as a string;
    /// in CSV through [`spreadsheet_safe`], so that no spreadsheet runs it as a formula.
    Text(String),
    /// A whole number (a count).
    Count(i64),
    /// An amount in fen, written in 元.
    Yuan(i64),
}

/// One table of a report: a CSV file or an XLSX sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// Sheet name (at most 31 characters).
    pub name: String,
    /// Column headers.
    pub headers: Vec<&'static str>,
    /// The rows, each as long as `headers`.
    pub rows: Vec<Vec<Cell>>,
}

/// A report: its sheets, the first of which is the CSV form.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// File name without extension, e.g. `技术合同-2023`.
    pub file_stem: String,
    /// The same in ASCII, for clients that ignore `filename*`, e.g. `contracts-2023`.
    pub ascii_stem: String,
    /// The sheets; CSV holds only the first.
    pub sheets: Vec<Sheet>,
}

impl Report {
    /// The file name with its extension.
    pub fn file_name(&self, format: ReportFormat) -> String {
        format!("{}.{}", self.file_stem, format.extension())
    }

    /// A `Content-Disposition` that saves the file under its Chinese name (RFC 6266 `filename*`),
    /// with the ASCII name for older clients.
    pub fn content_disposition(&self, format: ReportFormat) -> String {
        let encoded: String = self
            .file_name(format)
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        format!(
            "attachment; filename=\"{}.{}\"; filename*=UTF-8''{encoded}",
            self.ascii_stem,
            format.extension()
        )
    }

    /// The file's bytes.
    pub fn render(&self, format: ReportFormat) -> AppResult<Vec<u8>> {
        let first = self
            .sheets
            .first()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a report without sheets")))?;
        match format {
            ReportFormat::Csv => write_csv(first),
            ReportFormat::Xlsx => write_xlsx(&self.sheets),
        }
    }
}

/// `12345` fen as `123.45`, exactly.
pub fn yuan_text(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Text for a CSV cell that no spreadsheet runs as a formula (CSV injection): a cell starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return (OWASP's list) gets a leading apostrophe,
/// which Excel and LibreOffice show as text and which a reader can strip. Only text cells go
/// through it: amounts and counts are our own digits and stay exact.
pub fn spreadsheet_safe(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

fn write_csv(sheet: &Sheet) -> AppResult<Vec<u8>> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        let failed = |e: csv::Error| AppError::Internal(anyhow::anyhow!("writing CSV: {e}"));
        writer.write_record(&sheet.headers).map_err(failed)?;
        for row in &sheet.rows {
            writer
                .write_record(row.iter().map(|cell| match cell {
                    Cell::Text(text) => spreadsheet_safe(text).into_owned(),
                    Cell::Count(n) => n.to_string(),
                    Cell::Yuan(fen) => yuan_text(*fen),
                }))
                .map_err(failed)?;
        }
        writer
            .flush()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("writing CSV: {e}")))?;
    }
    Ok(out)
}

fn write_xlsx(sheets: &[Sheet]) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let failed =
        |e: rust_xlsxwriter::XlsxError| AppError::Internal(anyhow::anyhow!("writing XLSX: {e}"));
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    for sheet in sheets {
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(&sheet.name).map_err(failed)?;
        for (col, header) in sheet.headers.iter().enumerate() {
            let col = col as u16;
            worksheet
                .write_string_with_format(0, col, *header, &bold)
                .map_err(failed)?;
            worksheet
                .set_column_width(col, (header.chars().count() as f64 * 2.2).max(10.0))
                .map_err(failed)?;
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (col, cell) in row.iter().enumerate() {
                let col = col as u16;
                match cell {
                    Cell::Text(text) => worksheet.write_string(r, col, text),
                    Cell::Count(n) => worksheet.write_number(r, col, *n as f64),
                    Cell::Yuan(fen) => {
                        worksheet.write_number_with_format(r, col, *fen as f64 / 100.0, &money)
                    }
                }
                .map_err(failed)?;
            }
        }
        worksheet.set_freeze_panes(1, 0).map_err(failed)?;
        if !sheet.rows.is_empty() {
            worksheet
                .autofilter(
                    0,
                    0,
                    sheet.rows.len() as u32,
                    sheet.headers.len().saturating_sub(1) as u16,
                )
                .map_err(failed)?;
        }
    }
    workbook.save_to_buffer().map_err(failed)
}

fn labels(reference: &ReferenceData, kind: &str, codes: &sea_orm::JsonValue) -> String {
    strings(codes)
        .iter()
        .map(|code| reference.label_or_code(kind, code))
        .collect::<Vec<_>>()
        .join("、")
}

fn status_label(status: ContractStatus) -> &'static str {
    match status {
        ContractStatus::Submitted => "待登记",
        ContractStatus::CorrectionRequested => "待补正",
        ContractStatus::Registered => "已登记",
        ContractStatus::Rejected => "不予登记",
    }
}

const CONTRACT_HEADERS: [&str; 24] = [
    "合同登记编号",
    "状态",
    "项目名称",
    "合同类型",
    "合同子类",
    "卖方名称",
    "卖方性质",
    "卖方行政区划代码",
    "买方名称",
    "买方性质",
    "买方行政区划代码",
    "签订日期",
    "有效期起",
    "有效期止",
    "登记日期",
    "合同成交额（元）",
    "非技术性款项（元）",
    "技术交易额（元）",
    "技术领域",
    "产业",
    "知识产权类型",
    "规则版本",
    "版本",
    "合同ID",
];

fn contract_row(reference: &ReferenceData, c: &contracts::Model) -> Vec<Cell> {
    let text = Cell::Text;
    vec![
        text(c.registration_no.clone().unwrap_or_default()),
        text(status_label(c.status).to_owned()),
        text(c.project_name.clone()),
        text(reference.label_or_code("contract_types", &c.contract_type)),
        text(reference.label_or_code("contract_sub_types", &c.sub_type)),
        text(c.seller_name.clone()),
        text(reference.label_or_code("nature_codes", &c.seller_nature_code)),
        text(c.seller_region_code.clone()),
        text(c.buyer_name.clone()),
        text(reference.label_or_code("nature_codes", &c.buyer_nature_code)),
        text(c.buyer_region_code.clone()),
        text(c.signed_on.to_string()),
        text(c.valid_from.to_string()),
        text(c.valid_to.to_string()),
        text(c.registered_on.map(|d| d.to_string()).unwrap_or_default()),
        Cell::Yuan(c.total_amount_fen),
        Cell::Yuan(c.non_technical_fen),
        Cell::Yuan(c.technical_amount_fen),
        text(reference.label_or_code("tech_fields", &c.tech_field)),
        text(labels(reference, "industries", &c.industry_codes)),
        text(labels(reference, "ip_types", &c.ip_types)),
        text(c.rule_version.clone()),
        Cell::Count(c.version.into()),
        text(c.id.to_string()),
    ]
}

/// [`contracts_report`] for a user of the API: the registrar only.
pub async fn contracts_report_for(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    user: &CurrentUser,
    year: i32,
    status: ContractStatus,
) -> AppResult<Report> {
    ensure_registrar(user)?;
    contracts_report(db, reference, year, status).await
}

/// The contracts of `year` in `status` (registered: by registration date, in number order;
/// the others: by submission date). The command line calls it directly: whoever can run it
/// holds the database anyway.
pub async fn contracts_report(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    year: i32,
    status: ContractStatus,
) -> AppResult<Report> {
    let mut stream = contracts::Entity::find()
        .filter(contracts::Column::Status.eq(status))
        .filter(year_condition(year, Some(status)))
        .order_by_asc(contracts::Column::RegistrationNo)
        .order_by_asc(contracts::Column::SubmittedAt)
        .order_by_asc(contracts::Column::Id)
        .stream(db)
        .await?;
    let mut rows = Vec::new();
    while let Some(contract) = stream.try_next().await? {
        rows.push(contract_row(reference, &contract));
    }
    let suffix = match status {
        ContractStatus::Registered => String::new(),
        other => format!("-{}", status_label(other)),
    };
    Ok(Report {
        file_stem: format!("技术合同-{year}{suffix}"),
        ascii_stem: format!("contracts-{year}-{}", status.as_str()),
        sheets: vec![Sheet {
            name: format!("{year}年技术合同"),
            headers: CONTRACT_HEADERS.to_vec(),
            rows,
        }],
    })
}

/// Every breakdown, its sheet name and its Chinese name.
const BREAKDOWNS: [(Breakdown, &str); 8] = [
    (Breakdown::Month, "按月"),
    (Breakdown::Quarter, "按季度"),
    (Breakdown::ContractType, "按合同类型"),
    (Breakdown::TechField, "按技术领域"),
    (Breakdown::Industry, "按产业"),
    (Breakdown::SellerNature, "按卖方性质"),
    (Breakdown::District, "按区县"),
    (Breakdown::Zone, "按园区"),
];

const BREAKDOWN_HEADERS: [&str; 7] = [
    "分组维度",
    "统计口径",
    "分组代码",
    "分组",
    "合同数",
    "合同成交额（元）",
    "技术交易额（元）",
];

fn direction_label(direction: Direction) -> &'static str {
    match direction {
        Direction::Outflow => "技术输出",
        Direction::Inflow => "技术吸纳",
    }
}

/// [`indicators_report`] for a user of the API: the registrar only.
pub async fn indicators_report_for(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    user: &CurrentUser,
    year: i32,
) -> AppResult<Report> {
    ensure_registrar(user)?;
    indicators_report(db, reference, year).await
}

/// Every breakdown of the year's indicators in both directions with both measures, and the
/// policy summary. The first sheet (the CSV form) is the long table of every breakdown; then
/// one sheet per breakdown with a 合计 row per direction, then the summary.
pub async fn indicators_report(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    year: i32,
) -> AppResult<Report> {
    let mut long = Vec::new();
    let mut sheets = Vec::new();
    for (by, name) in BREAKDOWNS {
        let dimension = name.trim_start_matches('按');
        let mut rows = Vec::new();
        for direction in [Direction::Outflow, Direction::Inflow] {
            let total =
                indicators::transaction_value(db, reference, year, Measure::Total, direction, by)
                    .await?;
            let technical = indicators::transaction_value(
                db,
                reference,
                year,
                Measure::Technical,
                direction,
                by,
            )
            .await?;
            let groups: Vec<Vec<Cell>> = total
                .groups
                .iter()
                .map(|group| {
                    let technical_fen = technical
                        .groups
                        .iter()
                        .find(|g| g.key == group.key)
                        .map_or(0, |g| g.value_fen);
                    vec![
                        Cell::Text(dimension.to_owned()),
                        Cell::Text(direction_label(direction).to_owned()),
                        Cell::Text(group.key.clone()),
                        Cell::Text(group.label.clone()),
                        Cell::Count(group.count),
                        Cell::Yuan(group.value_fen),
                        Cell::Yuan(technical_fen),
                    ]
                })
                .collect();
            long.extend(groups.iter().cloned());
            rows.extend(groups);
            rows.push(vec![
                Cell::Text(dimension.to_owned()),
                Cell::Text(direction_label(direction).to_owned()),
                Cell::Text(String::new()),
                Cell::Text("合计".to_owned()),
                Cell::Count(total.count),
                Cell::Yuan(total.value_fen),
                Cell::Yuan(technical.value_fen),
            ]);
        }
        sheets.push(Sheet {
            name: name.to_owned(),
            headers: BREAKDOWN_HEADERS.to_vec(),
            rows,
        });
    }
    let summary = indicators::summary(db, reference, year).await?;
    let summary_rows = summary
        .indicators
        .iter()
        .map(|i| {
            let amount = |v: Option<i64>| match (v, i.unit.as_str()) {
                (None, _) => Cell::Text(String::new()),
                (Some(v), "fen") => Cell::Yuan(v),
                (Some(v), _) => Cell::Count(v),
            };
            vec![
                Cell::Text(i.code.clone()),
                Cell::Text(i.label.clone()),
                Cell::Text(if i.unit == "fen" { "元" } else { "个" }.to_owned()),
                amount(i.actual),
                amount(i.target),
                Cell::Text(
                    i.progress
                        .map(|p| format!("{:.1}%", p * 100.0))
                        .unwrap_or_default(),
                ),
                Cell::Text(i.basis.clone()),
            ]
        })
        .collect();
    let mut all = vec![Sheet {
        name: format!("{year}年指标分解"),
        headers: BREAKDOWN_HEADERS.to_vec(),
        rows: long,
    }];
    all.extend(sheets);
    all.push(Sheet {
        name: "政策指标".to_owned(),
        headers: vec![
            "指标代码",
            "指标",
            "单位",
            "实际",
            "目标",
            "完成进度",
            "统计口径",
        ],
        rows: summary_rows,
    });
    Ok(Report {
        file_stem: format!("技术市场指标-{year}"),
        ascii_stem: format!("indicators-{year}"),
        sheets: all,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_text_is_exact() {
        assert_eq!(yuan_text(0), "0.00");
        assert_eq!(yuan_text(5), "0.05");
        assert_eq!(yuan_text(123_456), "1234.56");
        assert_eq!(yuan_text(-101), "-1.01");
        assert_eq!(yuan_text(i64::MIN), "-92233720368547758.08");
        assert_eq!(yuan_text(10_000_000_000_000), "100000000000.00");
    }

    #[test]
    fn formulas_are_written_as_text_and_other_text_as_it_is() {
        for formula in ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1"] {
            assert_eq!(super::spreadsheet_safe(formula), format!("'{formula}"));
        }
        for text in ["西安交通大学", "a=b", " =1", "'quoted", ""] {
            assert_eq!(super::spreadsheet_safe(text), text);
        }
    }

    #[test]
    fn csv_starts_with_a_byte_order_mark_and_quotes_what_needs_it() {
        let sheet = Sheet {
            name: "t".into(),
            headers: vec!["名称", "金额（元）"],
            rows: vec![vec![Cell::Text("甲,乙\"丙\"".into()), Cell::Yuan(1)]],
        };
        let bytes = write_csv(&sheet).expect("csv");
        let text = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(text, "\u{feff}名称,金额（元）\n\"甲,乙\"\"丙\"\"\",0.01\n");
    }
}
