//! CPU per 20 ms frame on the send path: take the prompt's next ptime, encode it, build the RTP
//! packet, hand it out. Run: `cargo bench -p media --bench send`.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use media::codec::{encoder, CodecKind};
use media::send::{PlaybackId, RtpSender, SenderConfig};
use media::wav::Pcm;

fn speech_like(rate: u32, seconds: u32) -> Arc<Pcm> {
    let n = (rate * seconds) as usize;
    let samples = (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let v: f64 = (1..=10)
                .map(|h| {
                    (2.0 * std::f64::consts::PI * 180.0 * f64::from(h) * t).sin() / f64::from(h)
                })
                .sum();
            (v * 5_000.0) as i16
        })
        .collect();
    Arc::new(Pcm { rate, samples })
}

fn send_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("send_frame_20ms");
    for kind in [
        CodecKind::Pcmu,
        CodecKind::Pcma,
        CodecKind::G722,
        CodecKind::Opus,
    ] {
        let mut sender = RtpSender::new(SenderConfig::new(0, kind, 1, 2, 3)).expect("valid config");
        let prompt = speech_like(kind.pcm_rate(), 10);
        sender
            .play(Duration::ZERO, PlaybackId(1), prompt, true)
            .expect("prompt at the codec rate");
        let mut now = Duration::ZERO;
        group.bench_function(format!("{kind:?}"), |b| {
            b.iter(|| {
                sender.handle_timeout(now);
                now += Duration::from_millis(20);
                while let Some(p) = sender.poll_transmit() {
                    black_box(p);
                }
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("encode_only_20ms");
    for kind in [CodecKind::Pcmu, CodecKind::Pcma] {
        let mut enc = encoder(kind).expect("G.711 always builds");
        let pcm = speech_like(8_000, 1);
        let frame = &pcm.samples[..160];
        let mut out = Vec::with_capacity(160);
        group.bench_function(format!("{kind:?}"), |b| {
            b.iter(|| {
                out.clear();
                enc.encode(black_box(frame), &mut out)
                    .expect("G.711 cannot fail");
                black_box(&out);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, send_path);
criterion_main!(benches);
