//! The one timer table of a record operation; the earliest deadline wins (STYLE.md §3).

use std::time::Duration;

/// The timers of the capture phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// A stop tone heard during the beep whose start lies at or after the recording start.
    PendingStopTone,
    MaxRecordDuration,
    MaxSilence,
    InitialSilence,
    MediaReceive,
}

/// Deadlines, recomputed from the operation's state each time so none can go stale; among equal
/// deadlines the one set first wins.
#[derive(Debug, Default)]
pub(crate) struct TimerTable {
    entries: Vec<(Timer, Duration)>,
}

impl TimerTable {
    pub(crate) fn set(&mut self, timer: Timer, at: Duration) {
        self.entries.push((timer, at));
    }

    pub(crate) fn earliest(&self) -> Option<Duration> {
        self.entries.iter().map(|(_, at)| *at).min()
    }

    /// The timer with the earliest deadline at or before `now`.
    pub(crate) fn expired(&self, now: Duration) -> Option<(Timer, Duration)> {
        self.entries
            .iter()
            .filter(|(_, at)| *at <= now)
            .min_by_key(|(_, at)| *at)
            .copied()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn earliest_expired_wins_and_ties_keep_insertion_order() {
        let mut t = TimerTable::default();
        t.set(Timer::MaxRecordDuration, Duration::from_secs(5));
        t.set(Timer::InitialSilence, Duration::from_secs(3));
        t.set(Timer::MediaReceive, Duration::from_secs(3));
        assert_eq!(t.earliest(), Some(Duration::from_secs(3)));
        assert_eq!(t.expired(Duration::from_secs(2)), None);
        assert_eq!(
            t.expired(Duration::from_secs(9)),
            Some((Timer::InitialSilence, Duration::from_secs(3)))
        );
    }
}
