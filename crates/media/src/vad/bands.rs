//! A frame's level in the whole band and in a low and a high half, from its autocorrelation at
//! lags 0–2 (three dot products, no filter state beyond two samples).
//!
//! The halves are the binomial filters (1 + z⁻¹)² and (1 − z⁻¹)², whose energies are
//! 6·r0 ± 8·r1 + 2·r2. Divided by 6, white noise has the same level in all three, so each band's
//! noise tracker sees comparable numbers. Voiced speech sits in the low half and fricatives in the
//! high half, each ~3–4 dB further over white noise than the whole band is: enough to catch the
//! weak onsets and final consonants that the whole-band level loses at 10 dB SNR.

/// Index of each level in [`BandSplit::levels`]'s result.
pub(crate) const FULL: usize = 0;
pub(crate) const BANDS: usize = 3;

/// Level of an empty or all-zero frame.
pub(crate) const SILENT_DB: f32 = -120.0;

/// Accumulator lanes: wide enough for the compiler to vectorise the dot products.
const LANES: usize = 8;

/// Power (mean square over full scale²) in dBFS.
pub(crate) fn power_db(power: f32) -> f32 {
    if power > 1e-12 {
        10.0 * power.log10()
    } else {
        SILENT_DB
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct BandSplit {
    /// The previous frame's last two samples, x[−1] and x[−2].
    history: [f32; 2],
}

impl BandSplit {
    /// Levels in dBFS: whole band, low half, high half.
    pub(crate) fn levels(&mut self, pcm: &[i16]) -> [f32; BANDS] {
        let [h1, h2] = self.history;
        let x = |i: usize| pcm.get(i).map_or(0.0, |&s| f32::from(s));
        // The first two samples reach into the previous frame.
        let (x0, x1) = (x(0), x(1));
        let mut r = [x0 * x0, x0 * h1, x0 * h2];
        if pcm.len() > 1 {
            r[0] += x1 * x1;
            r[1] += x1 * x0;
            r[2] += x1 * h1;
        }
        let tail = dot3(pcm);
        for (acc, t) in r.iter_mut().zip(tail) {
            *acc += t;
        }
        self.history = match pcm.len() {
            0 => self.history,
            1 => [x0, h1],
            n => [x(n - 1), x(n - 2)],
        };
        let scale = pcm.len().max(1) as f32 * (32768.0 * 32768.0);
        let [r0, r1, r2] = r;
        [
            power_db(r0 / scale),
            power_db((6.0 * r0 + 8.0 * r1 + 2.0 * r2) / (6.0 * scale)),
            power_db((6.0 * r0 - 8.0 * r1 + 2.0 * r2) / (6.0 * scale)),
        ]
    }
}

/// Σ x[n]·x[n−k] for k = 0, 1, 2 over n ≥ 2 of the frame, in `LANES` independent sums.
fn dot3(pcm: &[i16]) -> [f32; 3] {
    let (Some(a), Some(b), Some(c)) = (
        pcm.get(2..),
        pcm.get(1..pcm.len().saturating_sub(1)),
        pcm.get(..pcm.len().saturating_sub(2)),
    ) else {
        return [0.0; 3];
    };
    let mut acc = [[0.0f32; LANES]; 3];
    let (ca, cb, cc) = (
        a.chunks_exact(LANES),
        b.chunks_exact(LANES),
        c.chunks_exact(LANES),
    );
    let rest = (ca.remainder(), cb.remainder(), cc.remainder());
    for ((xa, xb), xc) in ca.zip(cb).zip(cc) {
        let [s0, s1, s2] = &mut acc;
        let lanes = s0.iter_mut().zip(s1.iter_mut()).zip(s2.iter_mut());
        for ((((p0, p1), p2), (&n0, &n1)), &n2) in lanes.zip(xa.iter().zip(xb)).zip(xc) {
            let x = f32::from(n0);
            *p0 += x * x;
            *p1 += x * f32::from(n1);
            *p2 += x * f32::from(n2);
        }
    }
    let mut out = acc.map(|lanes| lanes.iter().sum::<f32>());
    for ((&n0, &n1), &n2) in rest.0.iter().zip(rest.1).zip(rest.2) {
        let x = f32::from(n0);
        out[0] += x * x;
        out[1] += x * f32::from(n1);
        out[2] += x * f32::from(n2);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, rate: f64, amp: f64, n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| (amp * (2.0 * std::f64::consts::PI * freq * i as f64 / rate).sin()) as i16)
            .collect()
    }

    #[test]
    fn whole_band_level_matches_frame_dbfs() {
        let pcm = tone(440.0, 8000.0, 10_000.0, 160);
        let mut split = BandSplit::default();
        split.levels(&pcm);
        let [full, _, _] = split.levels(&pcm);
        assert!((full - crate::vad::frame_dbfs(&pcm)).abs() < 0.01);
    }

    #[test]
    fn a_low_tone_is_in_the_low_band_and_a_high_one_in_the_high_band() {
        let mut split = BandSplit::default();
        let low = tone(300.0, 8000.0, 8_000.0, 160);
        split.levels(&low);
        let [full, lo, hi] = split.levels(&low);
        assert!(lo > full + 3.0 && hi < full - 20.0, "{full} {lo} {hi}");
        let mut split = BandSplit::default();
        let high = tone(3400.0, 8000.0, 8_000.0, 160);
        split.levels(&high);
        let [full, lo, hi] = split.levels(&high);
        assert!(hi > full + 3.0 && lo < full - 20.0, "{full} {lo} {hi}");
    }

    #[test]
    fn frames_are_joined_across_their_boundary() {
        // Odd lengths, one-sample and empty frames: the same signal, the same levels.
        let pcm = tone(300.0, 8000.0, 8_000.0, 480);
        let mut whole = BandSplit::default();
        whole.levels(&pcm[..160]);
        let expected = whole.levels(&pcm[160..320]);
        let mut pieces = BandSplit::default();
        pieces.levels(&pcm[..159]);
        pieces.levels(&pcm[159..160]);
        pieces.levels(&[]);
        let got = pieces.levels(&pcm[160..320]);
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-3, "{got:?} {expected:?}");
        }
    }

    #[test]
    fn silence_and_empty_frames_are_at_the_bottom() {
        let mut split = BandSplit::default();
        assert_eq!(split.levels(&[]), [SILENT_DB; 3]);
        assert_eq!(split.levels(&[0; 160]), [SILENT_DB; 3]);
    }
}
