//! The call-level user agent: INVITE sessions over the transaction layer, sans-IO.
//!
//! Inputs: `handle_datagram(now, from, transport, bytes)`, `handle_timeout(now)` and the call
//! commands (`answer`, `reject`, `hangup`, `invite`, …). Outputs: `poll_transmit`,
//! `poll_event`, `poll_timeout`. SDP bodies pass through as opaque bytes.
//!
//! ```
//! use std::time::Duration;
//! use signaling::endpoint::{Endpoint, EndpointConfig, EndpointEvent};
//!
//! let mut ua = Endpoint::new(EndpointConfig::new("127.0.0.1:5080".parse().unwrap()));
//! let now = Duration::ZERO;
//! let invite = b"INVITE sip:bot@127.0.0.1:5080 SIP/2.0\r\n\
//!     Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1;rport\r\n\
//!     From: <sip:peer@127.0.0.1>;tag=a\r\nTo: <sip:bot@127.0.0.1>\r\n\
//!     Call-ID: doc\r\nCSeq: 1 INVITE\r\nContact: <sip:peer@127.0.0.1:5062>\r\n\
//!     Content-Length: 0\r\n\r\n";
//! // The runtime's loop: feed datagrams and timeouts in, drain the three outputs.
//! ua.handle_datagram(now, "127.0.0.1:5062".parse().unwrap(), signaling::endpoint::Transport::Udp, invite);
//! while let Some(t) = ua.poll_transmit() { /* socket.send_to(&t.bytes, t.to) */ let _ = t; }
//! while let Some(event) = ua.poll_event() {
//!     if let EndpointEvent::IncomingCall { call, .. } = event {
//!         ua.answer(now, call, bytes::Bytes::from_static(b"v=0\r\n")).unwrap();
//!     }
//! }
//! let wake_at = ua.poll_timeout(); // then call `handle_timeout(wake_at)`
//! assert_eq!(wake_at, Some(Duration::from_millis(500))); // the 200 OK's first retransmission
//! ```

mod addressing;
mod answer;
mod call;
mod dtmf;
mod malformed;
mod register;
mod types;
mod uac;
mod uas;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::message::{HeaderName, Request, Response, SipMessage, Via};
use crate::timer::TimerTable;
use crate::transaction::{Target, TransactionEvent, TransactionId, TransactionLayer};

pub use crate::registration::{RegistrationConfig, RegistrationEvent};
pub use crate::transaction::Transport;
pub use malformed::stream_framing_error;
pub use types::{
    CallHandle, CommandError, Credentials, EndReason, EndpointConfig, EndpointEvent, Transmit,
};

use call::{Call, CallTimer};

pub struct Endpoint {
    config: EndpointConfig,
    layer: TransactionLayer,
    rng: StdRng,
    calls: HashMap<CallHandle, Call>,
    /// (Call-ID, local tag) → call, for in-dialog requests and ACKs.
    by_dialog: HashMap<(String, String), CallHandle>,
    /// INVITE, CANCEL, BYE and re-INVITE transactions → their call.
    by_txn: HashMap<TransactionId, CallHandle>,
    timers: TimerTable<(CallHandle, CallTimer)>,
    events: VecDeque<EndpointEvent>,
    next_call: u64,
    /// Graceful shutdown: new INVITEs get this status and Retry-After.
    refusing: Option<(u16, Option<u32>)>,
    registrar: Option<register::Registrar>,
}

