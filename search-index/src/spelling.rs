//! Spelling: the domain's own terms (the jieba user dictionary and the glossary's Chinese side)
//! as the vocabulary a misspelt query word is corrected against — 锂电尺 → 锂电池, 太合金 → 钛合金.
//! A known vocabulary rather than the index's term dictionary: walking the dictionary for the
//! words one edit away cost 4 ms a query at 100,000 listings; comparing with some thousands of
//! terms of about the same length costs microseconds, and corrects towards terms, not noise.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// The vocabulary, for lookups.
static KNOWN: LazyLock<HashSet<String>> = LazyLock::new(|| {
    VOCABULARY
        .values()
        .flatten()
        .map(|chars| chars.iter().collect())
        .collect()
});

/// The vocabulary, by length in characters.
static VOCABULARY: LazyLock<HashMap<usize, Vec<Vec<char>>>> = LazyLock::new(|| {
    let mut words: Vec<String> = crate::analyzers::user_words()
        .chain(crate::glossary::chinese_vocabulary())
        .map(str::to_lowercase)
        .collect();
    words.sort();
    words.dedup();
    let mut by_length: HashMap<usize, Vec<Vec<char>>> = HashMap::new();
    for word in words {
        let chars: Vec<char> = word.chars().collect();
        by_length.entry(chars.len()).or_default().push(chars);
    }
    by_length
});

/// Whether `word` is a term of the domain's vocabulary.
pub fn is_known(word: &str) -> bool {
    KNOWN.contains(&word.to_lowercase())
}

/// The vocabulary's terms one edit away from `word` (a character replaced, added, removed, or
/// two neighbours swapped), for words of 3 characters or more.
pub fn corrections(word: &str) -> Vec<String> {
    let typed: Vec<char> = word.to_lowercase().chars().collect();
    if typed.len() < 3 {
        return Vec::new();
    }
    let mut found: Vec<String> = (typed.len() - 1..=typed.len() + 1)
        .filter_map(|length| VOCABULARY.get(&length))
        .flatten()
        .filter(|term| one_edit_apart(&typed, term))
        .map(|term| term.iter().collect())
        .collect();
    found.sort();
    found
}

/// Whether `a` and `b` differ by exactly one edit (Damerau: a swap of neighbours is one).
fn one_edit_apart(a: &[char], b: &[char]) -> bool {
    if a == b {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a_rest, b_rest) = (&a[prefix..], &b[prefix..]);
    match a_rest.len().cmp(&b_rest.len()) {
        std::cmp::Ordering::Equal => {
            a_rest[1..] == b_rest[1..]
                || (a_rest.len() >= 2
                    && a_rest[0] == b_rest[1]
                    && a_rest[1] == b_rest[0]
                    && a_rest[2..] == b_rest[2..])
        }
        std::cmp::Ordering::Less => a_rest == &b_rest[1..],
        std::cmp::Ordering::Greater => &a_rest[1..] == b_rest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_domain_term_is_corrected_to_the_terms_one_edit_away() {
        assert!(corrections("锂电尺").contains(&"锂电池".to_owned()));
        assert!(corrections("太合金").contains(&"钛合金".to_owned()));
        assert!(corrections("无损减测").contains(&"无损检测".to_owned()));
        assert!(corrections("激光雷打").contains(&"激光雷达".to_owned()));
        assert!(
            corrections("锂电池").iter().all(|c| c != "锂电池"),
            "a term is not its own correction"
        );
        assert!(corrections("池").is_empty());
        assert!(is_known("钛合金") && !is_known("太合金"));
    }

    #[test]
    fn one_edit_is_a_replacement_an_insertion_a_deletion_or_a_swap() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert!(one_edit_apart(&chars("锂电尺"), &chars("锂电池")));
        assert!(one_edit_apart(&chars("锂池"), &chars("锂电池")));
        assert!(one_edit_apart(&chars("锂电电池"), &chars("锂电池")));
        assert!(one_edit_apart(&chars("电锂池"), &chars("锂电池")));
        assert!(!one_edit_apart(&chars("锂电池"), &chars("锂电池")));
        assert!(!one_edit_apart(&chars("铅酸池"), &chars("锂电池")));
    }
}
