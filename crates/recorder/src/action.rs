//! What the queue asks the runtime to do, drained with `MediaQueue::poll_action`.

use std::collections::VecDeque;

use crate::ids::{OperationId, PlaybackId};
use crate::outcome::{OperationOutcome, OperationStatus};
use crate::params::PromptRef;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlayWhat {
    /// Fetch (or take from the cache), decode and play; report `handle_prompt_ready` or
    /// `handle_prompt_failed`, then `handle_playout_finished`.
    Prompt(PromptRef),
    /// The record beep; report `handle_playout_finished` or `handle_playout_failed`.
    Beep,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Play {
        op: OperationId,
        playback: PlaybackId,
        what: PlayWhat,
    },
    /// Stop at once; no `handle_playout_finished` is needed for a stopped playback (one that
    /// still arrives is ignored).
    StopPlayout { playback: PlaybackId },
    /// Open the recording file (16-bit mono PCM at `rate`).
    StartRecording { op: OperationId, rate: u32 },
    /// Append to the file; owned so the runtime can move it to the writer task.
    WriteSamples { op: OperationId, samples: Vec<i16> },
    /// Truncate the file to `keep_samples`, write the final header, sync. Always before the
    /// operation's `Completed`, exactly once per `StartRecording`.
    FinishRecording { op: OperationId, keep_samples: u64 },
    StatusChanged {
        op: OperationId,
        status: OperationStatus,
    },
    /// Exactly one per operation (boxed: it is by far the largest action).
    Completed(Box<OperationOutcome>),
}

/// State shared by whichever operation is running: the action queue, playback numbering and the
/// audio facts the queue tracks while no record operation runs.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub actions: VecDeque<Action>,
    next_playback: u64,
    /// Rate of the most recent frame; a new recording starts at it.
    pub rate: Option<u32>,
    /// The caller is talking right now (between speech start and end).
    pub speaking: bool,
    pub last_rtp: Option<std::time::Duration>,
}

impl Shared {
    pub(crate) fn with_rate(rate: Option<u32>) -> Self {
        Shared {
            rate,
            ..Shared::default()
        }
    }

    pub(crate) fn push(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    pub(crate) fn play(&mut self, op: OperationId, what: PlayWhat) -> PlaybackId {
        let playback = PlaybackId(self.next_playback);
        self.next_playback = self.next_playback.saturating_add(1);
        self.push(Action::Play { op, playback, what });
        playback
    }

    /// A playback this queue started earlier (stopped or belonging to an ended operation).
    pub(crate) fn is_past(&self, playback: PlaybackId) -> bool {
        playback.0 < self.next_playback
    }
}
