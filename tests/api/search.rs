//! Search: freshness through the outbox, Chinese text, snippets, filters, facets, hostile queries.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// Matching and possible duplicates, with this module's fixtures.
mod matching;

/// Generous bound for "findable within 2 s" on a busy test machine; the benchmark measures the real
/// figure.
const FRESHNESS_BOUND: Duration = Duration::from_secs(6);

async fn search(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/api/v1/search?{query}"), None).await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    response.json().await.expect("json")
}

/// Polls a search until `check` holds or the bound passes; returns the last answer.
async fn eventually(
    app: &TestApp,
    query: &str,
    check: impl Fn(&Value) -> bool,
) -> (Value, Duration) {
    let started = Instant::now();
    loop {
        let answer = search(app, query).await;
        if check(&answer) || started.elapsed() > FRESHNESS_BOUND {
            return (answer, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct Market {
    researcher: String,
    registrar: String,
}

async fn market(app: &TestApp) -> Market {
    let researcher = app
        .register_with_new_org(
            "r@xidian.edu.cn",
            "researcher",
            "西安电子科技大学",
            "university",
        )
        .await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    Market {
        researcher,
        registrar: app.registrar_token().await,
    }
}

async fn publish(app: &TestApp, m: &Market, body: &Value) -> String {
    let created: Value = app
        .post_json("/api/v1/results", body, Some(&m.researcher))
        .await
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    let submit = app
        .post_json(
            &format!("/api/v1/results/{id}/submit"),
            &json!({}),
            Some(&m.researcher),
        )
        .await;
    assert_eq!(submit.status(), StatusCode::OK);
    let review = app
        .post_json(
            &format!("/api/v1/results/{id}/review"),
            &json!({"decision": "approve"}),
            Some(&m.registrar),
        )
        .await;
    assert_eq!(review.status(), StatusCode::OK);
    id
}

fn result(title: &str, summary: &str, industry: &str) -> Value {
    json!({
        "title": title,
        "summary": summary,
        "keywords": ["机器视觉"],
        "industry_codes": [industry],
        "tech_field": "electronic_information",
        "maturity_stage": "pilot_scale",
        "cooperation_modes": ["licence"],
        "price_fen": 1_000_000
    })
}

fn ids(answer: &Value) -> Vec<String> {
    answer["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_published_result_is_found_archived_is_gone_and_edits_leave_search() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let id = publish(
        &app,
        &m,
        &result(
            "基于机器视觉的PCB缺陷检测系统",
            "采用深度学习的印制电路板表面缺陷检测，漏检率低于千分之一，适用于SMT产线。",
            "artificial_intelligence",
        ),
    )
    .await;
    let (answer, took) = eventually(&app, "q=缺陷检测", |a| ids(a).contains(&id)).await;
    assert!(
        ids(&answer).contains(&id),
        "not found within {took:?}: {answer}"
    );
    let hit = &answer["items"][0];
    assert_eq!(hit["kind"], "result");
    assert_eq!(hit["organization"]["name"], "西安电子科技大学");
    assert_eq!(hit["industry_codes"], json!(["artificial_intelligence"]));
    let snippet = hit["snippet"].as_str().expect("snippet");
    assert!(snippet.contains("<em>"), "{snippet}");
    assert!(answer["took_ms"].is_number());
    assert_eq!(answer["facets"]["industry"]["artificial_intelligence"], 1);

    // Edited after publication: back to review, so out of search.
    let edit = app
        .client
        .patch(app.url(&format!("/api/v1/results/{id}")))
        .bearer_auth(&m.researcher)
        .json(&json!({"title": "尚未审核的新标题"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(edit.status(), StatusCode::OK);
    let (answer, took) = eventually(&app, "q=缺陷检测", |a| !ids(a).contains(&id)).await;
    assert!(!ids(&answer).contains(&id), "still found after {took:?}");
    let approve = app
        .post_json(
            &format!("/api/v1/results/{id}/review"),
            &json!({"decision": "approve"}),
            Some(&m.registrar),
        )
        .await;
    assert_eq!(approve.status(), StatusCode::OK);
    let (answer, _) = eventually(&app, "q=新标题", |a| ids(a).contains(&id)).await;
    assert!(ids(&answer).contains(&id));

    let archive = app
        .client
        .delete(app.url(&format!("/api/v1/results/{id}")))
        .bearer_auth(&m.researcher)
        .send()
        .await
        .expect("delete");
    assert_eq!(archive.status(), StatusCode::OK);
    let (answer, took) = eventually(&app, "q=缺陷检测", |a| a["total"] == 0).await;
    assert_eq!(
        answer["total"], 0,
        "archived result still found after {took:?}"
    );
}

#[tokio::test]
async fn filters_phrases_exclusions_kinds_and_drafts() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let vision = publish(
        &app,
        &m,
        &result(
            "机器视觉缺陷检测",
            "面向汽车零部件的机器视觉缺陷检测方案，检测速度每分钟六十件。",
            "automotive",
        ),
    )
    .await;
    let battery = publish(
        &app,
        &m,
        &result(
            "动力电池热失控预警",
            "基于多传感器融合的动力电池热失控早期预警，预警提前量大于五分钟。",
            "new_materials_new_energy",
        ),
    )
    .await;
    // A draft is never found.
    app.post_json(
        "/api/v1/results",
        &result(
            "草稿中的视觉检测成果",
            "这是一个草稿，不应出现在搜索结果中，检测检测。",
            "automotive",
        ),
        Some(&m.researcher),
    )
    .await;
    // Both carry the keyword 机器视觉.
    let (answer, _) = eventually(&app, "q=机器视觉", |a| a["total"] == 2).await;
    assert_eq!(answer["total"], 2, "{answer}");
    assert_eq!(
        search(&app, "q=机器视觉&industry=automotive").await["total"],
        1
    );
    assert_eq!(
        ids(&search(&app, "q=机器视觉&industry=automotive").await),
        vec![vision.clone()]
    );
    assert_eq!(
        ids(&search(&app, "q=机器视觉 -汽车").await),
        vec![battery.clone()]
    );
    assert_eq!(
        ids(&search(&app, "q=\"热失控预警\"").await),
        vec![battery.clone()]
    );
    assert_eq!(search(&app, "q=\"预警热失控\"").await["total"], 0);
    assert_eq!(search(&app, "q=机器视觉&district=610113").await["total"], 2);
    assert_eq!(search(&app, "q=机器视觉&district=610102").await["total"], 0);
    assert_eq!(search(&app, "q=机器视觉&kind=demand").await["total"], 0);
    assert_eq!(search(&app, "q=机器视觉&sort=price_asc").await["total"], 2);
    // No text: everything published, newest first.
    let all = search(&app, "").await;
    assert_eq!(all["total"], 2);
    assert_eq!(ids(&all)[0], battery);
    let page = search(&app, "q=机器视觉&per_page=1&page=2").await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["total"], 2);
}

#[tokio::test]
async fn any_query_string_answers_200() {
    let app = spawn_app().await;
    let long = "人工智能".repeat(900); // about 10 KB of UTF-8
    let queries = [
        long.as_str(),
        "😀🚀 机器人",
        "\"unbalanced",
        "\"\"",
        "-",
        "--",
        "AND OR NOT",
        "title:机器 AND (",
        "a*b?c~2 ^3",
        "[1 TO 5]",
        "\\",
        "<script>alert(1)</script>",
        "'; DROP TABLE results; --",
    ];
    for q in queries {
        let response = app
            .client
            .get(app.url("/api/v1/search"))
            .query(&[("q", q)])
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{q:.40}");
    }
    let response = app.get("/api/v1/search?kind=patent", None).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = app.get("/api/v1/search?sort=random", None).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn synonyms_find_the_other_name() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let id = publish(
        &app,
        &m,
        &result(
            "人工智能辅助的增材制造工艺优化",
            "利用人工智能预测增材制造过程中的熔池温度场，零件致密度提高到百分之九十九点五。",
            "additive_manufacturing",
        ),
    )
    .await;
    let (answer, _) = eventually(&app, "q=AI", |a| ids(a).contains(&id)).await;
    assert!(
        ids(&answer).contains(&id),
        "AI should find 人工智能: {answer}"
    );
    assert!(ids(&search(&app, "q=3D打印").await).contains(&id));
}

#[tokio::test]
async fn a_saved_search_notifies_newly_published_matches_once() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let enterprise = app
        .register_with_new_org(
            "watcher@co.cn",
            "enterprise",
            "西安观察者科技有限公司",
            "enterprise",
        )
        .await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    // Published before the search is saved: never notified.
    publish(
        &app,
        &m,
        &result(
            "早先发布的储能电池管理系统",
            "锂电池储能电站的电池管理系统，均衡精度优于五毫伏。",
            "new_materials_new_energy",
        ),
    )
    .await;
    let saved = app
        .post_json(
            "/api/v1/saved-searches",
            &json!({"name": "储能", "q": "储能 电池", "industry": "new_materials_new_energy"}),
            Some(&enterprise),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::CREATED);
    let saved: Value = saved.json().await.expect("json");
    let invalid = app
        .post_json(
            "/api/v1/saved-searches",
            &json!({"name": "", "kind": "patent", "industry": "steel"}),
            Some(&enterprise),
        )
        .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let matching = publish(
        &app,
        &m,
        &result(
            "液冷储能电池热管理系统",
            "面向储能电站的液冷电池热管理，温差控制在三摄氏度以内。",
            "new_materials_new_energy",
        ),
    )
    .await;
    publish(
        &app,
        &m,
        &result(
            "果园无人机植保作业系统",
            "山地果园的无人机变量喷药，节省农药百分之二十。",
            "food_biomedicine",
        ),
    )
    .await;

    let started = Instant::now();
    let notifications = loop {
        let page: Value = app
            .get("/api/v1/notifications?unread=true", Some(&enterprise))
            .await
            .json()
            .await
            .expect("json");
        if page["total"] != 0 || started.elapsed() > FRESHNESS_BOUND {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(notifications["total"], 1, "{notifications}");
    let notification = &notifications["items"][0];
    assert_eq!(notification["listing_id"], matching.as_str());
    assert_eq!(notification["saved_search_id"], saved["id"]);
    let id = notification["id"].as_str().expect("id");

    // Only the recipient can read it.
    let other = app
        .post_json(
            &format!("/api/v1/notifications/{id}/read"),
            &json!({}),
            Some(&m.researcher),
        )
        .await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let read = app
        .post_json(
            &format!("/api/v1/notifications/{id}/read"),
            &json!({}),
            Some(&enterprise),
        )
        .await;
    assert_eq!(read.status(), StatusCode::OK);
    let unread: Value = app
        .get("/api/v1/notifications?unread=true", Some(&enterprise))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(unread["total"], 0);
    let mine: Value = app
        .get("/api/v1/saved-searches", Some(&enterprise))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine.as_array().map(Vec::len), Some(1));
    let theirs: Value = app
        .get("/api/v1/saved-searches", Some(&m.researcher))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(theirs.as_array().map(Vec::len), Some(0));
    let path = format!(
        "/api/v1/saved-searches/{}",
        saved["id"].as_str().expect("id")
    );
    let stranger = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&m.researcher)
        .send()
        .await
        .expect("delete");
    assert_eq!(stranger.status(), StatusCode::NOT_FOUND);
    let deleted = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&enterprise)
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
}
