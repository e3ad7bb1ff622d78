//! Offers seen from real peers (shared/peers/README.md §(e)) answered the way they need.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use signaling::sdp::{
    answer, negotiated_from_answer, offer, parse_sdp, AudioCodec, Direction, LocalMedia,
    MediaPrefs, Negotiated, NegotiationError, SdpSession,
};

const BOT_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));

fn local() -> LocalMedia {
    LocalMedia {
        ip: BOT_IP,
        rtp_port: 40_000,
        session_id: 42,
        session_version: 1,
    }
}

fn prefer(codecs: &[AudioCodec]) -> MediaPrefs {
    MediaPrefs {
        codecs: codecs.to_vec(),
        ..MediaPrefs::default()
    }
}

fn offer_with(media: &str) -> String {
    format!(
        "v=0\r\no=- 3895 3896 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n{media}"
    )
}

fn negotiate(offer: &str, prefs: &MediaPrefs) -> (Negotiated, String) {
    let sdp = parse_sdp(offer.as_bytes()).expect("offer parses");
    answer(&sdp, prefs, local()).expect("offer is acceptable")
}

/// The `m=` lines of an answer, re-parsed, to check what a peer would read.
fn m_lines(answer: &str) -> Vec<String> {
    answer
        .lines()
        .filter(|l| l.starts_with("m="))
        .map(str::to_owned)
        .collect()
}

const BARESIP: &str = "m=audio 10004 RTP/AVP 96 0 8 101\r\n\
    b=AS:125\r\n\
    a=rtpmap:96 opus/48000/2\r\n\
    a=fmtp:96 stereo=1;sprop-stereo=1\r\n\
    a=rtpmap:0 PCMU/8000\r\n\
    a=rtpmap:8 PCMA/8000\r\n\
    a=rtpmap:101 telephone-event/8000\r\n\
    a=fmtp:101 0-15\r\n\
    a=ptime:20\r\n\
    a=rtcp-rsize\r\n\
    a=ssrc:1742521370 cname:sip:caller@127.0.0.1\r\n\
    a=sendrecv\r\n";

