//! Voice activity and endpointing on speech-like audio: harmonic "voiced" sound with a
//! syllable-rate envelope, at −10 to −45 dBFS, over a −96 dBFS dither floor or white noise at
//! 20 and 10 dB SNR. Starts and ends must land within 60 ms, and a pause shorter than the
//! hangover must not end the utterance.
#![allow(clippy::unwrap_used)] // Tests unwrap freely (STYLE.md).

mod jitter_support;

use std::time::Duration;

use jitter_support::*;
use media::session::MediaEvent;
use media::vad::{Endpoint, Endpointer, Vad};

const RATE: f64 = 8000.0;

/// (start ms, end ms) of each utterance; the 150 ms gap inside the first is a pause.
const TALK: [(u64, u64); 3] = [(1000, 2200), (2350, 3150), (4700, 5700)];
const TOTAL_MS: u64 = 7000;

fn rms_dbfs_to_amp(db: f64) -> f64 {
    32768.0 * 10f64.powf(db / 20.0)
}

/// Speech at `level` dBFS RMS, noise `snr` dB below it (or a −96 dBFS dither floor).
fn utterances(level: f64, snr: Option<f64>, seed: u64) -> Vec<i16> {
    let n = (TOTAL_MS * 8) as usize;
    let mut g = Noise::new(seed);
    // Harmonics 1..10 of 140 Hz with 1/h amplitudes: RMS = sqrt(Σ 1/h² / 2) ≈ 0.886; the
    // envelope 0.3..1.0 has mean square ≈ 0.49.
    let norm = rms_dbfs_to_amp(level) / (0.886 * 0.7);
    let noise_rms = rms_dbfs_to_amp(snr.map_or(-96.0, |s| level - s));
    let noise_peak = noise_rms * 3f64.sqrt();
    (0..n)
        .map(|i| {
            let t = i as f64 / RATE;
            let t_ms = (t * 1000.0) as u64;
            let mut v = 0.0;
            if let Some((s, _)) = TALK.iter().find(|(s, e)| t_ms >= *s && t_ms < *e) {
                let local = t - *s as f64 / 1000.0;
                let env = 0.65 + 0.35 * (2.0 * std::f64::consts::PI * 4.0 * local).cos();
                let f0 = 140.0 + 20.0 * (2.0 * std::f64::consts::PI * 0.7 * t).sin();
                for h in 1..=10 {
                    v += (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64;
                }
                v *= norm * env;
            }
            (v + noise_peak * g.next()).round().clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

fn endpoints(pcm: &[i16]) -> Vec<Endpoint> {
    let mut vad = Vad::default();
    let mut ep = Endpointer::default();
    pcm.chunks(160)
        .enumerate()
        .filter_map(|(i, f)| ep.process(ms(20 * i as u64), ms(20), vad.process(f)))
        .collect()
}

fn expected() -> Vec<Endpoint> {
    vec![
        Endpoint::SpeechStarted { at: ms(TALK[0].0) },
        Endpoint::SpeechEnded { at: ms(TALK[1].1) },
        Endpoint::SpeechStarted { at: ms(TALK[2].0) },
        Endpoint::SpeechEnded { at: ms(TALK[2].1) },
    ]
}

fn close(a: &[Endpoint], b: &[Endpoint], tol: Duration) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Endpoint::SpeechStarted { at: p }, Endpoint::SpeechStarted { at: q })
            | (Endpoint::SpeechEnded { at: p }, Endpoint::SpeechEnded { at: q }) => {
                p.abs_diff(*q) <= tol
            }
            _ => false,
        })
}

#[test]
fn endpoints_over_dither_at_every_level() {
    for level in [-10.0, -20.0, -30.0, -45.0] {
        let got = endpoints(&utterances(level, None, 1));
        assert!(close(&got, &expected(), ms(60)), "{level} dBFS: {got:?}");
    }
}

#[test]
fn endpoints_in_noise_at_20_and_10_db_snr() {
    for snr in [20.0, 10.0] {
        for level in [-10.0, -25.0, -45.0] {
            let got = endpoints(&utterances(level, Some(snr), 7));
            assert!(
                close(&got, &expected(), ms(60)),
                "{level} dBFS at {snr} dB SNR: {got:?}"
            );
        }
    }
}

#[test]
fn steady_noise_alone_is_never_speech() {
    for level in [-30.0, -50.0, -70.0] {
        let mut g = Noise::new(5);
        let peak = rms_dbfs_to_amp(level) * 3f64.sqrt();
        let pcm: Vec<i16> = (0..8000 * 5).map(|_| (peak * g.next()) as i16).collect();
        assert!(endpoints(&pcm).is_empty(), "noise at {level} dBFS");
    }
    assert!(
        endpoints(&vec![0i16; 8000 * 3]).is_empty(),
        "digital silence"
    );
}

#[test]
fn session_reports_speech_from_decoded_pcmu() {
    let pcm = utterances(-30.0, Some(20.0), 3);
    let mut d = Driver::new(config());
    d.run(pcmu_stream(&pcm, ms(0), 10, 0, 9), ms(TOTAL_MS + 500));
    let first_frame = d.frames()[0].0;
    let got: Vec<Endpoint> = d
        .events
        .iter()
        .filter_map(|e| match e {
            MediaEvent::SpeechStarted { at } => Some(Endpoint::SpeechStarted {
                at: *at - first_frame,
            }),
            MediaEvent::SpeechEnded { at } => Some(Endpoint::SpeechEnded {
                at: *at - first_frame,
            }),
            _ => None,
        })
        .collect();
    assert!(close(&got, &expected(), ms(60)), "{got:?}");
    let speech_frames = d.frames().iter().filter(|f| f.2).count();
    assert!(
        (140..=160).contains(&speech_frames),
        "{speech_frames} speech frames"
    );
    assert_eq!(d.digit_string(), "", "no talk-off");
}
