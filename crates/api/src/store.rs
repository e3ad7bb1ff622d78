//! The `call` and `operation` resources the API serves and notifies about, keyed by id.

use std::collections::HashMap;

use media::Digit;

use crate::engine::{
    CallId, CallState, CompletionReason, MediaConfig, OperationId, OperationStatus, Party,
    RecordingId, ResultInfo,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Incoming,
    Outgoing,
}

/// The Graph operation type, which fixes its `@odata.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Record,
    PlayPrompt,
    SubscribeToTone,
    CancelMediaProcessing,
}

/// Where a recording can be fetched, and the token that opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingLink {
    pub id: RecordingId,
    pub location: String,
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub id: OperationId,
    pub kind: OpKind,
    pub status: OperationStatus,
    pub client_context: Option<String>,
    pub completion_reason: Option<CompletionReason>,
    pub result_info: Option<ResultInfo>,
    pub recording: Option<RecordingLink>,
}

impl Operation {
    pub fn new(kind: OpKind, status: OperationStatus, client_context: Option<String>) -> Self {
        Operation {
            id: OperationId::new_random(),
            kind,
            status,
            client_context,
            completion_reason: None,
            result_info: None,
            recording: None,
        }
    }

    pub fn is_finished(&self) -> bool {
        matches!(
            self.status,
            OperationStatus::Completed | OperationStatus::Failed
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub id: CallId,
    pub state: CallState,
    pub direction: Direction,
    pub callback_uri: Option<String>,
    pub source: Option<Party>,
    pub targets: Vec<Party>,
    /// The INVITE's Request-URI, for `callRoutes` (incoming calls only).
    pub request_uri: Option<String>,
    pub media: MediaConfig,
    pub result_info: Option<ResultInfo>,
    pub tone: Option<(u64, Digit)>,
    pub tones_subscribed: bool,
    pub call_chain_id: String,
    pub my_participant_id: String,
    pub operations: HashMap<OperationId, Operation>,
}

impl Call {
    pub fn new(id: CallId, state: CallState, direction: Direction, chain: String) -> Call {
        Call {
            id,
            state,
            direction,
            callback_uri: None,
            source: None,
            targets: Vec::new(),
            request_uri: None,
            media: MediaConfig::default(),
            result_info: None,
            tone: None,
            tones_subscribed: false,
            call_chain_id: chain,
            my_participant_id: uuid::Uuid::new_v4().to_string(),
            operations: HashMap::new(),
        }
    }

    pub fn is_over(&self) -> bool {
        self.state == CallState::Terminated
    }
}

/// Every call this instance knows, live or recently ended.
#[derive(Debug, Default)]
pub struct Store {
    calls: HashMap<CallId, Call>,
}

impl Store {
    pub fn insert(&mut self, call: Call) {
        self.calls.insert(call.id.clone(), call);
    }

    pub fn call(&self, id: &CallId) -> Option<&Call> {
        self.calls.get(id)
    }

    pub fn call_mut(&mut self, id: &CallId) -> Option<&mut Call> {
        self.calls.get_mut(id)
    }

    pub fn remove(&mut self, id: &CallId) -> Option<Call> {
        self.calls.remove(id)
    }

    pub fn remove_operation(&mut self, call: &CallId, op: &OperationId) {
        if let Some(c) = self.calls.get_mut(call) {
            c.operations.remove(op);
        }
    }

    pub fn count_by_state(&self) -> HashMap<CallState, usize> {
        let mut m = HashMap::new();
        for c in self.calls.values() {
            *m.entry(c.state).or_insert(0) += 1;
        }
        m
    }
}
