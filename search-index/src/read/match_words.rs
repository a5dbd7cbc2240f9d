//! The words matching compares: a listing's telling words, weighted, and which of them each
//! candidate shares.
//!
//! A listing's words are jieba's precise-mode words of its title (twice), keywords and body, and
//! the dictionary words inside them, without stop words and measurements ([`crate::telling`]),
//! and only those another listing has. Each weighs its rarity in the index (BM25's idf) times a
//! damped count in the listing (1 + ln tf: a word written five times is more telling than one
//! written once, not five times more). The poster's own keywords count three more times.
//!
//! A candidate *shares* a word when the word is one of its indexed terms (the search-mode words
//! of its title, keywords, summary and details, so 储能 is shared by a listing about 储能电站).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use tantivy::query::{EnableScoring, Query};
use tantivy::schema::Field;
use tantivy::tokenizer::{TextAnalyzer, TokenizerManager};
use tantivy::{DocAddress, Score, Searcher, TERMINATED, Term};

use crate::analyzers;
use crate::document::ListingDoc;
use crate::telling;

/// Extra count of a word that is one of the source's keywords.
const DECLARED_COUNT: u32 = 3;

/// One telling word of the source listing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SourceWord {
    /// The word, lower-case.
    pub(crate) text: String,
    /// `(1 + ln tf) × idf`: how much the word says about the source.
    pub(crate) weight: f32,
    /// In more than the common share of a large catalogue (see [`crate::Ranking::common_limit`]).
    pub(crate) common: bool,
    /// One of the source's keywords, or a word of one.
    pub(crate) declared: bool,
    /// In the source's title (or inside a word of it): what the source says it is about.
    pub(crate) titled: bool,
}

/// The at most `max` most telling words of `source` that some other listing has, most telling
/// first; `common_above` is the number of listings a word may be in before it is common, and
/// `indexed` whether the source itself is in the index (its words then count it once).
pub(crate) fn source_words(
    searcher: &Searcher,
    text_field: Field,
    source: &ListingDoc,
    common_above: u64,
    indexed: bool,
    max: usize,
) -> Vec<SourceWord> {
    let Some((mut precise, mut search)) = ANALYZERS.clone() else {
        return Vec::new();
    };
    // The text opens with the title.
    let text = format!(
        "{} {} {} {}",
        source.title,
        source.title,
        source.keywords.join(" "),
        source.body()
    );
    // Each word of the precise segmentation, and the dictionary words inside it (功率密度: 功率,
    // 密度), as jieba's search mode finds them and the index holds them: a demand's 信贷业务 is
    // about the 信贷 of a result (without them the judged demands' nDCG@10 fell from 0.935 to
    // 0.915). The words inside a stop word (越来 in 越来越) are not words of the text. Search mode
    // cuts the text as precise mode does and adds the inner words: each of its words lies in the
    // precise word that starts at or before it.
    let whole = tokens_of(&mut precise, &text);
    let mut counts: HashMap<String, (u32, bool)> = HashMap::new();
    let mut titled = HashSet::new();
    for (from, word) in tokens_of(&mut search, &text) {
        let container = whole.partition_point(|(start, _)| *start <= from);
        let inside_stop_word = container
            .checked_sub(1)
            .and_then(|i| whole.get(i))
            .is_some_and(|(_, outer)| *outer != word && !telling::is_telling(outer));
        if inside_stop_word || !telling::is_telling(&word) {
            continue;
        }
        if from < source.title.len() {
            titled.insert(word.clone());
        }
        counts.entry(word).or_default().0 += 1;
    }
    for keyword in &source.keywords {
        let words: Vec<String> = tokens_of(&mut precise, keyword)
            .into_iter()
            .map(|(_, word)| word)
            .collect();
        // A keyword that is one word counts as much as three mentions; a keyword of several
        // words (SiC MOSFET) marks each as the poster's without making all of them weigh more.
        let extra = if words.len() == 1 { DECLARED_COUNT } else { 0 };
        for word in words.into_iter().filter(|w| telling::is_telling(w)) {
            let entry = counts.entry(word).or_default();
            entry.0 += extra;
            entry.1 = true;
        }
    }
    let documents = searcher.num_docs().max(1) as f32;
    let own = u64::from(indexed);
    let mut words: Vec<SourceWord> = counts
        .into_iter()
        .filter_map(|(text, (tf, declared))| {
            let df = searcher
                .doc_freq(&Term::from_field_text(text_field, &text))
                .unwrap_or(0);
            // A word no other listing has finds nothing and can be shared by none: left out, it
            // neither takes the place of a word that can nor counts in what a match must share.
            if df <= own {
                return None;
            }
            let idf = (1.0 + (documents - df as f32 + 0.5) / (df as f32 + 0.5)).ln();
            Some(SourceWord {
                weight: (1.0 + (tf.max(1) as f32).ln()) * idf,
                common: df > common_above,
                declared,
                titled: titled.contains(&text),
                text,
            })
        })
        .filter(|w| w.weight > 0.0)
        .collect();
    words.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| a.text.cmp(&b.text))
    });
    words.truncate(max.min(MAX_CLAUSES));
    words
}

