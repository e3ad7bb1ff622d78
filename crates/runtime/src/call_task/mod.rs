//! One task per answered call: it owns the call's RTP socket, its `MediaSession` (receive), its
//! `RtpSender` (send), its `MediaQueue` (record / playPrompt) and the open recording file, and
//! wakes only for a datagram, a command or the earliest deadline of the three machines.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use api::{ApiHandle, CallEvent, CallId};
use media::send::{PlaybackId as SendPlayback, RtpSender, SendEvent, SenderConfig};
use media::session::{MediaEvent, MediaSession, SessionConfig};
use media::wav::Pcm;
use media::Digit;
use recorder::{
    Action, MediaQueue, OperationId, PlayPromptParams, PlayWhat, PlaybackId, RecordParams,
    RecorderConfig,
};
use signaling::endpoint::CallHandle;
use signaling::sdp::Negotiated;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::clock::Clock;
use crate::convert;
use crate::prompts::{PromptError, PromptStore};
use crate::recording_file::RecordingWriter;
use crate::rtp_ports::RtpPort;

mod actions;

use actions::shared_beep;

/// Datagrams read per wake-up before the task looks at its timers again.
const MAX_DRAIN: usize = 16;

thread_local! {
    /// One receive buffer per runtime worker thread. A call task borrows it only between a
    /// readiness event and the end of the synchronous reads that follow (never across an
    /// `.await`), so an established call holds no buffer of its own (3.5 KiB each before).
    static RECV_BUF: std::cell::RefCell<[u8; 2048]> = const { std::cell::RefCell::new([0; 2048]) };
}

#[derive(Debug, Clone, Copy)]
enum Socket {
    Rtp,
    Rtcp,
}

/// What the signaling loop tells a call task.
#[derive(Debug)]
pub enum CallCommand {
    // Boxed: a channel allocates its slots at the size of the largest command, and every idle
    // call holds one.
    Record {
        op: api::OperationId,
        params: Box<RecordParams>,
        hang_up_after: bool,
    },
    PlayPrompt {
        op: api::OperationId,
        params: Box<PlayPromptParams>,
    },
    CancelMedia,
    SubscribeTones,
    InfoDigit {
        digit: Digit,
        duration: Option<Duration>,
    },
    Renegotiated(Box<Negotiated>),
    /// The call is over: finish every operation, report them, then `Terminated`, then exit.
    Ended {
        result: api::ResultInfo,
    },
}

/// What a call task tells the signaling loop.
#[derive(Debug)]
pub enum CallReport {
    /// The built-in flow finished its recording: hang up.
    HangUp { call: CallHandle },
    /// The task is gone (its port is free again).
    Gone { call: CallHandle },
}

pub struct CallSetup {
    pub handle: CallHandle,
    pub call: CallId,
    pub port: RtpPort,
    pub negotiated: Negotiated,
    pub seed: u64,
    pub recordings_dir: PathBuf,
    pub receive_timeout: Duration,
    pub comfort_noise: bool,
}

pub struct CallTask {
    handle: CallHandle,
    call: CallId,
    clock: Clock,
    socket: UdpSocket,
    rtcp: UdpSocket,
    _port: RtpPort,
    remote: SocketAddr,
    remote_latched: bool,
    negotiated: Negotiated,
    session: MediaSession,
    sender: RtpSender,
    queue: MediaQueue,
    api: ApiHandle,
    prompts: PromptStore,
    beep: Arc<Pcm>,
    pcm_rate: u32,
    recordings_dir: PathBuf,
    reports: mpsc::Sender<CallReport>,
    subscribed: bool,
    next_op: u128,
    ops: HashMap<OperationId, (api::OperationId, bool)>,
    /// Record operations with streamWhileRecording whose file is not open yet.
    streaming: HashSet<OperationId>,
    writers: HashMap<OperationId, (RecordingWriter, api::RecordingId)>,
    finished_recordings: HashMap<OperationId, api::RecordingId>,
    stopped: HashSet<PlaybackId>,
    loaded: (mpsc::Sender<PromptLoaded>, mpsc::Receiver<PromptLoaded>),
    rtp_counted: u64,
}

