//! One timer table per state machine: (deadline, key) pairs, the earliest deadline wins.
//!
//! The RFC 3261 base intervals live here too, so every machine derives Timers A–K and the 2xx
//! retransmission schedule from the same three numbers (RFC 3261 §17.1.1.1, Table 4).

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::time::Duration;

/// RFC 3261 §17.1.1.1 base intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// Round-trip estimate; the first retransmission interval.
    pub t1: Duration,
    /// Cap on the retransmission interval of non-INVITE requests and INVITE responses.
    pub t2: Duration,
    /// How long a message may linger in the network.
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        Self {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// 64·T1: Timers B, F, H, J, L, M and the wait for the ACK of a 2xx (§13.3.1.4).
    pub fn t1x64(&self) -> Duration {
        self.t1.saturating_mul(64)
    }

    /// Doubles a retransmission interval, capped at T2 (§17.1.2.2, §17.2.1).
    pub fn backoff_capped(&self, interval: Duration) -> Duration {
        interval.saturating_mul(2).min(self.t2)
    }

    /// Timer D: at least 32 s on unreliable transports (§17.1.1.2).
    pub fn timer_d(&self) -> Duration {
        Duration::from_secs(32).max(self.t1x64())
    }
}

/// Deadlines keyed by `K`; setting a key again moves its deadline.
#[derive(Debug)]
pub struct TimerTable<K> {
    by_deadline: BTreeSet<(Duration, u64)>,
    slots: HashMap<u64, K>,
    by_key: HashMap<K, (Duration, u64)>,
    next_id: u64,
}

impl<K> Default for TimerTable<K> {
    fn default() -> Self {
        Self {
            by_deadline: BTreeSet::new(),
            slots: HashMap::new(),
            by_key: HashMap::new(),
            next_id: 0,
        }
    }
}

impl<K: Clone + Eq + Hash> TimerTable<K> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Arms `key` to fire at `deadline`, replacing any earlier arming of the same key.
    pub fn set(&mut self, key: K, deadline: Duration) {
        self.cancel(&key);
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.by_deadline.insert((deadline, id));
        self.slots.insert(id, key.clone());
        self.by_key.insert(key, (deadline, id));
    }

    pub fn cancel(&mut self, key: &K) {
        if let Some(entry) = self.by_key.remove(key) {
            self.by_deadline.remove(&entry);
            self.slots.remove(&entry.1);
        }
    }

    /// Cancels every key for which `pred` holds (e.g. all timers of one transaction).
    pub fn cancel_where(&mut self, mut pred: impl FnMut(&K) -> bool) {
        let doomed: Vec<K> = self.by_key.keys().filter(|k| pred(k)).cloned().collect();
        for key in doomed {
            self.cancel(&key);
        }
    }

    pub fn deadline(&self, key: &K) -> Option<Duration> {
        self.by_key.get(key).map(|(d, _)| *d)
    }

    /// The earliest deadline, for `poll_timeout`.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.by_deadline.first().map(|(d, _)| *d)
    }

    /// Removes and returns one key whose deadline is at or before `now`, earliest first.
    pub fn pop_expired(&mut self, now: Duration) -> Option<K> {
        let &(deadline, id) = self.by_deadline.first()?;
        if deadline > now {
            return None;
        }
        self.by_deadline.remove(&(deadline, id));
        let key = self.slots.remove(&id)?;
        self.by_key.remove(&key);
        Some(key)
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn earliest_deadline_fires_first_and_rearming_moves_it() {
        let mut t = TimerTable::new();
        t.set("b", ms(300));
        t.set("a", ms(100));
        t.set("c", ms(200));
        assert_eq!(t.next_deadline(), Some(ms(100)));
        t.set("a", ms(400));
        assert_eq!(t.next_deadline(), Some(ms(200)));
        assert_eq!(t.pop_expired(ms(250)), Some("c"));
        assert_eq!(t.pop_expired(ms(250)), None);
        t.cancel(&"b");
        assert_eq!(t.pop_expired(ms(1000)), Some("a"));
        assert!(t.is_empty());
    }

    #[test]
    fn rfc3261_defaults() {
        let c = TimerConfig::default();
        assert_eq!(c.t1x64(), Duration::from_secs(32));
        assert_eq!(
            c.backoff_capped(Duration::from_secs(2)),
            Duration::from_secs(4)
        );
        assert_eq!(
            c.backoff_capped(Duration::from_secs(4)),
            Duration::from_secs(4)
        );
        assert_eq!(c.timer_d(), Duration::from_secs(32));
    }
}
