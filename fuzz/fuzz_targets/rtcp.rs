//! RTCP compound packets (sender reports read, everything else skipped) through the parser
//! and through a session that has a stream to report on.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use media::codec::CodecKind;
use media::session::{MediaSession, SessionConfig};

fuzz_target!(|data: &[u8]| {
    let _ = media::rtcp::sender_reports(data);
    let _ = media::rtp::is_rtcp(data);
    let config = SessionConfig {
        audio_pts: vec![(0, CodecKind::Pcmu)],
        telephone_events: vec![(101, 8000)],
        cn_pt: None,
        send_pt: Some(0),
        ptime_ms: 20,
        ssrc: 1,
        cname: "fuzz".into(),
        seed: 1,
        inband_dtmf: false,
        wallclock: Some(Duration::from_secs(1_800_000_000)),
    };
    let Ok(mut session) = MediaSession::new(config) else {
        return;
    };
    // One audio packet from SSRC 0x01020304 so that a sender report can match it.
    let mut rtp = vec![0x80, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4];
    rtp.extend_from_slice(&[0xff; 160]);
    session.handle_rtp(Duration::ZERO, &rtp);
    session.handle_rtp(Duration::from_millis(10), data);
    // We "sent" too: the report due by 8 s is a sender report echoing the fuzzed SR.
    let sent = data.get(..12).unwrap_or_default();
    let word = |i: usize| {
        sent.get(i..i + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_be_bytes)
    };
    session.handle_sent(media::send::Sent {
        packets: word(0),
        octets: word(4),
        rtp_time: word(8),
    });
    session.handle_timeout(Duration::from_secs(8));
    while session.poll_event().is_some() {}
    while session.poll_transmit().is_some() {}
});
