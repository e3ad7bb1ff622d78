//! In-band DTMF detection over decoded audio (ITU-T Q.24 / Q.23 tone plan).
//!
//! The eight DTMF frequencies are measured with Goertzel filters over 5 ms blocks, each block's
//! complex result rotated onto a common phase reference so that blocks add up into longer
//! windows: 30 ms for the low group (so 697 and 770 Hz are told apart) and 20 ms for the high
//! group (so a 1.5 % deviation at 1633 Hz stays inside the main lobe). A block is a hit when
//! - each group has a tone at or above −33 dBm0 (3 dB under the −30 dBm0 Q.24 requirement),
//! - the twist is within 8 dB normal (high group weaker) / 4 dB reverse,
//! - the two tones carry most of the energy of their windows (speech, noise and strong
//!   harmonics spread energy elsewhere; this is what keeps speech from talking off),
//! - each tone's frequency, measured from the phase advance between windows one block apart,
//!   is within 2.5 % of nominal (between Q.24's ±1.5 % accept and ±3.5 % reject),
//! - the energy is steady across the low-group window, so only tones filling 30 ms count.
//!
//! A digit is reported after two consecutive hits (tone ≥ ~35 ms) and ends after two
//! consecutive misses, so 40 ms tones separated by 40 ms pauses are all seen.

use std::f32::consts::PI;
use std::time::Duration;

use crate::Digit;

const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
const COLS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYPAD: [[Digit; 4]; 4] = [
    [Digit::D1, Digit::D2, Digit::D3, Digit::A],
    [Digit::D4, Digit::D5, Digit::D6, Digit::B],
    [Digit::D7, Digit::D8, Digit::D9, Digit::C],
    [Digit::Star, Digit::D0, Digit::Pound, Digit::D],
];

const BLOCK: Duration = Duration::from_millis(5);
const ROW_BLOCKS: usize = 6;
const COL_BLOCKS: usize = 4;
/// Blocks kept: at least one more than the longest window, for the phase comparison; a power
/// of two so that ring indexing is a mask.
const HISTORY: usize = 8;
const _: () = assert!(HISTORY > ROW_BLOCKS && HISTORY.is_power_of_two());

/// Minimum mean square per tone, full scale = 1.0. G.711's overload point is +3.17 dBm0
/// (ITU-T G.711 §A/§B tables), so a 0 dBm0 sine peaks at 10^(−3.17/20) = 0.694 of full scale
/// (−3.17 dBFS as a sine level); −33 dBm0 then peaks at 0.694 · 10^(−33/20) = 0.0155 and has a
/// mean square of 0.0155² / 2 = 1.2e-4 (≈ −36 dBFS as a sine level, −33 dBFS being −30 dBm0).
const MIN_TONE_POWER: f32 = 1.2e-4;
const MAX_NORMAL_TWIST: f32 = 0.158; // high/low power ratio ≥ −8 dB
const MAX_REVERSE_TWIST: f32 = 2.51; // high/low power ratio ≤ +4 dB
const MIN_TONE_FRACTION: f32 = 0.7;
/// The second strongest frequency of a group must be this far under the strongest (−9 dB):
/// voiced speech puts harmonics on neighbouring DTMF frequencies, a key press does not.
const MAX_RUNNER_UP: f32 = 0.125;
/// Floor of the window-attenuation correction (the deviation limit keeps it above this).
const MIN_GAIN: f32 = 0.2;
const MAX_DEVIATION: f32 = 0.025;
const HITS_TO_START: u32 = 2;
const MISSES_TO_END: u32 = 2;

struct Measured {
    index: usize,
    /// Tone mean square, corrected for the frequency offset.
    power: f32,
    fraction: f32,
}

#[derive(Debug, Clone, Copy, Default)]
struct Complex {
    re: f32,
    im: f32,
}

/// A detected in-band digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToneUpdate {
    Started {
        digit: Digit,
        at: Duration,
    },
    Ended {
        digit: Digit,
        at: Duration,
        duration: Duration,
    },
}

pub struct ToneDetector {
    rate: u32,
    block_len: usize,
    coeff: [f32; 8],
    /// e^{-iω·block_len}: advances the phase reference by one block.
    step: [Complex; 8],
    /// e^{-iω(n0 + N − 1)} for the current block.
    phasor: [Complex; 8],
    s1: [f32; 8],
    s2: [f32; 8],
    energy: f32,
    filled: usize,
    /// Ring of the last blocks: per-frequency sums and block energy.
    sums: [[Complex; 8]; HISTORY],
    energies: [f32; HISTORY],
    head: usize,
    blocks_seen: usize,

