//! Everyday queries over the demo catalogue (`seeds/demo/`), the texts people meet on a first
//! start: each test is a query that once went wrong, and what a person expects of it.

use std::path::Path;
use std::sync::OnceLock;

use search_index::{ListingDoc, SearchIndex, SearchRequest, SearchResults};
use serde_json::Value;

/// One demo listing: its index document and its whole text, lower-cased (to check what a hit
/// contains).
struct Demo {
    doc: ListingDoc,
    text: String,
}

struct Catalogue {
    index: SearchIndex,
    listings: Vec<Demo>,
    _dir: tempfile::TempDir,
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn text_of(row: &Value, key: &str) -> String {
    row[key].as_str().unwrap_or_default().to_owned()
}

fn demo(kind: &str, row: &Value, published_at: i64) -> Demo {
    let (summary, details) = if kind == "result" {
        (text_of(row, "summary"), text_of(row, "details"))
    } else {
        let indicators = row["challenge"]["indicators"].as_str().unwrap_or_default();
        (text_of(row, "description"), indicators.to_owned())
    };
    let org = &row["organization"];
    let doc = ListingDoc {
        kind: kind.into(),
        id: text_of(row, "external_id"),
        title: text_of(row, "title"),
        summary,
        details,
        keywords: strings(&row["keywords"]),
        org_id: text_of(org, "name"),
        org_name: text_of(org, "name"),
        org_kind: text_of(org, "kind"),
        district: text_of(org, "region_code"),
        zone: org["zone"].as_str().map(str::to_owned),
        industries: strings(&row["industry_codes"])
            .into_iter()
            .map(|code| (code, String::new()))
            .collect(),
        tech_field: text_of(row, "tech_field"),
        maturity_stage: row["maturity_stage"].as_str().map(str::to_owned),
        published_at,
        price_fen: row["price_fen"].as_i64(),
        trl: row["trl"].as_u64(),
        identifiers: row["ip"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|ip| ip["number"].as_str().map(str::to_owned))
            .collect(),
    };
    let text = format!(
        "{} {} {} {}",
        doc.title,
        doc.keywords.join(" "),
        doc.summary,
        doc.details
    )
    .to_lowercase();
    Demo { doc, text }
}

/// The demo catalogue, indexed once for all tests.
fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../seeds/demo");
        let mut listings = Vec::new();
        for (file, kind) in [
            ("results_a.jsonl", "result"),
            ("results_b.jsonl", "result"),
            ("demands.jsonl", "demand"),
        ] {
            let lines = std::fs::read_to_string(seeds.join(file)).expect("demo seeds");
            for line in lines.lines().filter(|l| !l.trim().is_empty()) {
                let row: Value = serde_json::from_str(line).expect("a demo row");
                let published_at = listings.len() as i64;
                listings.push(demo(kind, &row, published_at));
            }
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let index = SearchIndex::open_or_create(dir.path()).expect("index");
        let docs: Vec<ListingDoc> = listings.iter().map(|d| d.doc.clone()).collect();
        index.apply(&docs, &[]).expect("indexed");
        index.commit(1).expect("committed");
        Catalogue {
            index,
            listings,
            _dir: dir,
        }
    })
}

fn search(q: &str) -> SearchResults {
    let request = SearchRequest {
        q: q.into(),
        kind: "result".into(),
        limit: 400,
        ..SearchRequest::default()
    };
    let answer = catalogue().index.search(&request).expect("search");
    SearchResults::clone(&answer)
}

/// The lower-cased text of the result with external id `id`.
fn text(id: &str) -> &'static str {
    let found = catalogue().listings.iter().find(|d| d.doc.id == id);
    &found.expect("a demo listing").text
}

fn results_containing(needle: &str) -> usize {
    let listings = &catalogue().listings;
    let results = listings.iter().filter(|d| d.doc.kind == "result");
    results.filter(|d| d.text.contains(needle)).count()
}

