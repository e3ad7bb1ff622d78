//! The noise of one band: its mean level and its spread, both in dB.
//!
//! The mean and the mean absolute deviation are learned from the frames the classifier does not
//! call speech (decision-directed, as in G.729 Annex B and the AMR VAD). The spread is what tells
//! noises apart: a frame of white noise is within ~0.5 dB of its mean, while five-talker babble
//! swings ±4 dB, so a fixed margin over the noise either misses speech in the one or never ends
//! it in the other. Minimum statistics over 5 s (Martin, 2001) bound the mean from below, so a
//! noise that grows louder than anything learned is caught up with at the latest 5 s later, even
//! if every frame meanwhile was taken for speech.
//!
//! A quick-falling mean has one weakness: babble has lulls. A fifth of a second in which the
//! talkers all pause drags it down by 10 dB or more, and the babble after the lull then stands
//! far enough over it to pass for speech, which keeps speech going seconds after the caller
//! stopped. So the mean is measured against a slow mean of the same frames (a ~2 s time
//! constant) and never taken lower than a quarter deviation under it, until it has stayed well
//! under it for a whole second: then the noise really is quieter, and the slow mean jumps to it.

/// Learning rate for a frame above the mean, and the faster one below it: a mean that came
/// out too high (speech leaking in) comes down quickly.
const RISE: f32 = 0.05;
const FALL: f32 = 0.15;
/// A frame moves the mean by at most this many deviations (an outlier-limited update).
const STEP_LIMIT: f32 = 2.0;
/// Deviation assumed before any frame was learned, and the largest one kept: above it,
/// dev-scaled margins would let speech itself pass for noise.
const INITIAL_DEV_DB: f32 = 4.0;
const MAX_DEV_DB: f32 = 4.0;
/// Learning rate of the slow mean, and how far under it the mean may go, in deviations.
const SLOW: f32 = 0.01;
const UNDER_SLOW: f32 = 0.25;
/// This many learned frames in a row, each this far under the slow mean, are a noise that got
/// quieter, not a lull.
const DROP_DB: f32 = 6.0;
const DROP_FRAMES: u32 = 50;
/// Minimum statistics: 10 sub-windows of 25 frames = 5 s (longer than a sentence spoken
/// without a pause, which would otherwise lift the floor to the speech).
const SUB_WINDOW: u32 = 25;
const SUB_WINDOWS: usize = 10;

#[derive(Debug, Clone)]
pub(crate) struct NoiseTracker {
    minima: [f32; SUB_WINDOWS],
    filled: usize,
    next: usize,
    current_min: f32,
    in_sub: u32,
    /// (mean, mean absolute deviation) in dB; `None` before the first frame.
    stats: Option<(f32, f32)>,
    /// The slow mean in dB, and how many learned frames in a row were `DROP_DB` under it.
    slow: Option<f32>,
    under: u32,
}

impl Default for NoiseTracker {
    fn default() -> Self {
        NoiseTracker {
            minima: [f32::MAX; SUB_WINDOWS],
            filled: 0,
            next: 0,
            current_min: f32::MAX,
            in_sub: 0,
            stats: None,
            slow: None,
            under: 0,
        }
    }
}

impl NoiseTracker {
    /// Takes one frame's level into the minimum statistics and returns how far it stands over
    /// the noise mean, with the noise's deviation.
    pub(crate) fn observe(&mut self, db: f32) -> (f32, f32) {
        self.current_min = self.current_min.min(db);
        self.in_sub += 1;
        if self.in_sub >= SUB_WINDOW {
            if let Some(slot) = self.minima.get_mut(self.next) {
                *slot = self.current_min;
            }
            self.next = (self.next + 1) % SUB_WINDOWS;
            self.filled = (self.filled + 1).min(SUB_WINDOWS);
            self.current_min = f32::MAX;
            self.in_sub = 0;
        }
        let floor = self.floor();
        let (mean, dev) = self.stats.unwrap_or((db, INITIAL_DEV_DB));
        let mean = mean.max(floor);
        self.stats = Some((mean, dev));
        let level = self.mean().unwrap_or(mean);
        (db - level, dev)
    }

