//! The columns an import understands, with their Chinese and English headers, and the conversion of
//! spreadsheet cells into the JSON fields of the API.

use serde_json::{Map, Value};

use crate::reference::ReferenceData;

/// How a column's text becomes a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A string.
    Text,
    /// A list of strings, separated by `;` `；` `,` `，` `、` or line breaks.
    List,
    /// A whole number; `面议` or empty means null.
    Integer,
    /// A date `YYYY-MM-DD`.
    Date,
    /// IP items: `type:number:title` separated by `;`.
    IpList,
}

/// One column: the field path in the API, its shape, and the headers that name it.
#[derive(Debug)]
pub struct Column {
    /// Dotted path, e.g. `organization.region_code`.
    pub path: &'static str,
    /// How the cell's text becomes the field's JSON value.
    pub shape: Shape,
    /// Chinese headers (the path itself is always accepted too).
    pub aliases: &'static [&'static str],
}

const fn col(path: &'static str, shape: Shape, aliases: &'static [&'static str]) -> Column {
    Column {
        path,
        shape,
        aliases,
    }
}

/// Columns shared by both kinds.
const COMMON: &[Column] = &[
    col("external_id", Shape::Text, &["外部编号", "编号", "外部id"]),
    col("title", Shape::Text, &["名称", "标题"]),
    col("keywords", Shape::List, &["关键词"]),
    col(
        "industry_codes",
        Shape::List,
        &["所属产业", "产业", "产业分类"],
    ),
    col("tech_field", Shape::Text, &["技术领域"]),
    col("organization.name", Shape::Text, &["单位名称", "单位"]),
    col("organization.kind", Shape::Text, &["单位类型"]),
    col(
        "organization.region_code",
        Shape::Text,
        &["行政区划代码", "地区代码"],
    ),
    col(
        "organization.nature_code",
        Shape::Text,
        &["单位性质", "单位性质代码"],
    ),
    col("organization.zone", Shape::Text, &["所在园区", "开发区"]),
];

/// Columns of research results.
pub const RESULT_COLUMNS: &[Column] = &[
    col("title", Shape::Text, &["成果名称"]),
    col("summary", Shape::Text, &["成果简介", "简介", "摘要"]),
    col(
        "details",
        Shape::Text,
        &["详细介绍", "详细说明", "成果详情"],
    ),
    col("trl", Shape::Integer, &["技术就绪度", "技术成熟度等级"]),
    col(
        "maturity_stage",
        Shape::Text,
        &["成熟度", "成熟阶段", "技术成熟度"],
    ),
    col("cooperation_modes", Shape::List, &["合作方式"]),
    col("ip", Shape::IpList, &["知识产权"]),
    col("price_fen", Shape::Integer, &["价格(分)", "价格"]),
    col(
        "confidential_details",
        Shape::Text,
        &["保密信息", "保密内容"],
    ),
    col("contact.name", Shape::Text, &["联系人"]),
    col("contact.phone", Shape::Text, &["联系电话", "电话"]),
    col("contact.email", Shape::Text, &["联系邮箱", "邮箱"]),
];

/// Columns of demands and challenges.
pub const DEMAND_COLUMNS: &[Column] = &[
    col("title", Shape::Text, &["需求名称"]),
    col(
        "description",
        Shape::Text,
        &["需求描述", "描述", "拟解决的主要技术问题"],
    ),
    col("demand_type", Shape::Text, &["需求类型"]),
    col("budget_fen", Shape::Integer, &["预算(分)", "预算"]),
    col("deadline", Shape::Date, &["截止日期", "完成时限"]),
    col(
        "challenge.reward_fen",
        Shape::Integer,
        &["榜额(分)", "榜额"],
    ),
    col(
        "challenge.application_deadline",
        Shape::Date,
        &["揭榜截止日期"],
    ),
    col(
        "challenge.max_duration_months",
        Shape::Integer,
        &["最长周期(月)", "实施周期(月)"],
    ),
    col("challenge.indicators", Shape::Text, &["考核指标"]),
    col(
        "challenge.ip_terms",
        Shape::Text,
        &["产权归属", "知识产权约定"],
    ),
    col("challenge.selection_method", Shape::Text, &["遴选方式"]),
];

/// Folds a header for matching: no spaces, ASCII parentheses, lower case.
fn fold(header: &str) -> String {
    header
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            other => other,
        })
        .collect::<String>()
        .to_lowercase()
}

/// Maps each header of a file to its column; unknown headers are returned as the error.
pub fn map_headers<'a>(
    headers: &[String],
    kind_columns: &'a [Column],
) -> Result<Vec<&'a Column>, String>
where
    'static: 'a,
{
    let mut mapped = Vec::with_capacity(headers.len());
    let mut unknown = Vec::new();
    for header in headers {
        let folded = fold(header);
        let found = kind_columns
            .iter()
            .chain(COMMON.iter())
            .find(|c| fold(c.path) == folded || c.aliases.iter().any(|a| fold(a) == folded));
        match found {
            Some(column) => mapped.push(column),
            None => unknown.push(header.clone()),
        }
    }
    if unknown.is_empty() {
        Ok(mapped)
    } else {
        let known: Vec<&str> = kind_columns
            .iter()
            .chain(COMMON.iter())
            .map(|c| c.path)
            .collect();
        Err(format!(
            "unknown column(s) {unknown:?}; known columns: {} (or their Chinese names)",
            known.join(", ")
        ))
    }
}

