//! Shared test kit for the receive-path scenario tests: a fake peer that builds RTP, signal
//! generators, and a virtual-time driver around `MediaSession`.
#![allow(clippy::unwrap_used)] // Tests unwrap freely (STYLE.md).
#![allow(dead_code)] // Each scenario file uses part of the kit.

use std::time::Duration;

use media::codec::{self, CodecKind};
use media::session::{MediaEvent, MediaSession, SessionConfig};

pub const MS: Duration = Duration::from_millis(1);

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn config() -> SessionConfig {
    SessionConfig {
        audio_pts: vec![(0, CodecKind::Pcmu)],
        telephone_events: vec![(101, 8000)],
        cn_pt: Some(13),
        send_pt: Some(0),
        ptime_ms: 20,
        ssrc: 0xca11_c11b,
        cname: "callclip@test".into(),
        seed: 7,
        inband_dtmf: true,
        wallclock: None,
    }
}

pub fn rtp(pt: u8, marker: bool, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x80, pt | if marker { 0x80 } else { 0 }];
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&ts.to_be_bytes());
    v.extend_from_slice(&ssrc.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

pub fn encode(kind: CodecKind, pcm: &[i16]) -> Vec<u8> {
    let mut enc = codec::encoder(kind).unwrap();
    let mut out = Vec::new();
    enc.encode(pcm, &mut out).unwrap();
    out
}

/// Deterministic white noise in [-1, 1).
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Noise {
        Noise(seed | 1)
    }
    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// Amplitude for a sine of `dbfs` (sine-level convention: a full-scale sine is 0 dBFS).
pub fn sine_amp(dbfs: f64) -> f64 {
    32767.0 * 10f64.powf(dbfs / 20.0)
}

/// Sum of sines (freq Hz, peak amplitude) over `n` samples starting at sample `start`.
pub fn tones(parts: &[(f64, f64)], rate: u32, start: usize, n: usize) -> Vec<f64> {
    (start..start + n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            parts
                .iter()
                .map(|(f, a)| a * (2.0 * std::f64::consts::PI * f * t).sin())
                .sum()
        })
        .collect()
}

pub fn to_pcm(x: &[f64]) -> Vec<i16> {
    x.iter()
        .map(|v| v.round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

/// A scheduled datagram: (arrival time, bytes).
pub type Schedule = Vec<(Duration, Vec<u8>)>;

/// Audio packets for `pcm` at 8 kHz PCMU, 20 ms each, sent every 20 ms from `t0`.
pub fn pcmu_stream(pcm: &[i16], t0: Duration, seq0: u16, ts0: u32, ssrc: u32) -> Schedule {
    pcm.chunks(160)
        .enumerate()
        .map(|(i, chunk)| {
            let mut c = chunk.to_vec();
            c.resize(160, 0);
            (
                t0 + ms(20 * i as u64),
                rtp(
                    0,
                    i == 0,
                    seq0.wrapping_add(i as u16),
                    ts0.wrapping_add(160 * i as u32),
                    ssrc,
                    &encode(CodecKind::Pcmu, &c),
                ),
            )
        })
        .collect()
}

/// Drives a session through virtual time, delivering datagrams at their arrival times.
pub struct Driver {
    pub session: MediaSession,
    pub now: Duration,
    pub events: Vec<MediaEvent>,
    pub sent: Vec<(Duration, Vec<u8>)>,
}

impl Driver {
    pub fn new(config: SessionConfig) -> Driver {
        Driver {
            session: MediaSession::new(config).unwrap(),
            now: Duration::ZERO,
            events: Vec::new(),
            sent: Vec::new(),
        }
    }

    /// Runs until `end`, delivering `schedule` (sorted by arrival here).
    pub fn run(&mut self, mut schedule: Schedule, end: Duration) {
        schedule.sort_by_key(|(t, _)| *t);
        let mut next = 0;
        let mut steps = 0;
        loop {
            steps += 1;
            assert!(steps < 1_000_000, "livelock");
            while let Some((t, d)) = schedule.get(next) {
                if *t > self.now {
                    break;
                }
                self.session.handle_rtp(self.now, d);
                next += 1;
            }
            self.session.handle_timeout(self.now);
            while let Some(e) = self.session.poll_event() {
                self.events.push(e);
            }
            while let Some(t) = self.session.poll_transmit() {
                self.sent.push((self.now, t));
            }
            let wake = [
                schedule.get(next).map(|(t, _)| *t),
                self.session.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            match wake {
                Some(w) if w <= end => self.now = w.max(self.now),
                _ => break,
            }
        }
        self.now = end;
    }

    pub fn frames(&self) -> Vec<(Duration, &[i16], bool)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                MediaEvent::Frame {
                    at,
                    samples,
                    speech,
                    ..
                } => Some((*at, samples.as_slice(), *speech)),
                _ => None,
            })
            .collect()
    }

    /// Digits in order, as (digit char, started_at, ended_at).
    pub fn digits(&self) -> Vec<(char, Duration, Option<Duration>)> {
        let mut out: Vec<(char, Duration, Option<Duration>)> = Vec::new();
        for e in &self.events {
            match e {
                MediaEvent::Digit {
                    digit,
                    started_at,
                    ended_at,
                    ..
                } => out.push((digit.as_char(), *started_at, *ended_at)),
                MediaEvent::DigitEnded {
                    digit,
                    started_at,
                    ended_at,
                    ..
                } => {
                    if let Some(d) = out
                        .iter_mut()
                        .rev()
                        .find(|d| d.0 == digit.as_char() && d.1 == *started_at)
                    {
                        d.2 = Some(*ended_at);
                    }
                }
                _ => {}
            }
        }
        out
    }

    pub fn digit_string(&self) -> String {
        self.digits().iter().map(|d| d.0).collect()
    }
}