struct PromptLoaded {
    op: OperationId,
    playback: PlaybackId,
    looped: bool,
    result: Result<Arc<Pcm>, PromptError>,
}

#[derive(Debug, thiserror::Error)]
pub enum CallSetupError {
    #[error("media setup failed: {0}")]
    Media(#[from] media::Error),
    #[error("RTP socket: {0}")]
    Socket(#[from] std::io::Error),
}

impl CallTask {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        setup: CallSetup,
        clock: Clock,
        api: ApiHandle,
        prompts: PromptStore,
        reports: mpsc::Sender<CallReport>,
    ) -> Result<CallTask, CallSetupError> {
        let n = &setup.negotiated;
        let kind = convert::codec_kind(n.codec.codec);
        let ssrc = (setup.seed as u32) | 1;
        let session = MediaSession::new(SessionConfig {
            // The negotiated codec first (it fixes the output rate), then the other offered ones.
            audio_pts: std::iter::once((n.codec.pt, kind))
                .chain(
                    n.offered_audio
                        .iter()
                        .filter(|(pt, _)| *pt != n.codec.pt)
                        .map(|(pt, c)| (*pt, convert::codec_kind(*c))),
                )
                .collect(),
            telephone_events: n.telephone_events.clone(),
            cn_pt: n.cn_pt,
            send_pt: Some(n.codec.pt),
            ptime_ms: n.ptime_ms,
            ssrc,
            cname: format!("callclip-{}", setup.call),
            seed: setup.seed,
            inband_dtmf: true,
            wallclock: clock.unix_at_epoch(),
        })?;
        let mut sender_cfg = SenderConfig::new(
            n.codec.pt,
            kind,
            ssrc,
            (setup.seed >> 32) as u16,
            (setup.seed >> 16) as u32,
        );
        sender_cfg.ptime_ms = n.ptime_ms;
        sender_cfg.cn_pt = if setup.comfort_noise { n.cn_pt } else { None };
        sender_cfg.telephone_event_pt = n.telephone_event_pt;
        let sender = RtpSender::new(sender_cfg)?;
        let socket = UdpSocket::from_std(setup.port.socket.try_clone()?)?;
        let rtcp = UdpSocket::from_std(setup.port.rtcp.try_clone()?)?;
        let pcm_rate = kind.pcm_rate();
        let queue = MediaQueue::new(RecorderConfig {
            media_receive_timeout: setup.receive_timeout,
            audio_rate: Some(pcm_rate),
            ..RecorderConfig::default()
        });
        Ok(CallTask {
            handle: setup.handle,
            call: setup.call,
            clock,
            socket,
            rtcp,
            _port: setup.port,
            remote: setup.negotiated.remote_addr,
            remote_latched: false,
            negotiated: setup.negotiated,
            session,
            sender,
            queue,
            api,
            prompts,
            beep: shared_beep(pcm_rate),
            pcm_rate,
            recordings_dir: setup.recordings_dir,
            reports,
            subscribed: false,
            next_op: 1,
            ops: HashMap::new(),
            streaming: HashSet::new(),
            writers: HashMap::new(),
            finished_recordings: HashMap::new(),
            stopped: HashSet::new(),
            loaded: mpsc::channel(4),
            rtp_counted: 0,
        })
    }

    pub async fn run(mut self, mut commands: mpsc::Receiver<CallCommand>) {
        let now = self.clock.now();
        self.sender.handle_timeout(now);
        self.pump(now).await;
        // One timer for the task's life, moved only when the deadline changes: a new timer per
        // wake-up was a measurable share of an idle call's CPU (docs/BENCHMARKS.md).
        let sleep = tokio::time::sleep_until(self.clock.instant(now));
        tokio::pin!(sleep);
        let mut armed: Option<Duration> = None;
        loop {
            let deadline = [
                self.session.poll_timeout(),
                self.sender.poll_timeout(),
                self.queue.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or_else(|| self.clock.now() + Duration::from_secs(1));
            if armed != Some(deadline) {
                sleep.as_mut().reset(self.clock.instant(deadline));
                armed = Some(deadline);
            }
            tokio::select! {
                r = self.rtcp.readable() => {
                    // RTCP on RTP port + 1: the session reads sender reports (it demultiplexes
                    // by packet type).
                    if r.is_ok() {
                        self.drain(Socket::Rtcp);
                    }
                }
                r = self.socket.readable() => {
                    match r {
                        Ok(()) => self.drain(Socket::Rtp),
                        Err(e) => debug!(error = %e, "RTP receive error"),
                    }
                }
                cmd = commands.recv() => {
                    let now = self.clock.now();
                    match cmd {
                        Some(CallCommand::Ended { result }) => {
                            self.queue.handle_call_ended(now);
                            self.pump(now).await;
                            self.api.call_event(CallEvent::Terminated { call: self.call.clone(), result_info: result });
                            break;
                        }
                        Some(cmd) => self.on_command(now, cmd),
                        None => {
                            // The signaling loop is gone (shutdown): finish what we have.
                            self.queue.handle_call_ended(now);
                            self.pump(now).await;
                            break;
                        }
                    }
                }
                Some(loaded) = self.loaded.1.recv() => {
                    let now = self.clock.now();
                    self.on_prompt_loaded(now, loaded);
                }
                _ = &mut sleep => {
                    armed = None;
                    let now = self.clock.now();
                    self.session.handle_sent(self.sender.sent(now));
                    self.session.handle_timeout(now);
                    self.sender.handle_timeout(now);
                    self.queue.handle_timeout(now);
                }
            }
            let now = self.clock.now();
            self.pump(now).await;
        }
        let stats = self.session.stats();
        self.api.rtp_lost(stats.lost.max(0) as u64);
        info!(
            received = stats.packets_received,
            lost = stats.lost,
            "call media ended"
        );
        let _ = self
            .reports
            .send(CallReport::Gone { call: self.handle })
            .await;
    }

    /// Where RTCP goes without rtcp-mux: the latched RTP source + 1, else the SDP's address.
    fn rtcp_remote(&self) -> Option<SocketAddr> {
        if self.remote_latched {
            let port = self.remote.port().checked_add(1)?;
            return Some(SocketAddr::new(self.remote.ip(), port));
        }
        self.negotiated.remote_rtcp_addr
    }

    /// Reads what the socket holds (at most `MAX_DRAIN` datagrams, so timers are not starved)
    /// into the worker thread's buffer: no call keeps a receive buffer of its own.
    fn drain(&mut self, which: Socket) {
        RECV_BUF.with_borrow_mut(|buf| {
            for _ in 0..MAX_DRAIN {
                let socket = match which {
                    Socket::Rtp => &self.socket,
                    Socket::Rtcp => &self.rtcp,
                };
                match socket.try_recv_from(buf) {
                    Ok((n, from)) => {
                        let now = self.clock.now();
                        let data = buf.get(..n).unwrap_or_default();
                        match which {
                            Socket::Rtp => self.on_datagram(now, from, data),
                            Socket::Rtcp => self.session.handle_rtp(now, data),
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        debug!(error = %e, "RTP receive error");
                        break;
                    }
                }
            }
        });
    }

    fn on_datagram(&mut self, now: Duration, from: SocketAddr, data: &[u8]) {
        // Symmetric RTP (RFC 4961): answer to where the caller's packets come from.
        if !self.remote_latched && data.len() >= 12 {
            if from != self.remote {
                debug!(%from, negotiated = %self.remote, "RTP latched to the source address");
            }
            self.remote = from;
            self.remote_latched = true;
        }
        self.session.handle_rtp(now, data);
        self.queue.handle_rtp_seen(now);
        self.rtp_counted += 1;
        if self.rtp_counted >= 500 {
            self.api.rtp_received(self.rtp_counted);
            self.rtp_counted = 0;
        }
    }

    fn new_op(&mut self, api_op: api::OperationId, hang_up_after: bool) -> OperationId {
        let op = OperationId(self.next_op);
        self.next_op += 1;
        self.ops.insert(op, (api_op, hang_up_after));
        op
    }

    fn on_command(&mut self, now: Duration, cmd: CallCommand) {
        match cmd {
            CallCommand::Record {
                op,
                params,
                hang_up_after,
            } => {
                let id = self.new_op(op, hang_up_after);
                if params.stream_while_recording {
                    self.streaming.insert(id);
                }
                if let Err(e) = self.queue.record(now, id, *params) {
                    warn!(error = %e, "record refused");
                }
            }
            CallCommand::PlayPrompt { op, params } => {
                let id = self.new_op(op, false);
                if let Err(e) = self.queue.play_prompt(now, id, *params) {
                    warn!(error = %e, "playPrompt refused");
                }
            }
            CallCommand::CancelMedia => {
                self.queue.cancel_all(now);
            }
            CallCommand::SubscribeTones => self.subscribed = true,
            CallCommand::InfoDigit { digit, duration } => {
                self.session.handle_info_digit(now, digit, duration)
            }
            CallCommand::Renegotiated(n) => {
                if !self.remote_latched || n.remote_addr.ip() != self.remote.ip() {
                    self.remote = n.remote_addr;
                    self.remote_latched = false;
                }
                self.negotiated = *n;
            }
            CallCommand::Ended { .. } => {}
        }
    }

    fn on_prompt_loaded(&mut self, now: Duration, l: PromptLoaded) {
        if self.stopped.remove(&l.playback) {
            return;
        }
        match l.result {
            Ok(pcm) => {
                if let Err(e) = self.queue.handle_prompt_ready(now, l.op) {
                    debug!(error = %e, "prompt ready for an ended operation");
                    return;
                }
                if let Err(e) = self
                    .sender
                    .play(now, SendPlayback(l.playback.0), pcm, l.looped)
                {
                    let _ = self
                        .queue
                        .handle_playout_failed(now, l.playback, e.to_string());
                }
            }
            Err(e) => {
                info!(error = %e, "prompt failed");
                let _ = self.queue.handle_prompt_failed(now, l.op, e.to_string());
            }
        }
    }

    /// Moves everything the machines produced to where it goes, until all are quiet.
    async fn pump(&mut self, now: Duration) {
        for _ in 0..64 {
            let mut busy = false;
            while let Some(ev) = self.session.poll_event() {
                busy = true;
                self.on_media_event(now, ev);
            }
            while let Some(ev) = self.sender.poll_event() {
                busy = true;
                match ev {
                    SendEvent::PlayoutFinished { id, .. } => {
                        let _ = self.queue.handle_playout_finished(now, PlaybackId(id.0));
                    }
                    SendEvent::PlayoutStarted { .. } | SendEvent::PlayoutStopped { .. } => {}
                }
            }
            while let Some(action) = self.queue.poll_action() {
                busy = true;
                self.on_action(now, action).await;
            }
            if !busy {
                break;
            }
        }
        let sending = !self.negotiated.on_hold() && !self.remote.ip().is_unspecified();
        while let Some(pkt) = self.sender.poll_transmit() {
            if sending {
                let _ = self.socket.send_to(&pkt, self.remote).await;
            }
        }
        while let Some(pkt) = self.session.poll_transmit() {
            // RFC 5761: with rtcp-mux on the RTP port, else from RTP port + 1 to the peer's
            // RTCP address.
            if !sending {
                continue;
            }
            if self.negotiated.rtcp_mux {
                let _ = self.socket.send_to(&pkt, self.remote).await;
            } else if let Some(to) = self.rtcp_remote() {
                let _ = self.rtcp.send_to(&pkt, to).await;
            }
        }
    }

    fn on_media_event(&mut self, now: Duration, ev: MediaEvent) {
        match ev {
            MediaEvent::Frame {
                at, samples, rate, ..
            } => self.queue.handle_frame(now, at, &samples, rate),
            MediaEvent::SpeechStarted { at } => self.queue.handle_speech_started(now, at),
            MediaEvent::SpeechEnded { at } => self.queue.handle_speech_ended(now, at),
            MediaEvent::Digit {
                digit,
                started_at,
                ended_at,
                source,
            } => {
                info!(digit = %digit, ?source, "DTMF");
                self.queue.handle_digit(now, digit, started_at, ended_at);
                if self.subscribed {
                    self.api.call_event(CallEvent::Tone {
                        call: self.call.clone(),
                        digit,
                    });
                }
            }
            MediaEvent::DigitEnded { .. } | MediaEvent::SsrcChanged { .. } => {}
        }
    }
}
