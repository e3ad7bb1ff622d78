//! RFC 4733 digits as real peers send them (peers README §(e).3): sipp pcaps repeat the end
//! packet with the same seq and pause the audio, baresip uses new seqs and keeps audio
//! flowing, events last 100–280 ms, and quickly typed digits come ~240 ms apart.
#![allow(clippy::unwrap_used)] // Tests unwrap freely (STYLE.md).

mod jitter_support;

use jitter_support::*;
use media::codec::CodecKind;
use media::dtmf::DigitSource;
use media::session::MediaEvent;
use media::Digit;

#[derive(Clone, Copy, PartialEq)]
enum Ends {
    SameSeq,
    NewSeq,
}

#[derive(Clone, Copy, PartialEq)]
enum Audio {
    Interleaved,
    Paused,
}

struct Call {
    digits: Vec<(char, u64)>,
    dur_ms: u64,
    ends: Ends,
    audio: Audio,
    total_ms: u64,
    event_ssrc: u32,
    event_pt: u8,
    /// Drop every event packet but the end packets.
    lose_start: bool,
}

impl Call {
    fn new(digits: &[(char, u64)], dur_ms: u64, ends: Ends, audio: Audio) -> Call {
        Call {
            digits: digits.to_vec(),
            dur_ms,
            ends,
            audio,
            total_ms: digits.iter().map(|d| d.1).max().unwrap_or(0) + dur_ms + 600,
            event_ssrc: 1,
            event_pt: 101,
            lose_start: false,
        }
    }

    fn schedule(&self) -> Schedule {
        let quiet = encode(CodecKind::Pcmu, &[0; 160]);
        let mut seq: u16 = 30_000;
        let mut ev_seq: u16 = 500;
        let mut out = Schedule::new();
        for slot in 0..self.total_ms / 20 {
            let t = slot * 20;
            let event = self
                .digits
                .iter()
                .find(|(_, start)| t >= *start && t < *start + self.dur_ms);
            let shared = self.event_ssrc == 1;
            if let Some((c, start)) = event {
                let code = Digit::from_char(*c).unwrap().event_code();
                let ts = (*start * 8) as u32;
                let elapsed = (t + 20 - start).min(self.dur_ms);
                let last = t + 20 >= start + self.dur_ms;
                let payload = |end: bool, d: u64| {
                    vec![
                        code,
                        if end { 0x8a } else { 0x0a },
                        ((d * 8) >> 8) as u8,
                        (d * 8) as u8,
                    ]
                };
                let mut next_seq = || {
                    if shared {
                        seq = seq.wrapping_add(1);
                        seq
                    } else {
                        ev_seq = ev_seq.wrapping_add(1);
                        ev_seq
                    }
                };
                let at = ms(t + 20);
                if last {
                    let s = next_seq();
                    for k in 0..3u64 {
                        let s = if self.ends == Ends::SameSeq || k == 0 {
                            s
                        } else {
                            next_seq()
                        };
                        out.push((
                            at + ms(k),
                            rtp(
                                self.event_pt,
                                false,
                                s,
                                ts,
                                self.event_ssrc,
                                &payload(true, self.dur_ms),
                            ),
                        ));
                    }
                } else if !self.lose_start {
                    let s = next_seq();
                    out.push((
                        at,
                        rtp(
                            self.event_pt,
                            t == *start,
                            s,
                            ts,
                            self.event_ssrc,
                            &payload(false, elapsed),
                        ),
                    ));
                }
                if self.audio == Audio::Paused {
                    continue;
                }
            }
            seq = seq.wrapping_add(1);
            out.push((
                ms(t + 20) + ms(1) / 2,
                rtp(0, false, seq, (t * 8) as u32, 1, &quiet),
            ));
        }
        out
    }

