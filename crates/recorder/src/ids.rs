//! Identities the queue hands out or receives; newtypes so a playback is never mistaken for an
//! operation (STYLE.md §8).

use std::fmt;

/// A media operation as the API names it (`operations/{opId}`); a UUID fits the `u128`, so the
/// API layer needs no mapping table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperationId(pub u128);

/// One playout (a prompt or the beep) started by the queue; the runtime echoes it back in
/// `handle_playout_finished` / `handle_playout_failed`. Numbered from 0 per call, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlaybackId(pub u64);

impl fmt::Display for OperationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Display for PlaybackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "playback-{}", self.0)
    }
}
