//! Per-client rate limit of the search and matching routes: a token bucket per client address
//! (`governor`), so one scraper cannot take a node's CPU from everybody else. Logins have their own,
//! stricter throttle in the database (`services::accounts::login_throttle`), shared by every node.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{AppError, AppResult};

/// Buckets beyond this many clients are pruned of the idle ones.
const PRUNE_ABOVE: usize = 10_000;

/// The search limiter of one process; `None` inside when disabled (`search_rate_per_second = 0`).
#[derive(Clone)]
pub struct SearchLimiter(Option<Arc<DefaultKeyedRateLimiter<String>>>);

impl SearchLimiter {
    /// `per_second` requests per client on average, `burst` at once; `per_second = 0` disables it.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let Some(rate) = NonZeroU32::new(per_second) else {
            return Self(None);
        };
        let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
        Self(Some(Arc::new(RateLimiter::keyed(
            Quota::per_second(rate).allow_burst(burst),
        ))))
    }

    /// `429` with `Retry-After` when `client` has used its bucket up.
    pub fn check(&self, client: &str) -> AppResult<()> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        if limiter.len() > PRUNE_ABOVE {
            limiter.retain_recent();
        }
        match limiter.check_key(&client.to_owned()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ));
                Err(AppError::TooManyRequests {
                    detail: "too many searches from this address; slow down".into(),
                    retry_after_secs: wait.as_secs().max(1),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_burst_then_429_while_others_go_on() {
        let limiter = SearchLimiter::new(1, 3);
        for _ in 0..3 {
            assert!(limiter.check("10.0.0.1").is_ok());
        }
        assert!(matches!(
            limiter.check("10.0.0.1"),
            Err(AppError::TooManyRequests {
                retry_after_secs: 1,
                ..
            })
        ));
        assert!(limiter.check("10.0.0.2").is_ok());
        let off = SearchLimiter::new(0, 0);
        assert!((0..1000).all(|_| off.check("10.0.0.1").is_ok()));
    }
}
