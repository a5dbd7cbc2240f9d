//! Bulk import: files with good and bad rows, Chinese headers, re-imports, the HTTP import.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::process::techmarket_for;
use crate::helpers::{TestApp, assert_problem, spawn_app};

fn result_row(external_id: &str, title: &str) -> Value {
    json!({
        "external_id": external_id,
        "organization": {"name": "长安大学", "kind": "university", "region_code": "610113", "nature_code": "022"},
        "title": title,
        "summary": "沥青路面裂缝的无人机巡检与自动识别，识别准确率达到百分之九十五。",
        "keywords": ["路面检测", "无人机"],
        "industry_codes": ["artificial_intelligence"],
        "tech_field": "modern_transport",
        "maturity_stage": "pilot_scale",
        "cooperation_modes": ["licence"],
        "price_fen": 30_000_000
    })
}

async fn published_total(app: &TestApp) -> Value {
    let page: Value = app
        .get("/api/v1/results", None)
        .await
        .json()
        .await
        .expect("json");
    page["total"].clone()
}

#[tokio::test]
async fn a_jsonl_import_keeps_good_rows_reports_bad_ones_and_reimports_update() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("results.jsonl");
    let mut bad_code = result_row("r-3", "含有错误产业代码的成果");
    bad_code["industry_codes"] = json!(["steel"]);
    let mut fractional = result_row("r-5", "价格带小数的成果记录");
    fractional["price_fen"] = json!(99.5);
    let lines = [
        result_row("r-1", "路面裂缝无人机巡检系统").to_string(),
        result_row("r-2", "桥梁健康监测光纤传感网络").to_string(),
        bad_code.to_string(),
        "{ not json".to_owned(),
        fractional.to_string(),
        String::new(),
        result_row("r-1", "同一文件里重复的外部编号").to_string(),
    ];
    std::fs::write(&file, lines.join("\n")).expect("write");
    let output = techmarket_for(&app)
        .args(["import", "results"])
        .arg(&file)
        .arg("--publish")
        .output()
        .expect("run import");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("2 created, 0 updated, 4 rejected"),
        "{stdout}"
    );
    assert!(stdout.contains("line 3: industry_codes[0]"), "{stdout}");
    assert!(stdout.contains("line 4: row"), "{stdout}");
    assert!(stdout.contains("line 5: price_fen"), "{stdout}");
    assert!(stdout.contains("line 7: external_id"), "{stdout}");
    assert_eq!(published_total(&app).await, 2);

    // Re-importing the same external ids updates instead of duplicating.
    std::fs::write(
        &file,
        [
            result_row("r-1", "路面裂缝无人机巡检系统（第二版）").to_string(),
            result_row("r-2", "桥梁健康监测光纤传感网络").to_string(),
        ]
        .join("\n"),
    )
    .expect("write");
    let output = techmarket_for(&app)
        .args(["import", "results"])
        .arg(&file)
        .arg("--publish")
        .output()
        .expect("run import");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("0 created, 2 updated, 0 rejected"),
        "{stdout}"
    );
    assert_eq!(published_total(&app).await, 2);
    let page: Value = app
        .get("/api/v1/results?per_page=100", None)
        .await
        .json()
        .await
        .expect("json");
    let titles: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["title"].as_str())
        .collect();
    assert!(
        titles.contains(&"路面裂缝无人机巡检系统（第二版）"),
        "{titles:?}"
    );
    // The organization was created once, from the first row naming it.
    let orgs: Value = app
        .get("/api/v1/organizations?name=长安大学", None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(orgs["total"], 1);
}

