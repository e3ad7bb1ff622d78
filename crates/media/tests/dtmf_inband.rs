//! In-band DTMF against an ITU-T Q.24 style battery generated here: frequency deviation,
//! twist, minimum tone and pause, level, noise, and no talk-off on speech-like audio.
#![allow(clippy::unwrap_used)] // Tests unwrap freely (STYLE.md).

mod jitter_support;

use std::time::Duration;

use jitter_support::*;
use media::dtmf::inband::{ToneDetector, ToneUpdate};
use media::Digit;

const RATE: u32 = 8000;
const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
const COLS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYS: &str = "123A456B789C*0#D";

/// Sine peak amplitude for a level in dBm0 (G.711: 0 dBm0 sine peaks 3.17 dB under full scale).
fn dbm0(level: f64) -> f64 {
    sine_amp(level - 3.17)
}

fn freqs(key: char) -> (f64, f64) {
    let i = KEYS.find(key).unwrap();
    (ROWS[i / 4], COLS[i % 4])
}

struct Tone {
    key: char,
    ms: usize,
    low: f64,
    high: f64,
    low_dev: f64,
    high_dev: f64,
}

fn tone(key: char, ms: usize) -> Tone {
    Tone {
        key,
        ms,
        low: dbm0(-10.0),
        high: dbm0(-10.0),
        low_dev: 0.0,
        high_dev: 0.0,
    }
}

/// Tones separated by `pause_ms`, with 100 ms of lead-in and tail.
fn signal(tones: &[Tone], pause_ms: usize, noise_dbfs: Option<f64>) -> Vec<i16> {
    let mut x = vec![0.0; 800];
    for t in tones {
        let (lo, hi) = freqs(t.key);
        let start = x.len();
        x.extend(tones_at(
            &[
                (lo * (1.0 + t.low_dev), t.low),
                (hi * (1.0 + t.high_dev), t.high),
            ],
            start,
            t.ms * 8,
        ));
        x.extend(std::iter::repeat_n(0.0, pause_ms * 8));
    }
    x.extend(std::iter::repeat_n(0.0, 800));
    if let Some(n) = noise_dbfs {
        // White noise with the given RMS (uniform noise has RMS = peak / sqrt(3)).
        let peak = 32768.0 * 10f64.powf(n / 20.0) * 3f64.sqrt();
        let mut g = Noise::new(11);
        for v in &mut x {
            *v += peak * g.next();
        }
    }
    to_pcm(&x)
}

fn tones_at(parts: &[(f64, f64)], start: usize, n: usize) -> Vec<f64> {
    tones(parts, RATE, start, n)
}

fn detect(pcm: &[i16]) -> Vec<(Digit, Duration, Duration)> {
    let mut det = ToneDetector::new(RATE);
    let mut out = Vec::new();
    for (i, frame) in pcm.chunks(160).enumerate() {
        det.process(ms(20 * i as u64), frame, &mut out);
    }
    out.iter()
        .filter_map(|u| match u {
            ToneUpdate::Ended {
                digit,
                at,
                duration,
            } => Some((*digit, *at, *at + *duration)),
            ToneUpdate::Started { .. } => None,
        })
        .collect()
}

fn keys(pcm: &[i16]) -> String {
    detect(pcm).iter().map(|d| d.0.as_char()).collect()
}

#[test]
fn every_key_is_detected_with_its_timing() {
    let all: Vec<Tone> = KEYS.chars().map(|k| tone(k, 60)).collect();
    let pcm = signal(&all, 60, None);
    let found = detect(&pcm);
    assert_eq!(
        found.iter().map(|d| d.0.as_char()).collect::<String>(),
        KEYS
    );
    // First tone: 100 ms to 160 ms.
    let (_, start, end) = found[0];
    assert!(start.abs_diff(ms(100)) <= ms(10), "start {start:?}");
    assert!(end.abs_diff(ms(160)) <= ms(10), "end {end:?}");
}

#[test]
fn deviation_of_1_5_percent_is_accepted() {
    for dev in [0.015, -0.015] {
        for key in KEYS.chars() {
            let both = Tone {
                low_dev: dev,
                high_dev: dev,
                ..tone(key, 60)
            };
            let split = Tone {
                low_dev: dev,
                high_dev: -dev,
                ..tone(key, 60)
            };
            assert_eq!(
                keys(&signal(&[both, split], 60, None)),
                format!("{key}{key}"),
                "{key} at {dev}"
            );
        }
    }
}

#[test]
fn deviation_of_3_5_percent_is_rejected() {
    for dev in [0.035, -0.035] {
        for key in KEYS.chars() {
            let low = Tone {
                low_dev: dev,
                ..tone(key, 60)
            };
            let high = Tone {
                high_dev: dev,
                ..tone(key, 60)
            };
            assert_eq!(keys(&signal(&[low, high], 60, None)), "", "{key} at {dev}");
        }
    }
}

