//! Text and numbers built to break a write: NUL in any JSON string or query parameter, amounts at
//! the edge of `i64`, and demo data offered to a database that already holds a catalogue.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, error_fields, spawn_app};

async fn researcher(app: &TestApp) -> String {
    app.register_with_new_org("r@xjtu.edu.cn", "researcher", "西安交通大学", "university")
        .await["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

fn result_body() -> Value {
    json!({
        "title": "风电齿轮箱早期故障诊断系统",
        "summary": "基于深度学习的风电齿轮箱早期故障诊断，提前两周预警。",
        "industry_codes": ["high_end_equipment"],
        "tech_field": "new_energy",
        "maturity_stage": "pilot_scale",
        "cooperation_modes": ["licence"]
    })
}

/// PostgreSQL refuses NUL in text with an error deep in the write (a 500 before); every JSON body
/// is checked once, before any route sees it, and the answer names the field wherever it is.
#[tokio::test]
async fn nul_in_any_json_string_is_a_422_naming_the_field() {
    let app = spawn_app().await;
    let token = researcher(&app).await;
    let registrar = app.registrar_token().await;
    let cases: Vec<(&str, Option<&str>, Value, &str)> = vec![
        (
            "/api/v1/results",
            Some(&token),
            {
                let mut body = result_body();
                body["title"] = json!("风电\u{0}齿轮箱");
                body
            },
            "title",
        ),
        (
            "/api/v1/results",
            Some(&token),
            {
                let mut body = result_body();
                body["keywords"] = json!(["风电", "齿轮\u{0}箱"]);
                body
            },
            "keywords[1]",
        ),
        (
            "/api/v1/contracts",
            Some(&token),
            json!({"project_name": "伺服\u{0}电机", "seller": {"name": "x"}}),
            "project_name",
        ),
        (
            "/api/v1/deals",
            Some(&token),
            json!({"title": "撮合\u{0}", "seller_org_id": null}),
            "title",
        ),
        (
            "/api/v1/auth/register",
            None,
            json!({"email": "n@x.cn", "password": "a-long-password-1", "display_name": "张\u{0}三",
                   "role": "researcher", "organization": {"name": "某大学", "kind": "university",
                   "region_code": "610113"}}),
            "display_name",
        ),
        (
            "/api/v1/auth/register",
            None,
            json!({"email": "n@x.cn", "password": "a-long-password-1", "display_name": "张三",
                   "role": "researcher", "organization": {"name": "某\u{0}大学", "kind": "university",
                   "region_code": "610113"}}),
            "organization.name",
        ),
        (
            "/api/v1/contracts/00000000-0000-0000-0000-000000000000/reject",
            Some(&registrar),
            json!({"reason_code": "not_technology", "detail": "理由\u{0}"}),
            "detail",
        ),
        (
            "/api/v1/organizations/00000000-0000-0000-0000-000000000000/qualifications",
            Some(&registrar),
            json!({"qualification": "tech_sme", "certificate_no": "GR\u{0}1", "valid_from": "2022-01-01"}),
            "certificate_no",
        ),
    ];
    for (path, token, body, field) in cases {
        let response = app.post_json(path, &body, token).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(
            error_fields(&problem),
            vec![field.to_owned()],
            "{path} {body}"
        );
    }
    // A key holding NUL is named too, and an escaped backslash before "u0000" is not NUL.
    let response = app
        .post_json("/api/v1/results", &json!({"ti\u{0}tle": "x"}), Some(&token))
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), vec!["ti\u{0}tle".to_owned()]);
    let mut literal = result_body();
    literal["details"] = json!("路径写作 \\u0000 不是空字符");
    let response = app
        .post_json("/api/v1/results", &literal, Some(&token))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn nul_in_a_query_parameter_is_a_422_naming_it() {
    let app = spawn_app().await;
    let token = researcher(&app).await;
    for (path, field) in [
        ("/api/v1/results?industry=%00", "industry"),
        ("/api/v1/demands?tech_field=ai%00x", "tech_field"),
        ("/api/v1/search?q=%E9%A3%8E%E7%94%B5%00", "q"),
        ("/api/v1/contracts?status=%00", "status"),
        ("/api/v1/deals?stage=%00", "stage"),
    ] {
        let response = app.get(path, Some(&token)).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&problem), vec![field.to_owned()], "{path}");
    }
}