#[tokio::test]
async fn a_csv_with_chinese_headers_and_labels_imports() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("成果.csv");
    let csv = "\u{feff}外部编号,成果名称,成果简介,关键词,所属产业,技术领域,成熟度,合作方式,知识产权,价格(分),单位名称,单位类型,行政区划代码\n\
        c-1,智能电网故障定位装置,基于行波原理的配电网故障精确定位，定位误差小于两百米。,行波；故障定位,人工智能、高端装备,新能源与高效节能,通过中试,技术转让;专利许可,发明专利:ZL202010000001.2:一种定位方法,面议,西安理工大学,高等院校,610103\n\
        c-2,缺少成果简介的一行,,关键词,人工智能,电子信息,通过中试,技术转让,,100,西安理工大学,高等院校,610103\n\
        c-3,行政区划代码错误的一行,这是一个足够长的成果简介，用来通过长度检查。,关键词,人工智能,电子信息,通过中试,技术转让,,100,某研究院,科研院所,999999\n";
    std::fs::write(&file, csv).expect("write");
    let output = techmarket_for(&app)
        .args(["import", "results"])
        .arg(&file)
        .arg("--publish")
        .output()
        .expect("run import");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("1 created, 0 updated, 2 rejected"),
        "{stdout}"
    );
    assert!(stdout.contains("line 3: summary"), "{stdout}");
    assert!(
        stdout.contains("line 4: organization.region_code"),
        "{stdout}"
    );
    let page: Value = app
        .get("/api/v1/results", None)
        .await
        .json()
        .await
        .expect("json");
    let item = &page["items"][0];
    assert_eq!(
        item["industry_codes"],
        json!(["artificial_intelligence", "high_end_equipment"])
    );
    assert_eq!(item["tech_field"], "new_energy");
    assert_eq!(item["maturity_stage"], "pilot_scale");
    assert_eq!(item["cooperation_modes"], json!(["transfer", "licence"]));
    assert_eq!(item["ip"][0]["ip_type"], "invention_patent");
    assert_eq!(item["price_negotiable"], true);

    // An unknown column stops the file before any row is written.
    std::fs::write(&file, "成果名称,颜色\n某成果,红色\n").expect("write");
    let output = techmarket_for(&app)
        .args(["import", "results"])
        .arg(&file)
        .output()
        .expect("run import");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("颜色"));
}

#[tokio::test]
async fn an_xlsx_workbook_imports_into_one_organization() {
    let app = spawn_app().await;
    let founder = app
        .register_with_new_org(
            "e@qinyu.cn",
            "enterprise",
            "西安擎宇航空结构件有限公司",
            "enterprise",
        )
        .await;
    let org_id = founder["user"]["organization_id"]
        .as_str()
        .expect("org")
        .to_owned();
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("demands.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let headers = [
        "需求名称",
        "需求描述",
        "关键词",
        "所属产业",
        "技术领域",
        "需求类型",
        "预算(分)",
        "截止日期",
        "榜额(分)",
        "揭榜截止日期",
        "最长周期(月)",
        "考核指标",
        "产权归属",
        "遴选方式",
    ];
    for (col, header) in headers.iter().enumerate() {
        sheet.write_string(0, col as u16, *header).expect("header");
    }
    let good = [
        "钛合金薄壁件加工变形控制",
        "航空薄壁结构件铣削后变形超差，需要工艺补偿方案，目标变形小于0.05毫米。",
        "钛合金;变形控制",
        "航空航天",
        "先进制造",
        "技术攻关/开发",
    ];
    for (col, text) in good.iter().enumerate() {
        sheet.write_string(1, col as u16, *text).expect("cell");
    }
    sheet.write_number(1, 6, 50_000_000.0).expect("budget");
    sheet.write_string(1, 7, "2028-06-30").expect("deadline");
    sheet.write_number(1, 8, 100_000_000.0).expect("reward");
    sheet
        .write_string(1, 9, "2099-03-31")
        .expect("application deadline");
    sheet.write_number(1, 10, 18.0).expect("months");
    sheet
        .write_string(1, 11, "加工变形小于0.05毫米，合格率达到百分之九十九")
        .expect("indicators");
    sheet
        .write_string(1, 12, "成果归双方共有")
        .expect("ip terms");
    sheet.write_string(1, 13, "专家评审").expect("method");
    // A second row with a budget that is not a whole number of fen.
    sheet.write_string(2, 0, "预算带小数的需求").expect("cell");
    sheet
        .write_string(2, 1, "这一行的预算不是整数分，应当被拒绝并报告字段。")
        .expect("cell");
    sheet.write_string(2, 3, "航空航天").expect("cell");
    sheet.write_string(2, 4, "先进制造").expect("cell");
    sheet.write_string(2, 5, "技术服务").expect("cell");
    sheet.write_number(2, 6, 100.5).expect("cell");
    workbook.save(&file).expect("save");

    let output = techmarket_for(&app)
        .args(["import", "demands"])
        .arg(&file)
        .args(["--org", &org_id, "--publish"])
        .output()
        .expect("run import");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("1 created, 0 updated, 1 rejected"),
        "{stdout}"
    );
    assert!(stdout.contains("line 3: budget_fen"), "{stdout}");
    let page: Value = app
        .get("/api/v1/demands?challenge=true", None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["total"], 1);
    let demand = &page["items"][0];
    assert_eq!(demand["organization"]["id"], org_id.as_str());
    assert_eq!(demand["challenge"]["selection_method"], "expert_review");
    assert_eq!(demand["challenge"]["reward_fen"], 100_000_000);
    assert_eq!(demand["demand_type"], "tech_development");
}

