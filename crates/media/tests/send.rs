//! The send path as the peer sees it: packet timing, sequence and timestamp continuity, marker
//! bits, and the playout events the API reports, all in virtual time.
#![allow(clippy::unwrap_used)] // Tests unwrap freely (STYLE.md).

use std::sync::Arc;
use std::time::Duration;

use media::codec::CodecKind;
use media::rtp;
use media::send::{PlaybackId, RtpSender, SendEvent, SenderConfig, CN_REFRESH};
use media::wav::Pcm;
use media::Digit;

const SSRC: u32 = 0x1122_3344;
const SEQ0: u16 = 65_530;
const TS0: u32 = u32::MAX - 500;

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

#[derive(Debug, Clone, PartialEq)]
struct Sent {
    at: Duration,
    marker: bool,
    pt: u8,
    seq: u16,
    ts: u32,
    payload: Vec<u8>,
}

fn sender(cfg: SenderConfig) -> RtpSender {
    RtpSender::new(cfg).unwrap()
}

fn pcmu() -> SenderConfig {
    SenderConfig::new(0, CodecKind::Pcmu, SSRC, SEQ0, TS0)
}

fn tone(rate: u32, len_ms: u32) -> Arc<Pcm> {
    let n = (rate * len_ms / 1_000) as usize;
    Arc::new(Pcm {
        rate,
        samples: (0..n)
            .map(|i| if i % 2 == 0 { 8_000 } else { -8_000 })
            .collect(),
    })
}

/// Ticks the sender at each deadline it asks for until `until`, collecting what it sends.
fn run(s: &mut RtpSender, until: Duration, out: &mut Vec<Sent>, events: &mut Vec<SendEvent>) {
    while let Some(at) = s.poll_timeout() {
        if at > until {
            break;
        }
        s.handle_timeout(at);
        drain(s, at, out, events);
    }
}

fn drain(s: &mut RtpSender, at: Duration, out: &mut Vec<Sent>, events: &mut Vec<SendEvent>) {
    while let Some(p) = s.poll_transmit() {
        let r = rtp::parse(&p).unwrap();
        assert_eq!(r.ssrc.0, SSRC);
        out.push(Sent {
            at,
            marker: r.marker,
            pt: r.payload_type.0,
            seq: r.seq.0,
            ts: r.timestamp,
            payload: r.payload.to_vec(),
        });
    }
    events.extend(std::iter::from_fn(|| s.poll_event()));
}

fn assert_continuous(sent: &[Sent], ticks: u32) {
    for w in sent.windows(2) {
        assert_eq!(w[1].seq, w[0].seq.wrapping_add(1), "{w:?}");
        assert_eq!(w[1].ts, w[0].ts.wrapping_add(ticks), "{w:?}");
    }
}

#[test]
fn silence_prompt_beep_silence_is_one_continuous_stream() {
    let mut s = sender(pcmu());
    let (mut sent, mut ev) = (Vec::new(), Vec::new());
    run(&mut s, ms(90), &mut sent, &mut ev);
    s.play(ms(95), PlaybackId(1), tone(8_000, 300), false)
        .unwrap();
    s.play(ms(95), PlaybackId(2), tone(8_000, 400), false)
        .unwrap();
    run(&mut s, ms(1_000), &mut sent, &mut ev);

    assert_eq!(sent.len(), 51);
    assert_eq!(sent[0].seq, SEQ0);
    assert_eq!(sent[0].ts, TS0);
    assert_continuous(&sent, 160);
    assert!(sent.iter().all(|p| p.pt == 0 && p.payload.len() == 160));
    let marked: Vec<Duration> = sent.iter().filter(|p| p.marker).map(|p| p.at).collect();
    // Stream start and the prompt after silence, sent when it was queued rather than at the
    // 100 ms slot; the beep follows the prompt without a gap.
    assert_eq!(marked, vec![ms(0), ms(95)]);
    assert_eq!(
        ev,
        vec![
            SendEvent::PlayoutStarted {
                id: PlaybackId(1),
                at: ms(95)
            },
            SendEvent::PlayoutFinished {
                id: PlaybackId(1),
                at: ms(395)
            },
            SendEvent::PlayoutStarted {
                id: PlaybackId(2),
                at: ms(395)
            },
            SendEvent::PlayoutFinished {
                id: PlaybackId(2),
                at: ms(795)
            },
        ]
    );
    // Silence after the beep is encoded zeros (µ-law 0xFF).
    assert!(sent.last().unwrap().payload.iter().all(|&b| b == 0xFF));
}

#[test]
fn finished_is_the_item_length_rounded_up_to_ptime() {
    let mut s = sender(pcmu());
    let (mut sent, mut ev) = (Vec::new(), Vec::new());
    s.play(ms(0), PlaybackId(7), tone(8_000, 250), false)
        .unwrap();
    run(&mut s, ms(400), &mut sent, &mut ev);
    assert_eq!(
        ev,
        vec![
            SendEvent::PlayoutStarted {
                id: PlaybackId(7),
                at: ms(0)
            },
            SendEvent::PlayoutFinished {
                id: PlaybackId(7),
                at: ms(260)
            },
        ]
    );
    // The last prompt packet is half tone, half silence.
    let last = &sent[12];
    assert!(last.payload[..80].iter().all(|&b| b != 0xFF));
    assert!(last.payload[80..].iter().all(|&b| b == 0xFF));
}

