//! Snippets: about [`SNIPPET_CHARS`] characters of a listing's body around the query's words, with
//! the words in `<em>`.
//!
//! tantivy's `SnippetGenerator` re-segments every hit's body with jieba, which cost more than the
//! search itself (about 1 ms for 20 hits), and reports ranges that can wrap below zero with
//! search-mode segmentation. The query's terms are already known, so the body is scanned for them
//! as plain substrings instead: the same words are marked, in microseconds. One Aho-Corasick
//! automaton per search finds every term in one pass over each body.

use std::borrow::Cow;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// Roughly how many characters a snippet shows.
pub const SNIPPET_CHARS: usize = 80;
/// Characters of context kept before the first match of the chosen window.
const LEAD_CHARS: usize = 12;

/// The snippets of one search: its terms, ready to be found in any number of bodies.
pub struct Snippets {
    /// The terms (lower-case, none empty); `None` when there are none.
    terms: Option<AhoCorasick>,
}

impl Snippets {
    /// Snippets marking `terms` (lower-case).
    pub fn new(terms: &[String]) -> Self {
        let terms: Vec<&str> = terms
            .iter()
            .map(String::as_str)
            .filter(|t| !t.is_empty())
            .collect();
        let automaton = (!terms.is_empty())
            .then(|| {
                // The longest term wins where several start at one place ("机器视觉" over "机器"):
                // shorter ones inside it would be merged into its mark anyway. A DFA would search a
                // little faster but takes longer to build than twenty bodies take to scan.
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .kind(Some(AhoCorasickKind::ContiguousNFA))
                    .build(&terms)
                    .ok()
            })
            .flatten();
        Self { terms: automaton }
    }

    /// The snippet of `body`, as HTML: text escaped, matches in `<em>`, adjacent matches merged.
    /// Without any match, the opening of the body.
    pub fn of(&self, body: &str) -> String {
        let mut matches: Vec<(Range<usize>, usize)> = Vec::new();
        if let Some(terms) = &self.terms {
            let lower = fold_case(body);
            // Lower-casing may change byte lengths (rare letters); then match case-sensitively.
            let haystack = if lower.len() == body.len() {
                &*lower
            } else {
                body
            };
            matches.extend(
                terms
                    .find_iter(haystack)
                    .map(|m| (m.range(), m.pattern().as_usize())),
            );
        }
        let window = best_window(body, &matches);
        let ranges: Vec<Range<usize>> = matches
            .iter()
            .map(|(r, _)| r.clone())
            .filter(|r| r.start >= window.start && r.end <= window.end)
            .map(|r| r.start - window.start..r.end - window.start)
            .collect();
        highlight(&body[window], &ranges)
    }
}

/// `text` in lower case, as the analyzers fold it, for matching lower-case terms. Most bodies
/// have nothing to fold (Han characters, CJK and fullwidth punctuation have no case) and are
/// matched as they are; ASCII capitals are folded byte by byte; only a text with other letters
/// that have case (Greek, Cyrillic, fullwidth Latin …) takes the slow, character by character way.
fn fold_case(text: &str) -> Cow<'_, str> {
    match case_of(text.as_bytes()) {
        Case::Lower => Cow::Borrowed(text),
        Case::AsciiCapitals => Cow::Owned(text.to_ascii_lowercase()),
        Case::OtherCapitals => {
            let mut folded = String::with_capacity(text.len());
            for c in text.chars() {
                match u32::from(c) {
                    0..0x80 => folded.push(c.to_ascii_lowercase()),
                    0x3000..0xA000 | 0xAC00..0xD7A4 => folded.push(c),
                    _ => folded.extend(c.to_lowercase()),
                }
            }
            Cow::Owned(folded)
        }
    }
}

/// What lower-casing a text involves.
#[derive(Debug, PartialEq, Eq)]
enum Case {
    /// Nothing: no character of it has a lower case of its own.
    Lower,
    /// ASCII capitals, and nothing else with case.
    AsciiCapitals,
    /// Characters beyond ASCII that may have a lower case.
    OtherCapitals,
}

