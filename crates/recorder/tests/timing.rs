//! Boundaries of the request and the instants every timer is measured from.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

mod support;

use recorder::params::{validate, Limits, RawRecordParams};
use recorder::{CompletionReason as R, RecordParams};
use support::*;

#[test]
fn initial_silence_runs_from_the_end_of_prompt_and_beep() {
    let mut c = Call::new(8_000);
    c.prompt_len = ms(2_300);
    c.record(
        op(1),
        RecordParams {
            prompt: Some(prompt("https://p/hi.wav")),
            initial_silence_timeout: secs(2),
            ..RecordParams::default()
        },
    );
    c.run_to_idle();
    let o = c.outcome(op(1));
    let t = &o.timeline;
    assert_eq!(t.prompt_started, Some(secs(0)));
    assert_eq!(t.prompt_ended, Some(ms(2_300)));
    assert_eq!(t.beep_ended, Some(ms(2_800)));
    assert_eq!(t.recording_started, Some(ms(2_800)));
    assert_eq!(o.completion_reason, R::InitialSilenceTimeout);
    assert_eq!(t.ended, ms(4_800));
}

#[test]
fn max_duration_runs_from_the_recording_start() {
    let mut c = Call::new(8_000);
    c.speech(ms(100), secs(60));
    c.record(
        op(1),
        RecordParams {
            prompt: Some(prompt("https://p/hi.wav")),
            max_record_duration: secs(1),
            ..RecordParams::default()
        },
    );
    c.run_to_idle();
    let o = c.outcome(op(1));
    assert_eq!(o.completion_reason, R::MaxRecordDurationReached);
    within_frame(o.timeline.ended, ms(3_500));
    assert_eq!(c.file(op(1)).len(), 8_000);
    assert_eq!(o.recording.unwrap().duration, secs(1));
    // Speech already under way when recording starts counts from the start.
    assert_eq!(o.timeline.speech_started, Some(ms(2_500)));
}

#[test]
fn three_hundred_seconds_is_recorded_in_full() {
    let mut c = Call::new(8_000);
    c.speech(secs(1), secs(400));
    c.record(
        op(1),
        RecordParams {
            play_beep: false,
            max_record_duration: secs(300),
            ..RecordParams::default()
        },
    );
    c.run_to_idle();
    assert_eq!(
        c.outcome(op(1)).completion_reason,
        R::MaxRecordDurationReached
    );
    assert_eq!(c.file(op(1)).len(), 300 * 8_000);
}

#[test]
fn silent_caller_hitting_equal_limits_gets_initial_silence() {
    let mut c = Call::new(8_000);
    c.record(
        op(1),
        RecordParams {
            play_beep: false,
            ..RecordParams::default()
        },
    );
    c.run_to_idle();
    assert_eq!(c.outcome(op(1)).completion_reason, R::InitialSilenceTimeout);
}

#[test]
fn zero_or_one_prompt_and_the_beep() {
    let mut c = Call::new(8_000);
    c.record(op(1), RecordParams::default());
    c.run_to_idle();
    assert_eq!(c.plays.len(), 1, "beep only");
    assert_eq!(c.outcome(op(1)).timeline.recording_started, Some(BEEP));

    let raw = RawRecordParams {
        prompts: Some(vec![prompt("https://p/hi.wav")]),
        play_beep: Some(false),
        client_context: Some("c".repeat(256)),
        ..RawRecordParams::default()
    };
    let params = validate(raw, Limits::default()).unwrap();
    let mut c = Call::new(8_000);
    c.record(op(1), params);
    c.run_to_idle();
    assert_eq!(c.plays.len(), 1, "prompt only");
    let o = c.outcome(op(1));
    assert_eq!(o.timeline.recording_started, Some(secs(2)));
    assert_eq!(o.client_context.as_deref().map(str::len), Some(256));

    let too_long = RawRecordParams {
        client_context: Some("c".repeat(257)),
        ..RawRecordParams::default()
    };
    assert!(validate(too_long, Limits::default()).is_err());
}

/// No beep, `maxSilenceTimeout` 1 s, a cap far away.
fn one_second_silence() -> RecordParams {
    RecordParams {
        play_beep: false,
        max_silence_timeout: secs(1),
        max_record_duration: secs(10),
        ..RecordParams::default()
    }
}

#[test]
fn one_second_limits_fire_after_one_second() {
    let mut c = Call::new(8_000);
    c.speech(ms(200), ms(600));
    c.record(op(1), one_second_silence());
    c.run_to_idle();
    let o = c.outcome(op(1));
    assert_eq!(o.completion_reason, R::MaxSilenceTimeout);
    // 1 s of silence, and the endpointer's 40 ms confirmation run.
    assert_eq!(o.timeline.ended, ms(1_640));
    within_frame(c.file_len(op(1)), ms(1_100));
}

#[test]
fn speech_resumed_just_before_the_silence_timeout_is_waited_for() {
    // The caller resumes 980 ms into a 1 s silence; the endpointer reports it 40 ms later,
    // after the 1 s: the recording goes on.
    let mut c = Call::new(8_000);
    c.speech(ms(200), ms(600));
    c.speech_confirmed_after(ms(1_580), ms(2_000), ms(40));
    c.record(op(1), one_second_silence());
    c.run_to_idle();
    let o = c.outcome(op(1));
    assert_eq!(o.completion_reason, R::MaxSilenceTimeout);
    assert_eq!(o.timeline.ended, ms(3_040));
    assert_eq!(o.timeline.speech_ended, Some(ms(2_000)));
}

#[test]
fn poll_timeout_names_the_next_deadline() {
    let mut c = Call::new(8_000);
    c.record(
        op(1),
        RecordParams {
            play_beep: false,
            initial_silence_timeout: secs(3),
            ..RecordParams::default()
        },
    );
    assert_eq!(c.q.poll_timeout(), Some(secs(3)));
    c.speech(ms(500), secs(1));
    c.run_until(ms(1_100));
    // Speech ended at 1 s: max silence (6 s) from then; the 5 s cap from 0 comes first, its
    // timer waiting 250 ms past the cap for the audio that fills it.
    assert_eq!(c.q.poll_timeout(), Some(ms(5_250)));
}
