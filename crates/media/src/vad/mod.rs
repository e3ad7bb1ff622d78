//! Voice activity per 20 ms frame, and endpointing on top of it.
//!
//! There is no fixed speech threshold: callers arrive anywhere from −10 to −45 dBFS over
//! anything from digital silence to a noisy line. The classifier tracks the noise floor as the
//! minimum frame energy over the last ~2 s (minimum statistics: speech always has gaps, noise
//! does not) and calls a frame speech when it stands a margin above that floor. The only
//! absolute level is the digital-silence floor, under which nothing is speech.

pub mod endpoint;

pub use endpoint::{Endpoint, Endpointer};

/// Frames below this are silence whatever the floor (the generated test WAVs' "silence" is a
/// −96 dBFS dither, and decoded G.711 zero is about −80 dBFS).
const DIGITAL_SILENCE_DB: f32 = -70.0;
/// Margin over the floor to enter speech, and the lower one to stay in it (hysteresis).
const ENTER_MARGIN_DB: f32 = 6.0;
const STAY_MARGIN_DB: f32 = 3.0;
/// Minimum statistics: 10 sub-windows of 10 frames = 2 s.
const SUB_WINDOW: u32 = 10;
const SUB_WINDOWS: usize = 10;

/// Energy of a frame in dBFS (full-scale square wave = 0 dB).
pub fn frame_dbfs(pcm: &[i16]) -> f32 {
    if pcm.is_empty() {
        return -120.0;
    }
    let sum: i64 = pcm.iter().map(|&s| i64::from(s) * i64::from(s)).sum();
    let mean = sum as f32 / pcm.len() as f32 / (32768.0 * 32768.0);
    10.0 * mean.max(1e-12).log10()
}

#[derive(Debug, Clone)]
pub struct Vad {
    minima: [f32; SUB_WINDOWS],
    filled: usize,
    next: usize,
    current_min: f32,
    in_sub: u32,
    speech: bool,
}

impl Default for Vad {
    fn default() -> Self {
        Vad {
            minima: [f32::MAX; SUB_WINDOWS],
            filled: 0,
            next: 0,
            current_min: f32::MAX,
            in_sub: 0,
            speech: false,
        }
    }
}

impl Vad {
    /// Classifies one frame; returns whether it is speech.
    pub fn process(&mut self, pcm: &[i16]) -> bool {
        self.process_db(frame_dbfs(pcm))
    }

    pub fn process_db(&mut self, db: f32) -> bool {
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
        let floor = self.noise_floor();
        let margin = if self.speech {
            STAY_MARGIN_DB
        } else {
            ENTER_MARGIN_DB
        };
        self.speech = db > DIGITAL_SILENCE_DB && db > floor + margin;
        self.speech
    }

    /// Current noise floor estimate in dBFS.
    pub fn noise_floor(&self) -> f32 {
        let stored = self
            .minima
            .iter()
            .take(self.filled.max(1))
            .fold(f32::MAX, |a, &b| a.min(b));
        stored.min(self.current_min).max(-120.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn loud_frames_over_a_quiet_floor_are_speech() {
        let mut v = Vad::default();
        for _ in 0..50 {
            assert!(!v.process_db(-60.0));
        }
        assert!(v.process_db(-45.0));
        assert!(v.process_db(-55.0), "hysteresis keeps a dip in speech");
        assert!(!v.process_db(-59.0));
    }

    #[test]
    fn digital_silence_floor_is_absolute() {
        let mut v = Vad::default();
        for _ in 0..50 {
            v.process_db(-96.0);
        }
        assert!(!v.process_db(-75.0));
        assert!(v.process_db(-45.0));
    }

    #[test]
    fn floor_follows_a_louder_noise_within_two_seconds() {
        let mut v = Vad::default();
        for _ in 0..50 {
            v.process_db(-70.0);
        }
        for _ in 0..110 {
            v.process_db(-40.0);
        }
        assert!(!v.process_db(-40.0));
        assert!((v.noise_floor() + 40.0).abs() < 0.1);
    }
}
