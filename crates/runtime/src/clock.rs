//! The one clock: the sans-IO cores take `now` as the time since this epoch.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    epoch: Instant,
}

impl Clock {
    // The runtime is the one place that reads the clock (STYLE.md §1).
    #[allow(clippy::disallowed_methods)]
    pub fn new() -> Self {
        Clock {
            epoch: Instant::now(),
        }
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
