//! The RTP side of the load benchmark without sipp's pcap replay (whose raw sockets get a copy
//! of every loopback UDP packet and so bill the gateway's sends for sipp's work): one UDP socket
//! per established call, PCMU speech from the toolkit's headerless `caller_8k.ulaw` every 20 ms
//! to the gateway's RTP port. The gateway latches onto the socket's address (symmetric RTP,
//! RFC 4961), so its own packets land on a bound socket (no ICMP), where they overflow unread.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Stream {
    sock: UdpSocket,
    seq: u16,
    ts: u32,
    ssrc: u32,
}

/// Sends until `stop`; picks up each new call from the gateway's "media negotiated" log lines
/// (re-read twice a second, so a call starts receiving speech within 0.5 s of its answer).
pub fn run(log: PathBuf, audio: Vec<u8>, stop: Arc<AtomicBool>) {
    let mut streams: Vec<Stream> = Vec::new();
    let mut next = Instant::now();
    let mut tick = 0u64;
    let mut pos = 0usize;
    let mut pkt = Vec::with_capacity(172);
    while !stop.load(Ordering::Relaxed) {
        if tick % 25 == 0 {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let ports: Vec<u16> = text
                .lines()
                .filter(|l| l.contains("media negotiated"))
                .filter_map(|l| l.split("local_port=").nth(1))
                .filter_map(|p| p.split_whitespace().next()?.parse().ok())
                .collect();
            for port in ports.iter().skip(streams.len()) {
                let sock = UdpSocket::bind("127.0.0.1:0").expect("bind RTP");
                sock.connect(("127.0.0.1", *port)).expect("connect RTP");
                sock.set_nonblocking(true).ok();
                let ssrc = 0x1000_0000 | streams.len() as u32;
                streams.push(Stream {
                    sock,
                    seq: 1,
                    ts: 0,
                    ssrc,
                });
            }
        }
        let frame = audio.get(pos..pos + 160).unwrap_or(&[0xFF; 160]);
        pos = if pos + 320 <= audio.len() {
            pos + 160
        } else {
            0
        };
        for s in &mut streams {
            pkt.clear();
            pkt.extend_from_slice(&[0x80, 0]);
            pkt.extend_from_slice(&s.seq.to_be_bytes());
            pkt.extend_from_slice(&s.ts.to_be_bytes());
            pkt.extend_from_slice(&s.ssrc.to_be_bytes());
            pkt.extend_from_slice(frame);
            let _ = s.sock.send(&pkt);
            s.seq = s.seq.wrapping_add(1);
            s.ts = s.ts.wrapping_add(160);
        }
        tick += 1;
        next += Duration::from_millis(20);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
}
