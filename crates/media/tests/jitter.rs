//! Jitter buffer scenarios in virtual time: what a listener of the decoded stream would notice
//! (every packet played once, in order, on a steady 20 ms clock) under loss, reordering,
//! duplicates, sequence wrap, SSRC change, timestamp jump and DTX.
#![allow(clippy::unwrap_used)] // Tests unwrap freely (STYLE.md).

mod jitter_support;

use jitter_support::*;
use media::codec::CodecKind;
use media::session::MediaEvent;
use std::time::Duration;

/// Packet `i` carries a constant level, so the frames say which packet they came from.
fn level(i: usize) -> i16 {
    ((i % 30) as i16) * 1000 - 14500
}

fn packet(i: usize, seq: u16, ts: u32, ssrc: u32, pt: u8) -> Vec<u8> {
    let kind = if pt == 8 {
        CodecKind::Pcma
    } else {
        CodecKind::Pcmu
    };
    rtp(pt, false, seq, ts, ssrc, &encode(kind, &[level(i); 160]))
}

/// Which packet a frame came from (`None` for silence).
fn source(frame: &[i16]) -> Option<usize> {
    let mean = frame.iter().map(|&s| i64::from(s)).sum::<i64>() / frame.len() as i64;
    if mean.abs() < 200 {
        return None;
    }
    (0..30).min_by_key(|&i| (i64::from(level(i)) - mean).abs())
}

fn steady(n: usize, seq0: u16, ts0: u32, ssrc: u32) -> Schedule {
    (0..n)
        .map(|i| {
            let seq = seq0.wrapping_add(i as u16);
            let ts = ts0.wrapping_add(160 * i as u32);
            (ms(20 * i as u64), packet(i, seq, ts, ssrc, 0))
        })
        .collect()
}

fn played(d: &Driver) -> Vec<Option<usize>> {
    d.frames().iter().map(|(_, f, _)| source(f)).collect()
}

fn assert_steady_clock(d: &Driver) {
    let frames = d.frames();
    for w in frames.windows(2) {
        assert_eq!(w[1].0 - w[0].0, ms(20), "frame clock must tick every 20 ms");
    }
}

fn audio_order(d: &Driver) -> Vec<usize> {
    played(d).into_iter().flatten().collect()
}

#[test]
fn steady_stream_plays_every_packet_once_in_order() {
    let mut d = Driver::new(config());
    d.run(steady(100, 1000, 5000, 1), ms(2500));
    let order = audio_order(&d);
    assert_eq!(order, (0..100).map(|i| i % 30).collect::<Vec<_>>());
    assert_steady_clock(&d);
    let first = d.frames()[0].0;
    assert!(
        first >= ms(20) && first <= ms(200),
        "first frame at {first:?}"
    );
    let s = d.session.stats();
    assert_eq!(
        (s.packets_received, s.lost, s.duplicates, s.late),
        (100, 0, 0, 0)
    );
}

#[test]
fn no_rtp_means_no_frames_and_no_deadline() {
    let mut d = Driver::new(config());
    d.run(Vec::new(), ms(5000));
    assert!(d.events.is_empty());
    assert_eq!(d.session.poll_timeout(), None);
    assert_eq!(d.session.last_rtp_at(), None);
}

#[test]
fn reordered_and_duplicated_packets_play_once_in_order() {
    let mut s = steady(100, 40, 0, 1);
    // Swap every other pair (the second arrives 5 ms before the first) and repeat every 7th.
    for i in (10..90).step_by(4) {
        s[i].0 += ms(25);
    }
    let dups: Vec<_> = s
        .iter()
        .step_by(7)
        .map(|(t, p)| (*t + ms(3), p.clone()))
        .collect();
    s.extend(dups);
    let mut d = Driver::new(config());
    d.run(s, ms(2500));
    assert_eq!(
        audio_order(&d),
        (0..100).map(|i| i % 30).collect::<Vec<_>>()
    );
    let st = d.session.stats();
    assert_eq!(st.duplicates, 15);
    assert_eq!(st.lost, 0);
    assert_steady_clock(&d);
}

