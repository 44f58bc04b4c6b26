//! The rate limit that keeps one member (or a stolen certificate) from crowding out
//! the rest: requests per second per member (live streams are limited by delivery).
//!
//! Rates are measured on the runtime's monotonic clock, not the hub's calendar clock:
//! they are about load, not about deadlines.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use prometheus::IntCounterVec;
use tokio::time::Instant;

use super::error::AppError;
use crate::domain::MemberCode;

/// A token bucket per member: `burst` requests at once, refilled at `per_second`.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<MemberCode, (f64, Instant)>>,
    /// Refusals, by member.
    refused: IntCounterVec,
}

impl RateLimiter {
    pub fn new(per_second: u32, burst: u32, refused: IntCounterVec) -> Self {
        Self {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::default(),
            refused,
        }
    }

    /// Takes a token for `member`, or says how long until one is there.
    pub fn take(&self, member: &MemberCode) -> Result<(), AppError> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let (tokens, since) = buckets.entry(member.clone()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*since).as_secs_f64() * self.per_second).min(self.burst);
        *since = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            return Ok(());
        }
        let wait = Duration::from_secs_f64((1.0 - *tokens) / self.per_second);
        self.refused.with_label_values(&[member.as_str()]).inc();
        Err(AppError::Exhausted {
            message: format!("more than {} requests per second from {member}", self.per_second),
            retry_after: Some(wait),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_member_over_its_rate_waits_and_others_do_not() {
        let refused = IntCounterVec::new(prometheus::Opts::new("refused", "refused"), &["member"]).unwrap();
        let limiter = RateLimiter::new(10, 3, refused.clone());
        let (mz, jy) = (MemberCode::parse("mz").unwrap(), MemberCode::parse("jy").unwrap());
        for _ in 0..3 {
            limiter.take(&mz).unwrap();
        }
        let Err(AppError::Exhausted { retry_after: Some(wait), .. }) = limiter.take(&mz) else { panic!() };
        assert_eq!(wait, Duration::from_millis(100));
        limiter.take(&jy).unwrap();
        assert_eq!(refused.with_label_values(&["mz"]).get(), 1);
        tokio::time::advance(wait).await;
        limiter.take(&mz).unwrap();
        assert!(limiter.take(&mz).is_err());
    }
}
