//! CPU per 20 ms frame on the receive path (PCMU): jitter buffer + decode + VAD + in-band DTMF
//! and event delivery, with the VAD and the in-band detector also measured alone, and the
//! earshot detector tried against it (8 kHz upsampled to 16 kHz, see `neural`).
//!
//! Run: `cargo bench -p media --bench receive`.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use media::codec::{encoder, CodecKind};
use media::dtmf::inband::ToneDetector;
use media::session::{MediaSession, SessionConfig};
use media::vad::Vad;
use rubato::{Resampler, SincFixedIn};

mod neural;
use neural::{Neural, Upsample};

fn speech_like(seconds: u32) -> Vec<i16> {
    (0..8000 * seconds as usize)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let env = 0.65 + 0.35 * (2.0 * std::f64::consts::PI * 4.0 * t).cos();
            let v: f64 = (1..=10)
                .map(|h| {
                    (2.0 * std::f64::consts::PI * 140.0 * f64::from(h) * t).sin() / f64::from(h)
                })
                .sum();
            (v * env * 4_000.0) as i16
        })
        .collect()
}

fn config(inband_dtmf: bool) -> SessionConfig {
    SessionConfig {
        audio_pts: vec![(0, CodecKind::Pcmu), (8, CodecKind::Pcma)],
        telephone_events: vec![(101, 8000)],
        cn_pt: Some(13),
        send_pt: Some(0),
        ptime_ms: 20,
        ssrc: 1,
        cname: "bench".into(),
        seed: 1,
        inband_dtmf,
        wallclock: None,
    }
}

/// One second of PCMU payloads, replayed with fresh seq/ts.
fn payloads() -> Vec<Vec<u8>> {
    let mut enc = encoder(CodecKind::Pcmu).expect("PCMU encoder");
    speech_like(1)
        .chunks(160)
        .map(|c| {
            let mut out = Vec::new();
            enc.encode(c, &mut out).expect("160 samples encode");
            out
        })
        .collect()
}

fn receive(c: &mut Criterion) {
    let payloads = payloads();
    let mut group = c.benchmark_group("receive_frame_20ms");
    for (name, inband) in [("pcmu_full", true), ("pcmu_without_inband_dtmf", false)] {
        let mut session = MediaSession::new(config(inband)).expect("valid config");
        let mut i: u32 = 0;
        let mut datagram = vec![0u8; 12 + 160];
        datagram[0] = 0x80;
        group.bench_function(name, |b| {
            b.iter(|| {
                let now = Duration::from_millis(20 * u64::from(i));
                let p = &payloads[i as usize % payloads.len()];
                datagram[2..4].copy_from_slice(&(i as u16).to_be_bytes());
                datagram[4..8].copy_from_slice(&(160 * i).to_be_bytes());
                datagram[12..].copy_from_slice(p);
                session.handle_rtp(now, &datagram);
                session.handle_timeout(now);
                while let Some(e) = session.poll_event() {
                    black_box(e);
                }
                while let Some(t) = session.poll_transmit() {
                    black_box(t);
                }
                i = i.wrapping_add(1);
            })
        });
    }
    let pcm = speech_like(1);
    let frames: Vec<&[i16]> = pcm.chunks(160).collect();
    let mut vad = Vad::default();
    let mut k = 0usize;
    group.bench_function("vad_only", |b| {
        b.iter(|| {
            k = (k + 1) % frames.len();
            black_box(vad.process(frames[k]))
        })
    });
    for (name, upsample) in [
        ("earshot_fir_8k_only", Upsample::Fir),
        ("earshot_linear_8k_only", Upsample::Linear),
    ] {
        let mut neural = Neural::new(upsample);
        let mut k = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                k = (k + 1) % frames.len();
                black_box(neural.push(frames[k], 8000))
            })
        });
    }
    // The prompt resampler's 256-tap sinc run per 20 ms frame, for comparison with the 8-tap
    // half-band filter above.
    let mut sinc =
        SincFixedIn::<f32>::new(2.0, 1.0, media::resample::sinc_params(), 160, 1).unwrap();
    let mut out = sinc.output_buffer_allocate(true);
    let input: Vec<Vec<f32>> = frames
        .iter()
        .map(|f| f.iter().map(|&s| f32::from(s) / 32768.0).collect())
        .collect();
    let mut k = 0usize;
    group.bench_function("upsample_rubato_sinc_8k_only", |b| {
        b.iter(|| {
            k = (k + 1) % input.len();
            black_box(
                sinc.process_into_buffer(&[&input[k]], &mut out, None)
                    .unwrap(),
            )
        })
    });
    let mut det = ToneDetector::new(8000);
    let mut out = Vec::new();
    let mut k = 0usize;
    group.bench_function("inband_dtmf_only", |b| {
        b.iter(|| {
            k = (k + 1) % frames.len();
            det.process(Duration::from_millis(20 * k as u64), frames[k], &mut out);
            out.clear();
        })
    });
    group.finish();
}

criterion_group!(benches, receive);
criterion_main!(benches);
