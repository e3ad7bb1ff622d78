//! Telephone-event payloads: the parser, and a stream of events in a session.
//! Input: records of [seq, timestamp byte, milliseconds to advance, 4-byte event payload].
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use media::codec::CodecKind;
use media::session::{MediaSession, SessionConfig};

fuzz_target!(|data: &[u8]| {
    let _ = media::dtmf::rfc4733::parse_event(data);
    let config = SessionConfig {
        audio_pts: vec![(0, CodecKind::Pcmu)],
        telephone_events: vec![(101, 8000)],
        cn_pt: Some(13),
        send_pt: Some(0),
        ptime_ms: 20,
        ssrc: 1,
        cname: "fuzz".into(),
        seed: 1,
        inband_dtmf: false,
        wallclock: None,
    };
    let Ok(mut session) = MediaSession::new(config) else {
        return;
    };
    let mut now = Duration::ZERO;
    for record in data.chunks(7) {
        let [seq, ts, advance, payload @ ..] = record else {
            break;
        };
        now += Duration::from_millis(u64::from(*advance));
        let mut rtp = vec![0x80, 101, 0, *seq, 0, 0, 0, *ts, 0, 0, 0, 7];
        rtp.extend_from_slice(payload);
        session.handle_rtp(now, &rtp);
        session.handle_info_digit(now, media::Digit::D1, None);
        session.handle_timeout(now);
        while session.poll_event().is_some() {}
    }
});
