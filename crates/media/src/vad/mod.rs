//! Voice activity per 20 ms frame, and endpointing on top of it.
//!
//! There is no fixed speech threshold: callers arrive anywhere from −10 to −45 dBFS over
//! anything from digital silence to white noise or a room full of talkers. A frame is speech
//! when, in the whole band or in its low or high half (`bands`), it stands over that band's
//! noise by a margin scaled to how much the noise itself swings (`noise`): ~3 dB over a steady
//! hiss, ~14 dB over babble. Two things about the caller, rather than the noise, keep babble from
//! passing for speech: a frame can only start speech within 20 dB of the caller's own recent
//! peak, and frames within 12 dB of that peak barely teach the noise model (the nearest talker
//! is the caller). The only absolute level is the digital-silence floor, under which nothing is
//! speech.

mod bands;
pub mod endpoint;
mod noise;

pub use endpoint::{Endpoint, Endpointer};

use bands::{power_db, BandSplit, BANDS, FULL};
use noise::NoiseTracker;

/// Frames below this are silence whatever the noise (the generated test WAVs' "silence" is a
/// −96 dBFS dither, and decoded G.711 zero is about −80 dBFS).
const DIGITAL_SILENCE_DB: f32 = -70.0;
/// A half band votes only once its noise stands this far over digital silence: a band that
/// sits on the floor (the high half of a quiet PCMU line) has no noise to measure against.
const BAND_LIVE_DB: f32 = 6.0;
/// Margins over the noise mean, each the larger of a floor in dB and a number of noise
/// deviations: to enter speech, to stay in it, and for the few `TAIL_FRAMES` after the last
/// frame that stayed (a final syllable fading into the noise).
const ENTER: (f32, f32) = (3.0, 3.5);
const STAY: (f32, f32) = (1.5, 2.5);
const TAIL: (f32, f32) = (1.5, 1.0);
const TAIL_FRAMES: u32 = 4;
/// Speech starts only within this of the caller's peak level.
const START_BELOW_PEAK_DB: f32 = 20.0;
/// Frames within this of the caller's peak teach the noise model at `NEAR_PEAK_WEIGHT` of the
/// usual rate: slow enough that a caller's own quiet syllables do not become "noise", fast
/// enough that a noise about as loud as the caller is learned in tens of seconds, not never.
const LEARN_BELOW_PEAK_DB: f32 = 12.0;
const NEAR_PEAK_WEIGHT: f32 = 0.03;
/// The caller's peak rises at most this much per frame (a door slam does not set it) and
/// decays this much per frame (0.5 dB/s).
const PEAK_RISE_DB: f32 = 3.0;
const PEAK_DECAY_DB: f32 = 0.01;

/// Energy of a frame in dBFS (full-scale square wave = 0 dB).
pub fn frame_dbfs(pcm: &[i16]) -> f32 {
    let sum: i64 = pcm.iter().map(|&s| i64::from(s) * i64::from(s)).sum();
    power_db(sum as f32 / pcm.len().max(1) as f32 / (32768.0 * 32768.0))
}

#[derive(Debug, Clone, Default)]
pub struct Vad {
    split: BandSplit,
    noise: [NoiseTracker; BANDS],
    speech: bool,
    /// Frames kept as speech by the `TAIL` margin since the last one that passed `STAY`.
    tail: u32,
    /// The caller's peak frame level in dBFS, once a frame was speech.
    peak: Option<f32>,
}

impl Vad {
    /// Classifies one frame; returns whether it is speech.
    pub fn process(&mut self, pcm: &[i16]) -> bool {
        let levels = self.split.levels(pcm);
        self.classify(levels)
    }

    /// Classifies a frame known only by its whole-band level (`frame_dbfs`).
    pub fn process_db(&mut self, db: f32) -> bool {
        self.classify([db; BANDS])
    }

