//! The signaling loop: one task owns the SIP `Endpoint`, turns its events into call tasks and API
//! events, carries out the API's commands, and runs graceful shutdown.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use api::{
    ApiHandle, CallEvent, CallId, CallState, Command, EngineError, EngineRequest, Party, PartyKind,
};
use bytes::Bytes;
use media::Digit;
use signaling::endpoint::{
    CallHandle, Endpoint, EndpointEvent, RegistrationEvent, Transmit, Transport,
};
use signaling::message::{NameAddr, Scheme, Uri};
use signaling::sdp::{self, LocalMedia, MediaPrefs, Negotiated};
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, info_span, warn};

use crate::call_task::{CallCommand, CallReport, CallSetup, CallTask};
use crate::clock::Clock;
use crate::config::{Config, IncomingMode};
use crate::convert;
use crate::prompts::PromptStore;
use crate::rtp_ports::PortPool;
use crate::sip_transport::{Inbound, Proto, SipTransport};

mod commands;
mod events;
pub(crate) mod route;
mod setup;

struct Entry {
    id: CallId,
    state: CallState,
    offer: Bytes,
    outgoing: bool,
    task: Option<mpsc::Sender<CallCommand>>,
    answer_by: Option<Duration>,
    hang_up_at: Option<Duration>,
    session_id: u64,
    version: u64,
    rtp_port: Option<crate::rtp_ports::RtpPort>,
    local_port: u16,
}

pub struct SipLoop {
    clock: Clock,
    endpoint: Endpoint,
    transport: SipTransport,
    /// TCP messages in send order, written by one task.
    tcp_out: mpsc::Sender<(SocketAddr, Bytes)>,
    config: Arc<Config>,
    api: ApiHandle,
    prompts: PromptStore,
    ports: PortPool,
    media_ip: IpAddr,
    prefs: MediaPrefs,
    calls: HashMap<CallHandle, Entry>,
    by_id: HashMap<CallId, CallHandle>,
    reports: (mpsc::Sender<CallReport>, mpsc::Receiver<CallReport>),
    tasks: usize,
    seed: u64,
    drain_until: Option<Duration>,
    /// Waiting for the answer to our un-REGISTER at shutdown.
    unregistering: bool,
    /// The PBX we register with: it routes outgoing calls to numbers and its own domain.
    registrar: Option<route::Registrar>,
}

impl SipLoop {
    pub fn new(
        clock: Clock,
        endpoint: Endpoint,
        transport: SipTransport,
        config: Arc<Config>,
        api: ApiHandle,
        prompts: PromptStore,
        media_ip: IpAddr,
    ) -> SipLoop {
        let prefs = MediaPrefs {
            codecs: convert::codec_prefs(&config.rtp.codecs),
            ptime_ms: config.rtp.ptime_ms,
            telephone_event: true,
            comfort_noise: config.rtp.comfort_noise,
        };
        let seed = endpoint.config().seed;
        SipLoop {
            clock,
            endpoint,
            tcp_out: tcp_sender(transport.clone()),
            transport,
            ports: PortPool::new(config.rtp_ports()),
            config,
            api,
            prompts,
            media_ip,
            prefs,
            calls: HashMap::new(),
            by_id: HashMap::new(),
            reports: mpsc::channel(1024),
            tasks: 0,
            seed,
            drain_until: None,
            unregistering: false,
            registrar: None,
        }
    }

    pub async fn run(
        mut self,
        mut sip: mpsc::Receiver<Inbound>,
        mut engine: mpsc::Receiver<EngineRequest>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let now = self.clock.now();
        match crate::registration::start(&mut self.endpoint, now, &self.config).await {
            Ok(Some(registrar)) => {
                info!(registrar = %registrar.uri, addr = %registrar.addr, "registering");
                self.registrar = Some(registrar);
            }
            Ok(None) => {}
            Err(error) => warn!(%error, "not registering"),
        }
        self.flush(now).await;
        loop {
            let now = self.clock.now();
            let deadline = [self.endpoint.poll_timeout(), self.next_deadline()]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(now + Duration::from_secs(1));
            tokio::select! {
                Some(m) = sip.recv() => {
                    let now = self.clock.now();
                    let t = match m.proto { Proto::Udp => Transport::Udp, Proto::Tcp => Transport::Tcp };
                    self.endpoint.handle_datagram(now, m.from, t, &m.bytes);
                }
                Some(req) = engine.recv() => {
                    let now = self.clock.now();
                    let result = self.on_command(now, req.cmd).await;
                    let _ = req.reply.send(result);
                }
                Some(report) = self.reports.1.recv() => self.on_report(report),
                _ = tokio::time::sleep_until(self.clock.instant(deadline)) => {
                    let now = self.clock.now();
                    self.endpoint.handle_timeout(now);
                    self.on_deadlines(now);
                }
                changed = shutdown.changed(), if self.drain_until.is_none() => {
                    if changed.is_err() || *shutdown.borrow() {
                        self.begin_drain(self.clock.now());
                    }
                }
            }
            let now = self.clock.now();
            self.flush(now).await;
            if let Some(until) = self.drain_until {
                let quiet = self.calls.is_empty() && self.tasks == 0 && !self.unregistering;
                if quiet || now > until + Duration::from_secs(5) {
                    info!(calls = self.calls.len(), "signaling stopped");
                    return;
                }
            }
        }
    }

