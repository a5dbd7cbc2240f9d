//! Text analyzers, all registered by [`register_analyzers`].
//!
//! tantivy stores only an analyzer's *name* in the index meta, so every open of an index must register
//! the analyzers again before any query or write; [`crate::SearchIndex`] does that in one place.

use std::sync::{Arc, LazyLock};

use jieba_rs::{Jieba, TokenizeMode};
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer, TokenizerManager};

/// Chinese text in jieba's search mode: long words also yield their shorter dictionary words
/// (人工智能 → 人工, 智能, 人工智能), which raises recall for short queries.
pub const CHINESE_SEARCH: &str = "chinese_search";
/// Chinese text in jieba's precise mode: one segmentation, no overlapping words.
pub const CHINESE_PRECISE: &str = "chinese_precise";

/// Overlapping character bigrams over runs of Han characters (Latin words and numbers stay whole):
/// the classic dictionary-free CJK analyzer, kept as a baseline for the quality evaluation.
pub const CJK_BIGRAM: &str = "cjk_bigram";

/// Every analyzer name this crate registers, in registration order.
pub const ANALYZER_NAMES: [&str; 3] = [CHINESE_SEARCH, CHINESE_PRECISE, CJK_BIGRAM];

/// Tokens longer than this many bytes (about 13 Han characters) are dropped: they are noise such as
/// base64 blobs or URLs, and they bloat the term dictionary. Tokens are lower-cased.
pub(crate) const MAX_TOKEN_BYTES: usize = 40;

/// Domain words (industry and technology terms) added to jieba's dictionary, kept as data in
/// `seeds/search/user_dict.txt`: `word frequency tag` per line, `#` for comments.
const USER_DICTIONARY: &str = include_str!("../../seeds/search/user_dict.txt");

/// Synonym groups for queries, kept as data in `seeds/search/synonyms.txt`.
const SYNONYMS: &str = include_str!("../../seeds/search/synonyms.txt");

/// The one jieba instance of the process, with the domain words. Loading its dictionary takes
/// about 160 ms in a release build, so it is shared (an `Arc` clone per analyzer clone, not a
/// dictionary copy).
static JIEBA: LazyLock<Arc<Jieba>> = LazyLock::new(|| {
    let mut jieba = Jieba::new();
    add_user_dictionary(&mut jieba);
    Arc::new(jieba)
});

/// The domain words of `seeds/search/user_dict.txt`.
pub(crate) fn user_words() -> impl Iterator<Item = &'static str> {
    USER_DICTIONARY
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_whitespace().next())
}

/// Adds the domain words of `seeds/search/user_dict.txt` to `jieba`.
fn add_user_dictionary(jieba: &mut Jieba) {
    for line in USER_DICTIONARY.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        if let Some(word) = parts.next() {
            let frequency = parts.next().and_then(|f| f.parse().ok());
            jieba.add_word(word, frequency, parts.next());
        }
    }
}

/// Synonym groups, lower-cased like the indexed tokens.
static SYNONYM_GROUPS: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| {
    SYNONYMS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.split([',', '，'])
                .map(|w| w.trim().to_lowercase())
                .filter(|w| !w.is_empty())
                .collect()
        })
        .collect()
});

/// The other members of every synonym group `word` belongs to (lower-case).
pub fn synonyms_of(word: &str) -> Vec<String> {
    let word = word.to_lowercase();
    SYNONYM_GROUPS
        .iter()
        .filter(|group| group.contains(&word))
        .flat_map(|group| group.iter().filter(|w| **w != word).cloned())
        .collect()
}

/// Loads the jieba dictionary now, so that the first request does not pay for it.
pub fn warm_up() {
    LazyLock::force(&JIEBA);
}

/// Registers every analyzer of techmarket in `manager`.
pub fn register_analyzers(manager: &TokenizerManager) {
    manager.register(
        CHINESE_SEARCH,
        jieba_analyzer(Arc::clone(&JIEBA), TokenizeMode::Search, true),
    );
    manager.register(
        CHINESE_PRECISE,
        jieba_analyzer(Arc::clone(&JIEBA), TokenizeMode::Default, true),
    );
    manager.register(CJK_BIGRAM, TextAnalyzer::from(BigramTokenizer));
}

/// A jieba analyzer with the given dictionary, mode and unknown-word detection (`hmm`), for the
/// quality evaluation's variants; the registered analyzers use [`JIEBA`] with `hmm` on.
pub(crate) fn jieba_analyzer(jieba: Arc<Jieba>, mode: TokenizeMode, hmm: bool) -> TextAnalyzer {
    TextAnalyzer::from(ChineseTokenizer { jieba, mode, hmm })
}