#[test]
fn an_exclusion_removes_listings_containing_its_text_whatever_its_length() {
    for (q, excluded) in [
        ("电池 -锂电池", "锂电池"),
        ("电池 -燃料电池", "燃料电池"),
        ("电池 -锂", "锂"),
    ] {
        let answer = search(q);
        assert!(answer.total > 0, "{q}: batteries without {excluded} exist");
        assert_eq!(answer.total, answer.hits.len());
        for hit in &answer.hits {
            assert!(!text(&hit.id).contains(excluded), "{q} found {}", hit.title);
        }
        let batteries = search("电池");
        let without = batteries
            .hits
            .iter()
            .filter(|h| !text(&h.id).contains(excluded));
        assert_eq!(
            answer.total,
            without.count(),
            "{q}: every other battery stays"
        );
    }
}

#[test]
fn a_text_of_only_exclusions_finds_everything_else() {
    let answer = search("-锂电池");
    let results = catalogue()
        .listings
        .iter()
        .filter(|d| d.doc.kind == "result");
    assert_eq!(answer.total, results.count() - results_containing("锂电池"));
    assert!(answer.hits.iter().all(|h| !text(&h.id).contains("锂电池")));
}

#[test]
fn a_query_whose_every_word_is_dropped_finds_nothing() {
    for q in ["x".repeat(41), "!!!".into(), "\"！？\"".into()] {
        assert_eq!(search(&q).total, 0, "{q}");
    }
    let results = catalogue()
        .listings
        .iter()
        .filter(|d| d.doc.kind == "result");
    assert_eq!(
        search("").total,
        results.count(),
        "no text lists everything"
    );
}

#[test]
fn a_synonym_finds_the_whole_other_term_not_its_parts() {
    let answer = search("AI");
    assert!(answer.total > 0);
    for hit in &answer.hits {
        let text = text(&hit.id);
        assert!(
            text.contains("ai") || text.contains("人工智能"),
            "AI found {} through a part of 人工智能",
            hit.title
        );
    }
}

#[test]
fn a_patent_number_finds_the_listing_that_carries_it() {
    for q in [
        "ZL202010876543.2",
        "zl202010876543.2",
        "202010876543.2",
        "2021SR0876123",
    ] {
        let answer = search(q);
        let first = answer.hits.first().map(|h| h.id.as_str());
        assert_eq!(first, Some("demo-result-a-001"), "{q}");
    }
}

#[test]
fn english_queries_find_chinese_listings_through_the_glossary() {
    for (q, chinese) in [
        ("lithium battery", "锂电池"),
        ("defect detection", "缺陷检测"),
        ("titanium", "钛"),
    ] {
        let answer = search(q);
        let first = answer
            .hits
            .first()
            .unwrap_or_else(|| panic!("{q} found nothing"));
        assert!(text(&first.id).contains(chinese), "{q}: {}", first.title);
    }
}

#[test]
fn snippets_mark_the_terms_typed_not_words_that_contain_their_parts() {
    let answer = search("碳化硅 功率器件");
    assert!(answer.total > 0);
    for hit in &answer.hits {
        for marked in hit.snippet.split("<em>").skip(1) {
            let word = marked
                .split("</em>")
                .next()
                .unwrap_or_default()
                .to_lowercase();
            assert!(
                ["碳化硅", "功率器件", "sic"].contains(&word.as_str()),
                "{} marks {word}: {}",
                hit.title,
                hit.snippet
            );
        }
    }
}

#[test]
fn a_compound_ranks_listings_with_the_whole_term_above_those_sharing_a_part() {
    for (q, whole) in [("氢燃料电池", "燃料电池"), ("智能网联汽车", "智能网联汽车")]
    {
        let answer = search(q);
        let ranks: Vec<bool> = answer
            .hits
            .iter()
            .map(|h| text(&h.id).contains(whole))
            .collect();
        let first_without = ranks.iter().position(|has| !has).unwrap_or(ranks.len());
        let with = ranks.iter().filter(|has| **has).count();
        assert!(with > 0, "{q}");
        assert_eq!(
            first_without, with,
            "{q}: every listing with {whole} comes first"
        );
    }
}

#[test]
fn a_misspelt_term_finds_the_term_meant() {
    for (typo, meant) in [
        ("锂电尺", "锂电池"),
        ("钙钛旷", "钙钛矿"),
        ("激光雷打", "激光雷达"),
    ] {
        let answer = search(typo);
        let first = answer
            .hits
            .first()
            .unwrap_or_else(|| panic!("{typo} found nothing"));
        assert!(text(&first.id).contains(meant), "{typo}: {}", first.title);
    }
}