    /// Learns a frame that is not speech; `weight` in (0, 1] slows the learning down.
    pub(crate) fn learn(&mut self, db: f32, weight: f32) {
        let (mut mean, mut dev) = self.stats.unwrap_or((db, INITIAL_DEV_DB));
        let step = (db - mean).min(STEP_LIMIT * dev);
        mean += weight * if db < mean { FALL } else { RISE } * step;
        dev += weight * RISE * ((db - mean).abs() - dev);
        self.stats = Some((mean, dev.min(MAX_DEV_DB)));
        let mut slow = self.slow.unwrap_or(mean);
        let limit = STEP_LIMIT * dev;
        slow += weight * SLOW * (db - slow).clamp(-limit, limit);
        self.under = if db < slow - DROP_DB {
            self.under + 1
        } else {
            0
        };
        if self.under >= DROP_FRAMES {
            slow = mean;
            self.under = 0;
        }
        self.slow = Some(slow);
    }

    /// The noise level in dBFS that frames are measured against, once a frame was seen.
    pub(crate) fn mean(&self) -> Option<f32> {
        let (mean, dev) = self.stats?;
        Some(
            self.slow
                .map_or(mean, |slow| mean.max(slow - UNDER_SLOW * dev)),
        )
    }

    /// The lowest level over the last 5 s.
    fn floor(&self) -> f32 {
        self.minima
            .iter()
            .take(self.filled.max(1))
            .fold(self.current_min, |a, &b| a.min(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `frames` at `db`, learning every frame.
    fn feed(t: &mut NoiseTracker, db: f32, frames: usize) {
        for _ in 0..frames {
            t.observe(db);
            t.learn(db, 1.0);
        }
    }

    #[test]
    fn steady_noise_is_learned_with_a_small_deviation() {
        let mut t = NoiseTracker::default();
        for i in 0..200 {
            let db = -40.0 + if i % 2 == 0 { 0.5 } else { -0.5 };
            t.observe(db);
            t.learn(db, 1.0);
        }
        let (height, dev) = t.observe(-40.0);
        assert!(height.abs() < 0.3 && dev < 0.7, "{height} {dev}");
    }

    #[test]
    fn a_quieter_noise_is_followed_within_a_second_and_a_half() {
        let mut t = NoiseTracker::default();
        feed(&mut t, -30.0, 100);
        feed(&mut t, -60.0, 75);
        assert!(
            (t.mean().unwrap_or(0.0) + 60.0).abs() < 1.0,
            "{:?}",
            t.mean()
        );
    }

    #[test]
    fn a_lull_in_babble_does_not_drag_the_level_down() {
        let mut t = NoiseTracker::default();
        let babble = |i: usize| -30.0 + [4.0, -3.0, 1.0, -5.0, 2.0, 0.5, -2.5][i % 7];
        for i in 0..250 {
            feed(&mut t, babble(i), 1);
        }
        let before = t.mean().unwrap_or(0.0);
        feed(&mut t, -48.0, 12);
        let after = t.mean().unwrap_or(0.0);
        assert!(before - after < 3.0, "{before} -> {after}");
        // The fast mean alone would have fallen by over 10 dB.
        let (fast, _) = t.stats.unwrap_or_default();
        assert!(before - fast > 10.0, "{before} -> {fast}");
    }

    #[test]
    fn a_louder_noise_never_learned_is_caught_up_with_in_five_seconds() {
        let mut t = NoiseTracker::default();
        feed(&mut t, -70.0, 50);
        for _ in 0..260 {
            t.observe(-40.0); // taken for speech: never learned
        }
        let (height, _) = t.observe(-40.0);
        assert!(height.abs() < 0.1, "{height}");
    }

    #[test]
    fn a_loud_outlier_moves_the_mean_by_a_bounded_step() {
        let mut t = NoiseTracker::default();
        feed(&mut t, -50.0, 100);
        t.observe(-10.0);
        t.learn(-10.0, 1.0);
        assert!(t.mean().unwrap_or(0.0) < -49.0);
    }
}
