//! The one clock: the sans-IO cores take `now` as the time since this epoch.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    epoch: Instant,
    /// Unix time at the epoch (for RTCP's NTP timestamps), if the system clock is sane.
    unix_at_epoch: Option<Duration>,
}

impl Clock {
    // The runtime is the one place that reads the clock (STYLE.md §1).
    #[allow(clippy::disallowed_methods)]
    pub fn new() -> Self {
        Clock {
            epoch: Instant::now(),
            unix_at_epoch: SystemTime::now().duration_since(UNIX_EPOCH).ok(),
        }
    }

    /// Unix time when `now()` was zero.
    pub fn unix_at_epoch(&self) -> Option<Duration> {
        self.unix_at_epoch
    }

    /// Time since the epoch, as the cores want it.
    pub fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// The tokio instant of a core deadline.
    pub fn instant(&self, at: Duration) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.epoch + at)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}