/// What lower-casing the UTF-8 `bytes` involves, from their lead bytes: the characters beyond ASCII
/// that have a lower case are those of two-byte sequences led by C3–C9 and CD–D5, of a few blocks
/// of 64 three-byte characters (told by their first two bytes; the fullwidth capitals by all
/// three), and, to be safe, every four-byte one. A test checks this against `char::to_lowercase`
/// for every character.
fn case_of(bytes: &[u8]) -> Case {
    let mut case = Case::Lower;
    for (at, &byte) in bytes.iter().enumerate() {
        let capital = match byte {
            b'A'..=b'Z' => {
                case = Case::AsciiCapitals;
                false
            }
            0xC3..=0xC9 | 0xCD..=0xD5 | 0xF0..=0xFF => true,
            0xE1 | 0xE2 | 0xEA | 0xEF => matches!(
                (byte, bytes.get(at + 1), bytes.get(at + 2)),
                (0xE1, Some(0x82 | 0x83 | 0x8E | 0x8F | 0xB2 | 0xB8..=0xBF), _)
                    | (0xE2, Some(0x84..=0x86 | 0x92 | 0x93 | 0xB0..=0xB3), _)
                    | (0xEA, Some(0x99 | 0x9A | 0x9C..=0x9F), _)
                    // Fullwidth capitals Ａ–Ｚ; fullwidth punctuation (，：（）) shares their block.
                    | (0xEF, Some(0xBC), Some(0xA1..=0xBA))
            ),
            _ => false,
        };
        if capital {
            return Case::OtherCapitals;
        }
    }
    case
}

/// The byte range of at most [`SNIPPET_CHARS`] characters holding the most distinct terms, starting
/// [`LEAD_CHARS`] before a match; the opening of the body when there is no match. `matches` are
/// sorted and do not overlap.
fn best_window(body: &str, matches: &[(Range<usize>, usize)]) -> Range<usize> {
    // Character positions of the matches, counted in one walk over the body.
    let mut positions: Vec<(usize, usize, u64)> = Vec::with_capacity(matches.len());
    let (mut byte, mut chars) = (0, 0);
    for (range, term) in matches {
        let count = |from: usize, to: usize| body.get(from..to).map_or(0, |s| s.chars().count());
        chars += count(byte, range.start);
        let start = chars;
        chars += count(range.start, range.end);
        byte = range.end;
        // Terms are told apart by a bit each; a query with more than 64 terms shares the last.
        positions.push((start, chars, 1 << (*term).min(63)));
    }
    let (mut best_terms, mut best_lead) = (0, 0);
    let (mut first, mut last) = (0, 0);
    for &(start, _, _) in &positions {
        let lead = start.saturating_sub(LEAD_CHARS);
        // The matches inside the window are a run: slide its two ends forward.
        while positions.get(first).is_some_and(|p| p.0 < lead) {
            first += 1;
        }
        last = last.max(first);
        while positions
            .get(last)
            .is_some_and(|p| p.1 <= lead + SNIPPET_CHARS)
        {
            last += 1;
        }
        let terms = positions
            .get(first..last)
            .unwrap_or_default()
            .iter()
            .fold(0u64, |seen, p| seen | p.2)
            .count_ones();
        if terms > best_terms {
            (best_terms, best_lead) = (terms, lead);
        }
    }
    let start = body
        .char_indices()
        .nth(best_lead)
        .map_or(body.len(), |(i, _)| i);
    let end = body[start..]
        .char_indices()
        .nth(SNIPPET_CHARS)
        .map_or(body.len(), |(i, _)| start + i);
    start..end
}