/// The shared jieba instance with the domain words.
pub(crate) fn domain_jieba() -> Arc<Jieba> {
    Arc::clone(&JIEBA)
}

/// A jieba instance with only its built-in dictionary, to measure what the domain words add.
pub(crate) fn plain_jieba() -> Arc<Jieba> {
    Arc::new(Jieba::new())
}

/// Runs the named analyzer over `text` and returns the token texts, for tests and diagnostics.
/// Returns `None` when no analyzer has that name.
pub fn tokenize(name: &str, text: &str) -> Option<Vec<String>> {
    let manager = TokenizerManager::default();
    register_analyzers(&manager);
    let mut analyzer = manager.get(name)?;
    let mut stream = analyzer.token_stream(text);
    let mut words = Vec::new();
    while let Some(token) = stream.next() {
        words.push(token.text.clone());
    }
    Some(words)
}

/// Segments text with jieba and keeps only word tokens.
///
/// jieba returns whitespace and punctuation as tokens of their own; they carry no meaning and would
/// match every document, so they are skipped. Positions are ordinal over words (see
/// [`word_positions`]) rather than character offsets, which is what tantivy's phrase queries expect.
#[derive(Clone)]
struct ChineseTokenizer {
    jieba: Arc<Jieba>,
    mode: TokenizeMode,
    /// jieba's HMM guesses words missing from the dictionary (names, new terms).
    hmm: bool,
}

impl Tokenizer for ChineseTokenizer {
    type TokenStream<'a> = ChineseTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ChineseTokenStream<'a> {
        let words: Vec<jieba_rs::Token<'_>> = self
            .jieba
            .tokenize(text, self.mode, self.hmm)
            .into_iter()
            .filter(|token| {
                token.word.len() <= MAX_TOKEN_BYTES && token.word.chars().any(is_word_char)
            })
            .collect();
        let positions = word_positions(&words);
        let spans = words
            .iter()
            .zip(positions)
            .map(|(token, position)| {
                // jieba's `start`/`end` count characters; tantivy wants byte offsets into `text`.
                // `word` is a slice of `text`, so its address gives the byte offset directly.
                let from = token.word.as_ptr() as usize - text.as_ptr() as usize;
                (from, from + token.word.len(), position)
            })
            .collect();
        ChineseTokenStream {
            text,
            spans,
            next: 0,
            token: Token::default(),
        }
    }
}

/// Ordinal positions in which the shorter words that search mode emits inside a longer word share
/// that word's position (人工, 智能 and 人工智能 all stand at one position). A phrase of whole words
/// then matches across words of any length: in "人工智能机器人", 人工智能 is at 0 and 机器人 at 1.
///
/// jieba emits a long word's inner words just before the word itself, so walking backwards, a token
/// inside the last seen word belongs to that word's position.
fn word_positions(words: &[jieba_rs::Token<'_>]) -> Vec<usize> {
    let mut reversed = Vec::with_capacity(words.len());
    let mut container: Option<(usize, usize)> = None;
    let mut count = 0;
    for token in words.iter().rev() {
        let inside = container.is_some_and(|(start, end)| token.start >= start && token.end <= end);
        if !inside {
            container = Some((token.start, token.end));
            count += 1;
        }
        reversed.push(count - 1);
    }
    reversed.iter().rev().map(|r| count - 1 - r).collect()
}

/// Fills `token` with `text[from..to]` in lower case, reusing its buffer. Done here rather than
/// with tantivy's `LowerCaser`, which allocates a second string for every token that is not pure
/// ASCII — every Chinese word; and one buffer for the whole stream instead of a `String` per token
/// saves an allocation for each of the thousand-odd tokens of a listing.
fn fill(token: &mut Token, text: &str, from: usize, to: usize, position: usize) {
    let word = &text[from..to];
    token.offset_from = from;
    token.offset_to = to;
    token.position = position;
    token.position_length = 1;
    token.text.clear();
    if word.is_ascii() {
        token.text.push_str(word);
        token.text.make_ascii_lowercase();
    } else if word.chars().any(|c| !is_han(c) && c.is_uppercase()) {
        token.text.extend(word.chars().flat_map(char::to_lowercase));
    } else {
        token.text.push_str(word);
    }
}

/// The words of one text as jieba segmented them: byte spans and positions, turned into tantivy's
/// token one at a time.
struct ChineseTokenStream<'a> {
    text: &'a str,
    /// `(offset_from, offset_to, position)` of every word.
    spans: Vec<(usize, usize, usize)>,
    /// Index of the next span to emit.
    next: usize,
    token: Token,
}

