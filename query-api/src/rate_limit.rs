//! A token bucket per principal (user or OAuth2 client) on `/graphql`: each
//! operation takes a token, tokens come back at a steady rate up to the
//! bucket's size. One principal flooding the API waits (429 with
//! `Retry-After`); the others are not affected.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets kept before the full (idle) ones are dropped: a full bucket is
/// the same as none.
const PRUNE_ABOVE: usize = 10_000;

/// The rate and the bucket's size; a rate of 0 turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            per_minute: 600,
            burst: 120,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every principal.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn per_second(&self) -> f64 {
        f64::from(self.limit.per_minute) / 60.0
    }

    fn size(&self) -> f64 {
        f64::from(self.limit.burst.max(1))
    }

    /// Takes `n` tokens from `principal`'s bucket, or answers how long until
    /// they are there (nothing is taken then). A request larger than the
    /// bucket takes all of it.
    pub fn take(&self, principal: &str, n: u32) -> Result<(), Duration> {
        self.take_at(principal, n, Instant::now())
    }

    fn take_at(&self, principal: &str, n: u32, now: Instant) -> Result<(), Duration> {
        if self.limit.per_minute == 0 {
            return Ok(());
        }
        let (rate, size) = (self.per_second(), self.size());
        let want = f64::from(n).min(size);
        // A poisoned lock only means another request panicked mid-update:
        // the counts are still usable.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < size
            });
        }
        let bucket = buckets.entry(principal.to_string()).or_insert(Bucket {
            tokens: size,
            at: now,
        });
        let refilled = now.saturating_duration_since(bucket.at).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refilled).min(size);
        bucket.at = now;
        if bucket.tokens >= want {
            bucket.tokens -= want;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((want - bucket.tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_refills_at_the_rate_and_is_per_principal() {
        let limiter = RateLimiter::new(RateLimit {
            per_minute: 60,
            burst: 3,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take_at("ana", 1, t0), Ok(()));
        }
        let wait = limiter.take_at("ana", 1, t0).expect_err("empty");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert_eq!(limiter.take_at("bob", 1, t0), Ok(()), "another principal");
        let later = t0 + Duration::from_secs(1);
        assert_eq!(
            limiter.take_at("ana", 1, later),
            Ok(()),
            "one token a second"
        );
        assert!(limiter.take_at("ana", 1, later).is_err());
        // A batch larger than the bucket takes the whole bucket.
        assert_eq!(limiter.take_at("cy", 10, t0), Ok(()));
        assert!(limiter.take_at("cy", 1, t0).is_err());
    }

    #[test]
    fn a_rate_of_zero_is_no_limit() {
        let limiter = RateLimiter::new(RateLimit {
            per_minute: 0,
            burst: 1,
        });
        let t0 = Instant::now();
        for _ in 0..100 {
            assert_eq!(limiter.take_at("ana", 1, t0), Ok(()));
        }
    }
}
