//! Snippets: about [`SNIPPET_CHARS`] characters of a listing's body around the query's words, with
//! the words in `<em>`.
//!
//! tantivy's `SnippetGenerator` re-segments every hit's body with jieba, which cost more than the
//! search itself (about 1 ms for 20 hits), and reports ranges that can wrap below zero with
//! search-mode segmentation. The query's terms are already known, so the body is scanned for them
//! as plain substrings instead: the same words are marked, in microseconds.

use std::ops::Range;

/// Roughly how many characters a snippet shows.
pub const SNIPPET_CHARS: usize = 80;
/// Characters of context kept before the first match of the chosen window.
const LEAD_CHARS: usize = 12;

/// The snippet of `body` for `terms` (lower-case), as HTML: text escaped, matches in `<em>`,
/// adjacent or overlapping matches merged. Without any match, the opening of the body.
pub fn snippet(body: &str, terms: &[String]) -> String {
    let lower = fold_case(body);
    // Lower-casing may change byte lengths (rare letters); then match case-sensitively.
    let haystack = if lower.len() == body.len() {
        lower.as_str()
    } else {
        body
    };
    let mut matches: Vec<(Range<usize>, usize)> = Vec::new();
    for (n, term) in terms.iter().enumerate() {
        if term.is_empty() {
            continue;
        }
        for (at, found) in haystack.match_indices(term.as_str()) {
            matches.push((at..at + found.len(), n));
        }
    }
    matches.sort_by_key(|(r, _)| (r.start, r.end));

    let window = best_window(body, &matches);
    let ranges: Vec<Range<usize>> = matches
        .iter()
        .map(|(r, _)| r.clone())
        .filter(|r| r.start >= window.start && r.end <= window.end)
        .map(|r| r.start - window.start..r.end - window.start)
        .collect();
    highlight(&body[window], &ranges)
}

/// `text` in lower case, as the analyzers fold it. Han characters and CJK punctuation, which have no
/// case, are copied as they are: `str::to_lowercase` looks every one of them up in the Unicode case
/// tables, which was most of the cost of a snippet.
fn fold_case(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        match u32::from(c) {
            0..0x80 => folded.push(c.to_ascii_lowercase()),
            0x3000..0xA000 | 0xAC00..0xD7A4 => folded.push(c),
            _ => folded.extend(c.to_lowercase()),
        }
    }
    folded
}

/// The byte range of at most [`SNIPPET_CHARS`] characters holding the most distinct terms.
fn best_window(body: &str, matches: &[(Range<usize>, usize)]) -> Range<usize> {
    let span = |start: usize| {
        let end = body[start..]
            .char_indices()
            .nth(SNIPPET_CHARS)
            .map_or(body.len(), |(i, _)| start + i);
        start..end
    };
    let mut best = (0, span(0));
    for (first, _) in matches {
        let lead = body[..first.start]
            .char_indices()
            .rev()
            .nth(LEAD_CHARS.saturating_sub(1))
            .map_or(0, |(i, _)| i);
        let window = span(lead);
        let mut distinct: Vec<usize> = matches
            .iter()
            .filter(|(r, _)| r.start >= window.start && r.end <= window.end)
            .map(|(_, term)| *term)
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() > best.0 {
            best = (distinct.len(), window);
        }
    }
    best.1
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
        html.push_str(&escape(&fragment[at..range.start]));
        html.push_str("<em>");
        html.push_str(&escape(&fragment[range.clone()]));
        html.push_str("</em>");
        at = range.end;
    }
    html.push_str(&escape(&fragment[at..]));
    html
}

/// HTML-escapes text.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
