//! Random schedules of speech, silence, digits and hang-up: the queue's completion reason and
//! recording length match a small reference model written from the contract, within a frame.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

mod support;

use std::time::Duration;

use media::vad::endpoint::confirmation_after;
use media::Digit;
use proptest::prelude::*;
use recorder::{CompletionReason as R, OperationStatus, RecordParams};
use support::*;

#[derive(Debug, Clone)]
struct Schedule {
    beep: bool,
    initial_s: u64,
    max_silence_s: u64,
    max_duration_s: u64,
    /// (start, end) in ms, sorted, apart.
    bursts: Vec<(u64, u64)>,
    /// (digit is a stop tone, pressed at ms, detected this many ms later).
    digit: Option<(bool, u64, u64)>,
    hang_up: Option<u64>,
}

/// What the contract says happens, in whole milliseconds: reason and the recording's length.
fn reference(s: &Schedule) -> (R, Option<u64>) {
    let start = if s.beep { 500 } else { 0 };
    let (initial, max_silence, cap) = (
        s.initial_s * 1000,
        s.max_silence_s * 1000,
        s.max_duration_s * 1000,
    );
    // Speech the recording hears: bursts still going at the start count from the start.
    let heard: Vec<(u64, u64)> = s
        .bursts
        .iter()
        .filter(|(_, e)| *e > start)
        .map(|(b, e)| ((*b).max(start), *e))
        .collect();
    // (instant, priority, reason, length); lower priority wins a tie: inputs before timers,
    // silence timers before the cap.
    let mut ends: Vec<(u64, u8, R, Option<u64>)> = Vec::new();
    ends.push((start + cap, 2, R::MaxRecordDurationReached, Some(cap)));
    match heard.first() {
        Some((b, _)) if *b <= start + initial => {
            // The silence timer waits for the endpointer's confirmation run as well.
            let confirmation = confirmation_after(Duration::from_millis(max_silence)).as_millis();
            // At most 100 ms: always fits.
            let silence = max_silence + u64::try_from(confirmation).unwrap();
            for (i, (_, e)) in heard.iter().enumerate() {
                let resumed = heard.get(i + 1).is_some_and(|(nb, _)| *nb <= e + silence);
                if !resumed {
                    let keep = e + 500 - start;
                    ends.push((e + silence, 1, R::MaxSilenceTimeout, Some(keep)));
                    break;
                }
            }
        }
        _ => ends.push((start + initial, 1, R::InitialSilenceTimeout, Some(initial))),
    }
    if let Some((true, at, delay)) = s.digit {
        if at >= start {
            ends.push((at + delay, 0, R::StopToneDetected, Some(at - start)));
        }
    }
    if let Some(h) = s.hang_up {
        let keep = (h > start).then(|| h - start);
        ends.push((h, 0, R::OperationCanceled, keep));
    }
    let (_, _, reason, len) = ends.into_iter().min_by_key(|(t, p, ..)| (*t, *p)).unwrap();
    (reason, len)
}

fn schedule() -> impl Strategy<Value = Schedule> {
    let frames = |lo: u64, hi: u64| (lo..hi).prop_map(|n| n * 20);
    (
        any::<bool>(),
        1u64..6,
        1u64..4,
        1u64..10,
        prop::collection::vec((frames(1, 150), frames(1, 150)), 0..6),
        prop::option::of((any::<bool>(), frames(0, 500), frames(0, 4))),
        prop::option::of(frames(1, 600)),
    )
        .prop_map(|(beep, i, m, d, gaps, digit, hang_up)| {
            let mut t = 0;
            let bursts = gaps
                .into_iter()
                .map(|(gap, len)| {
                    let b = t + gap;
                    t = b + len;
                    (b, t)
                })
                .collect();
            Schedule {
                beep,
                initial_s: i,
                max_silence_s: m,
                max_duration_s: d,
                bursts,
                digit,
                hang_up,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn queue_agrees_with_the_reference(s in schedule()) {
        // Two inputs at one instant have no defined order; the model does not guess.
        let detected = s.digit.map(|(_, at, d)| at + d);
        prop_assume!(s.hang_up.is_none() || s.hang_up != detected);
        prop_assume!(!(s.beep && s.hang_up == Some(500)));

        let mut c = Call::new(8_000);
        for (b, e) in &s.bursts {
            c.speech(ms(*b), ms(*e));
        }
        if let Some((stop, at, delay)) = s.digit {
            let d = if stop { Digit::Pound } else { Digit::D7 };
            c.digit(d, ms(at), ms(delay));
        }
        if let Some(h) = s.hang_up {
            c.hang_up_at(ms(h));
        }
        c.record(op(1), RecordParams {
            play_beep: s.beep,
            initial_silence_timeout: secs(s.initial_s),
            max_silence_timeout: secs(s.max_silence_s),
            max_record_duration: secs(s.max_duration_s),
            stop_tones: vec![Digit::Pound],
            ..RecordParams::default()
        });
        c.run_to_idle();

        let (reason, len) = reference(&s);
        let o = c.outcome(op(1));
        prop_assert_eq!(o.completion_reason, reason, "{:?}", o.timeline);
        prop_assert_eq!(c.outcomes.len(), 1);
        let failed = reason == R::InitialSilenceTimeout;
        prop_assert_eq!(o.status == OperationStatus::Failed, failed);
        match len {
            Some(expected) => {
                let got = c.file_len(op(1));
                prop_assert!(
                    got.abs_diff(ms(expected)) <= FRAME,
                    "length {:?}, model {} ms", got, expected
                );
                let summary = o.recording.unwrap();
                prop_assert_eq!(summary.samples, c.file(op(1)).len() as u64);
                prop_assert!(summary.duration <= Duration::from_secs(s.max_duration_s));
            }
            None => prop_assert!(o.recording.is_none()),
        }
    }
}
