//! The per-call media operation queue: record and playPrompt run one at a time, FIFO; barge-in,
//! cancelMediaProcessing and hang-up end them (API_CONTRACT.md, "Media operations").

use std::collections::VecDeque;
use std::time::Duration;

use media::Digit;

use crate::action::{Action, Shared};
use crate::config::RecorderConfig;
use crate::error::Error;
use crate::ids::{OperationId, PlaybackId};
use crate::outcome::{
    end_state, Cause, OperationKind, OperationOutcome, OperationStatus, Timeline,
};
use crate::params::{PlayPromptParams, RecordParams};
use crate::play::PlayOp;
use crate::record::{End, RecordOp};

#[derive(Debug)]
enum Pending {
    Record(OperationId, RecordParams, Timeline),
    Play(OperationId, PlayPromptParams, Timeline),
}

impl Pending {
    fn op(&self) -> OperationId {
        match self {
            Pending::Record(op, ..) | Pending::Play(op, ..) => *op,
        }
    }
}

#[derive(Debug)]
enum Running {
    Record(RecordOp),
    Play(PlayOp),
}

impl Running {
    fn op(&self) -> OperationId {
        match self {
            Running::Record(r) => r.op,
            Running::Play(p) => p.op,
        }
    }
}

/// The media operations of one call. See the crate docs for the run loop.
#[derive(Debug)]
pub struct MediaQueue {
    config: RecorderConfig,
    shared: Shared,
    running: Option<Running>,
    queue: VecDeque<Pending>,
    call_ended: bool,
    last_digit: Option<(Digit, Duration)>,
}

impl MediaQueue {
    pub fn new(config: RecorderConfig) -> Self {
        MediaQueue {
            config,
            shared: Shared::with_rate(config.audio_rate.filter(|r| *r > 0)),
            running: None,
            queue: VecDeque::new(),
            call_ended: false,
            last_digit: None,
        }
    }

    /// Queues a record operation; with `barge_in_allowed` every queued and running operation is
    /// canceled first and this one starts at once.
    pub fn record(
        &mut self,
        now: Duration,
        op: OperationId,
        params: RecordParams,
    ) -> Result<(), Error> {
        self.admit(op)?;
        if params.barge_in_allowed {
            self.end_all(now, || Cause::Canceled);
        }
        let timeline = Timeline {
            queued: now,
            ..Timeline::default()
        };
        self.queue.push_back(Pending::Record(op, params, timeline));
        self.start_next(now);
        Ok(())
    }

    /// Queues a playPrompt operation (FIFO; playPrompt has no barge-in).
    pub fn play_prompt(
        &mut self,
        now: Duration,
        op: OperationId,
        params: PlayPromptParams,
    ) -> Result<(), Error> {
        self.admit(op)?;
        if params.prompts.is_empty() {
            // Only reachable by building PlayPromptParams by hand; `new` refuses it.
            return Err(Error::Param(crate::params::ParamError {
                field: "prompts",
                problem: "must hold at least one prompt".into(),
            }));
        }
        let timeline = Timeline {
            queued: now,
            ..Timeline::default()
        };
        self.queue.push_back(Pending::Play(op, params, timeline));
        self.start_next(now);
        Ok(())
    }

    /// cancelMediaProcessing: ends the running and every queued operation (`failed`,
    /// `operationCanceled` / `mediaOperationCanceled`, 400/8508). Returns how many ended.
    pub fn cancel_all(&mut self, now: Duration) -> usize {
        self.end_all(now, || Cause::Canceled)
    }

    /// The caller hung up: every operation completes now, before the call's own `deleted`
    /// notification; a record operation keeps the audio captured so far.
    pub fn handle_call_ended(&mut self, now: Duration) {
        self.call_ended = true;
        self.end_all(now, || Cause::CallEnded);
    }

    /// The prompt of `op` was fetched and decoded, and its playout began.
    pub fn handle_prompt_ready(&mut self, now: Duration, op: OperationId) -> Result<(), Error> {
        match self.running_mut(op)? {
            Running::Record(r) => r.on_prompt_ready(now),
            Running::Play(p) => p.on_prompt_ready(now),
        }
        Ok(())
    }

