//! Codec behaviour a caller hears: G.711 matches the ITU tables exactly, G.722 and Opus
//! reproduce speech-like audio, silence stays silent.
#![allow(clippy::unwrap_used)] // Tests unwrap freely (STYLE.md).

use media::codec::g711::{alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear};
use media::codec::{decoder, encoder, CodecKind};

/// Sum of harmonics of a 200 Hz fundamental with falling amplitude: voiced-speech-like.
fn speech_like(rate: u32, samples: usize) -> Vec<i16> {
    (0..samples)
        .map(|n| {
            let t = n as f64 / f64::from(rate);
            let v: f64 = (1..=12)
                .map(|h| {
                    let f = 200.0 * f64::from(h);
                    (2.0 * std::f64::consts::PI * f * t + f64::from(h)).sin() / f64::from(h)
                })
                .sum();
            (v * 4_000.0) as i16
        })
        .collect()
}

/// Best SNR (dB) of `out` against `input` over lags 0..max_lag (the codec delay).
fn aligned_snr(input: &[i16], out: &[i16], skip: usize, max_lag: usize) -> (f64, usize) {
    (0..max_lag)
        .map(|lag| {
            let (mut sig, mut err) = (0.0f64, 0.0f64);
            for i in skip..input.len().saturating_sub(max_lag) {
                let x = f64::from(input[i]);
                let y = f64::from(out[i + lag]);
                sig += x * x;
                err += (x - y) * (x - y);
            }
            (10.0 * (sig / err.max(1e-9)).log10(), lag)
        })
        .fold((f64::MIN, 0), |a, b| if b.0 > a.0 { b } else { a })
}

