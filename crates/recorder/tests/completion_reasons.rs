//! Every record completion reason, with the status, resultInfo and audio a bot would see.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

mod support;

use media::Digit;
use recorder::{CompletionReason as R, OperationStatus, RecordParams, RecorderConfig};
use support::*;

fn params() -> RecordParams {
    RecordParams {
        initial_silence_timeout: secs(5),
        max_silence_timeout: secs(5),
        max_record_duration: secs(30),
        ..RecordParams::default()
    }
}

#[test]
fn stop_tone_ends_recording_and_the_tone_is_cut_out() {
    let mut c = Call::new(8_000);
    c.speech(secs(1), secs(3));
    c.digit(Digit::Pound, ms(3_500), ms(60));
    c.record(
        op(1),
        RecordParams {
            stop_tones: vec![Digit::Pound],
            ..params()
        },
    );
    c.run_to_idle();
    let o = c.outcome(op(1));
    assert_eq!(o.status, OperationStatus::Completed);
    assert_eq!(o.completion_reason, R::StopToneDetected);
    assert_eq!((o.result_info.code, o.result_info.subcode), (200, 8512));
    assert_eq!(o.timeline.stop_tone, Some((Digit::Pound, ms(3_500))));
    // Recording started at the beep end (0.5 s) and ends where the tone began.
    within_frame(c.file_len(op(1)), secs(3));
    assert!(!c.file(op(1)).contains(&Call::sample_at(ms(3_500))));
    within_frame(o.timeline.trimmed, ms(60));
    assert_eq!(o.recording.unwrap().samples, c.file(op(1)).len() as u64);
}

#[test]
fn unlisted_digits_are_ignored() {
    let mut c = Call::new(8_000);
    c.speech(secs(1), secs(2));
    c.digit(Digit::D5, ms(1_500), ms(40));
    c.record(
        op(1),
        RecordParams {
            stop_tones: vec![Digit::Pound],
            max_silence_timeout: secs(1),
            ..params()
        },
    );
    c.run_to_idle();
    assert_eq!(c.outcome(op(1)).completion_reason, R::MaxSilenceTimeout);
}

#[test]
fn max_record_duration_gives_exactly_the_cap() {
    let mut c = Call::new(16_000);
    c.speech(secs(1), secs(100));
    c.record(
        op(1),
        RecordParams {
            max_record_duration: secs(3),
            ..params()
        },
    );
    c.run_to_idle();
    let o = c.outcome(op(1));
    assert_eq!(o.status, OperationStatus::Completed);
    assert_eq!(o.completion_reason, R::MaxRecordDurationReached);
    assert_eq!((o.result_info.code, o.result_info.subcode), (200, 8515));
    assert_eq!(c.file(op(1)).len(), 3 * 16_000);
    within_frame(o.timeline.ended, ms(500) + secs(3));
}

#[test]
fn initial_silence_fails_and_keeps_the_silence() {
    let mut c = Call::new(8_000);
    c.record(
        op(1),
        RecordParams {
            initial_silence_timeout: secs(3),
            ..params()
        },
    );
    c.run_to_idle();
    let o = c.outcome(op(1));
    assert_eq!(o.status, OperationStatus::Failed);
    assert_eq!(o.completion_reason, R::InitialSilenceTimeout);
    assert_eq!(o.completion_reason.as_str(), "initialSilenceTimeout");
    assert_eq!((o.result_info.code, o.result_info.subcode), (400, 8510));
    assert_eq!(o.timeline.ended, ms(3_500));
    within_frame(c.file_len(op(1)), secs(3));
}

#[test]
fn max_silence_completes_and_trims_trailing_silence_to_half_a_second() {
    let mut c = Call::new(8_000);
    c.speech(secs(1), secs(2));
    c.record(
        op(1),
        RecordParams {
            max_silence_timeout: secs(2),
            ..params()
        },
    );
    c.run_to_idle();
    let o = c.outcome(op(1));
    assert_eq!(o.status, OperationStatus::Completed);
    assert_eq!(o.completion_reason, R::MaxSilenceTimeout);
    assert_eq!((o.result_info.code, o.result_info.subcode), (200, 8511));
    // 2 s of silence after the speech, and the endpointer's 40 ms confirmation run.
    assert_eq!(o.timeline.ended, ms(4_040));
    // 0.5 s (beep end) .. 2.5 s (speech end + 0.5 s).
    within_frame(c.file_len(op(1)), secs(2));
    within_frame(o.timeline.trimmed, ms(1_540));
    assert_eq!(o.timeline.speech_started, Some(secs(1)));
    assert_eq!(o.timeline.speech_ended, Some(secs(2)));
}

#[test]
fn prompt_that_cannot_be_fetched_fails_with_the_reason() {
    let mut c = Call::new(8_000);
    c.record(
        op(1),
        RecordParams {
            prompt: Some(prompt("https://prompts.example/broken.wav")),
            ..params()
        },
    );
    c.run_to_idle();
    let o = c.outcome(op(1));
    assert_eq!(o.status, OperationStatus::Failed);
    assert_eq!(o.completion_reason, R::PlayPromptFailed);
    assert!(
        o.result_info.message.contains("HTTP 404"),
        "{}",
        o.result_info.message
    );
    assert!(o.recording.is_none());
    assert!(c.starts.is_empty(), "no file for a prompt failure");
}