#[test]
fn baresip_opus_first_gets_pcmu_when_we_prefer_it() {
    let (n, text) = negotiate(
        &offer_with(BARESIP),
        &prefer(&[AudioCodec::Pcmu, AudioCodec::Pcma]),
    );
    assert_eq!(n.codec.codec, AudioCodec::Pcmu);
    assert_eq!(n.codec.pt, 0);
    assert_eq!(n.telephone_event_pt, Some(101));
    assert_eq!(n.telephone_events, vec![(101, 8000)]);
    assert_eq!(n.ptime_ms, 20);
    assert_eq!(n.direction, Direction::SendRecv);
    assert_eq!(
        n.remote_addr,
        "127.0.0.1:10004".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(n.remote_rtcp_addr, Some("127.0.0.1:10005".parse().unwrap()));
    assert_eq!(m_lines(&text), vec!["m=audio 40000 RTP/AVP 0 101"]);
    assert!(text.contains("a=rtpmap:0 PCMU/8000\r\n"));
    assert!(text.contains("a=rtpmap:101 telephone-event/8000\r\n"));
    assert!(text.contains("a=sendrecv\r\n"));
    assert!(text.contains("c=IN IP4 127.0.0.1\r\n"));
    assert!(text.contains("o=callclip 42 1 IN IP4 127.0.0.1\r\n"));
    // What we wrote must parse back.
    parse_sdp(text.as_bytes()).unwrap();
}

#[test]
fn baresip_offer_gets_pcma_when_we_prefer_it() {
    let (n, text) = negotiate(
        &offer_with(BARESIP),
        &prefer(&[AudioCodec::Pcma, AudioCodec::Pcmu]),
    );
    assert_eq!((n.codec.codec, n.codec.pt), (AudioCodec::Pcma, 8));
    assert_eq!(m_lines(&text), vec!["m=audio 40000 RTP/AVP 8 101"]);
}

#[test]
fn opus_is_chosen_with_its_offered_number_when_preferred() {
    let (n, text) = negotiate(
        &offer_with(BARESIP),
        &prefer(&[AudioCodec::Opus, AudioCodec::Pcmu]),
    );
    assert_eq!(n.codec.codec, AudioCodec::Opus);
    assert_eq!(
        (n.codec.pt, n.codec.clock_rate, n.codec.channels),
        (96, 48_000, 2)
    );
    assert!(text.contains("a=rtpmap:96 opus/48000/2\r\n"));
}

#[test]
fn telephone_event_8000_is_picked_among_several_rates_and_all_are_recorded() {
    let offer = offer_with(
        "m=audio 7078 RTP/AVP 96 0 8 97 101\r\n\
         a=rtpmap:96 opus/48000/2\r\n\
         a=rtpmap:97 telephone-event/48000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n",
    );
    let (n, text) = negotiate(&offer, &MediaPrefs::default());
    assert_eq!(n.codec.codec, AudioCodec::Pcmu);
    assert_eq!(n.telephone_event_pt, Some(101));
    assert_eq!(n.telephone_events, vec![(97, 48_000), (101, 8_000)]);
    assert_eq!(m_lines(&text), vec!["m=audio 40000 RTP/AVP 0 101"]);
}

#[test]
fn payload_96_can_be_telephone_event() {
    let offer = offer_with(
        "m=audio 7078 RTP/AVP 8 0 96\r\n\
         a=rtpmap:96 telephone-event/8000\r\n\
         a=fmtp:96 0-16\r\n",
    );
    let (n, text) = negotiate(&offer, &MediaPrefs::default());
    assert_eq!((n.codec.codec, n.codec.pt), (AudioCodec::Pcmu, 0));
    assert_eq!(n.telephone_event_pt, Some(96));
    assert_eq!(m_lines(&text), vec!["m=audio 40000 RTP/AVP 0 96"]);
    assert!(text.contains("a=rtpmap:96 telephone-event/8000\r\n"));
}

#[test]
fn static_types_work_without_rtpmap() {
    let offer = offer_with("m=audio 7078 RTP/AVP 0 8\r\n");
    let (n, _) = negotiate(&offer, &prefer(&[AudioCodec::Pcma, AudioCodec::Pcmu]));
    assert_eq!((n.codec.codec, n.codec.pt), (AudioCodec::Pcma, 8));
    assert_eq!(n.telephone_event_pt, None);
    assert!(n.telephone_events.is_empty());
}

#[test]
fn pcma_only_offer_gets_pcma_even_when_pcmu_is_preferred() {
    let offer = offer_with("m=audio 7078 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n");
    let (n, text) = negotiate(&offer, &prefer(&[AudioCodec::Pcmu, AudioCodec::Pcma]));
    assert_eq!(n.codec.codec, AudioCodec::Pcma);
    assert_eq!(m_lines(&text), vec!["m=audio 40000 RTP/AVP 8"]);
}

#[test]
fn sipp_stock_offer() {
    let offer = "v=0\r\n\
        o=sipp 53655765 2353687637 IN IP4 127.0.0.1\r\n\
        s=-\r\n\
        c=IN IP4 127.0.0.1\r\n\
        t=0 0\r\n\
        m=audio 16000 RTP/AVP 0 8 101\r\n\
        a=rtpmap:0 PCMU/8000\r\n\
        a=rtpmap:8 PCMA/8000\r\n\
        a=rtpmap:101 telephone-event/8000\r\n\
        a=fmtp:101 0-16\r\n\
        a=ptime:20\r\n\
        a=sendrecv\r\n";
    let (n, text) = negotiate(offer, &MediaPrefs::default());
    assert_eq!(n.remote_addr, "127.0.0.1:16000".parse().unwrap());
    assert_eq!((n.codec.pt, n.telephone_event_pt), (0, Some(101)));
    assert_eq!(m_lines(&text), vec!["m=audio 40000 RTP/AVP 0 101"]);
}

#[test]
fn video_and_second_audio_lines_are_refused_in_place() {
    let offer = offer_with(
        "m=video 9000 RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\n\
         m=audio 7078 RTP/AVP 0\r\n\
         m=audio 7080 RTP/AVP 8\r\n",
    );
    let (n, text) = negotiate(&offer, &MediaPrefs::default());
    assert_eq!(n.remote_addr.port(), 7078);
    assert_eq!(
        m_lines(&text),
        vec![
            "m=video 0 RTP/AVP 97",
            "m=audio 40000 RTP/AVP 0",
            "m=audio 0 RTP/AVP 8",
        ]
    );
    assert_eq!(parse_sdp(text.as_bytes()).unwrap().media_count(), 3);
}

#[test]
fn nothing_in_common_is_an_error_for_488() {
    let offer = offer_with("m=audio 7078 RTP/AVP 18 3\r\na=rtpmap:18 G729/8000\r\n");
    let sdp = parse_sdp(offer.as_bytes()).unwrap();
    assert_eq!(
        answer(&sdp, &MediaPrefs::default(), local()).unwrap_err(),
        NegotiationError::NoCommonCodec
    );
}

#[test]
fn srtp_only_offer_is_refused() {
    let offer =
        offer_with("m=audio 7078 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abcd\r\n");
    let sdp = parse_sdp(offer.as_bytes()).unwrap();
    assert_eq!(
        answer(&sdp, &MediaPrefs::default(), local()).unwrap_err(),
        NegotiationError::SrtpOnly
    );
}

#[test]
fn srtp_line_is_refused_when_plain_rtp_is_also_offered() {
    let offer = offer_with("m=audio 7078 RTP/SAVP 0\r\nm=audio 7080 RTP/AVP 0\r\n");
    let (n, text) = negotiate(&offer, &MediaPrefs::default());
    assert_eq!(n.remote_addr.port(), 7080);
    assert_eq!(
        m_lines(&text),
        vec!["m=audio 0 RTP/SAVP 0", "m=audio 40000 RTP/AVP 0"]
    );
}

#[test]
fn media_level_connection_overrides_session_level() {
    let offer = offer_with("m=audio 7078 RTP/AVP 0\r\nc=IN IP4 192.0.2.7\r\n");
    let (n, _) = negotiate(&offer, &MediaPrefs::default());
    assert_eq!(n.remote_addr, "192.0.2.7:7078".parse().unwrap());
}

#[test]
fn rtcp_mux_and_rtcp_attribute() {
    let mux = offer_with("m=audio 7078 RTP/AVP 0\r\na=rtcp-mux\r\n");
    let (n, text) = negotiate(&mux, &MediaPrefs::default());
    assert!(n.rtcp_mux);
    assert_eq!(n.remote_rtcp_addr, Some(n.remote_addr));
    assert!(text.contains("a=rtcp-mux\r\n"));

    let port = offer_with("m=audio 7078 RTP/AVP 0\r\na=rtcp:9999 IN IP4 192.0.2.9\r\n");
    let (n, text) = negotiate(&port, &MediaPrefs::default());
    assert!(!n.rtcp_mux);
    assert_eq!(n.remote_rtcp_addr, Some("192.0.2.9:9999".parse().unwrap()));
    assert!(!text.contains("rtcp-mux"));
}

#[test]
fn ptime_comes_from_the_offer_else_ours() {
    let offer = offer_with("m=audio 7078 RTP/AVP 8\r\na=ptime:30\r\n");
    let (n, text) = negotiate(&offer, &MediaPrefs::default());
    assert_eq!(n.ptime_ms, 30);
    assert!(text.contains("a=ptime:30\r\n"));
    let offer = offer_with("m=audio 7078 RTP/AVP 8\r\n");
    let prefs = MediaPrefs {
        ptime_ms: 40,
        ..MediaPrefs::default()
    };
    assert_eq!(negotiate(&offer, &prefs).0.ptime_ms, 40);
}

#[test]
fn comfort_noise_only_when_enabled() {
    let offer =
        offer_with("m=audio 7078 RTP/AVP 0 13 101\r\na=rtpmap:101 telephone-event/8000\r\n");
    let (n, text) = negotiate(&offer, &MediaPrefs::default());
    assert_eq!(n.cn_pt, None);
    assert_eq!(m_lines(&text), vec!["m=audio 40000 RTP/AVP 0 101"]);
    let prefs = MediaPrefs {
        comfort_noise: true,
        ..MediaPrefs::default()
    };
    let (n, text) = negotiate(&offer, &prefs);
    assert_eq!(n.cn_pt, Some(13));
    assert_eq!(m_lines(&text), vec!["m=audio 40000 RTP/AVP 0 101 13"]);
}

#[test]
fn directions_mirror_the_offer() {
    for (offered, ours) in [
        ("sendrecv", Direction::SendRecv),
        ("sendonly", Direction::RecvOnly),
        ("recvonly", Direction::SendOnly),
        ("inactive", Direction::Inactive),
    ] {
        let offer = offer_with(&format!("m=audio 7078 RTP/AVP 0\r\na={offered}\r\n"));
        let (n, text) = negotiate(&offer, &MediaPrefs::default());
        assert_eq!(n.direction, ours, "offer {offered}");
        assert!(text.contains(&format!("a={}\r\n", ours.as_str())));
    }
}

#[test]
fn session_level_direction_applies_to_the_stream() {
    let offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
        a=sendonly\r\nm=audio 7078 RTP/AVP 0\r\n";
    let (n, _) = negotiate(offer, &MediaPrefs::default());
    assert!(n.on_hold());
}

#[test]
fn hold_and_resume_in_one_session() {
    let prefs = MediaPrefs::default();
    let mut session = SdpSession::new(42);
    let talk = offer_with("m=audio 7078 RTP/AVP 0\r\na=sendrecv\r\n");
    let hold_old_style = offer_with("m=audio 7078 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n");
    let hold = offer_with("m=audio 7078 RTP/AVP 0\r\na=sendonly\r\n");

    let mut step = |offer: &str| {
        let sdp = parse_sdp(offer.as_bytes()).unwrap();
        let (n, text) = session.answer(&sdp, &prefs, BOT_IP, 40_000).unwrap();
        (n, parse_sdp(text.as_bytes()).unwrap().origin().1)
    };
    let (n, v1) = step(&talk);
    assert!(!n.on_hold());
    let (n, v2) = step(&hold);
    assert!(n.on_hold());
    assert_eq!(n.direction, Direction::RecvOnly);
    let (n, v3) = step(&hold_old_style);
    assert!(n.on_hold());
    assert!(n.remote_addr.ip().is_unspecified());
    let (n, v4) = step(&talk);
    assert!(!n.on_hold());
    assert_eq!(n.remote_addr, "127.0.0.1:7078".parse().unwrap());
    // RFC 3264 §8: each changed answer carries the next version; an unchanged one keeps it.
    assert_eq!((v1, v2, v3, v4), (1, 2, 2, 3));
}

#[test]
fn port_zero_offer_stream_stays_refused() {
    let offer = offer_with("m=audio 0 RTP/AVP 0\r\nm=audio 7078 RTP/AVP 8\r\n");
    let (n, text) = negotiate(&offer, &MediaPrefs::default());
    assert_eq!(n.codec.codec, AudioCodec::Pcma);
    assert_eq!(
        m_lines(&text),
        vec!["m=audio 0 RTP/AVP 0", "m=audio 40000 RTP/AVP 8"]
    );
}

#[test]
fn host_name_connection_address_is_an_error() {
    let offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 pbx.example.com\r\nt=0 0\r\n\
        m=audio 7078 RTP/AVP 0\r\n";
    let sdp = parse_sdp(offer.as_bytes()).unwrap();
    assert!(matches!(
        answer(&sdp, &MediaPrefs::default(), local()),
        Err(NegotiationError::BadConnectionAddress { .. })
    ));
}

#[test]
fn fuzz_seeds_parse_and_answer() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/sdp");
    let mut answered = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let sdp = parse_sdp(&bytes).unwrap();
        if let Ok((_, text)) = answer(&sdp, &MediaPrefs::default(), local()) {
            parse_sdp(text.as_bytes()).unwrap();
            answered += 1;
        }
    }
    assert!(answered >= 4);
}