    fn run(&self) -> Driver {
        let mut cfg = config();
        cfg.telephone_events = vec![(self.event_pt, 8000)];
        let mut d = Driver::new(cfg);
        d.run(self.schedule(), ms(self.total_ms + 500));
        d
    }
}

#[test]
fn sipp_pcap_style_same_seq_ends_and_paused_audio() {
    let d = Call::new(
        &[('1', 6400), ('2', 6900), ('#', 7400)],
        160,
        Ends::SameSeq,
        Audio::Paused,
    )
    .run();
    assert_eq!(d.digit_string(), "12#");
    assert_eq!(d.session.stats().lost, 0, "event packets are not loss");
}

#[test]
fn baresip_style_new_seq_ends_and_interleaved_audio() {
    let d = Call::new(
        &[('1', 1000), ('2', 1500), ('#', 3000)],
        280,
        Ends::NewSeq,
        Audio::Interleaved,
    )
    .run();
    assert_eq!(d.digit_string(), "12#");
    assert_eq!(d.session.stats().duplicates, 0);
}

#[test]
fn short_softphone_events_on_pt_96() {
    let mut call = Call::new(
        &[('5', 1000), ('5', 1300), ('0', 1600)],
        100,
        Ends::SameSeq,
        Audio::Paused,
    );
    call.event_pt = 96;
    assert_eq!(call.run().digit_string(), "550");
}

#[test]
fn digits_typed_240_ms_apart_all_come_through() {
    let digits: Vec<(char, u64)> = "0123456789*#"
        .chars()
        .enumerate()
        .map(|(i, c)| (c, 1000 + 240 * i as u64))
        .collect();
    for ends in [Ends::SameSeq, Ends::NewSeq] {
        for audio in [Audio::Paused, Audio::Interleaved] {
            let d = Call::new(&digits, 160, ends, audio).run();
            assert_eq!(d.digit_string(), "0123456789*#");
        }
    }
}

#[test]
fn digit_reported_on_first_packet_with_its_timing() {
    let d = Call::new(&[('7', 2000)], 160, Ends::SameSeq, Audio::Paused).run();
    let digits = d.digits();
    assert_eq!(digits.len(), 1);
    let (_, start, end) = digits[0];
    // On the frame timeline: the tone started at media time 2000 ms, which plays out one
    // playout delay after the audio of that instant arrived.
    let frame_of_2000 = d
        .frames()
        .iter()
        .map(|f| f.0)
        .find(|at| *at >= start)
        .unwrap();
    assert!(frame_of_2000 - start < ms(20));
    assert!(
        start >= ms(2000) && start <= ms(2000 + 200),
        "start {start:?}"
    );
    assert_eq!(end, Some(start + ms(160)));
    // Reported when the first event packet arrived, before its end.
    let pos_digit = d
        .events
        .iter()
        .position(|e| matches!(e, MediaEvent::Digit { ended_at: None, .. }))
        .unwrap();
    let pos_end = d
        .events
        .iter()
        .position(|e| matches!(e, MediaEvent::DigitEnded { .. }))
        .unwrap();
    assert!(pos_digit < pos_end);
}

#[test]
fn lost_start_is_reported_on_the_end_packet() {
    let mut call = Call::new(
        &[('9', 1000), ('9', 1400)],
        160,
        Ends::SameSeq,
        Audio::Paused,
    );
    call.lose_start = true;
    let d = call.run();
    assert_eq!(d.digit_string(), "99");
    assert!(d.digits().iter().all(|x| x.2.is_some()));
}

#[test]
fn events_on_their_own_ssrc_are_still_digits() {
    let mut call = Call::new(
        &[('3', 1000), ('4', 1500)],
        160,
        Ends::SameSeq,
        Audio::Interleaved,
    );
    call.event_ssrc = 0xdead;
    let d = call.run();
    assert_eq!(d.digit_string(), "34");
    assert!(!d
        .events
        .iter()
        .any(|e| matches!(e, MediaEvent::SsrcChanged { .. })));
}

