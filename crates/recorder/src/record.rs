//! One record operation: prompt → beep → waiting for speech → recording → finished
//! (API_CONTRACT.md, "record"). The file starts at the end of prompt and beep, so the initial
//! silence before speech is in it; cuts at the end are expressed as `keep_samples`.

use std::time::Duration;

use media::vad::endpoint::confirmation_after;
use media::Digit;

/// How long past the duration cap the timer waits for the audio that fills it (above the
/// jitter buffer's largest playout delay).
const CAP_GRACE: Duration = Duration::from_millis(250);

use crate::action::{Action, PlayWhat, Shared};
use crate::config::RecorderConfig;
use crate::ids::{OperationId, PlaybackId};
use crate::outcome::{
    end_state, Cause, OperationKind, OperationOutcome, RecordingSummary, Timeline,
};
use crate::params::RecordParams;
use crate::samples::{duration_of, samples_in};
use crate::timer::{Timer, TimerTable};

#[derive(Debug)]
pub(crate) struct RecordOp {
    pub(crate) op: OperationId,
    params: RecordParams,
    timeline: Timeline,
    phase: Phase,
    /// A listed tone reported while the beep plays: media time runs behind the clock, so it may
    /// have started after the beep ended, and then it stops the recording.
    pending_stop: Option<(Digit, Duration)>,
}

#[derive(Debug)]
enum Phase {
    Prompt(PlaybackId),
    Beep(PlaybackId),
    Capture(Capture),
}

#[derive(Debug)]
struct Capture {
    start: Duration,
    /// Set when `StartRecording` was emitted (at the first frame's rate if none was known).
    rate: Option<u32>,
    written: u64,
    /// Media time just after the last written sample; maps instants to file positions near the
    /// end of the file even if frames went missing earlier.
    written_end: Duration,
    speech_heard: bool,
    last_speech_end: Option<Duration>,
}

/// Why the operation ends and, for cuts, the instant the file should end at.
#[derive(Debug)]
pub(crate) struct End {
    cause: Cause,
    cut_at: Option<Duration>,
}

impl End {
    pub(crate) fn new(cause: Cause) -> Self {
        End {
            cause,
            cut_at: None,
        }
    }

    pub(crate) fn into_cause(self) -> Cause {
        self.cause
    }
}

impl Capture {
    fn position(&self, t: Duration) -> u64 {
        let Some(rate) = self.rate else { return 0 };
        match self.written_end.checked_sub(t) {
            Some(back) => self.written.saturating_sub(samples_in(back, rate)),
            None => self.written,
        }
    }
}

impl RecordOp {
    /// Starts the operation at `now`: the prompt if any, else the beep, else recording.
    pub(crate) fn start(
        now: Duration,
        op: OperationId,
        params: RecordParams,
        mut timeline: Timeline,
        shared: &mut Shared,
    ) -> Self {
        timeline.started = Some(now);
        let prompt = params.prompt.clone();
        let mut rec = RecordOp {
            op,
            params,
            timeline,
            // Replaced just below, before anything can observe it.
            phase: Phase::Beep(PlaybackId(0)),
            pending_stop: None,
        };
        match prompt {
            Some(p) => rec.phase = Phase::Prompt(shared.play(op, PlayWhat::Prompt(p))),
            None => rec.after_prompt(now, shared),
        }
        rec
    }

    fn after_prompt(&mut self, now: Duration, shared: &mut Shared) {
        if self.params.play_beep {
            self.timeline.beep_started = Some(now);
            self.phase = Phase::Beep(shared.play(self.op, PlayWhat::Beep));
        } else {
            self.begin_capture(now, shared);
        }
    }

    fn begin_capture(&mut self, now: Duration, shared: &mut Shared) {
        self.timeline.recording_started = Some(now);
        if let Some(rate) = shared.rate {
            shared.push(Action::StartRecording { op: self.op, rate });
        }
        if shared.speaking {
            self.timeline.speech_started = Some(now);
        }
        self.phase = Phase::Capture(Capture {
            start: now,
            rate: shared.rate,
            written: 0,
            written_end: now,
            speech_heard: shared.speaking,
            last_speech_end: None,
        });
    }

    pub(crate) fn on_prompt_ready(&mut self, now: Duration) {
        if matches!(self.phase, Phase::Prompt(_)) {
            self.timeline.prompt_started.get_or_insert(now);
        }
    }

    pub(crate) fn on_prompt_failed(&mut self, message: String) -> Option<End> {
        matches!(self.phase, Phase::Prompt(_)).then(|| End::new(Cause::PromptFailed(message)))
    }