#[test]
fn looped_item_plays_until_stopped_and_stop_clears_the_queue() {
    let mut s = sender(pcmu());
    let (mut sent, mut ev) = (Vec::new(), Vec::new());
    s.play(ms(0), PlaybackId(1), tone(8_000, 50), true).unwrap();
    s.play(ms(0), PlaybackId(2), tone(8_000, 50), false)
        .unwrap();
    run(&mut s, ms(500), &mut sent, &mut ev);
    assert_eq!(
        ev,
        vec![SendEvent::PlayoutStarted {
            id: PlaybackId(1),
            at: ms(0)
        }]
    );
    assert!(sent.iter().all(|p| p.payload.iter().all(|&b| b != 0xFF)));
    s.stop(ms(505));
    drain(&mut s, ms(505), &mut sent, &mut ev);
    assert!(!s.is_playing());
    run(&mut s, ms(600), &mut sent, &mut ev);
    assert_eq!(
        ev[1..],
        [
            SendEvent::PlayoutStopped {
                id: PlaybackId(1),
                at: ms(505)
            },
            SendEvent::PlayoutStopped {
                id: PlaybackId(2),
                at: ms(505)
            },
        ]
    );
    assert!(sent.last().unwrap().payload.iter().all(|&b| b == 0xFF));
    assert_continuous(&sent, 160);
}

#[test]
fn comfort_noise_cuts_the_silence_packet_rate() {
    let mut s = sender(SenderConfig {
        cn_pt: Some(13),
        ..pcmu()
    });
    let (mut sent, mut ev) = (Vec::new(), Vec::new());
    run(&mut s, ms(990), &mut sent, &mut ev);
    // One CN at the start of the silence, then one per refresh interval.
    let per_second = (1_000 / CN_REFRESH.as_millis()) as usize;
    assert_eq!(sent.len(), per_second);
    assert!(sent
        .iter()
        .all(|p| p.pt == 13 && p.payload == [127] && !p.marker));
    for w in sent.windows(2) {
        assert_eq!(w[1].at - w[0].at, CN_REFRESH);
        assert_eq!(w[1].seq, w[0].seq.wrapping_add(1));
        assert_eq!(
            w[1].ts.wrapping_sub(w[0].ts),
            8 * CN_REFRESH.as_millis() as u32
        );
    }
    s.play(ms(1_000), PlaybackId(1), tone(8_000, 100), false)
        .unwrap();
    let before = sent.len();
    run(&mut s, ms(1_300), &mut sent, &mut ev);
    let audio: Vec<&Sent> = sent[before..].iter().filter(|p| p.pt == 0).collect();
    assert_eq!(audio.len(), 5);
    // The first audio packet is marked and its timestamp counts the CN gap in real time.
    assert!(audio[0].marker && audio[1..].iter().all(|p| !p.marker));
    assert_eq!(audio[0].at, ms(1_000));
    assert_eq!(audio[0].ts, TS0.wrapping_add(8 * 1_000));
    // Back to silence: one CN packet right after the prompt.
    let cn_after: Vec<&Sent> = sent[before..].iter().filter(|p| p.pt == 13).collect();
    assert_eq!(cn_after[0].at, ms(1_100));
    assert_eq!(cn_after[0].seq, audio[4].seq.wrapping_add(1));
}

#[test]
fn a_prompt_after_comfort_noise_starts_when_queued() {
    let mut s = sender(SenderConfig {
        cn_pt: Some(13),
        ..pcmu()
    });
    let (mut sent, mut ev) = (Vec::new(), Vec::new());
    run(&mut s, ms(500), &mut sent, &mut ev);
    s.play(ms(507), PlaybackId(1), tone(8_000, 60), false)
        .unwrap();
    assert_eq!(
        s.poll_timeout(),
        Some(ms(507)),
        "no wait for the 520 ms slot"
    );
    let before = sent.len();
    run(&mut s, ms(530), &mut sent, &mut ev);
    // While something plays, a newly queued item waits for its slot as before.
    s.play(ms(535), PlaybackId(2), tone(8_000, 20), false)
        .unwrap();
    assert_eq!(s.poll_timeout(), Some(ms(547)));
    run(&mut s, ms(700), &mut sent, &mut ev);
    let audio: Vec<&Sent> = sent[before..].iter().filter(|p| p.pt == 0).collect();
    let at: Vec<Duration> = audio.iter().map(|p| p.at).collect();
    assert_eq!(at, vec![ms(507), ms(527), ms(547), ms(567)]);
    assert!(audio[0].marker && audio[1..].iter().all(|p| !p.marker));
    // The timestamp is the 520 ms slot's: the stream's timeline never runs backwards.
    assert_eq!(audio[0].ts, TS0.wrapping_add(8 * 520));
    assert_continuous(&sent[before..before + 4], 160);
}

