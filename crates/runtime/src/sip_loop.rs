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
        }
    }

    pub async fn run(
        mut self,
        mut sip: mpsc::Receiver<Inbound>,
        mut engine: mpsc::Receiver<EngineRequest>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let now = self.clock.now();
        match crate::registration::start(&mut self.endpoint, now, &self.config) {
            Ok(true) => info!(registrar = %self.config.sip.register.registrar, "registering"),
            Ok(false) => {}
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

    fn on_event(&mut self, now: Duration, ev: EndpointEvent) {
        match ev {
            EndpointEvent::IncomingCall {
                call,
                call_id,
                from,
                to,
                request_uri,
                offer,
                source,
            } => {
                let id = CallId::new_random();
                let _span = info_span!("call", call = %id).entered();
                info!(%source, from = %from, to = %to, sip_call_id = %call_id, "incoming call");
                self.by_id.insert(id.clone(), call);
                let entry = self.entry(id.clone(), CallState::Incoming, offer, false);
                self.calls.insert(call, entry);
                self.api.call_event(CallEvent::Incoming {
                    call: id,
                    call_chain_id: call_id,
                    source: party(&from),
                    targets: vec![party(&to)],
                    request_uri: request_uri.to_string(),
                });
                match self.config.calls.incoming_mode {
                    IncomingMode::Notify => {
                        if let Some(e) = self.calls.get_mut(&call) {
                            e.answer_by = Some(
                                now + Duration::from_secs(self.config.calls.answer_timeout_seconds),
                            );
                        }
                    }
                    IncomingMode::Answer | IncomingMode::Flow => {
                        if let Err(e) = self.answer(now, call, &[]) {
                            warn!(error = %e, "cannot answer");
                        }
                    }
                }
            }
            EndpointEvent::Progress { call, status } => {
                if status == 180 || status == 183 {
                    self.set_state(call, CallState::Ringing);
                }
            }
            EndpointEvent::Answered { call, answer } => self.on_answered(now, call, answer),
            EndpointEvent::CallEstablished { call } => self.on_established(now, call),
            EndpointEvent::CallEnded { call, reason } => {
                let Some(mut e) = self.calls.remove(&call) else {
                    return;
                };
                let _span = info_span!("call", call = %e.id).entered();
                info!(?reason, "call ended");
                self.by_id.remove(&e.id);
                let result = convert::end_result(reason);
                match e.task.take() {
                    Some(task) => {
                        let _ = task.try_send(CallCommand::Ended { result });
                    }
                    None => self.api.call_event(CallEvent::Terminated {
                        call: e.id,
                        result_info: result,
                    }),
                }
            }
            EndpointEvent::Reoffer { call, offer } => self.on_reoffer(now, call, offer),
            EndpointEvent::Dtmf {
                call,
                digit_char,
                duration_ms,
            } => {
                if let (Some(digit), Some(task)) = (
                    Digit::from_char(digit_char),
                    self.calls.get(&call).and_then(|e| e.task.as_ref()),
                ) {
                    let duration = duration_ms.map(|ms| Duration::from_millis(u64::from(ms)));
                    let _ = task.try_send(CallCommand::InfoDigit { digit, duration });
                }
            }
            EndpointEvent::Registration(event) => {
                info!(?event, "registration");
                if matches!(
                    event,
                    RegistrationEvent::Unregistered | RegistrationEvent::Failed { .. }
                ) {
                    self.unregistering = false;
                }
            }
            EndpointEvent::MessageDropped { source, error } => {
                info!(%source, %error, "SIP message dropped");
            }
        }
    }

    fn entry(&mut self, id: CallId, state: CallState, offer: Bytes, outgoing: bool) -> Entry {
        self.seed = self
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Entry {
            id,
            state,
            offer,
            outgoing,
            task: None,
            answer_by: None,
            hang_up_at: None,
            session_id: self.seed >> 1,
            version: 1,
            rtp_port: None,
            local_port: 0,
        }
    }

    fn set_state(&mut self, call: CallHandle, state: CallState) {
        if let Some(e) = self.calls.get_mut(&call) {
            if e.state != state {
                info!(call = %e.id, state = %state, "call state");
                e.state = state;
                self.api.call_event(CallEvent::StateChanged {
                    call: e.id.clone(),
                    state,
                    result_info: None,
                });
            }
        }
    }

    /// Negotiates the offer, starts the call's media and sends 200 OK (or refuses: 488, 503).
    fn answer(
        &mut self,
        now: Duration,
        call: CallHandle,
        pre_fetch: &[recorder::PromptRef],
    ) -> Result<(), EngineError> {
        let Some(e) = self.calls.get(&call) else {
            return Err(EngineError::NotFound);
        };
        let offer = match sdp::parse_sdp(&e.offer) {
            Ok(o) => o,
            Err(err) => {
                info!(error = %err, "offer unusable: 488");
                let _ = self.endpoint.reject(now, call, 488);
                return Ok(());
            }
        };
        let port = match self.ports.bind(self.media_ip) {
            Ok(p) => p,
            Err(err) => {
                warn!(error = %err, "no RTP port: 503");
                let _ = self.endpoint.reject(now, call, 503);
                return Err(EngineError::Unavailable);
            }
        };
        let local = LocalMedia {
            ip: self.media_ip,
            rtp_port: port.port,
            session_id: e.session_id,
            session_version: e.version,
        };
        let (negotiated, answer) = match sdp::answer(&offer, &self.prefs, local) {
            Ok(x) => x,
            Err(err) => {
                info!(error = %err, "no common codec: 488");
                let _ = self.endpoint.reject(now, call, 488);
                return Ok(());
            }
        };
        // serviceHostedMediaConfig.preFetchMedia: warm the cache at the call's codec rate.
        let rate = convert::codec_kind(negotiated.codec.codec).pcm_rate();
        for p in pre_fetch {
            let (store, p) = (self.prompts.clone(), p.clone());
            tokio::spawn(async move {
                if let Err(e) = store.load(&p.uri, p.resource_id.as_deref(), rate).await {
                    info!(error = %e, "preFetchMedia failed");
                }
            });
        }
        self.start_media(call, port, negotiated)?;
        if let Err(err) = self.endpoint.answer(now, call, Bytes::from(answer)) {
            warn!(error = %err, "answer refused");
            return Err(EngineError::NotAllowed {
                state: CallState::Terminated,
            });
        }
        if let Some(e) = self.calls.get_mut(&call) {
            e.answer_by = None;
        }
        self.set_state(call, CallState::Establishing);
        Ok(())
    }

    fn start_media(
        &mut self,
        call: CallHandle,
        port: crate::rtp_ports::RtpPort,
        negotiated: Negotiated,
    ) -> Result<(), EngineError> {
        let Some(e) = self.calls.get_mut(&call) else {
            return Err(EngineError::NotFound);
        };
        info!(codec = ?negotiated.codec.codec, pt = negotiated.codec.pt, remote = %negotiated.remote_addr, local_port = port.port, "media negotiated");
        e.local_port = port.port;
        self.seed = self
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let setup = CallSetup {
            handle: call,
            call: e.id.clone(),
            port,
            negotiated,
            seed: self.seed,
            recordings_dir: self.config.recordings.dir.clone(),
            receive_timeout: Duration::from_secs(self.config.rtp.receive_timeout_seconds),
            comfort_noise: self.config.rtp.comfort_noise,
        };
        let task = CallTask::new(
            setup,
            self.clock,
            self.api.clone(),
            self.prompts.clone(),
            self.reports.0.clone(),
        )
        .map_err(|err| {
            warn!(error = %err, "call media setup failed");
            EngineError::Internal {
                reason: "media setup failed",
            }
        })?;
        let (tx, rx) = mpsc::channel(64);
        let span = info_span!("call", call = %e.id);
        tokio::spawn(tracing::Instrument::instrument(task.run(rx), span));
        self.tasks += 1;
        e.task = Some(tx);
        Ok(())
    }

    fn on_established(&mut self, now: Duration, call: CallHandle) {
        self.set_state(call, CallState::Established);
        let max = self.config.sip.max_call_seconds;
        let flow = self.config.calls.incoming_mode == IncomingMode::Flow;
        let Some(e) = self.calls.get_mut(&call) else {
            return;
        };
        if max > 0 {
            e.hang_up_at = Some(now + Duration::from_secs(max));
        }
        if let Some(until) = self.drain_until {
            e.hang_up_at = Some(e.hang_up_at.map_or(until, |t| t.min(until)));
        }
        if flow && !e.outgoing {
            match crate::flow::record_params(&self.config.calls.flow, self.config.api.max_seconds) {
                Ok(params) => {
                    let op = api::OperationId::new_random();
                    self.api.call_event(CallEvent::RecordStarted {
                        call: e.id.clone(),
                        op: op.clone(),
                        client_context: None,
                    });
                    if let Some(task) = &e.task {
                        let _ = task.try_send(CallCommand::Record {
                            op,
                            params,
                            hang_up_after: true,
                        });
                    }
                }
                Err(err) => warn!(error = %err, "calls.flow is invalid; hanging up"),
            }
        }
    }

    fn on_answered(&mut self, now: Duration, call: CallHandle, answer: Bytes) {
        let Some(e) = self.calls.get_mut(&call) else {
            return;
        };
        let parsed = sdp::parse_sdp(&answer).ok();
        let negotiated = parsed
            .as_ref()
            .and_then(|a| sdp::negotiated_from_answer(&self.prefs, a).ok());
        match (negotiated, e.rtp_port.take()) {
            (Some(n), Some(port)) => {
                if let Err(err) = self.start_media(call, port, n) {
                    warn!(error = ?err, "cannot start media for the outgoing call");
                    self.hang_up(now, call);
                }
            }
            _ => {
                warn!("the answer to our offer is unusable; hanging up");
                self.hang_up(now, call);
            }
        }
    }

    fn on_reoffer(&mut self, now: Duration, call: CallHandle, offer: Bytes) {
        let Some(e) = self.calls.get_mut(&call) else {
            return;
        };
        let answer = sdp::parse_sdp(&offer).ok().and_then(|o| {
            e.version += 1;
            let local = LocalMedia {
                ip: self.media_ip,
                rtp_port: e.local_port,
                session_id: e.session_id,
                session_version: e.version,
            };
            sdp::answer(&o, &self.prefs, local).ok()
        });
        match answer {
            Some((n, text)) => {
                let hold = n.on_hold();
                if let Some(task) = &e.task {
                    let _ = task.try_send(CallCommand::Renegotiated(Box::new(n)));
                }
                let _ = self.endpoint.answer_reoffer(now, call, Bytes::from(text));
                self.set_state(
                    call,
                    if hold {
                        CallState::Hold
                    } else {
                        CallState::Established
                    },
                );
            }
            None => {
                // RFC 3261 §14.2: a re-offer we cannot accept gets 488 and the call goes on.
                let _ = self.endpoint.answer_reoffer(now, call, Bytes::new());
            }
        }
    }

    async fn on_command(&mut self, now: Duration, cmd: Command) -> Result<(), EngineError> {
        if let Command::CreateCall {
            call,
            targets,
            source,
            ..
        } = cmd
        {
            return self.create_call(now, call, targets, source);
        }
        let Some(&h) = self.by_id.get(cmd.call()) else {
            return Err(EngineError::NotFound);
        };
        let Some(e) = self.calls.get(&h) else {
            return Err(EngineError::NotFound);
        };
        let state = e.state;
        let established = matches!(state, CallState::Established | CallState::Hold);
        let forward = |e: &Entry, c: CallCommand| match &e.task {
            Some(t) => t.try_send(c).map_err(|_| EngineError::Unavailable),
            None => Err(EngineError::NotAllowed { state }),
        };
        match cmd {
            Command::CreateCall { .. } => Ok(()),
            Command::Answer { media, .. } => {
                if state != CallState::Incoming || self.drain_until.is_some() {
                    return Err(EngineError::NotAllowed { state });
                }
                self.answer(now, h, &media.pre_fetch)
            }
            Command::Reject { reason, .. } => {
                if state != CallState::Incoming {
                    return Err(EngineError::NotAllowed { state });
                }
                let status = match reason {
                    api::RejectReason::None => 480,
                    api::RejectReason::Busy => 486,
                    api::RejectReason::Forbidden => 603,
                };
                self.endpoint
                    .reject(now, h, status)
                    .map_err(|_| EngineError::NotAllowed { state })
            }
            Command::Redirect { targets, .. } => {
                if state != CallState::Incoming {
                    return Err(EngineError::NotAllowed { state });
                }
                let uris: Vec<Uri> = targets.iter().filter_map(party_uri).collect();
                if uris.is_empty() {
                    return Err(EngineError::Internal {
                        reason: "no redirect target is a SIP URI",
                    });
                }
                self.endpoint
                    .redirect(now, h, uris)
                    .map_err(|_| EngineError::NotAllowed { state })
            }
            Command::Hangup { .. } => {
                self.hang_up(now, h);
                Ok(())
            }
            Command::Record { op, params, .. } => {
                if !established {
                    return Err(EngineError::NotAllowed { state });
                }
                forward(
                    e,
                    CallCommand::Record {
                        op,
                        params,
                        hang_up_after: false,
                    },
                )
            }
            Command::PlayPrompt {
                op,
                prompts,
                looped,
                ..
            } => {
                if !established {
                    return Err(EngineError::NotAllowed { state });
                }
                let params =
                    recorder::PlayPromptParams::new(prompts, looped, None).map_err(|_| {
                        EngineError::Internal {
                            reason: "invalid prompts",
                        }
                    })?;
                forward(e, CallCommand::PlayPrompt { op, params })
            }
            Command::SubscribeToTone { .. } => {
                if !established {
                    return Err(EngineError::NotAllowed { state });
                }
                forward(e, CallCommand::SubscribeTones)
            }
            Command::CancelMedia { .. } => {
                if !established {
                    return Err(EngineError::NotAllowed { state });
                }
                forward(e, CallCommand::CancelMedia)
            }
            Command::KeepAlive { .. } => Ok(()),
        }
    }

    fn create_call(
        &mut self,
        now: Duration,
        id: CallId,
        targets: Vec<Party>,
        source: Option<Party>,
    ) -> Result<(), EngineError> {
        if self.drain_until.is_some() {
            return Err(EngineError::Unavailable);
        }
        let target = targets
            .iter()
            .find_map(party_uri)
            .ok_or(EngineError::Internal {
                reason: "no target is a SIP URI",
            })?;
        let dest = uri_socket_addr(&target).ok_or(EngineError::Internal {
            reason: "the target host must be an IP address",
        })?;
        let port = self
            .ports
            .bind(self.media_ip)
            .map_err(|_| EngineError::Unavailable)?;
        let mut entry = self.entry(id.clone(), CallState::Establishing, Bytes::new(), true);
        let local = LocalMedia {
            ip: self.media_ip,
            rtp_port: port.port,
            session_id: entry.session_id,
            session_version: 1,
        };
        let offer = sdp::offer(&self.prefs, local);
        entry.local_port = port.port;
        entry.rtp_port = Some(port);
        let from = source
            .as_ref()
            .and_then(party_uri)
            .unwrap_or_else(|| self.endpoint.config().contact.clone());
        let h = self
            .endpoint
            .invite(now, target, NameAddr::new(from), Bytes::from(offer), dest);
        info!(call = %id, %dest, "outgoing call");
        self.by_id.insert(id, h);
        self.calls.insert(h, entry);
        Ok(())
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

fn party_uri(p: &Party) -> Option<Uri> {
    let text = match p.kind {
        PartyKind::Phone if !p.id.contains(':') => format!("tel:{}", p.id),
        _ => p.id.clone(),
    };
    Uri::parse(&text)
        .ok()
        .filter(|u| u.scheme != Scheme::Tel || p.kind == PartyKind::Phone)
}

fn uri_socket_addr(u: &Uri) -> Option<SocketAddr> {
    use signaling::message::Host;
    let ip: IpAddr = match &u.host {
        Host::V4(v4) => (*v4).into(),
        Host::V6(v6) => (*v6).into(),
        Host::Domain(d) => d.parse().ok()?,
    };
    Some(SocketAddr::new(ip, u.port.unwrap_or(5060)))
}