    pub(crate) fn current_playback(&self) -> Option<PlaybackId> {
        match self.phase {
            Phase::Prompt(p) | Phase::Beep(p) => Some(p),
            Phase::Capture(_) => None,
        }
    }

    pub(crate) fn on_playout_finished(&mut self, now: Duration, shared: &mut Shared) {
        match self.phase {
            Phase::Prompt(_) => {
                self.timeline.prompt_ended = Some(now);
                self.after_prompt(now, shared);
            }
            Phase::Beep(_) => {
                self.timeline.beep_ended = Some(now);
                self.begin_capture(now, shared);
            }
            Phase::Capture(_) => {}
        }
    }

    pub(crate) fn on_playout_failed(&mut self, message: String) -> Option<End> {
        match self.phase {
            Phase::Prompt(_) => Some(End::new(Cause::PromptFailed(message))),
            Phase::Beep(_) => Some(End::new(Cause::BeepFailed(message))),
            Phase::Capture(_) => None,
        }
    }

    /// Writes the part of a frame that lies after the recording start, up to the duration cap.
    pub(crate) fn on_frame(
        &mut self,
        at: Duration,
        samples: &[i16],
        rate: u32,
        config: &RecorderConfig,
        shared: &mut Shared,
    ) -> Option<End> {
        let op = self.op;
        let cap_at = self.params.max_record_duration;
        let Phase::Capture(cap) = &mut self.phase else {
            return None;
        };
        let frame_len = duration_of(samples.len() as u64, rate);
        if rate == 0 || at.saturating_add(frame_len) <= cap.start {
            return None;
        }
        let rec_rate = match cap.rate {
            Some(r) => r,
            None => {
                cap.rate = Some(rate);
                shared.push(Action::StartRecording { op, rate });
                rate
            }
        };
        let room = samples_in(cap_at, rec_rate).saturating_sub(cap.written);
        let skip = at
            .checked_sub(cap.start)
            .map_or_else(|| samples_in(cap.start.saturating_sub(at), rate), |_| 0);
        let out: Vec<i16> = if rate == rec_rate {
            samples
                .iter()
                .skip(usize::try_from(skip).unwrap_or(usize::MAX))
                .take(usize::try_from(room).unwrap_or(usize::MAX))
                .copied()
                .collect()
        } else {
            // A codec change mid-call: keep the timeline with silence rather than mix rates.
            let from = at.max(cap.start);
            let len = samples_in(at.saturating_add(frame_len).saturating_sub(from), rec_rate);
            vec![0; usize::try_from(len.min(room)).unwrap_or(0)]
        };
        if !out.is_empty() {
            let n = out.len() as u64;
            cap.written = cap.written.saturating_add(n);
            cap.written_end = at.max(cap.start).saturating_add(duration_of(n, rec_rate));
            shared.push(Action::WriteSamples { op, samples: out });
        }
        if cap.written < samples_in(cap_at, rec_rate) {
            return None;
        }
        // The cap was reached by audio rather than by the clock: end as the timer table would
        // at the cap's deadline, so a silence timer due at the same instant still wins.
        let cap_deadline = cap.start.saturating_add(cap_at);
        self.on_timeout(cap_deadline, config, shared)
            .or(Some(End::new(Cause::MaxRecordDuration)))
    }

    pub(crate) fn on_speech_started(&mut self, at: Duration) {
        if let Phase::Capture(cap) = &mut self.phase {
            cap.last_speech_end = None;
            if !cap.speech_heard {
                cap.speech_heard = true;
                self.timeline.speech_started = Some(at.max(cap.start));
            }
        }
    }

    pub(crate) fn on_speech_ended(&mut self, at: Duration) {
        if let Phase::Capture(cap) = &mut self.phase {
            if cap.speech_heard {
                let at = at.max(cap.start);
                cap.last_speech_end = Some(at);
                self.timeline.speech_ended = Some(at);
            }
        }
    }

    /// A listed stop tone skips the rest of the prompt, is ignored during the beep (a caller
    /// still pressing the key that skipped the prompt), and ends the recording once it runs.
    pub(crate) fn on_digit(
        &mut self,
        now: Duration,
        digit: Digit,
        started_at: Duration,
        shared: &mut Shared,
    ) -> Option<End> {
        if !self.params.stop_tones.contains(&digit) {
            return None;
        }
        match &self.phase {
            Phase::Prompt(playback) => {
                shared.push(Action::StopPlayout {
                    playback: *playback,
                });
                self.timeline.prompt_ended = Some(now);
                self.timeline.prompt_skipped = true;
                self.after_prompt(now, shared);
                None
            }
            Phase::Beep(_) => {
                self.pending_stop = Some((digit, started_at));
                None
            }
            Phase::Capture(cap) if started_at >= cap.start => {
                self.timeline.stop_tone = Some((digit, started_at));
                Some(End {
                    cause: Cause::StopTone,
                    cut_at: Some(started_at),
                })
            }
            Phase::Capture(_) => None,
        }
    }