#[test]
fn sip_info_and_rfc4733_for_one_press_count_once() {
    let call = Call::new(&[('8', 1000)], 160, Ends::SameSeq, Audio::Paused);
    let mut cfg = config();
    cfg.telephone_events = vec![(101, 8000)];
    let mut d = Driver::new(cfg);
    d.run(
        call.schedule()
            .into_iter()
            .filter(|(t, _)| *t < ms(1030))
            .collect(),
        ms(1030),
    );
    d.session
        .handle_info_digit(ms(1030), Digit::D8, Some(ms(160)));
    d.run(
        call.schedule()
            .into_iter()
            .filter(|(t, _)| *t >= ms(1030))
            .collect(),
        ms(2500),
    );
    let sources: Vec<_> = d
        .events
        .iter()
        .filter_map(|e| match e {
            MediaEvent::Digit { source, .. } => Some(*source),
            _ => None,
        })
        .collect();
    assert_eq!(sources, vec![DigitSource::Rfc4733]);
    // A later INFO press of the same key is a new digit.
    d.session
        .handle_info_digit(ms(3000), Digit::D8, Some(ms(100)));
    assert!(matches!(
        d.session.poll_event(),
        Some(MediaEvent::Digit {
            source: DigitSource::SipInfo,
            ..
        })
    ));
}

#[test]
fn unconfigured_event_payload_type_is_not_a_digit() {
    let mut call = Call::new(&[('1', 1000)], 160, Ends::SameSeq, Audio::Paused);
    call.event_pt = 97;
    let mut d = Driver::new(config());
    d.run(call.schedule(), ms(2000));
    assert_eq!(d.digit_string(), "");
    assert!(d.session.stats().unknown_pt > 0);
}

/// An Opus call whose events come as telephone-event/48000 (RFC 4733 §2.1: the audio's clock),
/// audio interleaved, end packet repeated: the digit sits on the audio timeline and lasts what
/// its 48 kHz duration says.
#[test]
fn events_on_the_opus_48_khz_clock() {
    let mut cfg = config();
    cfg.audio_pts = vec![(96, CodecKind::Opus)];
    cfg.send_pt = Some(96);
    cfg.cn_pt = None;
    cfg.telephone_events = vec![(97, 48_000), (101, 8_000)];
    let opus = encode(CodecKind::Opus, &[0; 320]);
    let (press, dur) = (1_000u64, 160u64);
    let mut schedule = Schedule::new();
    let mut seq: u16 = 100;
    for slot in 0..100u64 {
        let t = slot * 20;
        let arrive = ms(t + 20) + ms(1) / 2;
        seq = seq.wrapping_add(1);
        schedule.push((arrive, rtp(96, false, seq, (t * 48) as u32, 1, &opus)));
        if t >= press && t < press + dur {
            let elapsed = (t + 20 - press) * 48;
            let end = t + 20 >= press + dur;
            for _ in 0..if end { 3 } else { 1 } {
                seq = seq.wrapping_add(1);
                let payload = [
                    5,
                    if end { 0x8a } else { 0x0a },
                    (elapsed >> 8) as u8,
                    elapsed as u8,
                ];
                let ts = (press * 48) as u32;
                schedule.push((arrive, rtp(97, t == press, seq, ts, 1, &payload)));
            }
        }
    }
    let mut d = Driver::new(cfg);
    d.run(schedule, ms(2_500));
    assert_eq!(d.digit_string(), "5");
    let (_, start, end) = d.digits()[0];
    let frame_of_press = d
        .frames()
        .iter()
        .map(|f| f.0)
        .find(|at| *at >= start)
        .unwrap();
    assert!(frame_of_press - start < ms(20), "on the frame timeline");
    assert!(start >= ms(press) && start <= ms(press + 200), "{start:?}");
    assert_eq!(end, Some(start + ms(dur)), "160 ms, counted at 48 kHz");
}
