//! The transaction layer: owns every transaction, matches messages to them (§17.1.3, §17.2.3)
//! and runs their timers from one table.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use super::client_invite::{self, InviteClient};
use super::client_non_invite::{self, NonInviteClient};
use super::key::{ClientKey, ServerKey};
use super::server_invite::{self, InviteServer};
use super::server_non_invite::{self, NonInviteServer};
use super::{Context, Outgoing, Target, TimerKey, TransactionEvent, TransactionId};
use crate::message::{CSeq, HeaderName, Headers, Method, Request, Response, SipMessage};
use crate::timer::{TimerConfig, TimerTable};

#[derive(Debug)]
enum Client {
    Invite(Box<InviteClient>),
    NonInvite(Box<NonInviteClient>),
}

#[derive(Debug)]
enum Server {
    Invite(InviteServer),
    NonInvite(NonInviteServer),
}

impl Client {
    fn is_terminated(&self) -> bool {
        match self {
            Client::Invite(t) => t.state == client_invite::State::Terminated,
            Client::NonInvite(t) => t.state == client_non_invite::State::Terminated,
        }
    }
}

impl Server {
    fn is_terminated(&self) -> bool {
        match self {
            Server::Invite(t) => t.state == server_invite::State::Terminated,
            Server::NonInvite(t) => t.state == server_non_invite::State::Terminated,
        }
    }
}

#[derive(Debug)]
struct Shared {
    config: TimerConfig,
    timers: TimerTable<TimerKey>,
    outgoing: VecDeque<Outgoing>,
    events: VecDeque<TransactionEvent>,
}

impl Shared {
    fn cx(&mut self, now: Duration) -> Context<'_> {
        Context {
            now,
            config: &self.config,
            timers: &mut self.timers,
            outgoing: &mut self.outgoing,
            events: &mut self.events,
        }
    }
}

/// Every client and server transaction of one endpoint.
#[derive(Debug)]
pub struct TransactionLayer {
    shared: Shared,
    next_id: u64,
    clients: HashMap<TransactionId, (ClientKey, Client)>,
    client_keys: HashMap<ClientKey, TransactionId>,
    servers: HashMap<TransactionId, (ServerKey, Server)>,
    server_keys: HashMap<ServerKey, TransactionId>,
}

impl TransactionLayer {
    pub fn new(config: TimerConfig) -> Self {
        Self {
            shared: Shared {
                config,
                timers: TimerTable::new(),
                outgoing: VecDeque::new(),
                events: VecDeque::new(),
            },
            next_id: 1,
            clients: HashMap::new(),
            client_keys: HashMap::new(),
            servers: HashMap::new(),
            server_keys: HashMap::new(),
        }
    }

    pub fn config(&self) -> &TimerConfig {
        &self.shared.config
    }

    /// Starts a client transaction. `None` when the request has no Via branch to match
    /// responses on, or is an ACK (ACKs for 2xx are sent with [`Self::send_stateless`]).
    pub fn send_request(
        &mut self,
        now: Duration,
        request: Request,
        target: Target,
    ) -> Option<TransactionId> {
        if request.method == Method::Ack {
            return None;
        }
        let key = ClientKey::for_request(&request)?;
        if self.client_keys.contains_key(&key) {
            return None;
        }
        let id = self.allocate();
        let mut cx = self.shared.cx(now);
        let txn = if request.method == Method::Invite {
            Client::Invite(Box::new(InviteClient::start(id, request, target, &mut cx)))
        } else {
            Client::NonInvite(Box::new(NonInviteClient::start(
                id, request, target, &mut cx,
            )))
        };
        self.client_keys.insert(key.clone(), id);
        self.clients.insert(id, (key, txn));
        Some(id)
    }

    /// Sends outside any transaction: the ACK for a 2xx and the 2xx retransmissions of
    /// §13.3.1.4 once the INVITE server transaction is gone.
    pub fn send_stateless(&mut self, target: Target, message: SipMessage) {
        self.shared.outgoing.push_back(Outgoing { target, message });
    }

    /// CANCELs an INVITE client transaction (RFC 3261 §9.1); `None` when it already has a
    /// final response or does not exist.
    pub fn cancel(&mut self, now: Duration, invite: TransactionId) -> Option<TransactionId> {
        let (request, target) = match self.clients.get(&invite) {
            Some((_, Client::Invite(t)))
                if matches!(
                    t.state,
                    client_invite::State::Calling | client_invite::State::Proceeding
                ) =>
            {
                (cancel_for(&t.request), t.target)
            }
            _ => return None,
        };
        self.send_request(now, request, target)
    }

    /// A request from the network, its top Via already stamped with received/rport (§18.2.1);
    /// `reply_to` is where responses go (§18.2.2). `false` when it cannot be matched (no Via).
    pub fn handle_request(&mut self, now: Duration, request: Request, reply_to: Target) -> bool {
        let Some(key) = ServerKey::for_request(&request) else {
            return false;
        };
        let existing = self.server_keys.get(&key).copied();
        let mut cx = self.shared.cx(now);
        match (existing, &request.method) {
            (Some(id), Method::Ack) => {
                if let Some((_, Server::Invite(t))) = self.servers.get_mut(&id) {
                    t.on_ack(request, reply_to, &mut cx);
                }
                self.reap_server(id);
            }
            (None, Method::Ack) => cx.events.push_back(TransactionEvent::Ack {
                request,
                source: reply_to,
            }),
            (Some(id), _) => match self.servers.get_mut(&id) {
                Some((_, Server::Invite(t))) => t.on_retransmission(&mut cx),
                Some((_, Server::NonInvite(t))) => t.on_retransmission(&mut cx),
                None => {}
            },
            (None, method) => {
                let id = self.allocate();
                let mut cx = self.shared.cx(now);
                let txn = if *method == Method::Invite {
                    let trying = Response::for_request(&request, 100, "Trying");
                    Server::Invite(InviteServer::start(
                        id,
                        request.clone(),
                        reply_to,
                        trying,
                        &mut cx,
                    ))
                } else {
                    Server::NonInvite(NonInviteServer::start(id, request.clone(), reply_to))
                };
                cx.events.push_back(TransactionEvent::Request {
                    id,
                    request,
                    source: reply_to,
                });
                self.server_keys.insert(key.clone(), id);
                self.servers.insert(id, (key, txn));
            }
        }
        true
    }

