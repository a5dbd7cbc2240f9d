//! Matching demands with results (and back), and the possible duplicates a submission lists:
//! what is shared must say what both listings are about.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{eventually, ids, market, publish, result};
use crate::helpers::{TestApp, spawn_app};

#[tokio::test]
async fn demands_and_results_match_with_reasons() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let vision = publish(
        &app,
        &m,
        &result(
            "冲压件表面缺陷的机器视觉在线检测系统",
            "面向冲压件和轴类零件的机器视觉缺陷检测，识别划伤、压痕和毛刺，漏检率低于千分之一。",
            "artificial_intelligence",
        ),
    )
    .await;
    publish(
        &app,
        &m,
        &result(
            "动力电池热失控预警装置",
            "基于多传感器融合的动力电池热失控早期预警，预警提前量大于五分钟。",
            "new_materials_new_energy",
        ),
    )
    .await;
    let enterprise = app
        .register_with_new_org(
            "e@stamping.cn",
            "enterprise",
            "西安冲压件有限公司",
            "enterprise",
        )
        .await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let demand: Value = app
        .post_json(
            "/api/v1/demands",
            &json!({
                "title": "冲压件表面划伤的在线检测",
                "description": "我公司冲压件表面划伤和压痕依靠人工目检，漏检严重，希望引进机器视觉缺陷检测方案。",
                "keywords": ["机器视觉", "缺陷检测"],
                "industry_codes": ["artificial_intelligence"],
                "tech_field": "electronic_information",
                "demand_type": "result_introduction"
            }),
            Some(&enterprise),
        )
        .await
        .json()
        .await
        .expect("json");
    let demand_id = demand["id"].as_str().expect("id").to_owned();
    // While it is a draft, only its poster (and the registrar) can ask for its matches.
    assert_eq!(
        app.get(&format!("/api/v1/demands/{demand_id}/matches"), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let (_, _) = eventually(&app, "q=冲压件", |a| a["total"] == 1).await;
    let matches: Value = app
        .get(
            &format!("/api/v1/demands/{demand_id}/matches?limit=5"),
            Some(&enterprise),
        )
        .await
        .json()
        .await
        .expect("json");
    let best = &matches["items"][0];
    assert_eq!(best["result"]["id"], vision.as_str(), "{matches}");
    let reasons: Vec<&str> = best["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(reasons.contains(&"同属人工智能产业"), "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("共同关键词：") && r.contains("机器视觉")),
        "{reasons:?}"
    );
    assert!(
        best["matched_terms"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );

    // And back: the result finds the demand once it is published.
    app.post_json(
        &format!("/api/v1/demands/{demand_id}/submit"),
        &json!({}),
        Some(&enterprise),
    )
    .await;
    app.post_json(
        &format!("/api/v1/demands/{demand_id}/review"),
        &json!({"decision": "approve"}),
        Some(&m.registrar),
    )
    .await;
    let (_, _) = eventually(&app, "q=划伤&kind=demand", |a| a["total"] == 1).await;
    let back: Value = app
        .get(&format!("/api/v1/results/{vision}/matches"), None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        back["items"][0]["demand"]["id"],
        demand_id.as_str(),
        "{back}"
    );
    assert_eq!(
        app.get(&format!("/api/v1/results/{vision}/matches?limit=0"), None)
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn submitting_a_near_duplicate_lists_the_published_original() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let body = result(
        "基于机器视觉的PCB缺陷检测系统",
        "采用深度学习的印制电路板表面缺陷检测，漏检率低于千分之一，适用于SMT产线。",
        "artificial_intelligence",
    );
    let original = publish(&app, &m, &body).await;
    let (_, _) = eventually(&app, "q=印制电路板", |a| ids(a).contains(&original)).await;
    let copy: Value = app
        .post_json("/api/v1/results", &body, Some(&m.researcher))
        .await
        .json()
        .await
        .expect("json");
    let submitted: Value = app
        .post_json(
            &format!(
                "/api/v1/results/{}/submit",
                copy["id"].as_str().expect("id")
            ),
            &json!({}),
            Some(&m.researcher),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(
        submitted["possible_duplicates"][0]["listing"]["id"],
        original.as_str(),
        "{submitted}"
    );
    // Something unrelated has none.
    let other: Value = app
        .post_json(
            "/api/v1/results",
            &result(
                "黄土高原苹果园节水灌溉",
                "基于土壤墒情监测的滴灌决策，节水百分之三十。",
                "food_biomedicine",
            ),
            Some(&m.researcher),
        )
        .await
        .json()
        .await
        .expect("json");
    let submitted: Value = app
        .post_json(
            &format!(
                "/api/v1/results/{}/submit",
                other["id"].as_str().expect("id")
            ),
            &json!({}),
            Some(&m.researcher),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(submitted["possible_duplicates"], json!([]));
}

/// A result of the new-energy and vehicle fixtures below.
fn listing(title: &str, summary: &str, keywords: &[&str], industry: &str, field: &str) -> Value {
    json!({
        "title": title,
        "summary": summary,
        "keywords": keywords,
        "industry_codes": [industry],
        "tech_field": field,
        "maturity_stage": "pilot_scale",
        "cooperation_modes": ["licence"]
    })
}

/// An enterprise's token.
async fn enterprise(app: &TestApp) -> String {
    app.register_with_new_org(
        "e@qinchu.cn",
        "enterprise",
        "陕西秦储新能源科技有限公司",
        "enterprise",
    )
    .await["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// The matches of a demand posted (as a draft) by `token`.
async fn demand_matches(app: &TestApp, token: &str, demand: &Value) -> Value {
    let created: Value = app
        .post_json("/api/v1/demands", demand, Some(token))
        .await
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id");
    let response = app
        .get(
            &format!("/api/v1/demands/{id}/matches?limit=10"),
            Some(token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

fn matched_ids(matches: &Value) -> Vec<&str> {
    matches["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["result"]["id"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// Every shared word shown, as a term or in a reason, says what the listings are about.
fn assert_only_telling_words(matches: &Value) {
    for item in matches["items"].as_array().into_iter().flatten() {
        for term in item["matched_terms"].as_array().into_iter().flatten() {
            let term = term.as_str().expect("term");
            assert!(search_index::telling::is_telling(term), "{term}: {item}");
        }
        for reason in item["reasons"].as_array().into_iter().flatten() {
            let reason = reason.as_str().expect("reason");
            if let Some(words) = reason.strip_prefix("共同关键词：") {
                for word in words.split('、') {
                    assert!(search_index::telling::is_telling(word), "{word}: {item}");
                }
            }
        }
    }
}

#[tokio::test]
async fn a_demand_sharing_one_generic_word_with_a_result_does_not_match_it() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let energy = "new_materials_new_energy";
    let fire = publish(
        &app,
        &m,
        &listing(
            "储能舱热失控早期预警与全氟己酮灭火联动装置",
            "面向储能舱的锂电池热失控早期预警，探测到热失控后联动全氟己酮与细水雾灭火，\
             灭火后持续喷淋防止复燃，已通过大尺度燃烧试验。",
            &["储能安全", "热失控", "全氟己酮"],
            energy,
            "new_energy",
        ),
    )
    .await;
    let grid = publish(
        &app,
        &m,
        &listing(
            "高速公路服务区光伏储能充电微电网",
            "服务区光伏发电、储能与充电桩协同运行的微电网，储能容量2兆瓦时，开展了削峰填谷运行，\
             储能效率大于90%。",
            &["微电网", "储能"],
            energy,
            "new_energy",
        ),
    )
    .await;
    let bus = publish(
        &app,
        &m,
        &listing(
            "纯电动公交车动力电池液冷热管理系统",
            "液冷板与热泵结合的电池热管理，在高温工况下电芯温差小于3℃，累计运行10万公里，\
             开展了整车验证。",
            &["热管理", "液冷"],
            "automotive",
            "modern_transport",
        ),
    )
    .await;
    let axle = publish(
        &app,
        &m,
        &listing(
            "商用车电驱动桥齿轮修形与啸叫噪声控制",
            "针对电驱桥高速齿轮啸叫，提出齿轮修形与壳体模态优化方法，NVH台架试验中啸叫降低\
             6dB(A)，可用于重卡电驱桥。",
            &["电驱桥", "齿轮修形", "NVH"],
            "automotive",
            "modern_transport",
        ),
    )
    .await;
    let (_, _) = eventually(&app, "q=", |a| a["total"] == 4).await;
    let token = enterprise(&app).await;

    // Storage fire suppression: the microgrid shares 储能, its industry and its 技术领域, and is
    // no partner for it.
    let matches = demand_matches(
        &app,
        &token,
        &json!({
            "title": "储能舱全氟己酮与细水雾复合消防技术引进",
            "description": "现有储能舱采用七氟丙烷灭火，对锂电池热失控复燃抑制不理想。寻求经过大尺度\
                燃烧试验验证的早期探测、全氟己酮与细水雾复合灭火技术，要求热失控不蔓延、不复燃。",
            "keywords": ["储能消防", "全氟己酮", "细水雾"],
            "industry_codes": [energy],
            "tech_field": "new_energy",
            "demand_type": "result_introduction"
        }),
    )
    .await;
    assert_eq!(matched_ids(&matches), vec![fire.as_str()], "{matches}");
    assert!(!matched_ids(&matches).contains(&grid.as_str()));
    let reasons: Vec<&str> = matches["items"][0]["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("共同关键词：") && r.contains("全氟己酮")),
        "{reasons:?}"
    );
    assert!(reasons.contains(&"同属新材料新能源产业"), "{reasons:?}");
    assert!(
        reasons.contains(&"技术领域相同：新能源与高效节能"),
        "{reasons:?}"
    );
    assert_only_telling_words(&matches);

    // An e-axle's NVH: the bus shares 热管理 (and 工况, 万公里, 小于, which say nothing), its
    // industry and its 技术领域.
    let matches = demand_matches(
        &app,
        &token,
        &json!({
            "title": "重型商用车中央集成式电驱桥高功率密度与NVH控制",
            "description": "新能源重卡电驱桥齿轮啸叫比竞品高6dB(A)，电机与减速器共用油冷，热管理能力\
                不足。揭榜团队需开展高速齿轮修形降噪，完成台架耐久50万公里当量试验，典型工况综合效率\
                大于90%，温升小于40℃。",
            "keywords": ["电驱桥", "齿轮修形", "热管理"],
            "industry_codes": ["automotive"],
            "tech_field": "modern_transport",
            "demand_type": "tech_development"
        }),
    )
    .await;
    assert_eq!(matched_ids(&matches), vec![axle.as_str()], "{matches}");
    assert!(!matched_ids(&matches).contains(&bus.as_str()));
    assert_only_telling_words(&matches);
    let terms = &matches["items"][0]["matched_terms"];
    for word in ["电驱桥", "齿轮修形", "nvh"] {
        assert!(
            terms
                .as_array()
                .is_some_and(|t| t.iter().any(|w| w == word)),
            "{word} not in {terms}"
        );
    }
}

/// Submits a new result and returns the answer.
async fn submit_new(app: &TestApp, token: &str, body: &Value) -> Value {
    let created: Value = app
        .post_json("/api/v1/results", body, Some(token))
        .await
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id");
    let response = app
        .post_json(
            &format!("/api/v1/results/{id}/submit"),
            &json!({}),
            Some(token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

fn duplicate_ids(submitted: &Value) -> Vec<&str> {
    submitted["possible_duplicates"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|d| d["listing"]["id"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_copy_without_its_details_is_a_possible_duplicate_and_a_neighbour_is_not() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let mut original = listing(
        "锂离子电池储能舱热失控多参量早期预警装置",
        "面向电化学储能舱的热失控早期预警装置，融合一氧化碳、氢气、温度与烟雾多参量探测，\
         在电池热失控前约8分钟发出预警，误报率低于千分之一。",
        &["储能安全", "热失控", "气体探测"],
        "new_materials_new_energy",
        "new_energy",
    );
    original["details"] = json!(
        "装置由分布式气体探测单元、边缘计算网关和云端预警平台组成，采用多参量融合算法识别热失控\
         前兆。已在三座储能电站完成试点，累计运行超过一万小时，可与站内消防系统联动，触发全氟\
         己酮灭火。合作方需具备储能系统集成资质，双方可共建示范工程，优先面向陕北新能源基地。"
    );
    let original_id = publish(&app, &m, &original).await;
    let (_, _) = eventually(&app, "q=", |a| a["total"] == 1).await;

    // Another result on the same subject, in other words: not a duplicate.
    let neighbour = listing(
        "电化学储能电站电池热失控早期预警与安全评估",
        "针对储能电站磷酸铁锂电池热失控风险，建立基于电压、温度与产气特征的早期预警模型和电站\
         安全评估方法，预警时间提前到热失控前10分钟以上，已在两座电站应用。",
        &["储能安全", "热失控预警", "安全评估"],
        "new_materials_new_energy",
        "new_energy",
    );
    let submitted = submit_new(&app, &m.researcher, &neighbour).await;
    assert_eq!(submitted["possible_duplicates"], json!([]), "{submitted}");
    let neighbour_id = submitted["id"].as_str().expect("id").to_owned();
    let review = app
        .post_json(
            &format!("/api/v1/results/{neighbour_id}/review"),
            &json!({"decision": "approve"}),
            Some(&m.registrar),
        )
        .await;
    assert_eq!(review.status(), StatusCode::OK);
    let (_, _) = eventually(&app, "q=", |a| a["total"] == 2).await;

    // The original's title and summary without its details: the same result.
    let mut copy = original.clone();
    copy["details"] = Value::Null;
    let submitted = submit_new(&app, &m.researcher, &copy).await;
    assert_eq!(
        duplicate_ids(&submitted),
        vec![original_id.as_str()],
        "{submitted}"
    );
    let similarity = submitted["possible_duplicates"][0]["similarity"]
        .as_f64()
        .unwrap_or_default();
    assert!(similarity > 0.95, "{submitted}");
}