    fn classify(&mut self, levels: [f32; BANDS]) -> bool {
        let full = levels[FULL];
        let audible = full > DIGITAL_SILENCE_DB;
        let levels = levels.map(|l| l.max(DIGITAL_SILENCE_DB));
        let (mut enter, mut stay, mut tail) = (f32::MIN, f32::MIN, f32::MIN);
        for (band, (tracker, &level)) in self.noise.iter_mut().zip(&levels).enumerate() {
            let (height, dev) = tracker.observe(level);
            let live = band == FULL
                || tracker
                    .mean()
                    .is_some_and(|m| m > DIGITAL_SILENCE_DB + BAND_LIVE_DB);
            if live {
                let over = |(floor, k): (f32, f32)| height - floor.max(k * dev);
                enter = enter.max(over(ENTER));
                stay = stay.max(over(STAY));
                tail = tail.max(over(TAIL));
            }
        }
        let start_gate = self.peak.map_or(f32::MIN, |p| p - START_BELOW_PEAK_DB);
        self.speech = if !audible {
            false
        } else if !self.speech {
            enter > 0.0 && full > start_gate
        } else if stay > 0.0 {
            self.tail = 0;
            true
        } else {
            tail > 0.0 && self.tail < TAIL_FRAMES
        };
        if !self.speech {
            self.tail = 0;
        } else if stay <= 0.0 {
            self.tail = self.tail.saturating_add(1);
        }
        self.peak = match self.peak {
            Some(p) if self.speech => Some((p - PEAK_DECAY_DB).max(full.min(p + PEAK_RISE_DB))),
            Some(p) => Some(p - PEAK_DECAY_DB),
            None => self.speech.then_some(full),
        };
        // Tail frames are mostly noise already: the noise model keeps learning through them.
        if !self.speech || self.tail > 0 {
            let near_peak = self.peak.is_some_and(|p| full > p - LEARN_BELOW_PEAK_DB);
            let weight = if near_peak { NEAR_PEAK_WEIGHT } else { 1.0 };
            for (tracker, &level) in self.noise.iter_mut().zip(&levels) {
                tracker.learn(level, weight);
            }
        }
        self.speech
    }