#[tokio::test]
async fn members_import_their_own_drafts_over_http() {
    let app = spawn_app().await;
    let researcher = app
        .register_with_new_org("r@chd.edu.cn", "researcher", "长安大学", "university")
        .await;
    let token = researcher["token"].as_str().expect("token").to_owned();
    let mut other_org = result_row("h-3", "冒名其他单位的成果");
    other_org["organization"]["name"] = json!("西北工业大学");
    let mut own_org = result_row("h-1", "本单位的路面检测成果");
    own_org
        .as_object_mut()
        .expect("object")
        .remove("organization");
    let body = [
        own_org.to_string(),
        result_row("h-2", "写明本单位名称的成果").to_string(),
        other_org.to_string(),
    ]
    .join("\n");
    let response = app
        .client
        .post(app.url("/api/v1/results/import"))
        .bearer_auth(&token)
        .header("content-type", "application/x-ndjson")
        .body(body.clone())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.expect("json");
    assert_eq!(report["created"], 2);
    assert_eq!(report["failed"], 1);
    assert_eq!(report["errors"][0]["line"], 3);
    assert_eq!(report["errors"][0]["field"], "organization");
    // Drafts: the owner sees them, the public does not.
    let mine: Value = app
        .get("/api/v1/results?status=draft", Some(&token))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine["total"], 2);
    assert_eq!(published_total(&app).await, 0);

    let enterprise = app
        .register_with_new_org("e@co.cn", "enterprise", "某装备有限公司", "enterprise")
        .await;
    let response = app
        .client
        .post(app.url("/api/v1/results/import"))
        .bearer_auth(enterprise["token"].as_str().expect("token"))
        .header("content-type", "application/x-ndjson")
        .body(body.clone())
        .send()
        .await
        .expect("request");
    assert_problem(response, StatusCode::FORBIDDEN).await;
    let response = app
        .client
        .post(app.url("/api/v1/results/import"))
        .bearer_auth(&token)
        .header("content-type", "application/pdf")
        .body(body)
        .send()
        .await
        .expect("request");
    assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let response = app
        .client
        .post(app.url("/api/v1/results/import"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body("颜色\n红色\n")
        .send()
        .await
        .expect("request");
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["errors"][0]["field"], "file");
    // Imports may be larger than the 1 MiB of ordinary requests.
    let big: String = (0..1500)
        .map(|i| {
            let mut row = result_row(&format!("big-{i}"), &format!("批量导入的第{i}项成果"));
            row.as_object_mut().expect("object").remove("organization");
            row["details"] = json!("详".repeat(300));
            row.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(big.len() > 1024 * 1024);
    let response = app
        .client
        .post(app.url("/api/v1/results/import"))
        .bearer_auth(&token)
        .header("content-type", "application/x-ndjson")
        .body(big)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.expect("json");
    assert_eq!(report["created"], 1500);
}
