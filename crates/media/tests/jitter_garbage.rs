//! Deterministic garbage through the receive path (what the `rtp`, `rtcp` and `rfc4733` fuzz
//! targets do at scale): no panic, no deadline left behind, and a sane session afterwards.
#![allow(clippy::unwrap_used)] // Tests unwrap freely (STYLE.md).

mod jitter_support;

use std::time::Duration;

use jitter_support::*;

#[test]
fn random_and_mutated_datagrams_never_panic_or_stall() {
    let mut g = Noise::new(99);
    let mut byte = move || ((g.next() + 1.0) * 128.0) as u8;
    let mut d = Driver::new(config());
    let mut now = Duration::ZERO;
    let valid = rtp(0, false, 1, 160, 5, &[0xff; 160]);
    for i in 0..20_000u32 {
        let mut datagram = match i % 4 {
            // Valid packets with a few flipped bytes: reaches the deep paths.
            0 | 1 => {
                let mut v = valid.clone();
                v[2..4].copy_from_slice(&(i as u16).to_be_bytes());
                v[4..8].copy_from_slice(&(160 * i).to_be_bytes());
                v
            }
            2 => vec![
                0x80,
                101,
                0,
                byte(),
                0,
                0,
                byte(),
                byte(),
                0,
                0,
                0,
                5,
                byte(),
                byte(),
                byte(),
                byte(),
            ],
            _ => (0..usize::from(byte() % 64)).map(|_| byte()).collect(),
        };
        for _ in 0..(byte() % 3) {
            if datagram.is_empty() {
                break;
            }
            let at = usize::from(byte()) % datagram.len();
            datagram[at] = byte();
        }
        now += Duration::from_millis(u64::from(byte() % 40));
        d.session.handle_rtp(now, &datagram);
        d.session.handle_timeout(now);
        while d.session.poll_event().is_some() {}
        while d.session.poll_transmit().is_some() {}
        if let Some(t) = d.session.poll_timeout() {
            assert!(t > now, "deadline {t:?} left at {now:?}");
        }
    }
    let s = d.session.stats();
    assert!(s.malformed > 0 && s.packets_received > 0);
}

#[test]
fn parsers_take_any_prefix_of_real_packets() {
    let packets = [
        rtp(0, true, 65535, u32::MAX, 1, &[0x7f; 160]),
        vec![
            0x80, 200, 0, 6, 1, 2, 3, 4, 0xaa, 0xaa, 0xbb, 0xbb, 0xcc, 0xcc, 0xdd, 0xdd, 0, 0,
            0x1f, 0x40, 0, 0, 0, 50, 0, 0, 0x1f, 0x40,
        ],
        vec![0xbf, 0xc9, 0xff, 0xff, 1, 2, 3, 4, 5],
    ];
    for p in &packets {
        for n in 0..=p.len() {
            let _ = media::rtp::parse(&p[..n]);
            let _ = media::rtcp::sender_reports(&p[..n]);
            let _ = media::dtmf::rfc4733::parse_event(&p[..n]);
        }
    }
}
