//! The one clock of the hub. Everything that needs the time asks a [`Clock`]; nothing
//! else reads the system clock, so tests and drills can set the time.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

pub type SharedClock = Arc<dyn Clock>;

/// The system clock, shifted by a fixed offset (zero in production; a drill or a test
/// process may start the hub at another date and let time run from there).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock {
    offset: Duration,
}

impl SystemClock {
    /// A clock that reads `start` now and runs at real speed from there.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self { offset: start - Utc::now() }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(now: DateTime<Utc>) -> Arc<Self> {
        Arc::new(Self { now: Mutex::new(now) })
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    pub fn advance(&self, by: Duration) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
