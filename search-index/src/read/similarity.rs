//! How much of one listing's text another contains, to spot a listing submitted twice.
//!
//! The texts are compared as sets of overlapping 4-character shingles (letters and digits only,
//! lower-cased), and the measure is the *containment* of the smaller set in the larger,
//! |A ∩ B| / min(|A|, |B|), not the Jaccard |A ∩ B| / |A ∪ B|: a copy that leaves out the details
//! block shares nearly all of its own shingles with the original, but the original's details make
//! the union two or three times larger, and Jaccard fell to 0.3 for such a copy. Four characters
//! rather than two: two listings about the same topic share most of the topic's character pairs
//! (锂电, 电池, 热失 …), far fewer runs of four.

use std::collections::HashSet;

/// Characters per shingle.
const SHINGLE: usize = 4;
/// A text with fewer shingles than this is compared as if it had this many: a title of a few
/// words is contained in many listings without being a copy of any.
const MIN_SHINGLES: usize = 16;

/// The shingles of a text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shingles(HashSet<u64>);

impl Shingles {
    /// The shingles of `text`: each run of [`SHINGLE`] letters or digits, punctuation and spaces
    /// left out, hashed (a listing has about as many shingles as characters).
    pub(crate) fn of(text: &str) -> Self {
        let chars: Vec<char> = text
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        Self(
            chars
                .windows(SHINGLE)
                .map(|w| {
                    w.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, c| {
                        // FNV-1a over the code points: stable and cheap; a collision only
                        // adds one shared shingle in millions.
                        (hash ^ u64::from(*c)).wrapping_mul(0x0100_0000_01b3)
                    })
                })
                .collect(),
        )
    }

    /// The share of the smaller set found in the larger, 0–1 (see the module's comment).
    pub(crate) fn containment(&self, other: &Self) -> f32 {
        let (small, large) = if self.0.len() <= other.0.len() {
            (&self.0, &other.0)
        } else {
            (&other.0, &self.0)
        };
        let shared = small.iter().filter(|s| large.contains(s)).count();
        shared as f32 / small.len().max(MIN_SHINGLES) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TITLE: &str = "锂离子电池储能舱热失控多参量早期预警装置";
    const SUMMARY: &str = "面向电化学储能舱的热失控早期预警装置，融合一氧化碳、氢气、\
        温度与烟雾多参量探测，在电池热失控前约8分钟发出预警，误报率低于千分之一。";
    const DETAILS: &str = "装置由分布式气体探测单元、边缘计算网关和云端预警平台组成，\
        采用多参量融合算法识别热失控前兆。已在三座储能电站完成试点，累计运行超过一万小时，\
        可与站内消防系统联动，触发全氟己酮灭火装置。合作方需具备储能系统集成资质。";

    fn text(parts: &[&str]) -> Shingles {
        Shingles::of(&parts.join("\n"))
    }

    #[test]
    fn a_copy_without_its_details_is_contained_in_the_original() {
        let original = text(&[TITLE, SUMMARY, DETAILS]);
        let copy = text(&[TITLE, SUMMARY]);
        assert!((copy.containment(&original) - 1.0).abs() < 1e-6);
        assert!(
            (original.containment(&copy) - 1.0).abs() < 1e-6,
            "symmetric"
        );
        let reworded = text(&[
            TITLE,
            "面向储能舱的热失控早期预警装置，融合多参量探测，提前约8分钟预警。",
        ]);
        assert!(reworded.containment(&original) > 0.5);
    }

    #[test]
    fn another_listing_on_the_same_topic_is_not() {
        let original = text(&[TITLE, SUMMARY, DETAILS]);
        let neighbour = text(&[
            "电化学储能电站电池热失控早期预警与安全评估",
            "针对储能电站磷酸铁锂电池热失控风险，建立基于电压、温度与产气特征的早期预警模型和\
             电站安全评估方法，预警时间提前到热失控前10分钟以上，已在两座电站应用。",
        ]);
        let containment = neighbour.containment(&original);
        assert!(containment < 0.3, "{containment}");
    }

    #[test]
    fn short_texts_are_not_contained_by_chance() {
        let original = text(&[TITLE, SUMMARY, DETAILS]);
        assert!(text(&["热失控预警"]).containment(&original) < 0.2);
        assert_eq!(text(&[""]).containment(&original), 0.0);
        assert_eq!(text(&[""]).containment(&text(&[""])), 0.0);
    }
}