    /// The prompt of `op` could not be fetched or decoded; `message` says why.
    pub fn handle_prompt_failed(
        &mut self,
        now: Duration,
        op: OperationId,
        message: String,
    ) -> Result<(), Error> {
        let end = match self.running_mut(op)? {
            Running::Record(r) => r.on_prompt_failed(message),
            Running::Play(_) => Some(End::new(Cause::PromptFailed(message))),
        };
        self.end_running(now, end);
        Ok(())
    }

    pub fn handle_playout_finished(
        &mut self,
        now: Duration,
        playback: PlaybackId,
    ) -> Result<(), Error> {
        if !self.is_current(playback)? {
            return Ok(());
        }
        let end = match &mut self.running {
            Some(Running::Record(r)) => {
                r.on_playout_finished(now, &mut self.shared);
                None
            }
            Some(Running::Play(p)) => p.on_playout_finished(now, &mut self.shared).map(End::new),
            None => None,
        };
        self.end_running(now, end);
        Ok(())
    }

    /// Playout of a prompt or the beep broke off (`playPromptFailed` / `playBeepFailed`).
    pub fn handle_playout_failed(
        &mut self,
        now: Duration,
        playback: PlaybackId,
        message: String,
    ) -> Result<(), Error> {
        if !self.is_current(playback)? {
            return Ok(());
        }
        let end = match &mut self.running {
            Some(Running::Record(r)) => r.on_playout_failed(message),
            Some(Running::Play(_)) => Some(End::new(Cause::PromptFailed(message))),
            None => None,
        };
        self.end_running(now, end);
        Ok(())
    }

    /// The runtime could not write the recording of `op` (`failed`, `unspecifiedError`).
    pub fn handle_recording_failed(
        &mut self,
        now: Duration,
        op: OperationId,
        message: String,
    ) -> Result<(), Error> {
        self.running_mut(op)?;
        self.end_running(now, Some(End::new(Cause::RecordingFailed(message))));
        Ok(())
    }

    /// Every decoded frame, recording or not; `at` is the media time of its first sample.
    pub fn handle_frame(&mut self, now: Duration, at: Duration, samples: &[i16], rate: u32) {
        if rate > 0 {
            self.shared.rate = Some(rate);
        }
        let end = match &mut self.running {
            Some(Running::Record(r)) => {
                r.on_frame(at, samples, rate, &self.config, &mut self.shared)
            }
            _ => None,
        };
        self.end_running(now, end);
        self.handle_timeout(now);
    }

    pub fn handle_speech_started(&mut self, now: Duration, at: Duration) {
        self.shared.speaking = true;
        if let Some(Running::Record(r)) = &mut self.running {
            r.on_speech_started(at);
        }
        self.handle_timeout(now);
    }

    pub fn handle_speech_ended(&mut self, now: Duration, at: Duration) {
        self.shared.speaking = false;
        if let Some(Running::Record(r)) = &mut self.running {
            r.on_speech_ended(at);
        }
        self.handle_timeout(now);
    }

    /// A DTMF digit from any path; a digit reported again (start, then end) counts once.
    pub fn handle_digit(
        &mut self,
        now: Duration,
        digit: Digit,
        started_at: Duration,
        _ended_at: Option<Duration>,
    ) {
        if self.last_digit == Some((digit, started_at)) {
            return;
        }
        self.last_digit = Some((digit, started_at));
        let end = match &mut self.running {
            Some(Running::Record(r)) => r.on_digit(now, digit, started_at, &mut self.shared),
            _ => None,
        };
        self.end_running(now, end);
        self.handle_timeout(now);
    }

    /// Any RTP packet from the caller (for `mediaReceiveTimeout`).
    pub fn handle_rtp_seen(&mut self, now: Duration) {
        self.shared.last_rtp = Some(now);
    }

    /// Fires every timer due at `now` (each handle_* does this after applying its input).
    pub fn handle_timeout(&mut self, now: Duration) {
        let end = match &mut self.running {
            Some(Running::Record(r)) => r.on_timeout(now, &self.config, &self.shared),
            _ => None,
        };
        self.end_running(now, end);
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.shared.actions.pop_front()
    }