#[test]
fn twist_limits_are_8_db_normal_and_4_db_reverse() {
    let t = |low: f64, high: f64| Tone {
        low: dbm0(low),
        high: dbm0(high),
        ..tone('5', 60)
    };
    assert_eq!(
        keys(&signal(&[t(-6.0, -13.5)], 60, None)),
        "5",
        "7.5 dB normal twist"
    );
    assert_eq!(
        keys(&signal(&[t(-10.0, -6.5)], 60, None)),
        "5",
        "3.5 dB reverse twist"
    );
    assert_eq!(
        keys(&signal(&[t(-6.0, -16.5)], 60, None)),
        "",
        "10.5 dB normal twist"
    );
    assert_eq!(
        keys(&signal(&[t(-12.0, -6.0)], 60, None)),
        "",
        "6 dB reverse twist"
    );
}

#[test]
fn forty_ms_tones_and_pauses_are_enough() {
    let five: Vec<Tone> = "11111".chars().map(|k| tone(k, 40)).collect();
    assert_eq!(keys(&signal(&five, 40, None)), "11111");
    let short: Vec<Tone> = "1234".chars().map(|k| tone(k, 20)).collect();
    assert_eq!(
        keys(&signal(&short, 60, None)),
        "",
        "20 ms tones are too short"
    );
}

#[test]
fn levels_down_to_minus_30_dbm0_are_detected() {
    let at = |level: f64| Tone {
        low: dbm0(level),
        high: dbm0(level),
        ..tone('#', 60)
    };
    for level in [-3.0, -10.0, -20.0, -30.0] {
        assert_eq!(keys(&signal(&[at(level)], 60, None)), "#", "{level} dBm0");
    }
    assert_eq!(keys(&signal(&[at(-40.0)], 60, None)), "", "-40 dBm0");
}

#[test]
fn tones_in_noise_are_detected() {
    let all: Vec<Tone> = "159D".chars().map(|k| tone(k, 60)).collect();
    // Each tone at -10 dBm0 (≈ -16 dBFS RMS), noise at -36 dBFS RMS: 20 dB SNR per tone.
    assert_eq!(keys(&signal(&all, 60, Some(-36.0))), "159D");
}

/// Vowel-like audio: a gliding pitch with many harmonics and a formant-ish envelope,
/// syllables and pauses, at several levels — the classic talk-off hazard.
fn speech_like(seconds: usize, level_dbfs: f64, seed: u64) -> Vec<i16> {
    let mut g = Noise::new(seed);
    let n = seconds * RATE as usize;
    let amp = sine_amp(level_dbfs);
    let mut phase = 0.0f64;
    let mut out = Vec::with_capacity(n);
    let mut f0 = 120.0;
    for i in 0..n {
        let t = i as f64 / RATE as f64;
        if i % 800 == 0 {
            f0 = 90.0 + 180.0 * (g.next() + 1.0) / 2.0;
        }
        phase += 2.0 * std::f64::consts::PI * f0 / RATE as f64;
        let syllable = (2.0 * std::f64::consts::PI * 4.0 * t).sin().max(0.0);
        let mut v = 0.0;
        for h in 1..30 {
            let f = f0 * h as f64;
            if f > 3600.0 {
                break;
            }
            // Two formants around 700 Hz and 1400 Hz, where DTMF lives.
            let w = (-((f - 700.0) / 250.0).powi(2)).exp()
                + 0.7 * (-((f - 1400.0) / 300.0).powi(2)).exp()
                + 0.05;
            v += w * (phase * h as f64).sin();
        }
        out.push(amp * 0.5 * syllable * v + 30.0 * g.next());
    }
    to_pcm(&out)
}

#[test]
fn speech_like_audio_never_talks_off() {
    for (level, seed) in [(-10.0, 1), (-20.0, 2), (-30.0, 3)] {
        assert_eq!(keys(&speech_like(10, level, seed)), "", "level {level}");
    }
}

#[test]
fn inband_digits_through_pcmu_and_dedup_with_rfc4733() {
    use media::dtmf::DigitSource;
    use media::session::MediaEvent;
    let tones: Vec<Tone> = "42#".chars().map(|k| tone(k, 100)).collect();
    let pcm = signal(&tones, 150, Some(-50.0));
    // Tone starts at 100, 350 and 600 ms of media time.
    let mut s = pcmu_stream(&pcm, ms(0), 1, 0, 5);
    // The peer also signals the middle key by RFC 4733 on its own SSRC.
    for (k, end) in [
        (0u64, false),
        (50, false),
        (100, true),
        (101, true),
        (102, true),
    ] {
        let d = (k.min(100) * 8) as u16;
        let payload = [2, if end { 0x8a } else { 0x0a }, (d >> 8) as u8, d as u8];
        s.push((
            ms(350 + k),
            rtp(101, k == 0, 900 + (k / 50) as u16, 2800, 77, &payload),
        ));
    }
    let mut d = Driver::new(config());
    d.run(s, ms(1500));
    assert_eq!(d.digit_string(), "42#");
    let sources: Vec<DigitSource> = d
        .events
        .iter()
        .filter_map(|e| match e {
            MediaEvent::Digit { source, .. } => Some(*source),
            _ => None,
        })
        .collect();
    assert_eq!(sources.len(), 3, "the middle key counts once");
    // In-band times are on the frame timeline: 100 ms of tone each.
    for (c, start, end) in d.digits() {
        if c != '2' {
            let len = end.unwrap() - start;
            assert!(len.abs_diff(ms(100)) <= ms(15), "{c}: {len:?}");
        }
    }
}