/// `fragment` as HTML with the byte `ranges` in `<em>`; ranges outside the fragment or not on
/// character boundaries are ignored, overlapping or adjacent ones merged.
pub(crate) fn highlight(fragment: &str, ranges: &[Range<usize>]) -> String {
    let mut sorted: Vec<Range<usize>> = ranges
        .iter()
        .filter(|r| {
            r.start < r.end
                && r.end <= fragment.len()
                && fragment.is_char_boundary(r.start)
                && fragment.is_char_boundary(r.end)
        })
        .cloned()
        .collect();
    sorted.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::new();
    for range in sorted {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    let mut html = String::with_capacity(fragment.len() + merged.len() * 9);
    let mut at = 0;
    for range in merged {
        escape_into(&mut html, &fragment[at..range.start]);
        html.push_str("<em>");
        escape_into(&mut html, &fragment[range.clone()]);
        html.push_str("</em>");
        at = range.end;
    }
    escape_into(&mut html, &fragment[at..]);
    html
}

/// Appends `text` to `out`, HTML-escaped.
fn escape_into(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.find(['<', '>', '&', '"', '\'']) {
        out.push_str(&rest[..at]);
        out.push_str(match rest.as_bytes()[at] {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'&' => "&amp;",
            b'"' => "&quot;",
            _ => "&#39;",
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snippet(body: &str, terms: &[String]) -> String {
        Snippets::new(terms).of(body)
    }

    fn escape(text: &str) -> String {
        let mut out = String::new();
        escape_into(&mut out, text);
        out
    }

    fn terms(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn case_folding_agrees_with_unicode_lower_case() {
        // Every character copied as it is must have no lower case of its own.
        let uncased: String = (0x3000..0xA000)
            .chain(0xAC00..0xD7A4)
            .filter_map(char::from_u32)
            .collect();
        assert_eq!(fold_case(&uncased), uncased.to_lowercase());
        // A character the fast paths pass over must have no lower case beyond ASCII's.
        for c in (0..0x11_0000).filter_map(char::from_u32) {
            let text = c.to_string();
            if case_of(text.as_bytes()) != Case::OtherCapitals {
                assert_eq!(
                    fold_case(&text),
                    text.to_lowercase(),
                    "U+{:04X} has a lower case",
                    u32::from(c)
                );
            }
        }
        assert_eq!(case_of("机器视觉，“ａｉ”——".as_bytes()), Case::Lower);
        assert_eq!(case_of("基于AI的5G".as_bytes()), Case::AsciiCapitals);
        assert_eq!(fold_case("基于AI的5G"), "基于ai的5g");
        assert_eq!(case_of("ＡＩ芯片".as_bytes()), Case::OtherCapitals);
        let mixed = "AI芯片 ＡＢＣ ΣΑΡ Ünïcode 인공지능 ⅣⅫ";
        assert_eq!(fold_case(mixed), mixed.to_lowercase());
    }

    #[test]
    fn adjacent_matches_merge_and_markup_is_escaped() {
        assert_eq!(
            snippet("基于机器视觉缺陷检测<b>", &terms(&["机器", "视觉", "检测"])),
            "基于<em>机器视觉</em>缺陷<em>检测</em>&lt;b&gt;"
        );
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn the_window_moves_to_the_words_and_stays_about_80_characters() {
        let body = format!(
            "{}本项目研究机器视觉缺陷检测。{}",
            "前".repeat(300),
            "后".repeat(300)
        );
        let html = snippet(&body, &terms(&["机器视觉", "缺陷检测"]));
        assert!(html.contains("<em>机器视觉缺陷检测</em>"), "{html}");
        let shown = html.replace("<em>", "").replace("</em>", "");
        assert_eq!(shown.chars().count(), SNIPPET_CHARS);
        assert!(shown.starts_with('前') && shown.ends_with('后'), "{shown}");
    }

    #[test]
    fn latin_words_match_whatever_their_case_and_no_match_shows_the_opening() {
        assert_eq!(
            snippet("基于AI的5G", &terms(&["ai"])),
            "基于<em>AI</em>的5G"
        );
        assert_eq!(snippet(&"字".repeat(200), &terms(&["无"])), "字".repeat(80));
        assert_eq!(snippet("", &terms(&["无"])), "");
    }

    #[test]
    fn bad_ranges_never_panic() {
        let text = "机器视觉";
        assert_eq!(
            highlight(text, &[1..4, 20..40, Range { start: 3, end: 1 }]),
            text
        );
    }
}