    fn next_deadline(&self) -> Option<Duration> {
        let calls = self
            .calls
            .values()
            .flat_map(|e| [e.answer_by, e.hang_up_at])
            .flatten()
            .min();
        [calls, self.drain_until].into_iter().flatten().min()
    }

    fn begin_drain(&mut self, now: Duration) {
        let drain = Duration::from_secs(self.config.calls.drain_seconds);
        info!(
            calls = self.calls.len(),
            drain_seconds = drain.as_secs(),
            "shutting down: refusing new calls"
        );
        self.endpoint
            .refuse_new_calls(503, Some(self.config.calls.drain_seconds.max(1) as u32));
        self.drain_until = Some(now + drain);
        for e in self.calls.values_mut() {
            e.hang_up_at = Some(e.hang_up_at.map_or(now + drain, |t| t.min(now + drain)));
        }
    }

    fn on_deadlines(&mut self, now: Duration) {
        let due: Vec<(CallHandle, bool)> = self
            .calls
            .iter()
            .filter_map(|(h, e)| {
                if e.answer_by.is_some_and(|t| t <= now) {
                    Some((*h, true))
                } else if e.hang_up_at.is_some_and(|t| t <= now) {
                    Some((*h, false))
                } else {
                    None
                }
            })
            .collect();
        for (h, unanswered) in due {
            if let Some(e) = self.calls.get_mut(&h) {
                e.answer_by = None;
                e.hang_up_at = None;
            }
            if unanswered {
                info!(call = h.0, "not answered in time: 480");
                let _ = self.endpoint.reject(now, h, 480);
            } else {
                info!(call = h.0, "hanging up (call time limit or shutdown)");
                self.hang_up(now, h);
            }
        }
    }

    fn hang_up(&mut self, now: Duration, h: CallHandle) {
        if let Some(e) = self.calls.get_mut(&h) {
            if e.state != CallState::Terminating {
                e.state = CallState::Terminating;
                self.api.call_event(CallEvent::StateChanged {
                    call: e.id.clone(),
                    state: CallState::Terminating,
                    result_info: None,
                });
            }
        }
        if let Err(err) = self.endpoint.hangup(now, h) {
            debug!(call = h.0, error = %err, "hang-up refused");
        }
    }

    fn on_report(&mut self, report: CallReport) {
        match report {
            CallReport::HangUp { call } => {
                let now = self.clock.now();
                self.hang_up(now, call);
            }
            CallReport::Gone { .. } => self.tasks = self.tasks.saturating_sub(1),
        }
    }

    /// Sends what the endpoint wants sent and handles what it says, until both are empty.
    async fn flush(&mut self, now: Duration) {
        loop {
            let mut busy = false;
            while let Some(t) = self.endpoint.poll_transmit() {
                busy = true;
                self.send(t).await;
            }
            while let Some(ev) = self.endpoint.poll_event() {
                busy = true;
                self.on_event(now, ev);
            }
            if !busy {
                return;
            }
        }
    }

    async fn send(&self, t: Transmit) {
        let proto = match t.transport {
            Transport::Udp => Proto::Udp,
            Transport::Tcp => Proto::Tcp,
        };
        let bytes = Bytes::from(t.bytes);
        match proto {
            Proto::Udp => {
                if let Err(e) = self.transport.send(proto, t.to, bytes).await {
                    debug!(error = ?e, "SIP send failed");
                }
            }
            // A TCP connect may take a while: never hold the loop for it, but keep the order
            // (a 100 Trying must not overtake the 200 OK on the same connection).
            Proto::Tcp => {
                if self.tcp_out.try_send((t.to, bytes)).is_err() {
                    warn!(to = %t.to, "SIP TCP send queue full; message dropped");
                }
            }
        }
    }
}

/// The task that writes TCP messages one after the other, connecting when needed.
fn tcp_sender(transport: SipTransport) -> mpsc::Sender<(SocketAddr, Bytes)> {
    let (tx, mut rx) = mpsc::channel::<(SocketAddr, Bytes)>(4096);
    tokio::spawn(async move {
        while let Some((to, bytes)) = rx.recv().await {
            if let Err(e) = transport.send(Proto::Tcp, to, bytes).await {
                debug!(error = ?e, "SIP send failed");
            }
        }
    });
    tx
}

fn party(n: &NameAddr) -> Party {
    let kind = if n.uri.scheme == Scheme::Tel {
        PartyKind::Phone
    } else {
        PartyKind::User
    };
    let id = match kind {
        PartyKind::Phone => n.uri.user.clone().unwrap_or_default(),
        _ => n.uri.to_string(),
    };
    Party {
        kind,
        id,
        display_name: n.display_name.clone(),
    }
}