#[tokio::test]
async fn amounts_of_a_listing_are_bounded() {
    let app = spawn_app().await;
    let token = researcher(&app).await;
    for price in [i64::MAX, 10_000_000_000_001, -1] {
        let mut body = result_body();
        body["price_fen"] = json!(price);
        let response = app.post_json("/api/v1/results", &body, Some(&token)).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(
            error_fields(&problem),
            vec!["price_fen".to_owned()],
            "{price}"
        );
    }
    let mut body = result_body();
    body["price_fen"] = json!(10_000_000_000_000_i64);
    let response = app.post_json("/api/v1/results", &body, Some(&token)).await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let enterprise = app
        .register_with_new_org("e@qc.cn", "enterprise", "秦川装备有限公司", "enterprise")
        .await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let demand = json!({
        "title": "高温合金涡轮盘残余应力在线检测",
        "description": "我公司批产涡轮盘需要在线检测残余应力，现有方法单件耗时两小时。",
        "industry_codes": ["aerospace"],
        "tech_field": "aerospace",
        "demand_type": "tech_development",
        "budget_fen": i64::MAX,
        "challenge": {
            "reward_fen": i64::MAX,
            "application_deadline": "2099-06-30",
            "max_duration_months": 12,
            "indicators": "检测精度优于10MPa",
            "ip_terms": "新产生的知识产权归双方共有",
            "selection_method": "expert_review"
        }
    });
    let response = app
        .post_json("/api/v1/demands", &demand, Some(&enterprise))
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let fields = error_fields(&problem);
    assert!(fields.contains(&"budget_fen".to_owned()), "{fields:?}");
    assert!(
        fields.contains(&"challenge.reward_fen".to_owned()),
        "{fields:?}"
    );
}

/// `migrate`, then an operator's import of a catalogue (organizations and results, no account),
/// then the first `serve`: the invented demo listings and contracts must not join the real ones.
#[tokio::test]
async fn demo_data_never_joins_an_imported_catalogue() {
    use techmarket::import::sources::Format;
    use techmarket::import::{ImportKind, ImportOptions, import_bytes};

    let app = spawn_app().await;
    let row = json!({
        "external_id": "XJTU-2026-001",
        "organization": {"name": "西安交通大学", "kind": "university", "region_code": "610113"},
        "title": "风电齿轮箱早期故障诊断系统",
        "summary": "基于深度学习的风电齿轮箱早期故障诊断，提前两周预警。",
        "industry_codes": ["high_end_equipment"],
        "tech_field": "new_energy",
        "maturity_stage": "pilot_scale",
        "cooperation_modes": ["licence"]
    });
    let report = import_bytes(
        app.db(),
        &app.state.reference,
        ImportKind::Results,
        Format::JsonLines,
        format!("{row}\n").into(),
        ImportOptions {
            publish: true,
            ..ImportOptions::default()
        },
    )
    .await
    .expect("import");
    assert_eq!(report.created, 1);

    let summary = techmarket::demo::load_if_empty(app.db(), &app.state.reference, 1)
        .await
        .expect("demo");
    assert_eq!(summary.results, 0);
    assert_eq!(summary.contracts, 0);
    assert!(summary.logins.is_empty());
    let listed: Value = app
        .get("/api/v1/results?per_page=100", None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["total"], 1, "only the imported result");
}

/// Names people read must be visible text: a title, an imported organization, a contract's
/// project and parties. (Accounts and organizations are tested in `accounts` and `organizations`.)
#[tokio::test]
async fn invisible_characters_in_names_are_refused_by_code_point() {
    let app = spawn_app().await;
    let token = researcher(&app).await;
    let mut body = result_body();
    body["title"] = json!("风电\u{200B}齿轮箱早期故障诊断系统");
    let response = app.post_json("/api/v1/results", &body, Some(&token)).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), vec!["title".to_owned()]);
    assert!(problem.to_string().contains("U+200B"), "{problem}");

    let row = json!({
        "organization": {"name": "西安电子科技大学\u{FEFF}", "kind": "university", "region_code": "610113"},
        "title": "风电齿轮箱早期故障诊断系统",
        "summary": "基于深度学习的风电齿轮箱早期故障诊断，提前两周预警。",
        "industry_codes": ["high_end_equipment"],
        "tech_field": "new_energy",
        "maturity_stage": "pilot_scale",
        "cooperation_modes": ["licence"]
    });
    let report = techmarket::import::import_bytes(
        app.db(),
        &app.state.reference,
        techmarket::import::ImportKind::Results,
        techmarket::import::sources::Format::JsonLines,
        format!("{row}\n").into(),
        techmarket::import::ImportOptions::default(),
    )
    .await
    .expect("import");
    assert_eq!(report.created, 0);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].field, "organization.name");

    let contract: techmarket::services::contracts::ContractInput = serde_json::from_value(json!({
        "project_name": "高性能伺服电机\u{2060}控制技术开发",
        "contract_type": "development",
        "sub_type": "commissioned_development",
        "seller": {"name": "西安交通大学\u{00AD}", "nature_code": "022", "region_code": "610113"},
        "buyer": {"name": "陕西某装备有限公司", "nature_code": "150", "region_code": "610116"},
        "signed_on": "2026-03-02",
        "valid_from": "2026-03-02",
        "valid_to": "2027-03-01",
        "total_amount_fen": 100,
        "non_technical_fen": 0,
        "tech_field": "advanced_manufacturing",
        "industry_codes": ["high_end_equipment"],
        "ip_types": []
    }))
    .expect("contract input");
    let Err(techmarket::error::AppError::Validation(errors)) =
        techmarket::services::contracts::validate(&app.state.reference, &contract)
    else {
        panic!("invisible characters in a contract's names are refused");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, vec!["project_name", "seller.name"]);
}
