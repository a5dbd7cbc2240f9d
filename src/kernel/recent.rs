//! A value too costly to compute on every request: kept in this process for a period, then
//! computed again by the first request that finds it too old while the others wait for it.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// The last value computed in this process and when its computation began. The lock is held while
/// computing, so that concurrent requests wait for one computation instead of each starting their
/// own.
pub struct Recent<T>(Arc<tokio::sync::Mutex<Option<(Instant, T)>>>);

impl<T> Clone for Recent<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<T: Clone> Recent<T> {
    /// The kept value when its computation began less than `period` ago, else the value `compute`
    /// gives (kept for the next requests). A zero period computes every time.
    pub async fn get_or_compute<E>(
        &self,
        period: Duration,
        compute: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let mut slot = self.0.lock().await;
        if let Some((at, value)) = slot.as_ref()
            && at.elapsed() < period
        {
            return Ok(value.clone());
        }
        // The value is as old as the moment its computation began, not ended: changes made
        // while it was being computed may be missing from it.
        let began = Instant::now();
        let fresh = compute.await?;
        *slot = Some((began, fresh.clone()));
        Ok(fresh)
    }
}