#[test]
fn loss_is_concealed_and_the_timeline_keeps_its_length() {
    let s: Schedule = steady(200, 7, 0, 1)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % 10 != 5)
        .map(|(_, p)| p)
        .collect();
    let mut d = Driver::new(config());
    d.run(s, ms(4200));
    let p = played(&d);
    let first = p.iter().position(|x| x.is_some()).unwrap();
    // 200 packets' worth of timeline, the 20 lost ones as gaps in place.
    for i in 0..200 {
        let expect = (i % 10 != 5).then_some(i % 30);
        assert_eq!(p[first + i], expect, "frame {i}");
    }
    assert_eq!(d.session.stats().lost, 20);
    // The 20 losses, plus 60 ms after the stream's end before the gap counts as DTX.
    assert_eq!(
        d.session.stats().concealed_frames,
        23,
        "{:?}",
        d.session.stats()
    );
    assert_steady_clock(&d);
}

#[test]
fn sequence_wrap_is_seamless() {
    let mut d = Driver::new(config());
    d.run(steady(120, 65500, u32::MAX - 3000, 1), ms(3000));
    assert_eq!(
        audio_order(&d),
        (0..120).map(|i| i % 30).collect::<Vec<_>>()
    );
    assert_eq!(d.session.stats().lost, 0);
}

#[test]
fn ssrc_change_resyncs_without_a_gap() {
    let mut s = steady(50, 100, 0, 1);
    let second: Schedule = (0..50)
        .map(|i| {
            (
                ms(1000 + 20 * i as u64),
                packet(i + 5, 9000 + i as u16, 777_777 + 160 * i as u32, 2, 0),
            )
        })
        .collect();
    s.extend(second);
    let mut d = Driver::new(config());
    d.run(s, ms(2500));
    assert!(d
        .events
        .iter()
        .any(|e| matches!(e, MediaEvent::SsrcChanged { .. })));
    let p = played(&d);
    let first = p.iter().position(|x| x.is_some()).unwrap();
    let audio: Vec<_> = p[first..].iter().take(100).cloned().collect();
    let silent = audio.iter().filter(|x| x.is_none()).count();
    assert!(
        silent <= 3,
        "at most a few silent frames across the switch, got {silent}"
    );
    let order = audio_order(&d);
    assert_eq!(order.len(), 100);
    assert_eq!(
        &order[50..],
        &(5..55).map(|i| i % 30).collect::<Vec<_>>()[..]
    );
    assert_steady_clock(&d);
}

#[test]
fn timestamp_jump_resyncs_promptly() {
    let mut s = steady(50, 0, 0, 1);
    s.extend((50..100).map(|i| {
        (
            ms(20 * i as u64),
            packet(i, i as u16, 3_000_000 + 160 * i as u32, 1, 0),
        )
    }));
    let mut d = Driver::new(config());
    d.run(s, ms(2500));
    let order = audio_order(&d);
    assert!(order.len() >= 97, "only {} packets played", order.len());
    assert_eq!(
        &order[order.len() - 40..],
        &(60..100).map(|i| i % 30).collect::<Vec<_>>()[..]
    );
    assert_steady_clock(&d);
}

#[test]
fn dtx_gap_becomes_silence_frames_on_a_steady_clock() {
    let mut s = steady(50, 0, 0, 1);
    // Two seconds of nothing, then the talkspurt resumes (marker bit, timestamps moved on).
    s.extend((0..50).map(|i| {
        let mut p = packet(i, 50 + i as u16, 160 * (150 + i as u32), 1, 0);
        if i == 0 {
            p[1] |= 0x80;
        }
        (ms(3000 + 20 * i as u64), p)
    }));
    let mut d = Driver::new(config());
    d.run(s, ms(4500));
    assert_steady_clock(&d);
    let p = played(&d);
    assert_eq!(p.iter().flatten().count(), 100);
    let frames = d.frames();
    let gap: Vec<_> = frames
        .iter()
        .filter(|(at, _, _)| *at > ms(1500) && *at < ms(2900))
        .collect();
    assert!(gap.len() >= 69, "the clock keeps running through DTX");
    assert!(gap
        .iter()
        .all(|(_, f, speech)| f.iter().all(|&s| s == 0) && !speech));
    assert!(d.session.stats().silence_frames >= 90);
    assert_eq!(d.session.last_rtp_at(), Some(ms(3980)));
}