#[test]
fn truncated_and_corrupted_seeds_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/sdp");
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for cut in 0..bytes.len() {
            let mut variants = vec![bytes[..cut].to_vec()];
            for junk in [b'=', b'/', b' ', b'\n', b'0', 0xff] {
                let mut v = bytes.clone();
                v[cut] = junk;
                variants.push(v);
            }
            for v in variants {
                if let Ok(sdp) = parse_sdp(&v) {
                    if let Ok((_, text)) = answer(&sdp, &MediaPrefs::default(), local()) {
                        parse_sdp(text.as_bytes()).unwrap();
                    }
                }
            }
        }
    }
}

#[test]
fn reading_the_answer_to_our_offer() {
    let prefs = prefer(&[AudioCodec::Pcma, AudioCodec::Pcmu]);
    let ours = offer(&prefs, local());
    assert!(ours.contains("m=audio 40000 RTP/AVP 8 0 101\r\n"), "{ours}");

    // The sipp stand-in answers PCMU plus the event type it was offered.
    let stand_in =
        offer_with("m=audio 6000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n");
    let n = negotiated_from_answer(&prefs, &parse_sdp(stand_in.as_bytes()).unwrap()).unwrap();
    assert_eq!((n.codec.codec, n.codec.pt), (AudioCodec::Pcmu, 0));
    assert_eq!(n.telephone_event_pt, Some(101));
    assert_eq!(n.remote_addr, "127.0.0.1:6000".parse().unwrap());

    let recvonly = offer_with("m=audio 6000 RTP/AVP 8\r\na=recvonly\r\n");
    let n = negotiated_from_answer(&prefs, &parse_sdp(recvonly.as_bytes()).unwrap()).unwrap();
    assert_eq!(n.direction, Direction::SendOnly);

    let refused = offer_with("m=audio 0 RTP/AVP 8\r\n");
    assert_eq!(
        negotiated_from_answer(&prefs, &parse_sdp(refused.as_bytes()).unwrap()).unwrap_err(),
        NegotiationError::NoAudio
    );
}

#[test]
fn every_offered_audio_type_is_reported_for_decoding() {
    let offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                 m=audio 16000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n";
    let sdp = signaling::sdp::parse_sdp(offer.as_bytes()).unwrap();
    let local = signaling::sdp::LocalMedia {
        ip: "127.0.0.1".parse().unwrap(),
        rtp_port: 30000,
        session_id: 1,
        session_version: 1,
    };
    let (n, _) =
        signaling::sdp::answer(&sdp, &signaling::sdp::MediaPrefs::default(), local).unwrap();
    use signaling::sdp::AudioCodec::{Pcma, Pcmu};
    assert_eq!(n.offered_audio, vec![(0, Pcmu), (8, Pcma)]);
}
