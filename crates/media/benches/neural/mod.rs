//! earshot (a small neural voice-activity detector, 16 kHz, 16 ms frames) fed from callclip's
//! 20 ms frames, shared by the `vad_corpus` and `receive` benches. Not part of the production
//! detector: see "Tried: earshot" in docs/BENCHMARKS.md.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Upsample {
    Linear,
    Fir,
}

/// The odd phase of a 2× half-band interpolator (the even phase is the input sample itself):
/// sinc(k + ½) · Blackman window over ±4.5 samples, k = −4..3, normalized to unit gain.
const HALF_BAND: [f32; 8] = [
    -0.004_626, 0.032_847, -0.133_679, 0.605_458, 0.605_458, -0.133_679, 0.032_847, -0.004_626,
];

/// earshot fed from 20 ms frames: 8 kHz upsampled to 16 kHz, re-framed into its 256-sample
/// (16 ms) frames through a fixed buffer.
pub struct Neural {
    detector: Box<earshot::Detector>,
    upsample: Upsample,
    /// The last 8 input samples at 8 kHz, oldest first.
    history: [f32; 8],
    pending: [i16; 256 + 320],
    len: usize,
    score: f32,
}

impl Neural {
    pub fn new(upsample: Upsample) -> Neural {
        Neural {
            detector: earshot::Detector::default_boxed(),
            upsample,
            history: [0.0; 8],
            pending: [0; 256 + 320],
            len: 0,
            score: 0.0,
        }
    }

    /// Takes one 20 ms frame (160 samples at 8 kHz, 320 at 16 kHz: `pending` holds the 255
    /// left over plus 320); returns the highest score of the 16 ms frames it completed (the
    /// last score if none).
    pub fn push(&mut self, pcm: &[i16], rate: u32) -> f32 {
        if rate == 8000 {
            for &s in pcm {
                self.history.copy_within(1.., 0);
                self.history[7] = f32::from(s);
                let odd = match self.upsample {
                    // Between history[3] and history[4]: the filter delays by 4 samples.
                    Upsample::Fir => HALF_BAND
                        .iter()
                        .zip(&self.history)
                        .map(|(c, x)| c * x)
                        .sum(),
                    Upsample::Linear => 0.5 * (self.history[3] + self.history[4]),
                };
                self.pending[self.len] = self.history[3] as i16;
                self.pending[self.len + 1] = odd.round().clamp(-32768.0, 32767.0) as i16;
                self.len += 2;
            }
        } else {
            self.pending[self.len..self.len + pcm.len()].copy_from_slice(pcm);
            self.len += pcm.len();
        }
        let mut best = None::<f32>;
        let mut at = 0;
        while self.len - at >= 256 {
            let s = self.detector.predict_i16(&self.pending[at..at + 256]);
            best = Some(best.map_or(s, |b| b.max(s)));
            at += 256;
        }
        self.pending.copy_within(at..self.len, 0);
        self.len -= at;
        if let Some(b) = best {
            self.score = b;
        }
        self.score
    }
}
