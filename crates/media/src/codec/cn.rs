//! Comfort noise, RFC 3389. callclip sends level-only CN (no spectral coefficients, §4) while it
//! has nothing to say, and on receive turns a CN payload into low-level white noise.

use crate::Error;

/// The level byte of a CN payload: noise power in −dBov, 0..=127 (RFC 3389 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoiseLevel(u8);

impl NoiseLevel {
    /// Digital silence: the quietest level the payload can express.
    pub const SILENCE: NoiseLevel = NoiseLevel(127);

    /// Clamps to the 7 bits the field has.
    pub fn from_neg_dbov(level: u8) -> NoiseLevel {
        NoiseLevel(level.min(127))
    }

    pub fn neg_dbov(self) -> u8 {
        self.0
    }

    /// RMS amplitude of the noise in 16-bit units (0 dBov = full-scale RMS, RFC 3389 §3.1).
    pub fn rms(self) -> f32 {
        32767.0 * 10f32.powf(-f32::from(self.0) / 20.0)
    }
}

/// Reads a CN payload. Spectral coefficients after the level byte are accepted and ignored
/// (RFC 3389 §4: a receiver may always fall back to white noise).
pub fn parse(payload: &[u8]) -> Result<NoiseLevel, Error> {
    let first = payload.first().ok_or(Error::Malformed {
        what: "comfort noise payload",
        reason: "empty",
    })?;
    // The top bit is reserved and must be ignored by receivers (RFC 3389 §3.1).
    Ok(NoiseLevel(first & 0x7F))
}

/// A level-only CN payload.
pub fn payload(level: NoiseLevel) -> [u8; 1] {
    [level.0]
}

/// Deterministic white-noise generator (xorshift32), so tests and replays are reproducible.
#[derive(Debug, Clone)]
pub struct ComfortNoise {
    state: u32,
}

impl ComfortNoise {
    pub fn new(seed: u32) -> ComfortNoise {
        ComfortNoise { state: seed | 1 }
    }

    /// Appends `samples` of uniform white noise whose RMS is `level.rms()`.
    pub fn generate(&mut self, level: NoiseLevel, samples: usize, out: &mut Vec<i16>) {
        // Uniform on [-A, A] has RMS A/√3.
        let amp = (level.rms() * 3f32.sqrt()).min(32767.0);
        out.reserve(samples);
        for _ in 0..samples {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 17;
            self.state ^= self.state << 5;
            let unit = (self.state as f32 / u32::MAX as f32) * 2.0 - 1.0;
            out.push((unit * amp) as i16);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn level_round_trips_and_ignores_reserved_bit() {
        let level = NoiseLevel::from_neg_dbov(60);
        assert_eq!(parse(&payload(level)).unwrap(), level);
        assert_eq!(parse(&[0x80 | 60, 1, 2]).unwrap(), level);
        assert!(parse(&[]).is_err());
    }

    #[test]
    fn noise_has_the_requested_level() {
        let mut cn = ComfortNoise::new(7);
        let mut out = Vec::new();
        cn.generate(NoiseLevel::from_neg_dbov(40), 8_000, &mut out);
        let rms = (out.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / 8_000.0).sqrt();
        let db = 20.0 * (rms / 32767.0).log10();
        assert!((db + 40.0).abs() < 0.5, "{db}");
    }
}
