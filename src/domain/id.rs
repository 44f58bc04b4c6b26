//! Ids of what the hub makes (cases, referrals, inbox events): UUIDv7, ordered by the
//! hub's time, so that new rows land at the end of their indexes instead of on random
//! pages, and a batch of commits writes few pages. The random part comes from the
//! thread's CSPRNG, not a system call per id.

use chrono::{DateTime, Utc};
use uuid::{Builder, Uuid};

/// A new id made at `at` (the hub's clock, to the millisecond); the rest of it is random.
pub fn new_id(at: DateTime<Utc>) -> Uuid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    Builder::from_unix_timestamp_millis(millis, &rand::random()).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_clock_and_differ_within_a_millisecond() {
        let at: DateTime<Utc> = "2026-09-10T02:00:00Z".parse().unwrap();
        let (a, b) = (new_id(at), new_id(at));
        assert_ne!(a, b);
        assert_eq!(a.get_version_num(), 7);
        let later = new_id(at + chrono::Duration::milliseconds(1));
        assert!(later > a && later > b, "a later id sorts after");
        let (seconds, _) = a.get_timestamp().unwrap().to_unix();
        assert_eq!(seconds, 1_789_005_600);
    }
}