impl TokenStream for ChineseTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(&(from, to, position)) = self.spans.get(self.next) else {
            return false;
        };
        self.next += 1;
        fill(&mut self.token, self.text, from, to, position);
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// Overlapping bigrams of Han characters; a lone Han character is a token of its own, and runs of
/// other letters or digits are one token each. Positions count tokens.
#[derive(Clone)]
struct BigramTokenizer;

pub(crate) fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
}

/// `char::is_alphanumeric`, answered without Unicode's tables for ASCII and the two main blocks of
/// Han characters, every code point of which is assigned (nearly every character of a listing;
/// the table lookups were 3% of indexing).
pub(crate) fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}') || c.is_alphanumeric()
    }
}

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = BigramTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> BigramTokenStream<'a> {
        BigramTokenStream {
            text,
            at: 0,
            han_before: None,
            emitted: 0,
            token: Token::default(),
        }
    }
}

/// Walks the text once, producing each bigram or word as it is asked for (a listing's text has
/// about as many bigrams as Han characters; none of them is kept beyond its turn).
struct BigramTokenStream<'a> {
    text: &'a str,
    /// Byte offset of the next character to look at.
    at: usize,
    /// Byte offset of the Han character just before `at`, inside a run of Han characters.
    han_before: Option<usize>,
    /// Tokens emitted so far: the next token's position.
    emitted: usize,
    token: Token,
}

impl BigramTokenStream<'_> {
    fn emit(&mut self, from: usize, to: usize) -> bool {
        if to - from > MAX_TOKEN_BYTES {
            return false;
        }
        fill(&mut self.token, self.text, from, to, self.emitted);
        self.emitted += 1;
        true
    }
}

