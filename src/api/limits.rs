//! Limits that keep one member (or a stolen certificate) from crowding out the rest:
//! requests per second, and live streams open at once, each per member.
//!
//! Rates are measured on the runtime's monotonic clock, not the hub's calendar clock:
//! they are about load, not about deadlines.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use prometheus::{IntCounterVec, IntGauge};
use tokio::time::Instant;

use super::error::ApiError;
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
    pub fn take(&self, member: &MemberCode) -> Result<(), ApiError> {
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
        Err(ApiError::Exhausted {
            message: format!("more than {} requests per second from {member}", self.per_second),
            retry_after: Some(wait),
        })
    }
}

/// Live streams (inbox subscriptions, the office's watch) per member.
pub struct StreamSlots {
    max: usize,
    open: Arc<Mutex<HashMap<MemberCode, usize>>>,
    /// Streams open, all members together.
    live: IntGauge,
}

/// One open stream; the slot is free again when it is dropped.
pub struct Slot {
    member: MemberCode,
    open: Arc<Mutex<HashMap<MemberCode, usize>>>,
    live: IntGauge,
}

impl StreamSlots {
    pub fn new(max: usize, live: IntGauge) -> Self {
        Self { max, open: Arc::default(), live }
    }

    pub fn take(&self, member: &MemberCode) -> Result<Slot, ApiError> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(member.clone()).or_default();
        if *count >= self.max {
            return Err(ApiError::Exhausted {
                message: format!("{member} already has {} live streams open, the most allowed", self.max),
                retry_after: None,
            });
        }
        *count += 1;
        self.live.inc();
        Ok(Slot { member: member.clone(), open: self.open.clone(), live: self.live.clone() })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.member) {
            *count = count.saturating_sub(1);
        }
        self.live.dec();
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
        let Err(ApiError::Exhausted { retry_after: Some(wait), .. }) = limiter.take(&mz) else { panic!() };
        assert_eq!(wait, Duration::from_millis(100));
        limiter.take(&jy).unwrap();
        assert_eq!(refused.with_label_values(&["mz"]).get(), 1);
        tokio::time::advance(wait).await;
        limiter.take(&mz).unwrap();
        assert!(limiter.take(&mz).is_err());
    }

    #[test]
    fn stream_slots_come_back_when_streams_end() {
        let live = IntGauge::new("live", "live").unwrap();
        let slots = StreamSlots::new(2, live.clone());
        let mz = MemberCode::parse("mz").unwrap();
        let first = slots.take(&mz).unwrap();
        let _second = slots.take(&mz).unwrap();
        assert!(slots.take(&mz).is_err());
        assert_eq!(live.get(), 2);
        drop(first);
        assert_eq!(live.get(), 1);
        assert!(slots.take(&mz).is_ok());
    }
}
