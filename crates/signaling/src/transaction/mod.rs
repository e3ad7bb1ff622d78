//! RFC 3261 §17 transactions: the four state machines and the layer that matches messages to them.
//!
//! The layer is sans-IO: messages go in with `handle_request` / `handle_response` / `send_request`
//! / `respond`, timers with `handle_timeout`; what to send comes out of `poll_outgoing`, what the
//! transaction user must know out of `poll_event`, and the next wake-up from `poll_timeout`.

mod client_invite;
mod client_non_invite;
mod key;
mod layer;
mod server_invite;
mod server_non_invite;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use crate::message::{Method, Request, Response, SipMessage};
use crate::timer::{TimerConfig, TimerTable};

pub use key::{ClientKey, ServerKey, MAGIC_COOKIE};
pub use layer::TransactionLayer;

/// The transport a message travels on. Retransmission timers only run on unreliable ones
/// (RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    pub fn is_reliable(self) -> bool {
        matches!(self, Transport::Tcp)
    }

    /// The Via transport token (RFC 3261 §18.1.1, §20.42).
    pub fn via_token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }
}

/// Where a message goes, or came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target {
    pub addr: SocketAddr,
    pub transport: Transport,
}

/// Identifies one transaction inside a [`TransactionLayer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionId(pub u64);

/// A message the layer wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub target: Target,
    pub message: SipMessage,
}

/// What the transaction user (dialog / call layer) must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionEvent {
    /// A new request created a server transaction; answer it with `respond(id, ..)`.
    /// CANCEL arrives here too (it is its own transaction, RFC 3261 §9.2).
    Request {
        id: TransactionId,
        request: Request,
        source: Target,
    },
    /// An ACK that matched no INVITE server transaction: the ACK for a 2xx, which belongs to the
    /// dialog (RFC 3261 §17.2.3, §13.3.1.4).
    Ack { request: Request, source: Target },
    /// A response for a client transaction. Provisional and final responses are passed once; 2xx
    /// retransmissions to an INVITE are passed each time so the dialog can re-send its ACK
    /// (RFC 6026 §8.4, Accepted state).
    Response {
        id: TransactionId,
        method: Method,
        response: Response,
    },
    /// A response no client transaction matched (e.g. a 2xx retransmission after Timer M).
    StrayResponse { response: Response },
    /// Timer B or F (no final response) or Timer H (no ACK for our final response) fired.
    Timeout { id: TransactionId, method: Method },
}

/// The timers of RFC 3261 §17 (Table 4) and RFC 6026 (L, M).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TimerName {
    A,
    B,
    D,
    E,
    F,
    K,
    G,
    H,
    I,
    J,
    L,
    M,
}

impl TimerName {
    const ALL: [TimerName; 12] = [
        TimerName::A,
        TimerName::B,
        TimerName::D,
        TimerName::E,
        TimerName::F,
        TimerName::K,
        TimerName::G,
        TimerName::H,
        TimerName::I,
        TimerName::J,
        TimerName::L,
        TimerName::M,
    ];
}

pub(crate) type TimerKey = (TransactionId, TimerName);

/// What a machine needs from the layer while it handles one input.
pub(crate) struct Context<'a> {
    pub now: Duration,
    pub config: &'a TimerConfig,
    pub timers: &'a mut TimerTable<TimerKey>,
    pub outgoing: &'a mut VecDeque<Outgoing>,
    pub events: &'a mut VecDeque<TransactionEvent>,
}

impl Context<'_> {
    pub fn send(&mut self, target: Target, message: SipMessage) {
        self.outgoing.push_back(Outgoing { target, message });
    }

    pub fn arm(&mut self, id: TransactionId, timer: TimerName, after: Duration) {
        self.timers.set((id, timer), self.now.saturating_add(after));
    }

    pub fn disarm(&mut self, id: TransactionId, timer: TimerName) {
        self.timers.cancel(&(id, timer));
    }

    pub fn disarm_all(&mut self, id: TransactionId) {
        for timer in TimerName::ALL {
            self.timers.cancel(&(id, timer));
        }
    }

    /// A zero interval on reliable transports (Timers D, I, J, K), `unreliable` otherwise.
    pub fn linger(target: Target, unreliable: Duration) -> Duration {
        if target.transport.is_reliable() {
            Duration::ZERO
        } else {
            unreliable
        }
    }
}

pub(crate) fn is_provisional(status: u16) -> bool {
    (100..200).contains(&status)
}

pub(crate) fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}
