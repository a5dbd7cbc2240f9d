//! The `total` of the result and demand lists after publications and archives: exact for the
//! owner, the registrar and every filtered list; for the public, unfiltered list (the catalogue's
//! first page) at most `public_total_cache_ms` old, and never contradicting the page it comes with.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::market::{account, publish};
use crate::helpers::{TestApp, json_of, spawn_app, spawn_app_with};

/// The cache period the timing test configures: long enough for a publication to happen inside
/// it on a slow machine, short enough to wait out.
const PERIOD: Duration = Duration::from_secs(2);

struct People {
    researcher: String,
    enterprise: String,
    registrar: String,
}

async fn people(app: &TestApp) -> People {
    let node = app.url("");
    let (researcher, _) = account(
        &app.client,
        &node,
        "r@xidian.edu.cn",
        "researcher",
        "西安电子科技大学",
        "university",
    )
    .await;
    let (enterprise, _) = account(
        &app.client,
        &node,
        "e@qinchuan.cn",
        "enterprise",
        "秦川装备有限公司",
        "enterprise",
    )
    .await;
    People {
        researcher,
        enterprise,
        registrar: app.registrar_token().await,
    }
}

async fn publish_result(app: &TestApp, p: &People, title: &str) {
    publish(
        &app.client,
        &app.url(""),
        &p.researcher,
        &p.registrar,
        title,
    )
    .await;
}

/// The `total` of `GET path` as `token` (anonymous without one).
async fn total(app: &TestApp, path: &str, token: Option<&str>) -> Value {
    json_of(app.get(path, token).await, StatusCode::OK).await["total"].clone()
}

/// Archives the newest published result, as its owner; returns its id.
async fn archive_newest(app: &TestApp, p: &People) -> String {
    let page = json_of(
        app.get("/api/v1/results?per_page=1", None).await,
        StatusCode::OK,
    )
    .await;
    let id = page["items"][0]["id"].as_str().expect("id").to_owned();
    let status = app
        .status(
            Method::DELETE,
            &format!("/api/v1/results/{id}"),
            Some(&p.researcher),
            None,
        )
        .await;
    assert_eq!(status, 200);
    id
}

#[tokio::test]
async fn a_short_public_list_counts_its_listings_exactly_at_once() {
    // Default settings: the public total may be cached, but a page that is not full shows where
    // the list ends, so a small catalogue's total is exact right after every change.
    let app = spawn_app().await;
    let p = people(&app).await;
    assert_eq!(total(&app, "/api/v1/results", None).await, 0);
    publish_result(&app, &p, "毫米波雷达人体姿态识别").await;
    assert_eq!(total(&app, "/api/v1/results", None).await, 1);
    publish_result(&app, &p, "低功耗北斗定位模组").await;
    assert_eq!(total(&app, "/api/v1/results", None).await, 2);
    archive_newest(&app, &p).await;
    assert_eq!(total(&app, "/api/v1/results", None).await, 1);

    // Demands are counted apart from results.
    let demand = json!({
        "title": "注塑件表面缺陷自动检测",
        "description": "我公司注塑件表面缩痕和飞边依靠人工检查，希望引进自动检测方案。",
        "keywords": ["缺陷检测"],
        "industry_codes": ["high_end_equipment"],
        "tech_field": "advanced_manufacturing",
        "demand_type": "result_introduction"
    });
    let created = app
        .post_expecting(
            "/api/v1/demands",
            &demand,
            &p.enterprise,
            StatusCode::CREATED,
        )
        .await;
    let id = created["id"].as_str().expect("id");
    assert_eq!(total(&app, "/api/v1/demands", None).await, 0);
    app.post_expecting(
        &format!("/api/v1/demands/{id}/submit"),
        &json!({}),
        &p.enterprise,
        StatusCode::OK,
    )
    .await;
    app.post_expecting(
        &format!("/api/v1/demands/{id}/review"),
        &json!({"decision": "approve"}),
        &p.registrar,
        StatusCode::OK,
    )
    .await;
    assert_eq!(total(&app, "/api/v1/demands", None).await, 1);
    assert_eq!(total(&app, "/api/v1/results", None).await, 1);
}

#[tokio::test]
async fn the_public_total_is_recounted_after_the_cache_period() {
    let app = spawn_app_with(|s| s.public_total_cache_ms = PERIOD.as_millis() as u64).await;
    let p = people(&app).await;
    publish_result(&app, &p, "毫米波雷达人体姿态识别").await;
    publish_result(&app, &p, "低功耗北斗定位模组").await;
    // One listing a page: every page is full, so the public total is the cached count.
    let first_page = "/api/v1/results?per_page=1";
    let counted = Instant::now();
    assert_eq!(total(&app, first_page, None).await, 2);

    publish_result(&app, &p, "钙钛矿叠层太阳电池").await;
    // Everyone who is shown an exact count sees the new listing at once: the registrar, the
    // owner (whose list holds its own drafts) and every filtered list.
    assert_eq!(total(&app, first_page, Some(&p.registrar)).await, 3);
    assert_eq!(total(&app, first_page, Some(&p.researcher)).await, 3);
    assert_eq!(
        total(
            &app,
            "/api/v1/results?per_page=1&industry=high_end_equipment",
            None
        )
        .await,
        3
    );
    assert_eq!(
        total(
            &app,
            "/api/v1/results?per_page=1&tech_field=advanced_manufacturing",
            None
        )
        .await,
        3
    );
    // The public's first page is served from the count of this period (when the machine was
    // quick enough to publish within it), and is exact once the period is over.
    let served = total(&app, first_page, None).await;
    if counted.elapsed() < PERIOD {
        assert_eq!(
            served, 2,
            "the first page was counted again within the period"
        );
    }
    tokio::time::sleep(PERIOD.saturating_sub(counted.elapsed()) + Duration::from_millis(50)).await;
    let counted = Instant::now();
    assert_eq!(total(&app, first_page, None).await, 3);

    archive_newest(&app, &p).await;
    // The registrar's list holds every state; the filtered lists, published listings only.
    assert_eq!(
        total(
            &app,
            "/api/v1/results?per_page=1&status=archived",
            Some(&p.registrar)
        )
        .await,
        1
    );
    assert_eq!(
        total(
            &app,
            "/api/v1/results?per_page=1&industry=high_end_equipment",
            None
        )
        .await,
        2
    );
    assert_eq!(
        total(&app, "/api/v1/results?per_page=1&district=610113", None).await,
        2
    );
    let served = total(&app, first_page, None).await;
    if counted.elapsed() < PERIOD {
        assert_eq!(
            served, 3,
            "the first page was counted again within the period"
        );
    }
    tokio::time::sleep(PERIOD.saturating_sub(counted.elapsed()) + Duration::from_millis(50)).await;
    assert_eq!(total(&app, first_page, None).await, 2);
    // A page that is not full is exact whatever the cache holds.
    assert_eq!(total(&app, "/api/v1/results", None).await, 2);
}

#[tokio::test]
async fn a_zero_period_counts_on_every_request() {
    let app = spawn_app_with(|s| s.public_total_cache_ms = 0).await;
    let p = people(&app).await;
    publish_result(&app, &p, "毫米波雷达人体姿态识别").await;
    publish_result(&app, &p, "低功耗北斗定位模组").await;
    assert_eq!(total(&app, "/api/v1/results?per_page=1", None).await, 2);
    publish_result(&app, &p, "钙钛矿叠层太阳电池").await;
    assert_eq!(total(&app, "/api/v1/results?per_page=1", None).await, 3);
}
