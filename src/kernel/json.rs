//! Lists of codes and words stored as JSON arrays of strings (keywords, industry codes, …).

/// The strings of a JSON array column; anything else reads as empty.
pub fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A JSON array of the trimmed strings.
pub fn json_strings(items: &[String]) -> serde_json::Value {
    serde_json::Value::from(
        items
            .iter()
            .map(|s| s.trim().to_owned())
            .collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_trimmed_and_read_nothing_from_other_json() {
        let stored = json_strings(&[" 电池 ".into(), "储能".into()]);
        assert_eq!(strings(&stored), ["电池", "储能"]);
        assert!(strings(&serde_json::json!({"a": 1})).is_empty());
        assert_eq!(strings(&serde_json::json!(["a", 1, null, "b"])), ["a", "b"]);
    }
}
