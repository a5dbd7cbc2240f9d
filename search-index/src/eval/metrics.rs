//! What the evaluation measures: the scores of one engine, and nDCG.

use super::CUTOFF;

/// The scores of one engine.
#[derive(Debug, Clone, Default)]
pub struct EngineReport {
    /// [`Engine::describe`].
    pub engine: String,
    /// Neighbours: mean nDCG@10.
    pub ndcg_at_10: f64,
    /// Neighbours: mean precision@10 (share of the top 10 sharing a keyword).
    pub precision_at_10: f64,
    /// Known item: share of queries whose paper is in the top 10.
    pub recall_at_10: f64,
    /// Known item: mean reciprocal rank within the top 10.
    pub mrr_at_10: f64,
    /// Documents indexed per second when building the neighbours index.
    pub build_docs_per_sec: f64,
    /// Median query time of the neighbours task, milliseconds.
    pub query_p50_ms: f64,
}

/// nDCG of the gains found (in rank order) against the best possible order of all gains, both cut
/// at [`CUTOFF`]. Linear gains, log2 discount.
pub fn ndcg(found: &[u32], ideal_sorted: &[u32]) -> f64 {
    let dcg = |gains: &[u32]| -> f64 {
        gains
            .iter()
            .take(CUTOFF)
            .enumerate()
            .map(|(i, g)| f64::from(*g) / ((i + 2) as f64).log2())
            .sum()
    };
    let best = dcg(ideal_sorted);
    if best == 0.0 { 0.0 } else { dcg(found) / best }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndcg_is_one_for_the_ideal_order_and_less_otherwise() {
        assert!((ndcg(&[3, 2, 1], &[3, 2, 1]) - 1.0).abs() < 1e-12);
        assert!(ndcg(&[1, 2, 3], &[3, 2, 1]) < 1.0);
        assert_eq!(ndcg(&[0, 0], &[2]), 0.0);
        assert_eq!(ndcg(&[], &[]), 0.0);
        // One relevant document of gain 1 at rank 2: 1/log2(3).
        assert!((ndcg(&[0, 1], &[1]) - 1.0 / 3f64.log2()).abs() < 1e-12);
    }
}
