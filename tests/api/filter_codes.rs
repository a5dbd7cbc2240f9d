//! Unknown filter codes and unknown parameters on every list route answer `422` naming the
//! parameter (issue 15, item 18), instead of an empty or an unfiltered list.

use reqwest::StatusCode;

use crate::helpers::market::market;
use crate::helpers::{TestApp, assert_problem, error_fields, spawn_app};

/// Asserts that `path` answers `422` naming exactly `fields`.
async fn refused(app: &TestApp, path: &str, token: Option<&str>, fields: &[&str]) {
    let problem =
        assert_problem(app.get(path, token).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), fields, "{path}: {problem}");
}

#[tokio::test]
async fn catalogue_lists_refuse_unknown_codes_and_parameters() {
    let app = spawn_app().await;
    for route in ["/api/v1/results", "/api/v1/demands", "/api/v1/search"] {
        refused(
            &app,
            &format!("{route}?tech_field=bogus"),
            None,
            &["tech_field"],
        )
        .await;
        refused(
            &app,
            &format!("{route}?industry=nonexistent"),
            None,
            &["industry"],
        )
        .await;
        refused(
            &app,
            &format!("{route}?district=999999"),
            None,
            &["district"],
        )
        .await;
        refused(&app, &format!("{route}?colour=red"), None, &["colour"]).await;
        // Known codes still answer.
        let ok = app
            .get(
                &format!("{route}?tech_field=aerospace&district=gaoxin&page=1"),
                None,
            )
            .await;
        assert_eq!(ok.status(), StatusCode::OK, "{route}");
    }
    refused(
        &app,
        "/api/v1/results?maturity_stage=bogus",
        None,
        &["maturity_stage"],
    )
    .await;
    refused(
        &app,
        "/api/v1/search?maturity_stage=bogus",
        None,
        &["maturity_stage"],
    )
    .await;
    refused(
        &app,
        "/api/v1/demands?demand_type=bogus",
        None,
        &["demand_type"],
    )
    .await;
    refused(&app, "/api/v1/results?status=bogus", None, &["status"]).await;
    refused(&app, "/api/v1/demands?status=bogus", None, &["status"]).await;
    refused(&app, "/api/v1/organizations?sort=name", None, &["sort"]).await;
}

#[tokio::test]
async fn workflow_lists_refuse_unknown_codes_and_parameters() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let broker = Some(m.broker.as_str());
    refused(&app, "/api/v1/deals?stage=signed", broker, &["stage"]).await;
    refused(&app, "/api/v1/deals?mine=perhaps", broker, &["mine"]).await;
    refused(
        &app,
        "/api/v1/contracts?contract_type=bogus",
        broker,
        &["contract_type"],
    )
    .await;
    refused(&app, "/api/v1/contracts?status=bogus", broker, &["status"]).await;
    refused(
        &app,
        "/api/v1/contracts?tech_field=aerospace",
        broker,
        &["tech_field"],
    )
    .await;
    refused(&app, "/api/v1/notifications?unread=1", broker, &["unread"]).await;
    refused(
        &app,
        "/api/v1/notifications?only_unread=true",
        broker,
        &["only_unread"],
    )
    .await;
    refused(
        &app,
        "/api/v1/saved-searches?kind=result",
        broker,
        &["kind"],
    )
    .await;
    let registrar = Some(m.registrar.as_str());
    refused(&app, "/api/v1/audit-log?actor=x", registrar, &["actor"]).await;
    refused(
        &app,
        "/api/v1/contracts/export?type=x",
        registrar,
        &["type"],
    )
    .await;
    for path in [
        "/api/v1/deals?mine=true&page=1",
        "/api/v1/contracts?contract_type=development&status=registered",
        "/api/v1/notifications?unread=true&per_page=5",
        "/api/v1/saved-searches",
    ] {
        assert_eq!(
            app.get(path, broker).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
}

#[tokio::test]
async fn indicator_routes_refuse_unknown_values_and_parameters() {
    let app = spawn_app().await;
    let m = market(&app).await;
    let base = "/api/v1/indicators/transaction-value";
    refused(&app, &format!("{base}?by=colour"), None, &["by"]).await;
    refused(&app, &format!("{base}?measure=gross"), None, &["measure"]).await;
    refused(
        &app,
        &format!("{base}?direction=sideways"),
        None,
        &["direction"],
    )
    .await;
    refused(
        &app,
        &format!("{base}?district=610113"),
        None,
        &["district"],
    )
    .await;
    refused(&app, &format!("{base}.svg?by=month"), None, &["by"]).await;
    refused(
        &app,
        "/api/v1/indicators/summary?measure=total",
        None,
        &["measure"],
    )
    .await;
    refused(
        &app,
        "/api/v1/indicators/export?by=zone",
        Some(&m.registrar),
        &["by"],
    )
    .await;
    assert_eq!(
        app.get(&format!("{base}?by=zone&year=2023"), None)
            .await
            .status(),
        StatusCode::OK
    );
}
