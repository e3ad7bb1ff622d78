//! The seam between the HTTP surface and the call engine.
//!
//! The API never touches SIP or RTP: it turns each accepted request into one [`Command`] and waits
//! for the engine's verdict. What happens afterwards on the wire comes back as [`CallEvent`]s
//! through [`crate::ApiHandle::call_event`]. Ids are allocated by the API (UUID strings) and passed
//! in, so the engine never has to answer with data before the HTTP response can be built.

use std::future::Future;
use std::pin::Pin;

use media::Digit;
use recorder::params::{PromptRef, RecordParams};
/// The operation vocabulary is the recorder's: one definition of each status, reason and
/// resultInfo for the machine and the API.
pub use recorder::{CompletionReason, OperationStatus, ResultInfo};
use tokio::sync::{mpsc, oneshot};

/// A Graph call id (a UUID string); not the SIP Call-ID, which is the call's `callChainId`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub String);

/// A Graph operation id (a UUID string).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperationId(pub String);

/// A recording id (a UUID string), the last segment of `recordingLocation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordingId(pub uuid::Uuid);

impl CallId {
    pub fn new_random() -> CallId {
        CallId(uuid::Uuid::new_v4().to_string())
    }
}

impl OperationId {
    pub fn new_random() -> OperationId {
        OperationId(uuid::Uuid::new_v4().to_string())
    }
}

impl std::fmt::Display for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for OperationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for RecordingId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Which Graph `identity` slot a party sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartyKind {
    /// `identity.user`; for callclip `id` is a `sip:`/`sips:` URI.
    User,
    /// `identity.phone`; `id` is a phone number (E.164 or dial string).
    Phone,
    /// `identity.application`; the bot itself.
    Application,
}

/// One end of a call as Graph names it (`identitySet` with one identity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub kind: PartyKind,
    pub id: String,
    pub display_name: Option<String>,
}

/// `serviceHostedMediaConfig`: prompts to fetch ahead of time (`preFetchMedia`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaConfig {
    pub pre_fetch: Vec<PromptRef>,
}

/// `reject.reason`; SIP 480 / 486 / 603.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    None,
    Busy,
    Forbidden,
}

/// One request for the engine. Every command names a call the API already knows.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Place an outgoing call. `call_chain_id` is a fresh UUID the engine should use as the SIP
    /// Call-ID (RFC 3261 §8.1.1.4) so that `callChainId` is known before the INVITE leaves.
    CreateCall {
        call: CallId,
        targets: Vec<Party>,
        source: Option<Party>,
        media: MediaConfig,
        call_chain_id: String,
    },
    Answer {
        call: CallId,
        media: MediaConfig,
    },
    Reject {
        call: CallId,
        reason: RejectReason,
    },
    /// SIP 302 with the targets as Contact URIs.
    Redirect {
        call: CallId,
        targets: Vec<Party>,
    },
    Hangup {
        call: CallId,
    },
    Record {
        call: CallId,
        op: OperationId,
        params: RecordParams,
    },
    PlayPrompt {
        call: CallId,
        op: OperationId,
        prompts: Vec<PromptRef>,
        looped: bool,
    },
    /// From now on report every DTMF digit as [`CallEvent::Tone`].
    SubscribeToTone {
        call: CallId,
    },
    /// End running and queued playPrompt/record operations (each completes `operationCanceled`).
    CancelMedia {
        call: CallId,
    },
    KeepAlive {
        call: CallId,
    },
}

impl Command {
    pub fn call(&self) -> &CallId {
        match self {
            Command::CreateCall { call, .. }
            | Command::Answer { call, .. }
            | Command::Reject { call, .. }
            | Command::Redirect { call, .. }
            | Command::Hangup { call }
            | Command::Record { call, .. }
            | Command::PlayPrompt { call, .. }
            | Command::SubscribeToTone { call }
            | Command::CancelMedia { call }
            | Command::KeepAlive { call } => call,
        }
    }
}

