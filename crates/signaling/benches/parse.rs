//! Parsing a baresip-style INVITE with SDP (980 bytes, `invite_sdp.sip`): the per-call cost on
//! the hot path, alone, with `validate`, and with the accessors a new call reads.
//!
//! `CARGO_TARGET_DIR=/work/target-sip cargo bench -p signaling --bench parse`
//!
//! Instruction counts, steadier than time on a shared machine, come from the `parse_loop`
//! example under callgrind (see its doc comment).
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use signaling::message::{parse_datagram, parse_stream};

const INVITE: &[u8] = include_bytes!("invite_sdp.sip");

fn bench(c: &mut Criterion) {
    let data = INVITE;
    // Keep the fixture honest: it must parse and its Content-Length must match.
    let (_, used) = parse_stream(data)
        .expect("fixture parses")
        .expect("fixture complete");
    assert_eq!(used, data.len());
    let mut group = c.benchmark_group("sip_parse");
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("parse_datagram invite {} bytes", data.len()), |b| {
        b.iter(|| parse_datagram(std::hint::black_box(data)))
    });
    group.bench_function("parse_datagram + validate", |b| {
        b.iter(|| {
            let m = parse_datagram(std::hint::black_box(data)).expect("fixture parses");
            m.validate().expect("fixture is valid");
            m
        })
    });
    group.bench_function(
        "parse_datagram + top_via + from + to + cseq + contacts",
        |b| {
            b.iter(|| {
                let m = parse_datagram(std::hint::black_box(data)).expect("fixture parses");
                let h = m.headers();
                (h.top_via(), h.from(), h.to(), h.cseq(), h.contacts())
            })
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