/// Level (dB, arbitrary reference) of the `freq` component, by Goertzel over whole 100 ms blocks.
fn tone_level_db(x: &[i16], rate: u32, freq: f64) -> f64 {
    let n = x.len() / 1_600 * 1_600;
    let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &v in &x[..n] {
        let s0 = f64::from(v) + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    10.0 * (power / (n as f64).powi(2)).log10()
}

fn round_trip(kind: CodecKind, input: &[i16], frame: usize) -> Vec<i16> {
    let mut enc = encoder(kind).unwrap();
    let mut dec = decoder(kind).unwrap();
    let mut out = Vec::new();
    for chunk in input.chunks_exact(frame) {
        let mut payload = Vec::new();
        enc.encode(chunk, &mut payload).unwrap();
        dec.decode(&payload, &mut out).unwrap();
    }
    out
}

#[test]
fn ulaw_decodes_to_the_itu_values() {
    assert_eq!(ulaw_to_linear(0x00), -32124);
    assert_eq!(ulaw_to_linear(0x80), 32124);
    assert_eq!(ulaw_to_linear(0xFF), 0);
    assert_eq!(ulaw_to_linear(0x7F), 0);
    // Segment boundaries (G.711 Table 2a): the first code of each positive segment.
    let firsts = [8031, 3999, 1983, 975, 471, 219, 93, 30];
    for (seg, want) in firsts.iter().enumerate() {
        assert_eq!(
            ulaw_to_linear(0x80 | (seg as u8) << 4),
            want * 4,
            "segment {seg}"
        );
    }
    // Symmetric around zero for every code.
    for c in 0..=0x7Fu8 {
        assert_eq!(ulaw_to_linear(c), -ulaw_to_linear(c | 0x80));
    }
}

#[test]
fn alaw_decodes_to_the_itu_values() {
    // Bit 7 set is positive after the even-bit inversion (G.711 Table 1a).
    assert_eq!(alaw_to_linear(0xD5), 8);
    assert_eq!(alaw_to_linear(0x55), -8);
    assert_eq!(alaw_to_linear(0xAA), 32256);
    assert_eq!(alaw_to_linear(0x2A), -32256);
    for c in 0..=0x7Fu8 {
        assert_eq!(alaw_to_linear(c), -alaw_to_linear(c | 0x80));
    }
    // Decoded values are odd multiples of 8 in 13-bit units, strictly increasing by code order.
    let mut prev = 0;
    for mag in 0..0x80u8 {
        let v = alaw_to_linear((mag ^ 0x55) | 0x80);
        assert!(v > prev, "code {mag:#x}");
        prev = v;
    }
}

#[test]
fn every_code_survives_decode_then_encode() {
    for c in 0..=255u8 {
        let want_u = if c == 0x7F { 0xFF } else { c };
        assert_eq!(linear_to_ulaw(ulaw_to_linear(c)), want_u, "ulaw {c:#x}");
        assert_eq!(linear_to_alaw(alaw_to_linear(c)), c, "alaw {c:#x}");
    }
}

#[test]
fn g711_clips_at_full_scale_and_quantises_within_half_a_step() {
    assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
    assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
    assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
    assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
    let input = speech_like(8_000, 8_000);
    for kind in [CodecKind::Pcmu, CodecKind::Pcma] {
        let out = round_trip(kind, &input, 160);
        let (snr, lag) = aligned_snr(&input, &out, 0, 1);
        assert_eq!(lag, 0);
        assert!(snr > 30.0, "{kind:?} snr {snr}");
    }
}

#[test]
fn g722_reproduces_speech_like_audio() {
    let input = speech_like(16_000, 16_000);
    let out = round_trip(CodecKind::G722, &input, 320);
    assert_eq!(out.len(), input.len());
    let (snr, lag) = aligned_snr(&input, &out, 1_600, 40);
    assert!(snr >= 20.0, "snr {snr} at lag {lag}");
}

#[test]
fn g722_packs_two_samples_per_octet() {
    let mut enc = encoder(CodecKind::G722).unwrap();
    let mut payload = Vec::new();
    enc.encode(&[0; 320], &mut payload).unwrap();
    assert_eq!(payload.len(), 160);
}

#[test]
fn g722_silence_stays_silent() {
    let out = round_trip(CodecKind::G722, &[0; 16_000], 320);
    let peak = out.iter().map(|s| s.unsigned_abs()).max().unwrap();
    assert!(peak <= 16, "peak {peak}");
}

#[test]
fn opus_reproduces_speech_like_audio() {
    let input = speech_like(16_000, 32_000);
    let out = round_trip(CodecKind::Opus, &input, 320);
    assert_eq!(out.len(), input.len());
    let (snr, lag) = aligned_snr(&input, &out, 3_200, 400);
    // Opus (SILK at this rate) keeps the spectrum rather than the waveform: the waveform SNR is
    // modest, while every harmonic comes back at its level.
    assert!(snr >= 6.0, "snr {snr} at lag {lag}");
    for h in 1..=8 {
        let f = 200.0 * f64::from(h);
        let want = tone_level_db(&input[3_200..], 16_000, f);
        let got = tone_level_db(&out[3_200 + lag..], 16_000, f);
        assert!(
            (want - got).abs() < 1.5,
            "harmonic {h}: {want:.1} dB in, {got:.1} dB out"
        );
    }
}

#[test]
fn opus_conceals_a_lost_packet_with_a_full_frame() {
    let input = speech_like(16_000, 3_200);
    let mut out = round_trip(CodecKind::Opus, &input, 320);
    let mut dec = decoder(CodecKind::Opus).unwrap();
    let before = out.len();
    dec.conceal(320, &mut out);
    assert_eq!(out.len(), before + 320);
}

#[test]
fn decoders_report_their_kind_and_rates() {
    for kind in [
        CodecKind::Pcmu,
        CodecKind::Pcma,
        CodecKind::G722,
        CodecKind::Opus,
    ] {
        assert_eq!(decoder(kind).unwrap().kind(), kind);
        assert_eq!(encoder(kind).unwrap().kind(), kind);
    }
}
