//! The bilingual glossary (`seeds/search/glossary/`): English technology terms and the Chinese
//! terms they name, so that an English or mixed-language query (`lithium battery`, `AI 质检`)
//! finds the Chinese listings. `curated.tsv` is the market's own vocabulary; `cedict.tsv` terms
//! selected from CC-CEDICT (CC BY-SA 4.0, kept in its own file for that licence).

use std::collections::HashMap;
use std::sync::LazyLock;

const CURATED: &str = include_str!("../../seeds/search/glossary/curated.tsv");
const CEDICT: &str = include_str!("../../seeds/search/glossary/cedict.tsv");

/// The longest English term of the glossary, in words.
const MAX_WORDS: usize = 4;

/// English term (lower case, words separated by one space) → its Chinese terms.
static GLOSSARY: LazyLock<HashMap<String, Vec<String>>> = LazyLock::new(|| {
    let mut glossary: HashMap<String, Vec<String>> = HashMap::new();
    let lines = CURATED.lines().chain(CEDICT.lines());
    for line in lines.filter(|l| !l.starts_with('#')) {
        if let Some((english, chinese)) = line.split_once('\t') {
            let terms = glossary.entry(english.trim().to_owned()).or_default();
            let chinese = chinese.trim().to_owned();
            if !chinese.is_empty() && !terms.contains(&chinese) {
                terms.push(chinese);
            }
        }
    }
    glossary
});

/// Every Chinese term of the glossary.
pub(crate) fn chinese_vocabulary() -> impl Iterator<Item = &'static str> {
    GLOSSARY.values().flatten().map(String::as_str)
}

/// The Chinese terms of the English terms in `text` (a query as typed): at each English word, the
/// longest glossary term that starts there (`hydrogen fuel cell` before `fuel cell`).
pub fn chinese_terms(text: &str) -> Vec<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_ascii_lowercase()
        })
        .collect();
    let is_english = |w: &String| !w.is_empty() && w.is_ascii();
    let mut found = Vec::new();
    let mut at = 0;
    while at < words.len() {
        let longest = (1..=MAX_WORDS.min(words.len() - at))
            .rev()
            .find_map(|length| {
                let run = &words[at..at + length];
                if !run.iter().all(is_english) {
                    return None;
                }
                GLOSSARY.get(&run.join(" ")).map(|terms| (length, terms))
            });
        match longest {
            Some((length, terms)) => {
                found.extend(terms.iter().cloned());
                at += length;
            }
            None => at += 1,
        }
    }
    found.sort();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_terms_name_their_chinese_terms_longest_first() {
        assert!(chinese_terms("lithium battery").contains(&"锂电池".to_owned()));
        assert!(chinese_terms("Defect Detection").contains(&"缺陷检测".to_owned()));
        let hydrogen = chinese_terms("hydrogen fuel cell");
        assert!(hydrogen.contains(&"氢燃料电池".to_owned()), "{hydrogen:?}");
        assert!(chinese_terms("titanium alloy, please").contains(&"钛合金".to_owned()));
        assert!(
            chinese_terms("钛合金 锂电池").is_empty(),
            "Chinese is searched as it is"
        );
        assert!(chinese_terms("").is_empty());
    }
}
