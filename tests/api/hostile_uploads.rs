//! Hostile files for the import routes and `techmarket import`: each case is generated here, with
//! the answer it must get. After every case the server still answers `/healthz`, and a file-level
//! error wrote no listing at all (the good rows in these files would otherwise be imported).

use std::io::{Cursor, Read, Write};

use reqwest::{Response, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use techmarket::Settings;

use crate::helpers::process::techmarket_for;
use crate::helpers::{TestApp, assert_problem, spawn_app, spawn_app_with};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const HEADERS: [&str; 11] = [
    "成果名称",
    "成果简介",
    "关键词",
    "所属产业",
    "技术领域",
    "成熟度",
    "合作方式",
    "价格(分)",
    "单位名称",
    "单位类型",
    "行政区划代码",
];

/// A good row for [`HEADERS`]; `n` makes the title unique.
fn good_cells(n: usize) -> Vec<String> {
    [
        &format!("智能电网故障定位装置第{n}代"),
        "基于行波原理的配电网故障精确定位，定位误差小于两百米。",
        "行波；故障定位",
        "人工智能",
        "新能源与高效节能",
        "通过中试",
        "技术转让",
        "面议",
        "长安大学",
        "高等院校",
        "610113",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn csv_line(cells: &[String]) -> String {
    cells.join(",") + "\n"
}

fn good_csv(rows: usize) -> String {
    let mut csv = HEADERS.join(",") + "\n";
    for n in 1..=rows {
        csv += &csv_line(&good_cells(n));
    }
    csv
}

fn good_json(n: usize) -> String {
    json!({
        "organization": {"name": "长安大学", "kind": "university", "region_code": "610113"},
        "title": format!("路面裂缝无人机巡检系统第{n}代"),
        "summary": "沥青路面裂缝的无人机巡检与自动识别，识别准确率达到百分之九十五。",
        "keywords": ["路面检测", "无人机"],
        "industry_codes": ["artificial_intelligence"],
        "tech_field": "modern_transport",
        "maturity_stage": "pilot_scale",
        "cooperation_modes": ["licence"],
        "price_fen": 30_000_000
    })
    .to_string()
        + "\n"
}

/// A real workbook (rust_xlsxwriter, shared strings) with the headers and one good row.
fn good_workbook() -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, header) in HEADERS.iter().enumerate() {
        sheet.write_string(0, col as u16, *header).expect("header");
    }
    for (col, text) in good_cells(1).iter().enumerate() {
        sheet.write_string(1, col as u16, text).expect("cell");
    }
    workbook.save_to_buffer().expect("xlsx")
}

/// `base` zipped again with each part passed through `edit`, and `extra` parts added.
fn rezip(
    base: &[u8],
    edit: impl Fn(&str, Vec<u8>) -> Vec<u8>,
    extra: Vec<(String, Vec<u8>)>,
) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(base)).expect("zip");
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut parts = Vec::new();
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).expect("part");
        let name = part.name().expect("name").into_owned();
        let mut bytes = Vec::new();
        part.read_to_end(&mut bytes).expect("read part");
        parts.push((name.clone(), edit(&name, bytes)));
    }
    for (name, bytes) in parts.into_iter().chain(extra) {
        out.start_file(name, options).expect("start");
        out.write_all(&bytes).expect("write");
    }
    out.finish().expect("finish").into_inner()
}

fn replace_part(base: &[u8], part: &str, bytes: Vec<u8>) -> Vec<u8> {
    rezip(
        base,
        |name, old| if name == part { bytes.clone() } else { old },
        Vec::new(),
    )
}

/// The workbook with `<sst uniqueCount>` set to `count`.
fn unique_count(count: &str) -> Vec<u8> {
    rezip(
        &good_workbook(),
        |name, bytes| {
            if name != "xl/sharedStrings.xml" {
                return bytes;
            }
            let text = String::from_utf8(bytes).expect("utf-8");
            let start = text.find("uniqueCount=\"").expect("uniqueCount") + 13;
            let end = start + text[start..].find('"').expect("quote");
            format!("{}{count}{}", &text[..start], &text[end..]).into_bytes()
        },
        Vec::new(),
    )
}

