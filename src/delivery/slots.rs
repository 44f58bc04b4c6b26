//! Live streams (inbox subscriptions, the office's watch) open at once, per member, so
//! that one member (or a stolen certificate) cannot crowd out the rest.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use prometheus::IntGauge;

use super::Ended;
use crate::domain::MemberCode;

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

    pub fn take(&self, member: &MemberCode) -> Result<Slot, Ended> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(member.clone()).or_default();
        if *count >= self.max {
            return Err(Ended::Busy(format!("{member} already has {} live streams open, the most allowed", self.max)));
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