    /// A response from the network (§17.1.3).
    pub fn handle_response(&mut self, now: Duration, response: Response) {
        let id = ClientKey::for_response(&response).and_then(|k| self.client_keys.get(&k).copied());
        let mut cx = self.shared.cx(now);
        match id.and_then(|id| self.clients.get_mut(&id)) {
            Some((_, Client::Invite(t))) => t.on_response(response, &mut cx),
            Some((_, Client::NonInvite(t))) => t.on_response(response, &mut cx),
            None => cx
                .events
                .push_back(TransactionEvent::StrayResponse { response }),
        }
        if let Some(id) = id {
            self.reap_client(id);
        }
    }

    /// Sends a response within server transaction `id`; `false` when it no longer exists.
    pub fn respond(&mut self, now: Duration, id: TransactionId, response: Response) -> bool {
        let mut cx = self.shared.cx(now);
        let found = match self.servers.get_mut(&id) {
            Some((_, Server::Invite(t))) => {
                t.respond(response, &mut cx);
                true
            }
            Some((_, Server::NonInvite(t))) => {
                t.respond(response, &mut cx);
                true
            }
            None => false,
        };
        self.reap_server(id);
        found
    }

    /// The INVITE server transaction a CANCEL refers to (§9.2).
    pub fn invite_for_cancel(&self, cancel: &Request) -> Option<TransactionId> {
        let key = ServerKey::invite_of(cancel)?;
        self.server_keys.get(&key).copied()
    }

    /// The request that created server transaction `id`.
    pub fn server_request(&self, id: TransactionId) -> Option<&Request> {
        match self.servers.get(&id) {
            Some((_, Server::Invite(t))) => Some(&t.request),
            Some((_, Server::NonInvite(t))) => Some(&t.request),
            None => None,
        }
    }

    /// The final status an INVITE server transaction has sent, if any.
    pub fn invite_final_status(&self, id: TransactionId) -> Option<u16> {
        match self.servers.get(&id) {
            Some((_, Server::Invite(t))) => t.last_status().filter(|s| *s >= 200),
            _ => None,
        }
    }

    pub fn handle_timeout(&mut self, now: Duration) {
        while let Some((id, timer)) = self.shared.timers.pop_expired(now) {
            let mut cx = self.shared.cx(now);
            if let Some((_, txn)) = self.clients.get_mut(&id) {
                match txn {
                    Client::Invite(t) => t.on_timer(timer, &mut cx),
                    Client::NonInvite(t) => t.on_timer(timer, &mut cx),
                }
                self.reap_client(id);
            } else if let Some((_, txn)) = self.servers.get_mut(&id) {
                match txn {
                    Server::Invite(t) => t.on_timer(timer, &mut cx),
                    Server::NonInvite(t) => t.on_timer(timer, &mut cx),
                }
                self.reap_server(id);
            }
        }
    }

    pub fn poll_timeout(&self) -> Option<Duration> {
        self.shared.timers.next_deadline()
    }

    pub fn poll_outgoing(&mut self) -> Option<Outgoing> {
        self.shared.outgoing.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.shared.events.pop_front()
    }

    /// Live transactions (client, server), for tests and metrics.
    pub fn len(&self) -> (usize, usize) {
        (self.clients.len(), self.servers.len())
    }

    fn allocate(&mut self) -> TransactionId {
        let id = TransactionId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    fn reap_client(&mut self, id: TransactionId) {
        if self
            .clients
            .get(&id)
            .is_some_and(|(_, t)| t.is_terminated())
        {
            if let Some((key, _)) = self.clients.remove(&id) {
                self.client_keys.remove(&key);
            }
        }
    }

    fn reap_server(&mut self, id: TransactionId) {
        if self
            .servers
            .get(&id)
            .is_some_and(|(_, t)| t.is_terminated())
        {
            if let Some((key, _)) = self.servers.remove(&id) {
                self.server_keys.remove(&key);
            }
        }
    }
}

/// RFC 3261 §9.1: CANCEL copies Request-URI, Call-ID, To, From, the CSeq number and the top
/// Via (same branch) of the INVITE, and its Route set.
fn cancel_for(invite: &Request) -> Request {
    let mut headers = Headers::new();
    if let Ok(via) = invite.top_via() {
        headers.push(HeaderName::Via, via.to_string());
    }
    for route in invite.headers.all(&HeaderName::Route) {
        headers.push(HeaderName::Route, route);
    }
    headers.push(HeaderName::MaxForwards, "70");
    for name in [HeaderName::From, HeaderName::To, HeaderName::CallId] {
        if let Some(v) = invite.headers.first(&name) {
            headers.push(name, v);
        }
    }
    let seq = invite.cseq().map_or(1, |c| c.seq);
    headers.push(HeaderName::CSeq, CSeq::new(seq, Method::Cancel).to_string());
    Request {
        method: Method::Cancel,
        uri: invite.uri.clone(),
        headers,
        body: bytes::Bytes::new(),
    }
}