#[test]
fn comfort_noise_counts_as_silence() {
    let mut s = steady(20, 0, 0, 1);
    s.push((ms(400), rtp(13, false, 20, 3200, 1, &[40])));
    let mut d = Driver::new(config());
    d.run(s, ms(1500));
    let st = d.session.stats();
    assert_eq!(
        st.concealed_frames, 0,
        "after CN the gap is silence, not loss"
    );
    assert!(st.silence_frames >= 40);
}

#[test]
fn only_negotiated_payload_types_are_decoded() {
    let pcma: Schedule = (0..20)
        .map(|i| (ms(20 * i as u64), packet(i, i as u16, 160 * i as u32, 1, 8)))
        .collect();
    let mut d = Driver::new(config());
    d.run(pcma.clone(), ms(1000));
    assert!(audio_order(&d).is_empty());
    assert_eq!(d.session.stats().unknown_pt, 20);

    let mut cfg = config();
    cfg.audio_pts.push((8, CodecKind::Pcma));
    let mut d = Driver::new(cfg);
    d.run(pcma, ms(1000));
    assert_eq!(audio_order(&d), (0..20).collect::<Vec<_>>());
}

#[test]
fn network_jitter_grows_the_playout_delay_and_stops_late_loss() {
    let mut noise = Noise::new(3);
    let s: Schedule = steady(500, 0, 0, 1)
        .into_iter()
        .map(|(t, p)| {
            (
                t + Duration::from_micros((40_000.0 * (noise.next() + 1.0) / 2.0) as u64),
                p,
            )
        })
        .collect();
    let mut d = Driver::new(config());
    d.run(s, ms(11_000));
    let st = d.session.stats();
    assert!(st.playout_delay >= ms(40), "delay {:?}", st.playout_delay);
    assert!(st.playout_delay <= ms(200));
    let late_in_second_half = {
        let order = audio_order(&d);
        500 - order.len()
    };
    assert!(
        late_in_second_half <= 25,
        "{late_in_second_half} packets lost to lateness"
    );
    assert_steady_clock(&d);
}

#[test]
fn thirty_ms_packets_become_twenty_ms_frames() {
    // sipp's stock g711a.pcap sends 30 ms packets whatever was negotiated.
    let mut cfg = config();
    cfg.audio_pts.push((8, CodecKind::Pcma));
    let s: Schedule = (0..60u32)
        .map(|i| {
            let payload = encode(CodecKind::Pcma, &[level(i as usize); 240]);
            (
                ms(30 * u64::from(i)),
                rtp(8, false, i as u16, 240 * i, 3, &payload),
            )
        })
        .collect();
    let mut d = Driver::new(cfg);
    d.run(s, ms(2000));
    assert_steady_clock(&d);
    let frames = d.frames();
    assert!(frames.iter().all(|f| f.1.len() == 160));
    // 1.8 s of audio in 90 frames, each packet's level spread over 1.5 frames in order.
    let with_audio = frames
        .iter()
        .filter(|f| f.1.iter().any(|&s| s != 0))
        .count();
    assert_eq!(with_audio, 90);
    let mut dedup = audio_order(&d);
    dedup.dedup();
    assert_eq!(dedup, (0..60).map(|i| i % 30).collect::<Vec<_>>());
    assert_eq!(
        d.session.stats().concealed_frames,
        3,
        "only the stream's end"
    );
}

#[test]
fn g722_stream_plays_at_16_khz_on_the_8_khz_rtp_clock() {
    let mut cfg = config();
    cfg.audio_pts = vec![(9, CodecKind::G722)];
    let pcm = to_pcm(&tones(&[(440.0, 8000.0)], 16_000, 0, 16_000));
    let s: Schedule = pcm
        .chunks(320)
        .enumerate()
        .map(|(i, c)| {
            let payload = encode(CodecKind::G722, c);
            (
                ms(20 * i as u64),
                rtp(9, false, i as u16, 160 * i as u32, 4, &payload),
            )
        })
        .collect();
    let mut d = Driver::new(cfg);
    d.run(s, ms(1300));
    assert_steady_clock(&d);
    let rates: Vec<u32> = d
        .events
        .iter()
        .filter_map(|e| match e {
            MediaEvent::Frame { rate, samples, .. } => {
                assert_eq!(samples.len(), 320);
                Some(*rate)
            }
            _ => None,
        })
        .collect();
    assert!(rates.len() >= 60 && rates.iter().all(|r| *r == 16_000));
    assert_eq!(
        d.session.stats().concealed_frames,
        3,
        "only the stream's end"
    );
}
