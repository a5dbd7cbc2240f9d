//! Telling words: the words of a listing that say what it is about.
//!
//! Matching compares listings by their words, and shows the shared ones as reasons; a word like
//! 开展, 小于 or 工况 is in half the catalogue and says nothing about either listing, so it must be
//! neither. The stop list is data (`seeds/search/stop_words.txt`), like the synonyms; numbers,
//! and numbers with a unit (10万公里, 20mpa, 550℃), are measurements, not subjects.

use std::collections::HashSet;
use std::sync::LazyLock;

/// Function words, report words, market boilerplate and units, one per line, `#` for comments.
const STOP_WORDS: &str = include_str!("../../seeds/search/stop_words.txt");

/// The stop list, lower-cased like the analyzers' tokens.
static STOP: LazyLock<HashSet<String>> = LazyLock::new(|| {
    STOP_WORDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_lowercase)
        .collect()
});

/// Whether `word` (a token of the analyzers: lower-case) is on the stop list.
pub fn is_stop_word(word: &str) -> bool {
    STOP.contains(word)
}

/// Whether `word` can say what a listing is about: at least two characters, not a stop word, not
/// a number, and not a number followed by a unit or another stop word (`10万公里`, `1200v`,
/// `98.5%`). A number followed by letters that are no unit stays telling: `5g-a`, `3d打印`.
pub fn is_telling(word: &str) -> bool {
    if word.chars().count() < 2 || is_stop_word(word) {
        return false;
    }
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit() || matches!(c, '.' | ','));
    if rest.len() == word.len() {
        return true;
    }
    !(rest.is_empty() || is_stop_word(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_and_report_words_are_not_telling() {
        for word in [
            "开展",
            "小于",
            "大于",
            "以上",
            "以下",
            "实现",
            "进行",
            "提升",
            "工况",
            "万公里",
            "要求",
            "满足",
            "具备",
            "通过",
            "达到",
            "越来越",
            "技术",
        ] {
            assert!(!is_telling(word), "{word}");
        }
    }

    #[test]
    fn numbers_and_measurements_are_not_telling() {
        for word in [
            "2024",
            "98.5%",
            "0.4mm",
            "10万公里",
            "550℃",
            "20mpa",
            "480kw",
            "1200v",
            "6db",
            "kg",
            "1,000",
        ] {
            assert!(!is_telling(word), "{word}");
        }
    }

    #[test]
    fn subjects_are_telling_even_when_generic_or_starting_with_a_digit() {
        for word in [
            "电驱桥",
            "nvh",
            "储能",
            "热管理",
            "5g-a",
            "3d打印",
            "m10",
            "碳化硅",
            "zl202010876543.2",
        ] {
            assert!(is_telling(word), "{word}");
        }
        assert!(!is_telling("桥"), "one character says too little");
    }

    #[test]
    fn the_stop_list_is_a_few_hundred_lower_case_words() {
        assert!((300..2000).contains(&STOP.len()), "{}", STOP.len());
        assert!(
            STOP.iter()
                .all(|w| *w == w.to_lowercase() && !w.contains(' '))
        );
    }
}