/// Why the engine refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("call not found")]
    NotFound,
    /// The action is invalid in the call's current state (e.g. record before `established`).
    #[error("not allowed while the call is {state}")]
    NotAllowed { state: CallState },
    /// Overloaded or shutting down; nothing was started, so a retry is safe.
    #[error("engine unavailable")]
    Unavailable,
    /// No target of a create call can be reached (not a SIP URI or number, or nothing routes it).
    #[error("{reason}")]
    BadTarget { reason: &'static str },
    #[error("engine failure: {reason}")]
    Internal { reason: &'static str },
}

/// What [`Engine::submit`] returns: resolves once the command was accepted (or refused).
pub type EngineFuture = Pin<Box<dyn Future<Output = Result<(), EngineError>> + Send>>;

/// Implemented by the runtime. `submit` must not block; the future resolves when the engine has
/// taken the command (not when the call or operation is over: that arrives as a [`CallEvent`]).
pub trait Engine: Send + Sync + 'static {
    fn submit(&self, cmd: Command) -> EngineFuture;
}

/// A command with its reply slot, for engines that run as a task reading a channel.
#[derive(Debug)]
pub struct EngineRequest {
    pub cmd: Command,
    pub reply: oneshot::Sender<Result<(), EngineError>>,
}

/// An [`Engine`] that forwards to a bounded channel; a full or closed channel is `Unavailable`.
#[derive(Debug, Clone)]
pub struct ChannelEngine {
    tx: mpsc::Sender<EngineRequest>,
}

/// A channel-backed engine and the receiving end the runtime reads.
pub fn channel(capacity: usize) -> (ChannelEngine, mpsc::Receiver<EngineRequest>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (ChannelEngine { tx }, rx)
}

impl Engine for ChannelEngine {
    fn submit(&self, cmd: Command) -> EngineFuture {
        let (reply, answer) = oneshot::channel();
        let sent = self.tx.try_send(EngineRequest { cmd, reply });
        Box::pin(async move {
            if sent.is_err() {
                return Err(EngineError::Unavailable);
            }
            answer.await.unwrap_or(Err(EngineError::Unavailable))
        })
    }
}

/// Graph `callState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallState {
    Incoming,
    Establishing,
    Ringing,
    Established,
    Hold,
    Terminating,
    Terminated,
}

impl CallState {
    pub fn graph_name(self) -> &'static str {
        match self {
            CallState::Incoming => "incoming",
            CallState::Establishing => "establishing",
            CallState::Ringing => "ringing",
            CallState::Established => "established",
            CallState::Hold => "hold",
            CallState::Terminating => "terminating",
            CallState::Terminated => "terminated",
        }
    }
}

impl std::fmt::Display for CallState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.graph_name())
    }
}

/// The state of an operation as the engine reports it. A terminal status (`completed`/`failed`)
/// is reported exactly once and, for a call that ends, before [`CallEvent::Terminated`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationOutcome {
    pub status: OperationStatus,
    pub completion_reason: Option<CompletionReason>,
    pub result_info: Option<ResultInfo>,
    /// A recording registered with [`crate::ApiHandle::recording_started`].
    pub recording: Option<RecordingId>,
}

/// What the engine tells the API. Per call, events must be sent in the order they happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    /// An INVITE arrived; `call` is an id the engine chose (use [`CallId::new_random`]).
    Incoming {
        call: CallId,
        call_chain_id: String,
        source: Party,
        targets: Vec<Party>,
        /// The Request-URI, reported in `callRoutes`.
        request_uri: String,
    },
    StateChanged {
        call: CallId,
        state: CallState,
        result_info: Option<ResultInfo>,
    },
    /// A DTMF digit (RFC 4733, SIP INFO or in-band); reported only after subscribeToTone.
    Tone { call: CallId, digit: Digit },
    OperationUpdated {
        call: CallId,
        op: OperationId,
        outcome: OperationOutcome,
    },
    /// A record operation the engine started on its own (the built-in flow): the API keeps it
    /// like one a bot started, so it can be read and its completion is notified.
    RecordStarted {
        call: CallId,
        op: OperationId,
        client_context: Option<String>,
    },
    /// The call is over; the API sends `deleted` with `state:"terminated"`.
    Terminated {
        call: CallId,
        result_info: ResultInfo,
    },
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[tokio::test]
    async fn channel_engine_relays_reply_and_reports_closed_as_unavailable() {
        let (engine, mut rx) = channel(1);
        let call = CallId::new_random();
        let fut = engine.submit(Command::KeepAlive { call: call.clone() });
        let req = rx.recv().await.unwrap();
        assert_eq!(req.cmd.call(), &call);
        req.reply.send(Err(EngineError::NotFound)).unwrap();
        assert_eq!(fut.await, Err(EngineError::NotFound));
        drop(rx);
        let r = engine.submit(Command::KeepAlive { call }).await;
        assert_eq!(r, Err(EngineError::Unavailable));
    }
}
