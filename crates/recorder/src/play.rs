//! One playPrompt operation: its prompts in order, the whole list again while `looped`
//! (API_CONTRACT.md, "playPrompt").

use std::time::Duration;

use crate::action::{Action, PlayWhat, Shared};
use crate::ids::{OperationId, PlaybackId};
use crate::outcome::{end_state, Cause, OperationKind, OperationOutcome, Timeline};
use crate::params::PlayPromptParams;

#[derive(Debug)]
pub(crate) struct PlayOp {
    pub(crate) op: OperationId,
    params: PlayPromptParams,
    timeline: Timeline,
    index: usize,
    playback: PlaybackId,
}

impl PlayOp {
    pub(crate) fn start(
        now: Duration,
        op: OperationId,
        params: PlayPromptParams,
        mut timeline: Timeline,
        shared: &mut Shared,
    ) -> Self {
        timeline.started = Some(now);
        let playback = match params.prompts.first() {
            Some(p) => shared.play(op, PlayWhat::Prompt(p.clone())),
            // PlayPromptParams::new refuses an empty list; a past id keeps this inert.
            None => PlaybackId(0),
        };
        PlayOp {
            op,
            params,
            timeline,
            index: 0,
            playback,
        }
    }

    pub(crate) fn current_playback(&self) -> PlaybackId {
        self.playback
    }

    pub(crate) fn on_prompt_ready(&mut self, now: Duration) {
        self.timeline.prompt_started.get_or_insert(now);
    }

    /// The current prompt ended; plays the next one, or reports that all were played.
    pub(crate) fn on_playout_finished(
        &mut self,
        now: Duration,
        shared: &mut Shared,
    ) -> Option<Cause> {
        self.timeline.prompt_ended = Some(now);
        let mut next = self.index.saturating_add(1);
        if next >= self.params.prompts.len() {
            if !self.params.looped {
                return Some(Cause::PlayedAll);
            }
            next = 0;
        }
        let prompt = self.params.prompts.get(next)?.clone();
        self.index = next;
        self.playback = shared.play(self.op, PlayWhat::Prompt(prompt));
        None
    }

    pub(crate) fn finish(
        mut self,
        now: Duration,
        cause: Cause,
        shared: &mut Shared,
    ) -> OperationOutcome {
        if cause != Cause::PlayedAll {
            shared.push(Action::StopPlayout {
                playback: self.playback,
            });
        }
        self.timeline.ended = now;
        let (status, completion_reason, result_info) =
            end_state(OperationKind::PlayPrompt, cause, None);
        OperationOutcome {
            op: self.op,
            kind: OperationKind::PlayPrompt,
            status,
            completion_reason,
            result_info,
            client_context: self.params.client_context,
            recording: None,
            timeline: self.timeline,
        }
    }
}