impl Endpoint {
    pub fn new(config: EndpointConfig) -> Self {
        Self {
            layer: TransactionLayer::new(config.timers),
            rng: StdRng::seed_from_u64(config.seed),
            config,
            calls: HashMap::new(),
            by_dialog: HashMap::new(),
            by_txn: HashMap::new(),
            timers: TimerTable::new(),
            events: VecDeque::new(),
            next_call: 1,
            refusing: None,
            registrar: None,
        }
    }

    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// One SIP message from the network (a datagram, or one framed stream message).
    pub fn handle_datagram(
        &mut self,
        now: Duration,
        from: SocketAddr,
        transport: Transport,
        bytes: &[u8],
    ) {
        // The parser leaves the grammar of Via, From, To, Contact and Route to `validate`: a
        // request that fails it is answered 400 below (RFC 3261 §8.2.2, §21.4.1); a response
        // is never answered, so one that fails is dropped.
        let parsed = crate::message::parse_datagram(bytes).and_then(|m| m.validate().map(|()| m));
        match parsed {
            Ok(SipMessage::Request(mut request)) => {
                addressing::stamp_via(&mut request, from);
                let via = request.top_via().ok();
                let reply_to = addressing::reply_target(via.as_ref(), from, transport);
                if !self.layer.handle_request(now, request, reply_to) {
                    self.events.push_back(EndpointEvent::MessageDropped {
                        source: from,
                        error: crate::Error::MissingHeader { name: "Via" },
                    });
                }
            }
            Ok(SipMessage::Response(response)) => self.layer.handle_response(now, response),
            Err(error) => {
                if let Some((target, response)) =
                    malformed::bad_request(bytes, &error, from, transport)
                {
                    self.layer
                        .send_stateless(target, SipMessage::Response(response));
                }
                self.events.push_back(EndpointEvent::MessageDropped {
                    source: from,
                    error,
                });
            }
        }
        self.drain(now);
    }

    pub fn handle_timeout(&mut self, now: Duration) {
        self.layer.handle_timeout(now);
        self.drain(now);
        while let Some((call, timer)) = self.timers.pop_expired(now) {
            self.on_call_timer(now, call, timer);
            self.drain(now);
        }
        self.registration_timeout(now);
        self.drain(now);
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let out = self.layer.poll_outgoing()?;
        Some(Transmit {
            to: out.target.addr,
            transport: out.target.transport,
            bytes: out.message.to_bytes(),
        })
    }