    pub(crate) fn timers(&self, config: &RecorderConfig, shared: &Shared) -> TimerTable {
        let mut t = TimerTable::default();
        if let Phase::Capture(cap) = &self.phase {
            let p = &self.params;
            // An input wins a tie with a timer, so the pending tone is set first.
            if let Some((_, at)) = self.pending_stop.filter(|(_, at)| *at >= cap.start) {
                t.set(Timer::PendingStopTone, at);
            }
            // Insertion order breaks ties: a caller who never spoke gets initialSilenceTimeout
            // even when the cap falls on the same instant (both default to 5 s).
            if !cap.speech_heard {
                t.set(
                    Timer::InitialSilence,
                    cap.start.saturating_add(p.initial_silence_timeout),
                );
            } else if let Some(end) = cap.last_speech_end {
                // Speech that resumed just before the timeout is reported once the endpointer
                // has confirmed it: that long is still the caller's turn.
                let silence = p.max_silence_timeout;
                t.set(
                    Timer::MaxSilence,
                    end.saturating_add(silence)
                        .saturating_add(confirmation_after(silence)),
                );
            }
            // The cap is normally reached by audio (`on_frame`), which lags the clock by the
            // jitter buffer's delay; the timer only ends a recording whose audio stopped coming.
            t.set(
                Timer::MaxRecordDuration,
                cap.start
                    .saturating_add(p.max_record_duration)
                    .saturating_add(CAP_GRACE),
            );
            let heard = shared.last_rtp.map_or(cap.start, |r| r.max(cap.start));
            t.set(
                Timer::MediaReceive,
                heard.saturating_add(config.media_receive_timeout),
            );
        }
        t
    }

    pub(crate) fn on_timeout(
        &mut self,
        now: Duration,
        config: &RecorderConfig,
        shared: &Shared,
    ) -> Option<End> {
        let (timer, _) = self.timers(config, shared).expired(now)?;
        let Phase::Capture(cap) = &self.phase else {
            return None;
        };
        Some(match timer {
            Timer::PendingStopTone => {
                let (digit, at) = self.pending_stop?;
                self.timeline.stop_tone = Some((digit, at));
                End {
                    cause: Cause::StopTone,
                    cut_at: Some(at),
                }
            }
            Timer::MaxRecordDuration => End::new(Cause::MaxRecordDuration),
            Timer::InitialSilence => End::new(Cause::InitialSilence),
            Timer::MaxSilence => End {
                cause: Cause::MaxSilence,
                cut_at: cap
                    .last_speech_end
                    .map(|e| e.saturating_add(config.trailing_silence_keep)),
            },
            Timer::MediaReceive => End::new(Cause::MediaReceiveTimeout {
                speech_heard: cap.speech_heard,
            }),
        })
    }

    /// Ends the operation: stops a playout, finishes the file, reports the outcome.
    pub(crate) fn finish(
        mut self,
        now: Duration,
        end: End,
        shared: &mut Shared,
    ) -> OperationOutcome {
        let mut recording = None;
        let mut captured = None;
        match &self.phase {
            Phase::Prompt(playback) | Phase::Beep(playback) => {
                shared.push(Action::StopPlayout {
                    playback: *playback,
                });
            }
            Phase::Capture(cap) => {
                if let Some(rate) = cap.rate {
                    let cap_samples = samples_in(self.params.max_record_duration, rate);
                    let keep = end
                        .cut_at
                        .map_or(cap.written, |t| cap.position(t))
                        .min(cap_samples);
                    shared.push(Action::FinishRecording {
                        op: self.op,
                        keep_samples: keep,
                    });
                    let duration = duration_of(keep, rate);
                    self.timeline.trimmed = duration_of(cap.written.saturating_sub(keep), rate);
                    captured = Some(duration);
                    if !matches!(end.cause, Cause::RecordingFailed(_)) {
                        recording = Some(RecordingSummary {
                            samples: keep,
                            rate,
                            duration,
                        });
                    }
                }
            }
        }
        self.timeline.ended = now;
        let (status, completion_reason, result_info) =
            end_state(OperationKind::Record, end.cause, captured);
        OperationOutcome {
            op: self.op,
            kind: OperationKind::Record,
            status,
            completion_reason,
            result_info,
            client_context: self.params.client_context,
            recording,
            timeline: self.timeline,
        }
    }
}
