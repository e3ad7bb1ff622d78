//! Everything the media operation queue can refuse.

use crate::ids::{OperationId, PlaybackId};
use crate::params::ParamError;

/// Errors from `MediaQueue`. `UnknownOperation` and `UnknownPlayback` on feedback inputs are the
/// expected outcome of a race with a cancel or hang-up: log them and drop the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("operation {op} is not running on this call")]
    UnknownOperation { op: OperationId },
    #[error("{playback} was never started on this call")]
    UnknownPlayback { playback: PlaybackId },
    #[error("operation {op} already exists on this call")]
    DuplicateOperation { op: OperationId },
    #[error("the call has ended; no media operation can start")]
    CallEnded,
    #[error(transparent)]
    Param(#[from] ParamError),
}