#[test]
fn beep_failure_is_play_beep_failed() {
    let mut c = Call::new(8_000);
    c.beep_fails = true;
    c.record(op(1), params());
    c.run_to_idle();
    let o = c.outcome(op(1));
    assert_eq!(o.status, OperationStatus::Failed);
    assert_eq!(o.completion_reason, R::PlayBeepFailed);
    assert!(o.result_info.message.contains("no beep codec"));
    assert!(c.starts.is_empty());
}

#[test]
fn no_rtp_is_media_receive_timeout() {
    let config = RecorderConfig {
        media_receive_timeout: secs(4),
        ..RecorderConfig::default()
    };
    // Silent caller whose RTP stops: failed.
    let mut c = Call::with_config(8_000, config);
    c.rtp_stops_at(secs(1));
    c.record(
        op(1),
        RecordParams {
            initial_silence_timeout: secs(60),
            ..params()
        },
    );
    c.run_to_idle();
    let o = c.outcome(op(1));
    assert_eq!(o.completion_reason, R::MediaReceiveTimeout);
    assert_eq!(o.status, OperationStatus::Failed);
    assert_eq!(o.result_info.code, 408);
    within_frame(o.timeline.ended, secs(5));

    // A caller who spoke and then went silent on the wire: completed, audio kept.
    let mut c = Call::with_config(8_000, config);
    c.speech(secs(1), ms(1_800));
    c.rtp_stops_at(secs(2));
    c.record(
        op(2),
        RecordParams {
            max_silence_timeout: secs(60),
            ..params()
        },
    );
    c.run_to_idle();
    let o = c.outcome(op(2));
    assert_eq!(o.completion_reason, R::MediaReceiveTimeout);
    assert_eq!(o.status, OperationStatus::Completed);
    within_frame(o.timeline.ended, secs(6));
    within_frame(c.file_len(op(2)), ms(1_500));
}

#[test]
fn media_receive_timer_starts_with_recording_not_before() {
    let config = RecorderConfig {
        media_receive_timeout: secs(2),
        ..RecorderConfig::default()
    };
    let mut c = Call::with_config(8_000, config);
    c.prompt_len = secs(5);
    c.rtp_stops_at(ms(100));
    c.record(
        op(1),
        RecordParams {
            prompt: Some(prompt("https://prompts.example/hello.wav")),
            initial_silence_timeout: secs(60),
            ..params()
        },
    );
    c.run_to_idle();
    let o = c.outcome(op(1));
    assert_eq!(o.completion_reason, R::MediaReceiveTimeout);
    // Prompt 5 s + beep 0.5 s, then 2 s without RTP.
    assert_eq!(o.timeline.ended, ms(7_500));
}

#[test]
fn cancel_fails_the_operation_but_keeps_the_audio() {
    let mut c = Call::new(8_000);
    c.speech(secs(1), secs(10));
    c.record(op(1), params());
    c.run_until(secs(3));
    assert_eq!(c.q.cancel_all(c.now), 1);
    c.drain();
    let o = c.outcome(op(1));
    assert_eq!(o.status, OperationStatus::Failed);
    assert_eq!(o.completion_reason, R::OperationCanceled);
    assert_eq!((o.result_info.code, o.result_info.subcode), (400, 8508));
    within_frame(c.file_len(op(1)), ms(2_500));
    assert_eq!(o.recording.unwrap().samples, c.file(op(1)).len() as u64);
    assert!(c.q.is_idle());
}

#[test]
fn hang_up_while_recording_completes_with_the_audio() {
    let mut c = Call::new(8_000);
    c.speech(secs(1), secs(10));
    c.hang_up_at(secs(4));
    c.record(op(1), params());
    c.run_to_idle();
    let o = c.outcome(op(1));
    assert_eq!(o.status, OperationStatus::Completed);
    assert_eq!(o.completion_reason, R::OperationCanceled);
    assert_eq!((o.result_info.code, o.result_info.subcode), (200, 8509));
    assert!(
        o.result_info.message.contains("call ended"),
        "{}",
        o.result_info.message
    );
    within_frame(c.file_len(op(1)), ms(3_500));
    // The completion comes out before the runtime reports the call gone.
    let done = c.log.iter().position(|l| l == "completed 1").unwrap();
    let ended = c.log.iter().position(|l| l == "call deleted").unwrap();
    assert!(done < ended, "{:?}", c.log);
}

#[test]
fn a_failed_file_is_unspecified_error() {
    let mut c = Call::new(8_000);
    c.record(op(1), params());
    c.run_until(secs(2));
    c.q.handle_recording_failed(c.now, op(1), "disk full".into())
        .unwrap();
    c.drain();
    let o = c.outcome(op(1));
    assert_eq!(o.completion_reason, R::UnspecifiedError);
    assert_eq!(o.status, OperationStatus::Failed);
    assert!(o.recording.is_none());
    assert_eq!(c.finishes.len(), 1, "the file is still closed");
}
