//! Answers kept until the next commit.
//!
//! Between two commits a search gives the same answer every time, so popular searches, the
//! pages of one search and the unfiltered catalogue are computed once per commit. A commit makes a
//! new searcher generation, and the first lookup with it empties the cache: nothing stale is ever
//! served.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// Values by key, for one searcher generation at a time. The keys are typed (see
/// [`crate::read::query`]): two searches share an entry exactly when they are equal.
pub(crate) struct GenerationCache<K, V> {
    capacity: usize,
    entries: Mutex<(u64, HashMap<K, V>)>,
}

impl<K: Hash + Eq, V: Clone> GenerationCache<K, V> {
    /// A cache of at most `capacity` entries (0 keeps nothing).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new((0, HashMap::new())),
        }
    }

    /// The value kept for `key`, if it was computed on this `generation`.
    pub(crate) fn get(&self, key: &K, generation: u64) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        if entries.0 != generation {
            return None;
        }
        entries.1.get(key).cloned()
    }

    /// Keeps `value`, computed on `generation`, for `key`.
    pub(crate) fn put(&self, key: K, generation: u64, value: &V) {
        if self.capacity == 0 {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            // Values of another generation are useless; when full, start over rather than keep a
            // recency list: searches that repeat come back at once.
            if entries.0 != generation || entries.1.len() >= self.capacity {
                entries.0 = generation;
                entries.1.clear();
            }
            entries.1.insert(key, value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_lives_until_the_generation_changes() {
        let cache = GenerationCache::new(2);
        cache.put('a', 1, &10);
        assert_eq!(cache.get(&'a', 1), Some(10));
        assert_eq!(cache.get(&'a', 2), None, "another generation never sees it");
        cache.put('b', 2, &20);
        assert_eq!(
            cache.get(&'a', 1),
            None,
            "the new generation replaced the old"
        );
        cache.put('c', 2, &30);
        cache.put('d', 2, &40);
        assert_eq!(cache.get(&'d', 2), Some(40));
        assert!(cache.get(&'b', 2).is_none(), "a full cache starts over");
        let off = GenerationCache::new(0);
        off.put('a', 1, &1);
        assert_eq!(off.get(&'a', 1), None);
    }
}