/// A sheet written by hand, with inline strings: the header row, good rows `2..=good+1`, then
/// `tail` (raw XML rows); `dimension` as given.
fn sheet_xml(dimension: &str, good: usize, tail: &str) -> Vec<u8> {
    let row = |r: usize, cells: &[String]| {
        let cells: String = cells
            .iter()
            .enumerate()
            .map(|(c, text)| {
                let column = char::from(b'A' + c as u8);
                format!(r#"<c r="{column}{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
            })
            .collect();
        format!(r#"<row r="{r}">{cells}</row>"#)
    };
    let headers: Vec<String> = HEADERS.iter().map(|h| (*h).to_owned()).collect();
    let mut rows = row(1, &headers);
    for n in 1..=good {
        rows += &row(n + 1, &good_cells(n));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData>{rows}{tail}</sheetData></worksheet>"#
    )
    .into_bytes()
}

fn with_sheet(sheet: Vec<u8>) -> Vec<u8> {
    replace_part(&good_workbook(), "xl/worksheets/sheet1.xml", sheet)
}

/// Sets the inflated size that the local and the central header declare for `part`.
fn declare_size(zip: &mut [u8], part: &str, size: u32) {
    let name = part.as_bytes();
    let mut patched = 0;
    for at in 0..zip.len().saturating_sub(46 + name.len()) {
        // (offset of the inflated size, offset of the name) in a local or a central header
        let (size_at, name_at) = match &zip[at..at + 4] {
            b"PK\x03\x04" => (22, 30),
            b"PK\x01\x02" => (24, 46),
            _ => continue,
        };
        if zip[at + name_at..].starts_with(name) {
            zip[at + size_at..at + size_at + 4].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "local and central header of {part}");
}

/// The workbook with `kib` KiB of extra shared strings (no cell uses them) in a few KiB of zip.
pub fn shared_strings_bomb(kib: usize) -> Vec<u8> {
    rezip(
        &good_workbook(),
        |name, bytes| {
            if name != "xl/sharedStrings.xml" {
                return bytes;
            }
            let text = String::from_utf8(bytes).expect("utf-8");
            let held = text.matches("<si>").count();
            let filler = format!("<si><t>{}</t></si>", "字".repeat(336)).repeat(kib);
            text.replace(
                &format!("uniqueCount=\"{held}\""),
                &format!("uniqueCount=\"{}\"", held + kib),
            )
            .replace("</sst>", &format!("{filler}</sst>"))
            .into_bytes()
        },
        Vec::new(),
    )
}

async fn researcher(app: &TestApp) -> String {
    let answer = app
        .register_with_new_org("r@chd.edu.cn", "researcher", "长安大学", "university")
        .await;
    answer["token"].as_str().expect("token").to_owned()
}

async fn upload(app: &TestApp, token: &str, content_type: &str, body: Vec<u8>) -> Response {
    app.client
        .post(app.url("/api/v1/results/import"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request")
}

async fn listings(app: &TestApp) -> u64 {
    let results = techmarket::entity::results::Entity::find()
        .count(app.db())
        .await
        .expect("count results");
    let demands = techmarket::entity::demands::Entity::find()
        .count(app.db())
        .await
        .expect("count demands");
    results + demands
}

/// The server still answers, and nothing was written.
async fn assert_unharmed(app: &TestApp, case: &str) {
    let health = app.get("/healthz", None).await;
    assert_eq!(health.status(), StatusCode::OK, "{case}: /healthz");
    assert_eq!(listings(app).await, 0, "{case}: no listing may be written");
}

/// `422` naming `file`, with a message containing `says`.
async fn refused(response: Response, case: &str, says: &str) {
    let status = response.status();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{case}");
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["errors"][0]["field"], "file", "{case}: {problem}");
    let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(says),
        "{case}: {message:?} should say {says:?}"
    );
}

#[tokio::test]
async fn the_good_files_of_this_corpus_import() {
    // The control: without its hostile part, each generator's file imports its rows.
    let app = spawn_app().await;
    let token = researcher(&app).await;
    let cases: [(&str, &str, Vec<u8>); 4] = [
        ("workbook", XLSX, good_workbook()),
        (
            "hand-written sheet",
            XLSX,
            with_sheet(sheet_xml("A1:K3", 2, "")),
        ),
        ("csv", "text/csv", good_csv(2).into_bytes()),
        (
            "json lines",
            "application/x-ndjson",
            (good_json(1) + &good_json(2)).into_bytes(),
        ),
    ];
    let mut expected = 0;
    for (case, content_type, body) in cases {
        let rows = if case == "workbook" { 1 } else { 2 };
        let response = upload(&app, &token, content_type, body).await;
        assert_eq!(response.status(), StatusCode::OK, "{case}");
        let report: Value = response.json().await.expect("json");
        assert_eq!(report["failed"], 0, "{case}: {report}");
        expected += rows;
        assert_eq!(listings(&app).await, expected, "{case}");
    }
}

#[tokio::test]
async fn hostile_workbooks_are_refused_before_calamine_trusts_them() {
    let app = spawn_app().await;
    let token = researcher(&app).await;
    let mut lying = with_sheet(sheet_xml(
        "A1:K5002",
        3,
        &"<row><c t=\"inlineStr\"><is><t>filler</t></is></c></row>".repeat(5000),
    ));
    declare_size(&mut lying, "xl/worksheets/sheet1.xml", 12_000);
    let junk: Vec<(String, Vec<u8>)> = (0..1001)
        .map(|i| (format!("customXml/item{i}.bin"), vec![b'x'; 8]))
        .collect();
    let many_entries = rezip(&good_workbook(), |_, bytes| bytes, junk);
    let workbook = good_workbook();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        // Made calamine reserve 1e17 strings: the process aborted.
        (
            "uniqueCount 1e17",
            unique_count("100000000000000000"),
            "declares 100000000000000000 shared strings",
        ),
        // A capacity overflow: a panic, 500.
        (
            "uniqueCount 2^64-1",
            unique_count("18446744073709551615"),
            "shared strings but holds",
        ),
        (
            "a central directory that declares less than the sheet inflates to",
            lying,
            "declared",
        ),
        ("too many zip entries", many_entries, "zip entries"),
        (
            "a cell beyond column XFD",
            with_sheet(sheet_xml(
                "A1:K2",
                1,
                r#"<row r="3"><c r="XFE3" t="inlineStr"><is><t>x</t></is></c></row>"#,
            )),
            "outside the sheet",
        ),
        (
            "a cell reference that overflows calamine's arithmetic",
            with_sheet(sheet_xml(
                "A1:K2",
                1,
                r#"<row r="3"><c r="ZZZZZZZZ3"><v>1</v></c></row>"#,
            )),
            "outside the sheet",
        ),
        (
            "a dimension whose end is before its start",
            with_sheet(sheet_xml("K3:A1", 1, "")),
            "not a range",
        ),
        (
            "a row beyond the sheet",
            with_sheet(sheet_xml(
                "A1:K2",
                1,
                r#"<row r="99999999999"><c><v>1</v></c></row>"#,
            )),
            "outside the sheet",
        ),
        (
            "not a zip",
            b"this is no workbook at all".to_vec(),
            "not a readable .xlsx",
        ),
        (
            "a truncated zip",
            workbook[..workbook.len() / 2].to_vec(),
            "not a readable .xlsx",
        ),
        ("an empty file", Vec::new(), "not a readable .xlsx"),
    ];
    for (case, body, says) in cases {
        refused(upload(&app, &token, XLSX, body).await, case, says).await;
        assert_unharmed(&app, case).await;
    }
}

#[tokio::test]
async fn a_cell_far_away_is_one_bad_row_not_a_dense_sheet() {
    // A dense range of A1:XFD1048576 would be 17 G cells; the cells are streamed instead.
    let app = spawn_app().await;
    let token = researcher(&app).await;
    let far = with_sheet(sheet_xml(
        "A1:XFD1048576",
        0,
        r#"<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far</t></is></c></row>"#,
    ));
    let response = upload(&app, &token, XLSX, far).await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.expect("json");
    assert_eq!(report["created"], 0, "{report}");
    assert_eq!(report["failed"], 1, "{report}");
    assert_eq!(report["errors"][0]["line"], 1_048_576, "{report}");
    assert_unharmed(&app, "far cell").await;
}

#[tokio::test]
async fn a_workbook_that_inflates_beyond_the_limits_is_refused_before_parsing() {
    let app = spawn_app_with(|settings: &mut Settings| {
        settings.max_import_part_bytes = 2 * 1024 * 1024;
        settings.max_import_inflated_bytes = 4 * 1024 * 1024;
    })
    .await;
    let token = researcher(&app).await;
    let bomb = shared_strings_bomb(6 * 1024);
    assert!(bomb.len() < 256 * 1024, "{} bytes", bomb.len());
    // Parts each under the part limit, together over the total.
    let spread = rezip(
        &good_workbook(),
        |_, bytes| bytes,
        (0..3)
            .map(|i| (format!("xl/media/image{i}.bin"), vec![0u8; 1536 * 1024]))
            .collect(),
    );
    let cases = [
        ("a shared-strings zip bomb", bomb, "max_import_part_bytes"),
        ("parts that add up", spread, "max_import_inflated_bytes"),
    ];
    for (case, body, says) in cases {
        refused(upload(&app, &token, XLSX, body).await, case, says).await;
        assert_unharmed(&app, case).await;
    }
}

#[tokio::test]
async fn hostile_text_files_write_nothing_or_only_their_good_rows() {
    let app = spawn_app().await;
    let token = researcher(&app).await;
    let mut bad_utf8_csv = good_csv(1).into_bytes();
    bad_utf8_csv.extend_from_slice(b"\xd6\xc7\xc4\xdc,GBK text\n"); // 智能 in GBK, at line 3
    bad_utf8_csv.extend_from_slice(csv_line(&good_cells(2)).as_bytes());
    let mut bad_utf8_jsonl = (good_json(1) + &good_json(2)).into_bytes();
    bad_utf8_jsonl.extend_from_slice(b"{\"title\": \"\xff\xfe\"}\n");
    bad_utf8_jsonl.extend_from_slice(good_json(3).as_bytes());
    let mut huge_field = good_cells(2);
    huge_field[1] = "长".repeat(700_000);
    let unterminated = good_csv(1) + "\"智能电网,没有闭合的引号\n" + &csv_line(&good_cells(2));
    let csv = "text/csv";
    let jsonl = "application/x-ndjson";
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        (
            "csv with invalid UTF-8 at line 3",
            csv,
            bad_utf8_csv,
            "line 3 is not UTF-8",
        ),
        (
            "csv with an unterminated quote",
            csv,
            unterminated.into_bytes(),
            "line 3: a quoted field",
        ),
        (
            "csv with one huge field",
            csv,
            (good_csv(1) + &csv_line(&huge_field)).into_bytes(),
            "max_import_row_bytes",
        ),
        ("an empty csv", csv, Vec::new(), "empty"),
        (
            "json lines with invalid UTF-8 at line 3",
            jsonl,
            bad_utf8_jsonl,
            "line 3 is not UTF-8",
        ),
        (
            "json lines with one huge line",
            jsonl,
            (good_json(1) + &format!("{{\"title\": \"{}\"}}\n", "长".repeat(400_000))).into_bytes(),
            "line 2 is longer",
        ),
        ("empty json lines", jsonl, b"\n\n".to_vec(), "empty"),
    ];
    for (case, content_type, body, says) in cases {
        refused(upload(&app, &token, content_type, body).await, case, says).await;
        assert_unharmed(&app, case).await;
    }

    // Row-level trouble: the row is reported, the server lives, nothing else is written.
    let deep = format!(
        "{{\"title\": {}{}}}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let mut nul_csv = HEADERS.join(",") + "\n";
    let mut nul_cells = good_cells(1);
    nul_cells[0] = "带\u{0}空字符的成果".to_owned();
    nul_csv += &csv_line(&nul_cells);
    let nul_json = good_json(1).replace("巡检系统", "巡检\\u0000系统");
    let rows: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        ("json nested 100,000 deep", jsonl, deep.into_bytes(), "row"),
        (
            "a NUL byte in a csv field",
            csv,
            nul_csv.into_bytes(),
            "title",
        ),
        (
            "a NUL character in a json field",
            jsonl,
            nul_json.into_bytes(),
            "title",
        ),
        (
            "a csv of only headers",
            csv,
            (HEADERS.join(",") + "\n").into_bytes(),
            "",
        ),
    ];
    for (case, content_type, body, field) in rows {
        let response = upload(&app, &token, content_type, body).await;
        assert_eq!(response.status(), StatusCode::OK, "{case}");
        let report: Value = response.json().await.expect("json");
        assert_eq!(report["created"], 0, "{case}: {report}");
        if field.is_empty() {
            assert_eq!(report["failed"], 0, "{case}: {report}");
        } else {
            assert_eq!(report["failed"], 1, "{case}: {report}");
            assert_eq!(report["errors"][0]["field"], field, "{case}: {report}");
        }
        assert_unharmed(&app, case).await;
    }
}

#[tokio::test]
async fn the_command_line_import_writes_nothing_from_a_broken_file() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("tmp");
    let mut bad_utf8 = (good_json(1) + &good_json(2)).into_bytes();
    bad_utf8.extend_from_slice(b"\xff\n");
    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("results.jsonl", bad_utf8, "line 3 is not UTF-8"),
        (
            "results.csv",
            (good_csv(600) + "\"never closed,\n").into_bytes(),
            "never closes",
        ),
        (
            "results.xlsx",
            unique_count("100000000000000000"),
            "declares 100000000000000000",
        ),
    ];
    for (name, bytes, says) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).expect("write");
        let output = techmarket_for(&app)
            .args(["import", "results"])
            .arg(&file)
            .arg("--publish")
            .output()
            .expect("run import");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains(says), "{name}: {stderr}");
        assert_unharmed(&app, name).await;
    }
}