impl TokenStream for BigramTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let text = self.text;
        while let Some(c) = text[self.at..].chars().next() {
            let start = self.at;
            let end = start + c.len_utf8();
            self.at = end;
            if is_han(c) {
                if let Some(before) = self.han_before.replace(start) {
                    return self.emit(before, end);
                }
                // The first character of a run: a token of its own only when the run is one
                // character long.
                if !text[end..].chars().next().is_some_and(is_han) && self.emit(start, end) {
                    return true;
                }
            } else {
                self.han_before = None;
                if is_word_char(c) {
                    let run = text[start..]
                        .char_indices()
                        .find(|&(_, c)| !is_word_char(c) || is_han(c))
                        .map_or(text.len(), |(length, _)| start + length);
                    self.at = run;
                    if self.emit(start, run) {
                        return true;
                    }
                }
            }
        }
        false
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(name: &str, text: &str) -> Vec<String> {
        tokenize(name, text).unwrap_or_else(|| panic!("analyzer {name} is not registered"))
    }

    /// Every token of `text` (text, offsets, position), after checking that its offsets cut out
    /// of `text` what it says, up to case.
    fn tokens(name: &str, text: &str) -> Vec<Token> {
        let manager = TokenizerManager::default();
        register_analyzers(&manager);
        let mut analyzer = manager.get(name).expect("registered");
        let mut stream = analyzer.token_stream(text);
        let mut seen = Vec::new();
        while let Some(token) = stream.next() {
            assert_eq!(
                text[token.offset_from..token.offset_to].to_lowercase(),
                token.text
            );
            seen.push(token.clone());
        }
        seen
    }

    #[test]
    fn every_analyzer_is_registered() {
        let manager = TokenizerManager::default();
        register_analyzers(&manager);
        for name in ANALYZER_NAMES {
            assert!(manager.get(name).is_some(), "{name} missing");
        }
        assert!(tokenize("no_such_analyzer", "x").is_none());
    }

    #[test]
    fn artificial_intelligence_is_one_word_and_its_parts() {
        let search = words(CHINESE_SEARCH, "人工智能");
        assert!(search.contains(&"人工智能".to_string()), "{search:?}");
        assert!(search.contains(&"人工".to_string()), "{search:?}");
        assert!(search.contains(&"智能".to_string()), "{search:?}");
        assert_eq!(words(CHINESE_PRECISE, "人工智能"), vec!["人工智能"]);
    }

    #[test]
    fn machine_vision_defect_detection_segments_into_words() {
        // Both are domain words (seeds/search/user_dict.txt): precise mode keeps them whole,
        // search mode adds their parts.
        let precise = words(CHINESE_PRECISE, "机器视觉缺陷检测");
        assert_eq!(precise, vec!["机器视觉", "缺陷检测"]);
        let search = words(CHINESE_SEARCH, "机器视觉缺陷检测");
        for word in ["机器", "视觉", "缺陷", "检测", "机器视觉", "缺陷检测"] {
            assert!(
                search.contains(&word.to_string()),
                "{word} not in {search:?}"
            );
        }
    }

    #[test]
    fn mixed_5g_and_ai_text_keeps_latin_terms_lowercased_and_drops_punctuation() {
        let search = words(CHINESE_SEARCH, "基于5G与AI的智能工厂，边缘计算！");
        for word in ["基于", "5g", "ai", "智能", "工厂", "边缘", "计算"] {
            assert!(
                search.contains(&word.to_string()),
                "{word} not in {search:?}"
            );
        }
        assert!(
            search.iter().all(|w| w.chars().any(char::is_alphanumeric)),
            "punctuation leaked: {search:?}"
        );
        assert!(!search.iter().any(|w| w.chars().any(char::is_uppercase)));
    }

    #[test]
    fn offsets_are_bytes_and_positions_ordinal() {
        let seen: Vec<usize> = tokens(CHINESE_PRECISE, "西安 交通大学")
            .iter()
            .map(|t| t.position)
            .collect();
        assert_eq!(seen, (0..seen.len()).collect::<Vec<_>>());
    }

    #[test]
    fn inner_words_share_the_position_of_their_word_in_search_mode() {
        let seen: Vec<(String, usize)> = tokens(CHINESE_SEARCH, "人工智能机器学习")
            .into_iter()
            .map(|t| (t.text, t.position))
            .collect();
        let position = |word: &str| seen.iter().find(|(w, _)| w == word).map(|(_, p)| *p);
        assert_eq!(position("人工"), position("人工智能"), "{seen:?}");
        assert_eq!(position("智能"), position("人工智能"), "{seen:?}");
        assert_eq!(position("人工智能"), Some(0), "{seen:?}");
        // The next whole word follows at the next position.
        assert_eq!(position("机器"), Some(1), "{seen:?}");
    }

    #[test]
    fn domain_words_stay_whole_and_synonyms_are_known() {
        let precise = words(CHINESE_PRECISE, "基于机器视觉的缺陷检测与增材制造");
        assert!(precise.contains(&"机器视觉".to_string()), "{precise:?}");
        assert!(precise.contains(&"缺陷检测".to_string()), "{precise:?}");
        assert!(precise.contains(&"增材制造".to_string()), "{precise:?}");
        assert!(synonyms_of("AI").contains(&"人工智能".to_string()));
        assert!(synonyms_of("3D打印").contains(&"增材制造".to_string()));
        assert!(synonyms_of("芯片").contains(&"集成电路".to_string()));
        assert!(synonyms_of("钢铁").is_empty());
    }

    #[test]
    fn bigrams_overlap_over_han_runs_and_keep_latin_words_whole() {
        assert_eq!(
            words(CJK_BIGRAM, "机器视觉，5G基站与AI"),
            vec!["机器", "器视", "视觉", "5g", "基站", "站与", "ai"]
        );
        assert_eq!(words(CJK_BIGRAM, "钢 铁"), vec!["钢", "铁"]);
        // A lone Han character between others, case folded outside ASCII, a run too long to be a
        // word dropped without leaving a gap in the positions.
        let long = "x".repeat(MAX_TOKEN_BYTES + 1);
        let text = format!("Ärger-钢!{long} 机器人 Über2");
        assert_eq!(
            words(CJK_BIGRAM, &text),
            vec!["ärger", "钢", "机器", "器人", "über2"]
        );
    }

    #[test]
    fn the_fast_character_classes_agree_with_unicode() {
        for c in (0..0x3_0000).filter_map(char::from_u32) {
            assert_eq!(is_word_char(c), c.is_alphanumeric(), "{c:?}");
            if is_han(c) {
                assert!(!c.is_uppercase(), "{c:?}");
            }
        }
    }

    #[test]
    fn bigram_offsets_point_into_the_text_and_positions_count_tokens() {
        let seen: Vec<(String, usize)> = tokens(CJK_BIGRAM, "AI芯片，集成电路")
            .into_iter()
            .map(|t| (t.text, t.position))
            .collect();
        let expected = ["ai", "芯片", "集成", "成电", "电路"];
        assert_eq!(
            seen,
            expected
                .iter()
                .enumerate()
                .map(|(i, w)| (w.to_string(), i))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn empty_and_symbol_only_text_yield_no_tokens() {
        assert!(words(CHINESE_SEARCH, "").is_empty());
        assert!(words(CHINESE_SEARCH, "，。！？  ——").is_empty());
    }
}
