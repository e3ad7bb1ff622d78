//! RTP datagrams of any shape through the parser and a whole receive session (jitter buffer,
//! decoders, RFC 4733, in-band DTMF, VAD, RTCP): never a panic, and time always moves on.
//! Input: records of [length, milliseconds to advance, datagram bytes...].
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use media::codec::CodecKind;
use media::session::{MediaSession, SessionConfig};

fuzz_target!(|data: &[u8]| {
    let _ = media::rtp::parse(data);
    let config = SessionConfig {
        audio_pts: vec![(0, CodecKind::Pcmu), (8, CodecKind::Pcma)],
        telephone_events: vec![(101, 8000), (96, 48000)],
        cn_pt: Some(13),
        send_pt: Some(0),
        ptime_ms: 20,
        ssrc: 1,
        cname: "fuzz".into(),
        seed: 1,
        inband_dtmf: true,
        wallclock: None,
    };
    let Ok(mut session) = MediaSession::new(config) else {
        return;
    };
    let mut now = Duration::ZERO;
    let mut rest = data;
    while let [len, advance, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (datagram, tail) = tail.split_at(len);
        rest = tail;
        now += Duration::from_millis(u64::from(*advance));
        session.handle_rtp(now, datagram);
        session.handle_timeout(now);
        while session.poll_event().is_some() {}
        while session.poll_transmit().is_some() {}
        // After handling `now`, nothing may still be due at `now` (no busy loop).
        if let Some(t) = session.poll_timeout() {
            assert!(t > now, "deadline {t:?} not after {now:?}");
        }
    }
    let _ = session.stats();
});
