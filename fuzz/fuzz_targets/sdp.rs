//! SDP parsing and answering must never panic, whatever the peer sends.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use signaling::sdp::{answer, negotiated_from_answer, parse_sdp, LocalMedia, MediaPrefs};

fuzz_target!(|data: &[u8]| {
    let Ok(sdp) = parse_sdp(data) else {
        return;
    };
    let prefs = MediaPrefs::default();
    let local = LocalMedia {
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        rtp_port: 40_000,
        session_id: 1,
        session_version: 1,
    };
    if let Ok((_, text)) = answer(&sdp, &prefs, local) {
        // What we answer must itself be readable.
        assert!(parse_sdp(text.as_bytes()).is_ok(), "unparseable answer: {text}");
    }
    let _ = negotiated_from_answer(&prefs, &sdp);
});