/// Converts one cell's text; `None` for an empty cell (the field is left out).
pub fn convert(shape: Shape, text: &str) -> Option<Value> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let split = |s: &str| -> Vec<String> {
        s.split([';', '；', ',', '，', '、', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    };
    Some(match shape {
        Shape::Text | Shape::Date => Value::String(text.to_owned()),
        Shape::List => Value::from(split(text)),
        Shape::Integer => {
            if text == "面议" {
                Value::Null
            } else if let Ok(n) = text.parse::<i64>() {
                Value::from(n)
            } else if let Ok(f) = text.parse::<f64>() {
                // Left as a fraction so that validation refuses it instead of rounding money.
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    Value::from(f as i64)
                } else {
                    Value::from(f)
                }
            } else {
                Value::String(text.to_owned())
            }
        }
        Shape::IpList => Value::from(
            text.split([';', '；', '\n'])
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|item| {
                    let mut parts = item.splitn(3, [':', '：']).map(str::trim);
                    let mut object = Map::new();
                    object.insert(
                        "ip_type".into(),
                        Value::from(parts.next().unwrap_or_default()),
                    );
                    if let Some(number) = parts.next().filter(|p| !p.is_empty()) {
                        object.insert("number".into(), Value::from(number));
                    }
                    if let Some(title) = parts.next().filter(|p| !p.is_empty()) {
                        object.insert("title".into(), Value::from(title));
                    }
                    Value::Object(object)
                })
                .collect::<Vec<_>>(),
        ),
    })
}

/// Sets `value` at a dotted `path` in `row`, creating the objects on the way.
pub fn set_path(row: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            row.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let entry = row
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = entry {
                set_path(inner, rest, value);
            }
        }
    }
}

/// The fields holding codes, with the reference list they come from. Spreadsheets often carry the
/// Chinese labels (人工智能) instead of the codes (artificial_intelligence); both are accepted.
const CODE_FIELDS: &[(&str, &str)] = &[
    ("industry_codes", "industries"),
    ("tech_field", "tech_fields"),
    ("maturity_stage", "maturity_stages"),
    ("cooperation_modes", "cooperation_modes"),
    ("demand_type", "demand_types"),
    ("ip_type", "ip_types"),
    ("kind", "org_kinds"),
    ("selection_method", "selection_methods"),
];

/// Replaces Chinese (or English) labels by their codes, wherever a code field holds one.
pub fn labels_to_codes(value: &mut Value, reference: &ReferenceData) {
    let Value::Object(map) = value else { return };
    for (key, field) in map.iter_mut() {
        if let Some((_, list)) = CODE_FIELDS.iter().find(|(k, _)| k == key) {
            match field {
                Value::String(text) => *text = code_for(reference, list, text),
                Value::Array(items) => {
                    for item in items {
                        if let Value::String(text) = item {
                            *text = code_for(reference, list, text);
                        } else {
                            labels_to_codes(item, reference);
                        }
                    }
                }
                _ => {}
            }
        } else if let Value::Array(items) = field {
            items
                .iter_mut()
                .for_each(|item| labels_to_codes(item, reference));
        } else {
            labels_to_codes(field, reference);
        }
    }
}

fn code_for(reference: &ReferenceData, list: &str, text: &str) -> String {
    let trimmed = text.trim();
    reference
        .list(list)
        .iter()
        .find(|c| {
            c.code == trimmed
                || c.label == trimmed
                || c.label_en
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(trimmed))
        })
        .map_or_else(|| trimmed.to_owned(), |c| c.code.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_and_english_headers_map_to_the_same_fields() {
        let headers: Vec<String> = [
            "成果名称",
            "keywords",
            "价格（分）",
            "单位名称",
            "Contact.Phone",
        ]
        .iter()
        .map(|h| (*h).to_owned())
        .collect();
        let mapped = map_headers(&headers, RESULT_COLUMNS).expect("known");
        let paths: Vec<&str> = mapped.iter().map(|c| c.path).collect();
        assert_eq!(
            paths,
            vec![
                "title",
                "keywords",
                "price_fen",
                "organization.name",
                "contact.phone"
            ]
        );
        let error = map_headers(&["颜色".to_owned()], RESULT_COLUMNS).expect_err("unknown");
        assert!(error.contains("颜色"));
    }

    #[test]
    fn cells_convert_by_shape() {
        assert_eq!(
            convert(Shape::List, "机器视觉；缺陷检测、AI"),
            Some(serde_json::json!(["机器视觉", "缺陷检测", "AI"]))
        );
        assert_eq!(convert(Shape::Integer, "面议"), Some(Value::Null));
        assert_eq!(
            convert(Shape::Integer, "5000000"),
            Some(Value::from(5_000_000))
        );
        assert_eq!(convert(Shape::Integer, "12.5"), Some(Value::from(12.5)));
        assert_eq!(convert(Shape::Text, "  "), None);
        assert_eq!(
            convert(
                Shape::IpList,
                "发明专利:ZL202110000000.1:一种方法; software_copyright:2022SR0000001"
            ),
            Some(serde_json::json!([
                {"ip_type": "发明专利", "number": "ZL202110000000.1", "title": "一种方法"},
                {"ip_type": "software_copyright", "number": "2022SR0000001"}
            ]))
        );
        let mut row = Map::new();
        set_path(&mut row, "organization.name", Value::from("长安大学"));
        set_path(&mut row, "organization.kind", Value::from("university"));
        assert_eq!(
            Value::Object(row),
            serde_json::json!({"organization": {"name": "长安大学", "kind": "university"}})
        );
    }
}