/// The start (a byte offset) and text of each token of `text` by `analyzer`, in its order.
fn tokens_of(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(usize, String)> {
    let mut stream = analyzer.token_stream(text);
    let mut tokens = Vec::new();
    while let Some(token) = stream.next() {
        tokens.push((token.offset_from, token.text.clone()));
    }
    tokens
}

/// The precise and the search analyzer, made once: a matching clones them (two `Arc`s).
static ANALYZERS: LazyLock<Option<(TextAnalyzer, TextAnalyzer)>> = LazyLock::new(|| {
    let manager = TokenizerManager::new();
    analyzers::register_analyzers(&manager);
    Some((
        manager.get(analyzers::CHINESE_PRECISE)?,
        manager.get(analyzers::CHINESE_SEARCH)?,
    ))
});

/// Clauses [`clause_masks`] can tell apart (bits of a `u64`).
pub(crate) const MAX_CLAUSES: usize = 64;

/// For each candidate, a bit per clause (the first [`MAX_CLAUSES`]) that matches it, without
/// scoring.
pub(crate) fn clause_masks(
    searcher: &Searcher,
    clauses: &[Box<dyn Query>],
    candidates: &[(Score, DocAddress)],
) -> tantivy::Result<Vec<u64>> {
    let mut masks = vec![0_u64; candidates.len()];
    let clauses = &clauses[..clauses.len().min(MAX_CLAUSES)];
    let weights = clauses
        .iter()
        .map(|clause| clause.weight(EnableScoring::disabled_from_searcher(searcher)))
        .collect::<tantivy::Result<Vec<_>>>()?;
    // Scorers only move forward: visit the candidates segment by segment in document order, as
    // `top::add_scores` does.
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by_key(|&i| candidates[i].1);
    let mut current: Option<(u32, Vec<Box<dyn tantivy::query::Scorer>>)> = None;
    for i in order {
        let address = candidates[i].1;
        if current
            .as_ref()
            .is_none_or(|(segment, _)| *segment != address.segment_ord)
        {
            let reader = searcher.segment_reader(address.segment_ord);
            let scorers = weights
                .iter()
                .map(|weight| weight.scorer(reader, 1.0))
                .collect::<tantivy::Result<Vec<_>>>()?;
            current = Some((address.segment_ord, scorers));
        }
        if let Some((_, scorers)) = current.as_mut() {
            for (bit, scorer) in scorers.iter_mut().enumerate() {
                if scorer.doc() != TERMINATED && scorer.doc() < address.doc_id {
                    scorer.seek(address.doc_id);
                }
                if scorer.doc() == address.doc_id {
                    masks[i] |= 1 << bit;
                }
            }
        }
    }
    Ok(masks)
}

/// What a candidate shares of the source's words.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Shared {
    /// Distinct telling words shared: not common, and not part of another shared word (焊缝
    /// beside 焊缝跟踪 is one subject, not two).
    pub(crate) words: usize,
    /// The shared words' share of the source's whole word weight, 0–1.
    pub(crate) share: f32,
    /// Whether a shared word is in the source's title.
    pub(crate) titled: bool,
}

impl Shared {
    /// What the words whose bits are set in `mask` make of `words`.
    pub(crate) fn of(words: &[SourceWord], mask: u64) -> Self {
        let total: f32 = words.iter().map(|w| w.weight).sum();
        let matched: Vec<&SourceWord> = words
            .iter()
            .enumerate()
            .filter(|(bit, _)| mask & (1 << bit) != 0)
            .map(|(_, w)| w)
            .collect();
        let weight: f32 = matched.iter().map(|w| w.weight).sum();
        let distinct = matched
            .iter()
            .filter(|w| !w.common)
            .filter(|w| {
                !matched
                    .iter()
                    .any(|other| other.text != w.text && other.text.contains(w.text.as_str()))
            })
            .count();
        Self {
            words: distinct,
            share: if total > 0.0 { weight / total } else { 0.0 },
            titled: matched.iter().any(|w| w.titled && !w.common),
        }
    }
}

/// The shared words to show, from `mask`: the source's keywords first (what its poster said
/// matters), then the most telling; a word inside another shown word is left out.
pub(crate) fn shown_words(words: &[SourceWord], mask: u64, max: usize) -> Vec<String> {
    let matched: Vec<&SourceWord> = words
        .iter()
        .enumerate()
        .filter(|(bit, _)| mask & (1 << bit) != 0)
        .map(|(_, w)| w)
        .collect();
    let mut shown: Vec<&SourceWord> = matched
        .iter()
        .copied()
        .filter(|w| {
            !matched
                .iter()
                .any(|other| other.text != w.text && other.text.contains(w.text.as_str()))
        })
        .collect();
    // `words` is most telling first, and the sort is stable.
    shown.sort_by_key(|w| !w.declared);
    shown
        .into_iter()
        .take(max)
        .map(|w| w.text.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, weight: f32) -> SourceWord {
        SourceWord {
            text: text.into(),
            weight,
            common: false,
            declared: false,
            titled: false,
        }
    }

    #[test]
    fn a_word_inside_another_shared_word_is_not_a_second_subject() {
        let words = [
            word("焊缝跟踪", 4.0),
            word("焊缝", 2.0),
            word("机器人", 2.0),
        ];
        let shared = Shared::of(&words, 0b011);
        assert_eq!(shared.words, 1);
        assert!((shared.share - 0.75).abs() < 1e-6);
        assert_eq!(Shared::of(&words, 0b111).words, 2);
        assert_eq!(Shared::of(&words, 0).share, 0.0);
        assert_eq!(shown_words(&words, 0b111, 8), vec!["焊缝跟踪", "机器人"]);
    }

    #[test]
    fn the_posters_keywords_are_shown_first() {
        let mut words = vec![word("啸叫", 5.0), word("电驱桥", 4.0), word("齿轮", 3.0)];
        words[1].declared = true;
        assert_eq!(shown_words(&words, 0b111, 2), vec!["电驱桥", "啸叫"]);
    }
}
