//! The beep played before recording starts (Graph `playBeep`): a sine tone with short linear
//! fades so it starts and ends without a click.

use crate::wav::Pcm;

/// Tone parameters; the defaults are the ones callclip plays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeepConfig {
    pub freq_hz: u32,
    pub duration_ms: u32,
    pub level_dbfs: f32,
}

impl Default for BeepConfig {
    fn default() -> Self {
        BeepConfig {
            freq_hz: 1_000,
            duration_ms: 400,
            level_dbfs: -9.0,
        }
    }
}

/// Length of the fade at each end.
const FADE_MS: u32 = 5;

impl BeepConfig {
    /// Renders the beep at `rate` Hz. The peak amplitude is `level_dbfs` relative to full scale.
    pub fn render(&self, rate: u32) -> Pcm {
        let len = (u64::from(rate) * u64::from(self.duration_ms) / 1_000) as usize;
        let fade = ((u64::from(rate) * u64::from(FADE_MS) / 1_000) as usize).min(len / 2);
        let peak = 32767.0 * 10f64.powf(f64::from(self.level_dbfs.min(0.0)) / 20.0);
        let step = 2.0 * std::f64::consts::PI * f64::from(self.freq_hz) / f64::from(rate.max(1));
        let samples = (0..len)
            .map(|n| {
                let edge = n.min(len - 1 - n);
                let gain = if edge < fade {
                    edge as f64 / fade as f64
                } else {
                    1.0
                };
                (peak * gain * (step * n as f64).sin()).round() as i16
            })
            .collect();
        Pcm { rate, samples }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn default_beep_is_400_ms_at_minus_9_dbfs_with_silent_edges() {
        let pcm = BeepConfig::default().render(8_000);
        assert_eq!(pcm.samples.len(), 3_200);
        assert_eq!(pcm.duration_ms(), 400);
        let peak = pcm.samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
        let db = 20.0 * (f64::from(peak) / 32767.0).log10();
        assert!((db + 9.0).abs() < 0.1, "{db}");
        // First and last sample are zero; the fade keeps the first 5 ms below the peak.
        assert_eq!(pcm.samples[0], 0);
        assert!(pcm.samples[3_199].unsigned_abs() < 100);
        assert!(pcm.samples[..20]
            .iter()
            .all(|s| s.unsigned_abs() < peak / 2));
    }

    #[test]
    fn beep_has_the_configured_pitch() {
        let pcm = BeepConfig::default().render(16_000);
        let crossings = pcm
            .samples
            .windows(2)
            .filter(|w| (w[0] < 0) != (w[1] < 0))
            .count();
        // 1 kHz for 0.4 s: 800 zero crossings.
        assert!((crossings as i64 - 800).abs() <= 4, "{crossings}");
    }
}
