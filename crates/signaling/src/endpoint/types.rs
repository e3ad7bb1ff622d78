//! What the runtime sees of the user agent: configuration, call handles, events, datagrams.

use std::net::SocketAddr;

use bytes::Bytes;

use crate::message::{Host, Method, NameAddr, Uri};
use crate::registration::RegistrationEvent;
use crate::timer::TimerConfig;
use crate::transaction::Transport;

/// Names one call for its whole life; appears in every event about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallHandle(pub u64);

/// A datagram (or stream chunk) to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub to: SocketAddr,
    pub transport: Transport,
    pub bytes: Vec<u8>,
}

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The peer sent BYE.
    RemoteBye,
    /// We hung up an answered call with BYE (also when our CANCEL lost the race with a 2xx).
    /// `hangup` of an unanswered incoming call ends it `Rejected(480)`; of our own unanswered
    /// INVITE, `Cancelled` once the 487 arrives.
    LocalBye,
    /// The caller CANCELled before we answered, or our CANCEL was honoured (487).
    Cancelled,
    /// A final non-2xx response ended the call (ours via `reject`/`redirect`, or theirs).
    Rejected(u16),
    /// No ACK for our 2xx within 64·T1 (§13.3.1.4), no final response (Timer B), or no ACK
    /// for our failure response (Timer H).
    Timeout,
    /// The next hop could not be resolved to an address.
    TransportError,
}

// IncomingCall is the large one; there is one per call, consumed at once, so boxing would only
// cost the runtime a dereference.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum EndpointEvent {
    /// A new INVITE. The 100 Trying (and 180 when `ring`) is already on its way.
    IncomingCall {
        call: CallHandle,
        call_id: String,
        from: NameAddr,
        to: NameAddr,
        request_uri: Uri,
        /// The SDP offer, empty for an offer-less INVITE.
        offer: Bytes,
        source: SocketAddr,
    },
    /// A provisional response to our INVITE.
    Progress {
        call: CallHandle,
        status: u16,
    },
    /// The peer's SDP answer: the body of the 2xx to our INVITE, or of the ACK to our 2xx
    /// when the INVITE carried no offer.
    Answered {
        call: CallHandle,
        answer: Bytes,
    },
    /// ACK received for our 2xx, or 2xx received (and ACKed) for our INVITE.
    CallEstablished {
        call: CallHandle,
    },
    CallEnded {
        call: CallHandle,
        reason: EndReason,
    },
    /// A re-INVITE or UPDATE with an SDP offer; answer with `answer_reoffer`.
    Reoffer {
        call: CallHandle,
        offer: Bytes,
    },
    /// A digit from SIP INFO (application/dtmf-relay or application/dtmf).
    Dtmf {
        call: CallHandle,
        digit_char: char,
        duration_ms: Option<u32>,
    },
    /// An input that could not be used: unparseable bytes, or a request answered 400.
    MessageDropped {
        source: SocketAddr,
        error: crate::Error,
    },
    /// The REGISTER client's progress (see `Endpoint::register`).
    Registration(RegistrationEvent),
}

/// The user agent's settings.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// Our Contact URI (where in-dialog requests reach us).
    pub contact: Uri,
    /// Via sent-by host and port.
    pub host: Host,
    pub port: u16,
    pub transport: Transport,
    pub user_agent: String,
    /// Seeds the tag, branch and Call-ID generator.
    pub seed: u64,
    /// Send 180 Ringing as soon as an INVITE arrives.
    pub ring: bool,
    pub timers: TimerConfig,
    pub allow: Vec<Method>,
    pub accept: Vec<String>,
    pub supported: Vec<String>,
    /// Answers one 401/407 to our INVITE with digest credentials (RFC 3261 §22.2).
    pub credentials: Option<Credentials>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl EndpointConfig {
    /// Defaults for a UA listening on `addr` over UDP.
    pub fn new(addr: SocketAddr) -> Self {
        let host = match addr.ip() {
            std::net::IpAddr::V4(v4) => Host::V4(v4),
            std::net::IpAddr::V6(v6) => Host::V6(v6),
        };
        let contact = Uri {
            scheme: crate::message::Scheme::Sip,
            user: Some("callclip".to_string()),
            password: None,
            host: host.clone(),
            port: Some(addr.port()),
            params: Vec::new(),
            headers: Vec::new(),
        };
        Self {
            contact,
            host,
            port: addr.port(),
            transport: Transport::Udp,
            user_agent: "callclip".to_string(),
            seed: 0,
            ring: false,
            timers: TimerConfig::default(),
            allow: vec![
                Method::Invite,
                Method::Ack,
                Method::Cancel,
                Method::Bye,
                Method::Options,
                Method::Info,
                Method::Update,
            ],
            accept: vec![
                "application/sdp".to_string(),
                "application/dtmf-relay".to_string(),
                "application/dtmf".to_string(),
            ],
            supported: Vec::new(),
            credentials: None,
        }
    }
}

/// Why a command could not be carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("no call {0:?}")]
    UnknownCall(CallHandle),
    #[error("call {0:?} is not in a state that allows this")]
    WrongState(CallHandle),
    #[error("the target cannot be resolved to an IP address")]
    Unresolvable,
}

pub(crate) fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
