//! The Graph media operations of one call — record / recordResponse and playPrompt, their FIFO
//! queue, barge-in, cancelMediaProcessing and hang-up — as one sans-IO state machine
//! (API_CONTRACT.md, "Media operations").
//!
//! The runtime feeds inputs with the time they happened and carries out the actions; the queue
//! never reads a clock or touches a file. The run loop:
//!
//! ```
//! use std::time::Duration;
//! use recorder::{Action, MediaQueue, OperationId, RecorderConfig, RecordParams};
//!
//! let mut q = MediaQueue::new(RecorderConfig::default());
//! let t0 = Duration::ZERO;
//! let params = RecordParams { play_beep: false, ..RecordParams::default() };
//! q.record(t0, OperationId(1), params).unwrap();
//! // Feed every decoded 20 ms frame; the operation records from its start.
//! let mut now = t0;
//! for _ in 0..10 {
//!     q.handle_frame(now + Duration::from_millis(20), now, &[0i16; 160], 8_000);
//!     now += Duration::from_millis(20);
//! }
//! // Nobody speaks: wake at the deadline the queue asks for.
//! let deadline = q.poll_timeout().unwrap();
//! assert_eq!(deadline, Duration::from_secs(5)); // initialSilenceTimeout, from the start
//! q.handle_timeout(deadline);
//! let mut completed = None;
//! while let Some(action) = q.poll_action() {
//!     match action {
//!         Action::Play { .. } | Action::StopPlayout { .. } => { /* media */ }
//!         Action::StartRecording { .. } | Action::WriteSamples { .. }
//!         | Action::FinishRecording { .. } => { /* the recording file */ }
//!         Action::StatusChanged { .. } => { /* operation resource */ }
//!         Action::Completed(outcome) => completed = Some(outcome),
//!     }
//! }
//! let outcome = completed.unwrap();
//! assert_eq!(outcome.completion_reason.as_str(), "initialSilenceTimeout");
//! assert_eq!(outcome.recording.unwrap().samples, 1_600);
//! ```

mod action;
mod config;
mod error;
mod ids;
mod outcome;
pub mod params;
mod play;
mod queue;
mod record;
mod samples;
mod timer;

pub use action::{Action, PlayWhat};
pub use config::RecorderConfig;
pub use error::Error;
pub use ids::{OperationId, PlaybackId};
pub use outcome::{
    CompletionReason, OperationKind, OperationOutcome, OperationStatus, RecordingSummary,
    ResultInfo, Timeline,
};
pub use params::{PlayPromptParams, PromptRef, RecordParams};
pub use queue::MediaQueue;
