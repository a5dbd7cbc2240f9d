//! `GET /api/v1/reference`: every list the contract asks for, with Chinese labels.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

fn codes(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn has_han(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[tokio::test]
async fn reference_data_covers_the_contract_with_chinese_labels() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/reference", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let reference: Value = response.json().await.expect("json");

    let groups = codes(&reference["industry_groups"]);
    assert_eq!(groups.len(), 4);
    let industries = reference["industries"].as_array().expect("industries");
    assert_eq!(industries.len(), 18);
    let mut per_group = std::collections::HashMap::<String, usize>::new();
    for industry in industries {
        let group = industry["group"].as_str().expect("group").to_owned();
        assert!(groups.contains(&group));
        *per_group.entry(group).or_default() += 1;
    }
    // 6 + 5 + 6 + 1.
    let mut sizes: Vec<usize> = per_group.values().copied().collect();
    sizes.sort_unstable();
    assert_eq!(sizes, vec![1, 5, 6, 6]);
    assert!(industries.iter().any(|i| i["label"] == "人工智能"));

    assert_eq!(codes(&reference["tech_fields"]).len(), 11);
    assert_eq!(reference["trl_levels"].as_array().map(Vec::len), Some(9));
    assert_eq!(reference["trl_levels"][8]["level"], 9);
    let types = reference["contract_types"]
        .as_array()
        .expect("contract types");
    assert_eq!(
        codes(&reference["contract_types"]),
        vec![
            "development",
            "transfer",
            "licence",
            "consulting",
            "service"
        ]
    );
    for contract_type in types {
        assert!(
            !contract_type["sub_types"]
                .as_array()
                .expect("sub types")
                .is_empty()
        );
    }
    let service_subtypes = codes(&types[4]["sub_types"]);
    assert!(service_subtypes.contains(&"technical_training".to_owned()));
    assert!(service_subtypes.contains(&"technical_intermediary".to_owned()));
    assert_eq!(
        codes(&reference["org_kinds"]),
        vec![
            "university",
            "research_institute",
            "enterprise",
            "transfer_agency",
            "platform",
            "government"
        ]
    );
    assert!(codes(&reference["districts"]).contains(&"610113".to_owned()));
    assert!(codes(&reference["zones"]).contains(&"gaoxin".to_owned()));
    assert!(codes(&reference["nature_codes"]).contains(&"022".to_owned()));
    assert_eq!(codes(&reference["provinces"]).len(), 34);
    for list in [
        "maturity_stages",
        "refusal_reasons",
        "cooperation_modes",
        "ip_types",
        "demand_types",
        "roles",
    ] {
        assert!(!codes(&reference[list]).is_empty(), "{list}");
    }
    assert!(
        reference["policy_targets"]
            .as_array()
            .expect("targets")
            .iter()
            .any(|t| t["code"] == "contract_value"
                && t["year"] == 2023
                && t["target"] == 16_000_000_000_000_i64)
    );

    // Every code of every list has a Chinese label, and codes are unique within a list.
    for (name, list) in reference.as_object().expect("object") {
        let Some(items) = list.as_array() else {
            continue;
        };
        if name == "policy_targets" {
            continue;
        }
        let mut seen = HashSet::new();
        for item in items {
            let code = item["code"].as_str().expect("code");
            assert!(seen.insert(code.to_owned()), "{name}: duplicate {code}");
            assert!(
                item["label"].as_str().is_some_and(has_han),
                "{name}/{code} has no Chinese label"
            );
        }
    }
    assert!(reference["versions"]["industries"].is_string());
}