    /// The earliest deadline of the running operation.
    pub fn poll_timeout(&self) -> Option<Duration> {
        match &self.running {
            Some(Running::Record(r)) => r.timers(&self.config, &self.shared).earliest(),
            _ => None,
        }
    }

    /// No operation is running or queued.
    pub fn is_idle(&self) -> bool {
        self.running.is_none() && self.queue.is_empty()
    }

    /// The status the API shows for `op`, if it is running or queued.
    pub fn status(&self, op: OperationId) -> Option<OperationStatus> {
        if self.running.as_ref().is_some_and(|r| r.op() == op) {
            return Some(OperationStatus::Running);
        }
        self.queue
            .iter()
            .any(|p| p.op() == op)
            .then_some(OperationStatus::NotStarted)
    }

    fn admit(&self, op: OperationId) -> Result<(), Error> {
        if self.call_ended {
            return Err(Error::CallEnded);
        }
        if self.status(op).is_some() {
            return Err(Error::DuplicateOperation { op });
        }
        Ok(())
    }

    fn running_mut(&mut self, op: OperationId) -> Result<&mut Running, Error> {
        match &mut self.running {
            Some(r) if r.op() == op => Ok(r),
            _ => Err(Error::UnknownOperation { op }),
        }
    }

    /// Whether `playback` is the running operation's current one; an older one is stale.
    fn is_current(&self, playback: PlaybackId) -> Result<bool, Error> {
        let current = match &self.running {
            Some(Running::Record(r)) => r.current_playback(),
            Some(Running::Play(p)) => Some(p.current_playback()),
            None => None,
        };
        if current == Some(playback) {
            Ok(true)
        } else if self.shared.is_past(playback) {
            Ok(false)
        } else {
            Err(Error::UnknownPlayback { playback })
        }
    }

    fn end_running(&mut self, now: Duration, end: Option<End>) {
        let Some(end) = end else { return };
        if let Some(running) = self.running.take() {
            let outcome = finish(running, now, end, &mut self.shared);
            self.shared.push(Action::Completed(Box::new(outcome)));
        }
        self.start_next(now);
    }

    fn end_all(&mut self, now: Duration, cause: impl Fn() -> Cause) -> usize {
        let mut ended = 0;
        if let Some(running) = self.running.take() {
            let outcome = finish(running, now, End::new(cause()), &mut self.shared);
            self.shared.push(Action::Completed(Box::new(outcome)));
            ended += 1;
        }
        while let Some(pending) = self.queue.pop_front() {
            let outcome = never_started(pending, now, cause());
            self.shared.push(Action::Completed(Box::new(outcome)));
            ended += 1;
        }
        ended
    }

    fn start_next(&mut self, now: Duration) {
        if self.running.is_some() {
            return;
        }
        let Some(next) = self.queue.pop_front() else {
            return;
        };
        self.shared.push(Action::StatusChanged {
            op: next.op(),
            status: OperationStatus::Running,
        });
        self.running = Some(match next {
            Pending::Record(op, params, tl) => {
                Running::Record(RecordOp::start(now, op, params, tl, &mut self.shared))
            }
            Pending::Play(op, params, tl) => {
                Running::Play(PlayOp::start(now, op, params, tl, &mut self.shared))
            }
        });
        // A recording with neither prompt nor beep may already be due (e.g. a stale RTP clock).
        self.handle_timeout(now);
    }
}

fn finish(running: Running, now: Duration, end: End, shared: &mut Shared) -> OperationOutcome {
    match running {
        Running::Record(r) => r.finish(now, end, shared),
        Running::Play(p) => p.finish(now, end.into_cause(), shared),
    }
}

fn never_started(pending: Pending, now: Duration, cause: Cause) -> OperationOutcome {
    let (op, kind, client_context, mut timeline) = match pending {
        Pending::Record(op, params, tl) => (op, OperationKind::Record, params.client_context, tl),
        Pending::Play(op, params, tl) => (op, OperationKind::PlayPrompt, params.client_context, tl),
    };
    timeline.ended = now;
    let (status, completion_reason, result_info) = end_state(kind, cause, None);
    OperationOutcome {
        op,
        kind,
        status,
        completion_reason,
        result_info,
        client_context,
        recording: None,
        timeline,
    }
}
