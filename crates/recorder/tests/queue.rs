//! The per-call queue: FIFO, barge-in, cancel, hang-up in every phase, stop tone over the
//! prompt, playPrompt, and inputs the queue refuses.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

mod support;

use media::Digit;
use recorder::{
    CompletionReason as R, Error, OperationStatus, PlayPromptParams, PlayWhat, RecordParams,
};
use support::*;

fn quick() -> RecordParams {
    RecordParams {
        initial_silence_timeout: secs(1),
        play_beep: false,
        ..RecordParams::default()
    }
}

#[test]
fn operations_run_one_after_another() {
    let mut c = Call::new(8_000);
    c.record(op(1), quick());
    c.record(op(2), quick());
    assert_eq!(c.q.status(op(2)), Some(OperationStatus::NotStarted));
    c.run_to_idle();
    assert_eq!(c.outcome(op(1)).timeline.ended, secs(1));
    assert_eq!(c.outcome(op(2)).timeline.started, Some(secs(1)));
    assert_eq!(c.outcome(op(2)).timeline.ended, secs(2));
    let order: Vec<_> = c.outcomes.iter().map(|o| o.op).collect();
    assert_eq!(order, vec![op(1), op(2)]);
}

#[test]
fn barge_in_ends_the_running_and_both_queued_operations() {
    let mut c = Call::new(8_000);
    c.prompt_len = secs(3);
    c.record(op(1), quick());
    c.q.play_prompt(
        c.now,
        op(2),
        PlayPromptParams::new(vec![prompt("https://p/a.wav")], false, None).unwrap(),
    )
    .unwrap();
    c.record(op(3), quick());
    c.run_until(ms(400));
    c.record(
        op(4),
        RecordParams {
            barge_in_allowed: true,
            ..quick()
        },
    );
    for id in [1, 2, 3] {
        let o = c.outcome(op(id));
        assert_eq!(o.status, OperationStatus::Failed, "{id}");
        assert_eq!((o.result_info.code, o.result_info.subcode), (400, 8508));
        assert_eq!(o.timeline.ended, ms(400));
    }
    assert_eq!(c.outcome(op(1)).completion_reason, R::OperationCanceled);
    assert_eq!(
        c.outcome(op(2)).completion_reason,
        R::MediaOperationCanceled
    );
    assert_eq!(c.outcome(op(3)).timeline.started, None);
    assert_eq!(c.q.status(op(4)), Some(OperationStatus::Running));
    c.run_to_idle();
    assert_eq!(c.outcome(op(4)).completion_reason, R::InitialSilenceTimeout);
    assert_eq!(c.outcome(op(4)).timeline.ended, ms(1_400));
}

#[test]
fn barge_in_stops_a_playing_prompt() {
    let mut c = Call::new(8_000);
    c.record(
        op(1),
        RecordParams {
            prompt: Some(prompt("https://p/long.wav")),
            ..quick()
        },
    );
    c.run_until(secs(1));
    c.record(
        op(2),
        RecordParams {
            barge_in_allowed: true,
            ..quick()
        },
    );
    assert_eq!(c.stops.len(), 1);
    assert!(c.finishes.is_empty(), "no file was started for op 1");
    assert!(c.outcome(op(1)).recording.is_none());
}

#[test]
fn cancel_ends_queued_operations_too() {
    let mut c = Call::new(8_000);
    c.record(op(1), quick());
    c.record(op(2), quick());
    c.run_until(ms(200));
    assert_eq!(c.q.cancel_all(c.now), 2);
    c.drain();
    assert!(c.q.is_idle());
    assert_eq!(c.outcomes.len(), 2);
    assert_eq!(c.q.cancel_all(c.now), 0);
}

fn with_prompt() -> RecordParams {
    RecordParams {
        prompt: Some(prompt("https://p/hello.wav")),
        stop_tones: vec![Digit::Pound],
        initial_silence_timeout: secs(10),
        ..RecordParams::default()
    }
}

#[test]
fn hang_up_during_prompt_beep_or_waiting() {
    // Prompt 0..2 s, beep 2..2.5 s, waiting afterwards.
    for (at, file) in [(secs(1), false), (ms(2_200), false), (secs(4), true)] {
        let mut c = Call::new(8_000);
        c.hang_up_at(at);
        c.record(op(1), with_prompt());
        c.run_to_idle();
        let o = c.outcome(op(1));
        assert_eq!(o.status, OperationStatus::Completed, "{at:?}");
        assert_eq!(o.completion_reason, R::OperationCanceled);
        assert_eq!(o.result_info.code, 200);
        assert_eq!(o.recording.is_some(), file, "{at:?}");
        if file {
            within_frame(c.file_len(op(1)), ms(1_500));
        } else {
            assert!(
                o.result_info.message.contains("no audio"),
                "{}",
                o.result_info.message
            );
            assert_eq!(c.stops.len(), 1, "the playout is stopped");
        }
    }
}