    /// The whole band's noise level in dBFS (digital silence before any frame).
    pub fn noise_floor(&self) -> f32 {
        self.noise
            .get(FULL)
            .and_then(NoiseTracker::mean)
            .unwrap_or(DIGITAL_SILENCE_DB)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const RATE: f64 = 8000.0;

    /// A deterministic xorshift generator in [0, 1).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// One talker: voiced syllables of 100–250 ms with 30–150 ms gaps, harmonics of `f0`,
    /// over [from, to) seconds of an `n`-sample track, at unit-ish RMS while voiced.
    fn talker(rng: &mut Rng, f0: f64, from: f64, to: f64, n: usize) -> Vec<f64> {
        let mut out = vec![0.0; n];
        let mut t = from;
        while t < to {
            let len = (0.10 + 0.15 * rng.next()).min(to - t);
            let amp = 0.6 + 0.8 * rng.next();
            let (s, e) = ((t * RATE) as usize, ((t + len) * RATE) as usize);
            for (i, v) in out.iter_mut().enumerate().take(e.min(n)).skip(s) {
                let local = (i - s) as f64 / (e - s) as f64;
                let env = amp * (std::f64::consts::PI * local).sin();
                let ph = 2.0 * std::f64::consts::PI * f0 * i as f64 / RATE;
                *v = env
                    * (1..=8)
                        .map(|h| (ph * h as f64).sin() / h as f64)
                        .sum::<f64>();
            }
            t += len + 0.03 + 0.12 * rng.next();
        }
        out
    }

    fn rms(x: &[f64]) -> f64 {
        (x.iter().map(|v| v * v).sum::<f64>() / x.len().max(1) as f64).sqrt()
    }

    /// The caller talks over [1, 3) s at −20 dBFS RMS; five other talkers babble throughout
    /// `snr` dB under the caller.
    fn caller_in_babble(snr: f64, seconds: f64) -> Vec<i16> {
        caller_in_babble_with_lull(snr, seconds, (0.0, 0.0))
    }

    /// As `caller_in_babble`, with the babble silent over `lull` (from, to) seconds.
    fn caller_in_babble_with_lull(snr: f64, seconds: f64, lull: (f64, f64)) -> Vec<i16> {
        let n = (seconds * RATE) as usize;
        let mut rng = Rng(0x5eed);
        let caller = talker(&mut rng, 120.0, 1.0, 3.0, n);
        let mut babble = vec![0.0; n];
        for f0 in [105.0, 140.0, 175.0, 210.0, 230.0] {
            let t = talker(&mut rng, f0, 0.0, seconds, n);
            babble.iter_mut().zip(t).for_each(|(b, v)| *b += v);
        }
        let (from, to) = ((lull.0 * RATE) as usize, (lull.1 * RATE) as usize);
        babble.iter_mut().take(to).skip(from).for_each(|b| *b = 0.0);
        let speech_rms = rms(&caller[8000..24000]);
        let level = 32768.0 * 10f64.powf(-20.0 / 20.0);
        let (g_caller, g_babble) = (
            level / speech_rms,
            level * 10f64.powf(-snr / 20.0) / rms(&babble),
        );
        caller
            .iter()
            .zip(&babble)
            .map(|(c, b)| {
                (c * g_caller + b * g_babble)
                    .round()
                    .clamp(-32768.0, 32767.0) as i16
            })
            .collect()
    }

    fn endpoints(pcm: &[i16]) -> Vec<Endpoint> {
        let (mut vad, mut ep) = (Vad::default(), Endpointer::default());
        let frame = Duration::from_millis(20);
        pcm.chunks_exact(160)
            .enumerate()
            .filter_map(|(i, f)| ep.process(frame * i as u32, frame, vad.process(f)))
            .collect()
    }

    /// The last endpoint is a SpeechEnded within 150 ms of the caller's end at 3 s.
    fn assert_last_end_near_3_s(snr: f64, got: &[Endpoint]) {
        let Some(Endpoint::SpeechEnded { at }) = got.last() else {
            panic!("{snr} dB: speech never ends: {got:?}");
        };
        let err = at.as_secs_f64() - 3.0;
        assert!(err.abs() <= 0.15, "{snr} dB: ended at {at:?}: {got:?}");
    }

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
    fn a_final_syllable_fading_into_babble_stays_speech_for_a_few_frames() {
        // Babble swinging ±3 dB, a caller over it, then the caller's last sound just 4.5 dB
        // over the noise: between one and two deviations, under the margin to stay and over
        // the tail's.
        let mut v = Vad::default();
        let babble = [3.0, -3.0, 1.0, -4.0, 2.5, -1.5, 4.0, -2.0];
        for i in 0..250 {
            v.process_db(-30.0 + babble[i % babble.len()]);
        }
        for _ in 0..20 {
            assert!(v.process_db(-10.0));
        }
        let fading = v.noise_floor() + 4.5;
        for k in 0..TAIL_FRAMES {
            assert!(v.process_db(fading), "tail frame {k}");
        }
        assert!(!v.process_db(fading), "the tail is bounded");
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
    fn noise_level_follows_a_louder_noise_within_five_seconds() {
        let mut v = Vad::default();
        for _ in 0..50 {
            v.process_db(-70.0);
        }
        for _ in 0..260 {
            v.process_db(-40.0);
        }
        assert!(!v.process_db(-40.0));
        assert!((v.noise_floor() + 40.0).abs() < 0.5, "{}", v.noise_floor());
    }

    #[test]
    fn babble_after_the_caller_stops_ends_speech() {
        for snr in [20.0, 15.0, 10.0] {
            assert_last_end_near_3_s(snr, &endpoints(&caller_in_babble(snr, 8.0)));
        }
    }

    #[test]
    fn a_lull_in_the_babble_does_not_hand_speech_to_the_babble_after_it() {
        // The talkers all pause for 0.25 s a second after the caller stops: the noise level must not
        // fall so far that the babble coming back passes for the caller.
        for snr in [15.0, 10.0] {
            let pcm = caller_in_babble_with_lull(snr, 8.0, (4.0, 4.25));
            assert_last_end_near_3_s(snr, &endpoints(&pcm));
        }
    }

    #[test]
    fn a_burst_far_under_the_callers_level_does_not_start_speech() {
        let mut v = Vad::default();
        for _ in 0..50 {
            v.process_db(-70.0);
        }
        for _ in 0..50 {
            assert!(v.process_db(-20.0) || v.process_db(-20.0));
        }
        for _ in 0..50 {
            v.process_db(-70.0);
        }
        assert!(!v.process_db(-45.0), "25 dB under the caller");
        assert!(v.process_db(-35.0), "15 dB under the caller");
    }

    #[test]
    fn a_noise_as_loud_as_the_caller_is_learned_in_the_end() {
        // A caller at −20 dBFS, then babble at −24 dBFS RMS that never stops: taken for the
        // caller at first, it must not hold speech on for ever.
        let n = (40.0 * RATE) as usize;
        let mut rng = Rng(7);
        let mut babble = vec![0.0; n];
        for f0 in [105.0, 140.0, 175.0, 210.0, 230.0] {
            let t = talker(&mut rng, f0, 3.0, 40.0, n);
            babble.iter_mut().zip(t).for_each(|(b, v)| *b += v);
        }
        let caller = talker(&mut rng, 120.0, 1.0, 2.5, n);
        let g_b = 32768.0 * 10f64.powf(-24.0 / 20.0) / rms(&babble[24000..]);
        let g_c = 32768.0 * 10f64.powf(-20.0 / 20.0) / rms(&caller[8000..20000]);
        let pcm: Vec<i16> = caller
            .iter()
            .zip(&babble)
            .map(|(c, b)| (c * g_c + b * g_b).round().clamp(-32768.0, 32767.0) as i16)
            .collect();
        let got = endpoints(&pcm);
        let ended_in_babble = got.iter().any(|e| {
            matches!(e, Endpoint::SpeechEnded { at } if (3.5..30.0).contains(&at.as_secs_f64()))
        });
        assert!(ended_in_babble, "{got:?}");
    }
}