    pub fn poll_event(&mut self) -> Option<EndpointEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Duration> {
        [
            self.layer.poll_timeout(),
            self.timers.next_deadline(),
            self.registration_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Graceful shutdown: new INVITEs are answered `status` (503) with Retry-After.
    pub fn refuse_new_calls(&mut self, status: u16, retry_after_secs: Option<u32>) {
        self.refusing = Some((status, retry_after_secs));
    }

    /// Calls not yet forgotten (ended calls linger 64·T1 to absorb retransmissions).
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    fn drain(&mut self, now: Duration) {
        while let Some(event) = self.layer.poll_event() {
            match event {
                TransactionEvent::Request {
                    id,
                    request,
                    source,
                } => self.on_request(now, id, request, source),
                TransactionEvent::Ack { request, .. } => self.on_ack(now, request),
                TransactionEvent::Response { id, response, .. } if self.is_register_txn(id) => {
                    self.on_register_response(now, id, &response)
                }
                TransactionEvent::Timeout { id, .. } if self.is_register_txn(id) => {
                    self.on_register_timeout(now, id)
                }
                TransactionEvent::Response {
                    id,
                    method,
                    response,
                } => self.on_response(now, id, method, response),
                TransactionEvent::StrayResponse { response } => self.on_stray(response),
                TransactionEvent::Timeout { id, method } => self.on_txn_timeout(now, id, method),
            }
        }
    }

    fn on_call_timer(&mut self, now: Duration, handle: CallHandle, timer: CallTimer) {
        match timer {
            CallTimer::OkRetransmit => self.retransmit_ok(now, handle),
            CallTimer::OkTimeout => self.ok_timed_out(now, handle),
            CallTimer::CancelGuard => self.end(now, handle, EndReason::Timeout),
            CallTimer::Reap => self.forget(handle),
        }
    }

    fn new_handle(&mut self) -> CallHandle {
        let h = CallHandle(self.next_call);
        self.next_call = self.next_call.wrapping_add(1);
        h
    }

    fn random_token(&mut self) -> String {
        format!("{:016x}", self.rng.random::<u64>())
    }

    /// Our Via for a new client transaction, with a fresh branch and `rport` (RFC 3581 §3).
    fn new_via(&mut self) -> Via {
        let mut via = Via::new(
            self.config.transport.via_token(),
            self.config.host.clone(),
            Some(self.config.port),
        );
        let branch = format!(
            "{}{}",
            crate::transaction::MAGIC_COOKIE,
            self.random_token()
        );
        via.set_param("branch", Some(branch));
        via.set_param("rport", None);
        via
    }

    /// A response with our To tag (§8.2.6.2; none on 100) and a Server header.
    fn response(&self, request: &Request, status: u16, to_tag: Option<&str>) -> Response {
        let mut r = Response::for_request(request, status, crate::message::reason_phrase(status));
        if let (Some(tag), true) = (to_tag, status > 100) {
            if let Ok(mut to) = request.to() {
                if to.tag().is_none() {
                    to.set_tag(tag);
                    r.headers.set(HeaderName::To, to.to_string());
                }
            }
        }
        // RFC 3261 §12.1.1: a response that creates a dialog carries the request's
        // Record-Route values, in order, so the caller routes its ACK and BYE via the proxies.
        if request.method == crate::message::Method::Invite && (101..300).contains(&status) {
            for rr in request.headers.all(&HeaderName::RecordRoute) {
                r.headers.push(HeaderName::RecordRoute, rr.to_string());
            }
        }
        if !self.config.user_agent.is_empty() {
            r.headers
                .push(HeaderName::Server, self.config.user_agent.clone());
        }
        r
    }

    /// A response outside any call, with a throw-away To tag.
    fn reply(&mut self, now: Duration, id: TransactionId, request: &Request, status: u16) {
        let tag = self.random_token();
        let r = self.response(request, status, Some(&tag));
        self.reply_with(now, id, r);
    }

    fn reply_with(&mut self, now: Duration, id: TransactionId, response: Response) {
        self.layer.respond(now, id, response);
    }

    /// Allow / Accept / Supported, for OPTIONS, 405 and 415 (§11.2, §21.4.13, §21.4.26).
    fn add_capabilities(&self, response: &mut Response) {
        response
            .headers
            .push(HeaderName::Allow, types::join(&self.config.allow));
        response
            .headers
            .push(HeaderName::Accept, types::join(&self.config.accept));
        if !self.config.supported.is_empty() {
            response
                .headers
                .push(HeaderName::Supported, types::join(&self.config.supported));
        }
    }

    /// Sends a request in a new client transaction to `target`'s resolved address.
    fn send_in_txn(
        &mut self,
        now: Duration,
        handle: CallHandle,
        request: Request,
        to: SocketAddr,
    ) -> Option<TransactionId> {
        let target = Target {
            addr: to,
            transport: self.config.transport,
        };
        let id = self.layer.send_request(now, request, target)?;
        self.by_txn.insert(id, handle);
        Some(id)
    }

    /// Ends a call once: the event, then a linger period before it is forgotten.
    fn end(&mut self, now: Duration, handle: CallHandle, reason: EndReason) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if call.ended {
            return;
        }
        call.ended = true;
        for t in [
            CallTimer::OkRetransmit,
            CallTimer::OkTimeout,
            CallTimer::CancelGuard,
        ] {
            self.timers.cancel(&(handle, t));
        }
        let linger = self.config.timers.t1x64();
        self.timers
            .set((handle, CallTimer::Reap), now.saturating_add(linger));
        self.events.push_back(EndpointEvent::CallEnded {
            call: handle,
            reason,
        });
    }

    fn forget(&mut self, handle: CallHandle) {
        if let Some(call) = self.calls.remove(&handle) {
            self.by_dialog
                .remove(&(call.call_id.clone(), call.local_tag.clone()));
        }
        self.by_txn.retain(|_, h| *h != handle);
    }

    fn dialog_call(&self, request: &Request) -> Option<CallHandle> {
        let call_id = request.call_id().ok()?.to_string();
        let to = request.to().ok()?;
        let tag = to.tag()?.to_string();
        self.by_dialog.get(&(call_id, tag)).copied()
    }
}