#[test]
fn a_late_tick_sends_a_bounded_burst_then_resyncs() {
    let mut s = sender(pcmu());
    let (mut sent, mut ev) = (Vec::new(), Vec::new());
    s.handle_timeout(ms(0));
    drain(&mut s, ms(0), &mut sent, &mut ev);
    // The runtime stalls for 200 ms: ten slots are due.
    s.handle_timeout(ms(200));
    drain(&mut s, ms(200), &mut sent, &mut ev);
    assert_eq!(sent.len(), 1 + media::send::MAX_BURST as usize);
    assert_eq!(s.poll_timeout(), Some(ms(220)));
    // Sequence numbers stay contiguous; timestamps jump over the skipped slots.
    assert_continuous(&sent[1..], 160);
    assert_eq!(sent[1].seq, sent[0].seq.wrapping_add(1));
    assert_eq!(sent[1].ts, TS0.wrapping_add(8 * 160));
    assert!(sent[1].marker);
    run(&mut s, ms(260), &mut sent, &mut ev);
    assert_eq!(sent.last().unwrap().ts, TS0.wrapping_add(13 * 160));
}

#[test]
fn ptime_from_sdp_sets_packet_size_and_pace() {
    for (ptime, bytes) in [(10u32, 80usize), (30, 240), (60, 480)] {
        let mut s = sender(SenderConfig {
            ptime_ms: ptime,
            ..pcmu()
        });
        let (mut sent, mut ev) = (Vec::new(), Vec::new());
        s.play(ms(0), PlaybackId(1), tone(8_000, 120), false)
            .unwrap();
        run(&mut s, ms(119), &mut sent, &mut ev);
        assert_eq!(sent.len(), (120 / ptime) as usize, "ptime {ptime}");
        assert!(sent.iter().all(|p| p.payload.len() == bytes));
        assert_continuous(&sent, ptime * 8);
        for w in sent.windows(2) {
            assert_eq!(w[1].at - w[0].at, ms(u64::from(ptime)));
        }
    }
}

#[test]
fn wideband_codecs_count_their_own_rtp_clocks() {
    for (kind, ticks) in [(CodecKind::G722, 160u32), (CodecKind::Opus, 960)] {
        let mut s = sender(SenderConfig::new(9, kind, SSRC, SEQ0, TS0));
        let (mut sent, mut ev) = (Vec::new(), Vec::new());
        s.play(ms(0), PlaybackId(1), tone(16_000, 200), false)
            .unwrap();
        run(&mut s, ms(300), &mut sent, &mut ev);
        assert_continuous(&sent, ticks);
        if kind == CodecKind::G722 {
            assert!(sent.iter().all(|p| p.payload.len() == 160));
        }
        assert!(ev.contains(&SendEvent::PlayoutFinished {
            id: PlaybackId(1),
            at: ms(200)
        }));
        assert!(s
            .play(ms(300), PlaybackId(2), tone(8_000, 20), false)
            .is_err());
    }
}

#[test]
fn a_digit_pauses_the_prompt_and_resumes_it() {
    let mut s = sender(SenderConfig {
        telephone_event_pt: Some(101),
        ..pcmu()
    });
    let (mut sent, mut ev) = (Vec::new(), Vec::new());
    s.play(ms(0), PlaybackId(1), tone(8_000, 200), false)
        .unwrap();
    run(&mut s, ms(40), &mut sent, &mut ev);
    s.send_digit(ms(50), Digit::Pound, 100).unwrap();
    run(&mut s, ms(1_000), &mut sent, &mut ev);

    let events: Vec<&Sent> = sent.iter().filter(|p| p.pt == 101).collect();
    // 100 ms at 20 ms: 4 updates + the end packet sent 3 times.
    assert_eq!(events.len(), 7);
    assert!(events[0].marker && events[1..].iter().all(|p| !p.marker));
    assert!(events
        .iter()
        .all(|p| p.ts == events[0].ts && p.payload[0] == 11));
    assert!(events[4..].iter().all(|p| p.payload[1] & 0x80 != 0));
    assert_eq!(
        u16::from_be_bytes([events[6].payload[2], events[6].payload[3]]),
        800
    );
    // Sequence numbers run on through the event; the audio after it is marked.
    for w in sent.windows(2) {
        assert_eq!(w[1].seq, w[0].seq.wrapping_add(1));
    }
    let resumed = sent.iter().position(|p| p.at == ms(200)).unwrap();
    assert_eq!(sent[resumed].pt, 0);
    assert!(sent[resumed].marker);
    // The prompt lost no audio: it ends 140 ms (7 slots) late.
    assert!(ev.contains(&SendEvent::PlayoutFinished {
        id: PlaybackId(1),
        at: ms(340)
    }));
}

#[test]
fn digits_need_a_negotiated_payload_type() {
    let mut s = sender(pcmu());
    assert!(s.send_digit(ms(0), Digit::D1, 100).is_err());
}