#[test]
fn hang_up_ends_queued_operations_and_refuses_new_ones() {
    let mut c = Call::new(8_000);
    c.record(op(1), with_prompt());
    c.record(op(2), quick());
    c.hang_up_at(secs(1));
    c.run_to_idle();
    assert_eq!(c.outcomes.len(), 2);
    assert_eq!(c.outcome(op(2)).completion_reason, R::OperationCanceled);
    assert_eq!(c.q.record(c.now, op(3), quick()), Err(Error::CallEnded));
}

#[test]
fn stop_tone_during_the_prompt_skips_to_the_beep() {
    let mut c = Call::new(8_000);
    c.prompt_len = secs(10);
    c.speech(secs(3), secs(4));
    c.digit(Digit::Pound, secs(1), ms(40));
    c.record(
        op(1),
        RecordParams {
            max_silence_timeout: secs(1),
            ..with_prompt()
        },
    );
    c.run_to_idle();
    let o = c.outcome(op(1));
    assert_eq!(
        o.completion_reason,
        R::MaxSilenceTimeout,
        "the tone did not end it"
    );
    assert!(o.timeline.prompt_skipped);
    assert_eq!(o.timeline.prompt_ended, Some(ms(1_040)));
    assert_eq!(c.stops.len(), 1);
    assert!(matches!(c.plays.last(), Some((t, _, PlayWhat::Beep)) if *t == ms(1_040)));
    assert_eq!(o.timeline.recording_started, Some(ms(1_540)));
}

#[test]
fn play_prompt_plays_in_order_then_completes() {
    let mut c = Call::new(8_000);
    c.prompt_len = secs(1);
    let prompts = vec![prompt("https://p/1.wav"), prompt("https://p/2.wav")];
    c.q.play_prompt(
        c.now,
        op(1),
        PlayPromptParams::new(prompts, false, Some("ctx".into())).unwrap(),
    )
    .unwrap();
    c.drain();
    c.run_to_idle();
    let uris: Vec<_> = c
        .plays
        .iter()
        .map(|(_, _, w)| match w {
            PlayWhat::Prompt(p) => p.uri.clone(),
            PlayWhat::Beep => "beep".into(),
        })
        .collect();
    assert_eq!(uris, ["https://p/1.wav", "https://p/2.wav"]);
    let o = c.outcome(op(1));
    assert_eq!(o.status, OperationStatus::Completed);
    assert_eq!(o.completion_reason, R::CompletedSuccessfully);
    assert_eq!(o.client_context.as_deref(), Some("ctx"));
    assert_eq!(o.timeline.ended, secs(2));
}

#[test]
fn looped_play_prompt_runs_until_canceled() {
    let mut c = Call::new(8_000);
    c.prompt_len = secs(1);
    c.q.play_prompt(
        c.now,
        op(1),
        PlayPromptParams::new(vec![prompt("https://p/1.wav")], true, None).unwrap(),
    )
    .unwrap();
    c.drain();
    c.run_until(ms(5_500));
    assert_eq!(c.plays.len(), 6);
    assert!(c.outcomes.is_empty());
    c.q.cancel_all(c.now);
    c.drain();
    assert_eq!(
        c.outcome(op(1)).completion_reason,
        R::MediaOperationCanceled
    );
}

#[test]
fn refused_inputs_are_errors_not_panics() {
    let mut c = Call::new(8_000);
    c.record(op(1), with_prompt());
    assert_eq!(
        c.q.record(c.now, op(1), quick()),
        Err(Error::DuplicateOperation { op: op(1) })
    );
    assert_eq!(
        c.q.handle_prompt_ready(c.now, op(9)),
        Err(Error::UnknownOperation { op: op(9) })
    );
    assert!(matches!(
        c.q.handle_playout_finished(c.now, recorder::PlaybackId(77)),
        Err(Error::UnknownPlayback { .. })
    ));
    // A stopped playback reported late is ignored.
    c.q.cancel_all(c.now);
    c.drain();
    assert_eq!(
        c.q.handle_playout_finished(c.now, recorder::PlaybackId(0)),
        Ok(())
    );
    c.q.handle_frame(c.now, c.now, &[], 0);
    c.q.handle_frame(c.now, c.now, &[1; 5000], 8_000);
}