    candidate: Option<Digit>,
    hits: u32,
    first_hit_end: Duration,
    last_hit_end: Duration,
    active: Option<(Digit, Duration)>,
    misses: u32,
}

impl ToneDetector {
    pub fn new(rate: u32) -> ToneDetector {
        let rate = rate.max(8000);
        let block_len = (rate / 200) as usize;
        let mut coeff = [0.0; 8];
        let mut step = [Complex::default(); 8];
        let mut phasor = [Complex::default(); 8];
        for (i, f) in ROWS.iter().chain(COLS.iter()).enumerate() {
            let w = 2.0 * PI * f / rate as f32;
            coeff[i] = 2.0 * w.cos();
            let a = w * block_len as f32;
            step[i] = Complex {
                re: a.cos(),
                im: -a.sin(),
            };
            let b = w * (block_len as f32 - 1.0);
            phasor[i] = Complex {
                re: b.cos(),
                im: -b.sin(),
            };
        }
        ToneDetector {
            rate,
            block_len,
            coeff,
            step,
            phasor,
            s1: [0.0; 8],
            s2: [0.0; 8],
            energy: 0.0,
            filled: 0,
            sums: [[Complex::default(); 8]; HISTORY],
            energies: [0.0; HISTORY],
            head: 0,
            blocks_seen: 0,
            candidate: None,
            hits: 0,
            first_hit_end: Duration::ZERO,
            last_hit_end: Duration::ZERO,
            active: None,
            misses: 0,
        }
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Runs over one frame of PCM whose first sample plays at `at`.
    pub fn process(&mut self, at: Duration, pcm: &[i16], out: &mut Vec<ToneUpdate>) {
        let mut offset = 0usize;
        let mut rest = pcm;
        while !rest.is_empty() {
            let take = (self.block_len - self.filled).min(rest.len());
            let (chunk, tail) = rest.split_at(take);
            rest = tail;
            // Locals keep the eight filters in registers (the loop vectorises).
            let (mut s1, mut s2, coeff, mut energy) = (self.s1, self.s2, self.coeff, self.energy);
            for &x in chunk {
                let x = f32::from(x) * (1.0 / 32768.0);
                energy += x * x;
                for i in 0..8 {
                    let s0 = x + coeff[i] * s1[i] - s2[i];
                    s2[i] = s1[i];
                    s1[i] = s0;
                }
            }
            (self.s1, self.s2, self.energy) = (s1, s2, energy);
            self.filled += take;
            offset += take;
            if self.filled == self.block_len {
                let end =
                    at + Duration::from_micros(offset as u64 * 1_000_000 / u64::from(self.rate));
                self.finish_block(end, out);
            }
        }
    }

    fn finish_block(&mut self, end: Duration, out: &mut Vec<ToneUpdate>) {
        self.head = (self.head + 1) & (HISTORY - 1);
        let mut sums = [Complex::default(); 8];
        for (i, sum) in sums.iter_mut().enumerate() {
            // y = s[N−1] − e^{−iω} s[N−2] = Σ x[k] e^{iω(N−1−k)}; rotate to global phase.
            let half = self.coeff[i] * 0.5;
            let sin_w = (1.0 - half * half).max(0.0).sqrt();
            let y = Complex {
                re: self.s1[i] - half * self.s2[i],
                im: sin_w * self.s2[i],
            };
            *sum = mul(y, self.phasor[i]);
            let p = mul(self.phasor[i], self.step[i]);
            let norm = (p.re * p.re + p.im * p.im).sqrt().max(1e-6);
            self.phasor[i] = Complex {
                re: p.re / norm,
                im: p.im / norm,
            };
        }
        if let Some(slot) = self.sums.get_mut(self.head) {
            *slot = sums;
        }
        if let Some(slot) = self.energies.get_mut(self.head) {
            *slot = self.energy;
        }
        self.s1 = [0.0; 8];
        self.s2 = [0.0; 8];
        self.energy = 0.0;
        self.filled = 0;
        self.blocks_seen = self.blocks_seen.saturating_add(1);

        let hit = if self.blocks_seen >= HISTORY {
            self.classify()
        } else {
            None
        };
        self.track(hit, end, out);
    }

    /// Sums over `len` blocks ending `back` blocks ago, for the four frequencies of a group
    /// starting at `first`, and the blocks' energy.
    fn window(&self, first: usize, len: usize, back: usize) -> ([Complex; 4], f32) {
        let mut acc = [Complex::default(); 4];
        let mut e = 0.0;
        for k in back..back + len {
            let idx = (self.head + HISTORY - k) & (HISTORY - 1);
            if let (Some(s), Some(en)) = (self.sums.get(idx), self.energies.get(idx)) {
                for (a, c) in acc.iter_mut().zip(s.iter().skip(first)) {
                    a.re += c.re;
                    a.im += c.im;
                }
                e += en;
            }
        }
        (acc, e)
    }

    fn classify(&self) -> Option<Digit> {
        let row = self.measure(0, ROW_BLOCKS)?;
        let col = self.measure(4, COL_BLOCKS)?;
        if row.power < MIN_TONE_POWER || col.power < MIN_TONE_POWER {
            return None;
        }
        let twist = col.power / row.power;
        if !(MAX_NORMAL_TWIST..=MAX_REVERSE_TWIST).contains(&twist) {
            return None;
        }
        if row.fraction + col.fraction < MIN_TONE_FRACTION {
            return None;
        }
        // Both tones must be steady over the whole low-group window.
        let energies = (0..ROW_BLOCKS).map(|k| {
            let idx = (self.head + HISTORY - k) & (HISTORY - 1);
            self.energies.get(idx).copied().unwrap_or(0.0)
        });
        let mean = energies.clone().sum::<f32>() / ROW_BLOCKS as f32;
        if energies.into_iter().any(|e| e < 0.25 * mean) {
            return None;
        }
        KEYPAD.get(row.index)?.get(col.index).copied()
    }

    /// The strongest tone of a group, checked for frequency and corrected for the window's
    /// attenuation at the measured offset.
    fn measure(&self, first: usize, len: usize) -> Option<Measured> {
        let n = (len * self.block_len) as f32;
        let (x, energy) = self.window(first, len, 0);
        let raw = x.map(|x| 2.0 * (x.re * x.re + x.im * x.im) / (n * n));
        let (index, best) = raw
            .iter()
            .copied()
            .enumerate()
            .fold((0, 0.0f32), |a, (i, p)| if p > a.1 { (i, p) } else { a });
        if best < MIN_TONE_POWER * MIN_GAIN * MIN_GAIN {
            return None;
        }
        let runner_up = raw
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .fold(0.0f32, |a, (_, p)| a.max(*p));
        if runner_up > MAX_RUNNER_UP * best {
            return None;
        }
        let nominal = *ROWS.iter().chain(COLS.iter()).nth(first + index)?;
        // Frequency from the phase advance between the window now and one block earlier.
        let a = *x.get(index)?;
        let b = *self.window(first, len, 1).0.get(index)?;
        let c = mul(
            a,
            Complex {
                re: b.re,
                im: -b.im,
            },
        );
        let df = c.im.atan2(c.re) / (2.0 * PI * BLOCK.as_secs_f32());
        if (df / nominal).abs() > MAX_DEVIATION {
            return None;
        }
        // Dirichlet kernel |sin(Nδ/2) / (N sin(δ/2))| at the offset δ.
        let delta = 2.0 * PI * df / self.rate as f32;
        let gain = if delta.abs() < 1e-6 {
            1.0
        } else {
            ((n * delta / 2.0).sin() / (n * (delta / 2.0).sin()))
                .abs()
                .max(MIN_GAIN)
        };
        let power = best / (gain * gain);
        let fraction = if energy > 0.0 {
            power / (energy / n)
        } else {
            0.0
        };
        Some(Measured {
            index,
            power,
            fraction,
        })
    }

    fn track(&mut self, hit: Option<Digit>, end: Duration, out: &mut Vec<ToneUpdate>) {
        let row_window = BLOCK * ROW_BLOCKS as u32;
        match (hit, self.active) {
            (Some(d), Some((active, _))) if d == active => {
                self.misses = 0;
                self.last_hit_end = end;
            }
            (_, Some((active, started))) => {
                self.misses += 1;
                if self.misses >= MISSES_TO_END || hit.is_some() {
                    let ended = self.last_hit_end;
                    out.push(ToneUpdate::Ended {
                        digit: active,
                        at: started,
                        duration: ended.saturating_sub(started),
                    });
                    self.active = None;
                    self.candidate = None;
                    self.hits = 0;
                }
            }
            (Some(d), None) => {
                if self.candidate == Some(d) {
                    self.hits += 1;
                } else {
                    self.candidate = Some(d);
                    self.hits = 1;
                    self.first_hit_end = end;
                }
                self.last_hit_end = end;
                if self.hits >= HITS_TO_START {
                    let started = self.first_hit_end.saturating_sub(row_window);
                    self.active = Some((d, started));
                    self.misses = 0;
                    out.push(ToneUpdate::Started {
                        digit: d,
                        at: started,
                    });
                }
            }
            (None, None) => {
                self.candidate = None;
                self.hits = 0;
            }
        }
    }
}

fn mul(a: Complex, b: Complex) -> Complex {
    Complex {
        re: a.re * b.re - a.im * b.im,
        im: a.re * b.im + a.im * b.re,
    }
}
