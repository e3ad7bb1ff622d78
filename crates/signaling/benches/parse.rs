//! Parsing a baresip-style INVITE with SDP (~900 bytes): the per-call cost on the hot path.
//!
//! `CARGO_TARGET_DIR=/work/target-sip cargo bench -p signaling --bench parse`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use signaling::message::{parse_datagram, parse_stream};

const INVITE: &str = "INVITE sip:callclip@127.0.0.1:5080 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK6d1a8c0f2e3b4a59;rport\r\n\
Max-Forwards: 70\r\n\
Contact: <sip:alice-0x5581c6d2@127.0.0.1:5062;transport=udp>;+sip.instance=\"<urn:uuid:5d9f2c4e-1b7a-4c3e-9f0d-2a6b8e1c7d34>\"\r\n\
To: <sip:callclip@127.0.0.1:5080>\r\n\
From: \"Alice\" <sip:alice@127.0.0.1>;tag=8a2f4c1e9b7d3a60\r\n\
Call-ID: 4f2a9c1b7e3d5a80\r\n\
CSeq: 27841 INVITE\r\n\
Allow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,UPDATE,REFER\r\n\
Supported: replaces,norefersub,100rel\r\n\
User-Agent: baresip v3.10.1 (x86_64/linux)\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 364\r\n\
\r\n\
v=0\r\n\
o=- 1186430281 2948329017 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 10000 RTP/AVP 96 0 8 101\r\n\
b=AS:100\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=fmtp:96 stereo=1;sprop-stereo=1\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=rtcp-rsize\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n\
a=ssrc:3735928559 cname:5d9f2c4e-1b7a-4c3e\r\n";

fn bench(c: &mut Criterion) {
    let data = INVITE.as_bytes();
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
