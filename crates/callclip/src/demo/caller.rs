//! The demo's test caller: the signaling crate's `Endpoint` as a UAC and `media::send::RtpSender`,
//! on UDP sockets of its own. It dials, waits for the beep to end, says the phrase, pauses,
//! presses `#` as an RFC 4733 event and stays on the line until the far end hangs up.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use media::codec::{self, Decoder};
use media::send::{PlaybackId, RtpSender, SendEvent, SenderConfig};
use media::wav::Pcm;
use media::Digit;
use runtime::clock::Clock;
use signaling::endpoint::{CallHandle, EndReason, Endpoint, EndpointConfig, EndpointEvent};
use signaling::message::{Host, NameAddr, Scheme, Uri};
use signaling::sdp::{self, AudioCodec, LocalMedia, MediaPrefs, Negotiated};
use tokio::net::UdpSocket;

/// A received packet louder than this starts the beep; one quieter than `BEEP_OFF` after it
/// ends it. callclip's beep peaks at -9 dBFS (about 11 600).
const BEEP_ON: i16 = 4_000;
const BEEP_OFF: i16 = 500;
/// Speaking starts this long after the beep ends, so the first syllable is recorded.
const AFTER_BEEP: Duration = Duration::from_millis(150);
/// Speaking starts anyway this long after the answer when no beep was heard.
const NO_BEEP: Duration = Duration::from_secs(3);
/// Length of the `#` event.
const DIGIT_MS: u32 = 160;
/// The caller hangs up itself when the far end has not done so this long after the `#`.
const HANG_UP_AFTER: Duration = Duration::from_secs(5);

/// What the caller does once answered.
pub struct Script {
    pub phrase: Arc<Pcm>,
    /// Silence between the end of the phrase and the `#`.
    pub pause_before_digit: Duration,
}

/// What happened, as offsets from the INVITE.
#[derive(Debug, Default)]
pub struct CallerLog {
    pub codec: Option<AudioCodec>,
    pub answered: Option<Duration>,
    pub beep: Option<(Duration, Option<Duration>)>,
    pub phrase: Option<(Duration, Option<Duration>)>,
    pub digit: Option<Duration>,
    pub ended: Option<(Duration, EndReason)>,
    pub packets_sent: u64,
    pub packets_received: u64,
}

enum Stage {
    Dialing,
    WaitingForBeep { answered: Duration },
    Speaking,
    Pausing { until: Duration },
    Pressed { at: Duration },
    Done,
}

/// The media half, once the answer has been read.
struct Media {
    remote: SocketAddr,
    pt: u8,
    sender: RtpSender,
    decoder: Box<dyn Decoder>,
    decoded: Vec<i16>,
}

const PHRASE: PlaybackId = PlaybackId(1);

/// Calls `sip:voicemail@<gateway>` and follows `script`; returns once the call has ended.
pub async fn call(gateway: SocketAddr, script: &Script) -> anyhow::Result<CallerLog> {
    let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let sip = UdpSocket::bind(SocketAddr::new(lo, 0))
        .await
        .context("caller SIP socket")?;
    let rtp = UdpSocket::bind(SocketAddr::new(lo, 0))
        .await
        .context("caller RTP socket")?;
    let sip_local = sip.local_addr().context("caller SIP socket")?;
    let rtp_port = rtp.local_addr().context("caller RTP socket")?.port();
    let clock = Clock::new();
    let seed = seed();

    let mut config = EndpointConfig::new(sip_local);
    config.contact.user = Some("demo-caller".into());
    config.user_agent = "callclip-demo-caller".into();
    config.seed = seed;
    let mut ep = Endpoint::new(config);
    let prefs = MediaPrefs {
        codecs: vec![AudioCodec::Pcmu],
        ptime_ms: 20,
        telephone_event: true,
        comfort_noise: false,
    };
    let offer = sdp::offer(
        &prefs,
        LocalMedia {
            ip: lo,
            rtp_port,
            session_id: seed >> 1,
            session_version: 1,
        },
    );
    let target = uri("voicemail", gateway.ip(), Some(gateway.port()));
    let from = NameAddr::new(uri("demo-caller", lo, Some(sip_local.port())));
    let handle = ep.invite(clock.now(), target, from, offer.into(), gateway, None);

    let mut log = CallerLog::default();
    let mut stage = Stage::Dialing;
    let mut media: Option<Media> = None;
    let mut sip_buf = vec![0u8; 65_536];
    let mut rtp_buf = vec![0u8; 2_048];
    loop {
        let now = clock.now();
        while let Some(t) = ep.poll_transmit() {
            sip.send_to(&t.bytes, t.to).await.context("sending SIP")?;
        }
        while let Some(event) = ep.poll_event() {
            on_event(
                event, handle, now, &prefs, &mut media, &mut stage, &mut log, seed,
            )?;
        }
        if let Some(m) = media.as_mut() {
            advance(now, &mut stage, m, script, &mut log)?;
            while let Some(p) = m.sender.poll_transmit() {
                rtp.send_to(&p, m.remote).await.context("sending RTP")?;
                log.packets_sent += 1;
            }
        }
        if let Stage::Pressed { at } = stage {
            if now >= at + HANG_UP_AFTER {
                let _ = ep.hangup(now, handle);
            }
        }
        if matches!(stage, Stage::Done) {
            while let Some(t) = ep.poll_transmit() {
                sip.send_to(&t.bytes, t.to).await.context("sending SIP")?;
            }
            return Ok(log);
        }
        let deadline = [
            ep.poll_timeout(),
            media.as_ref().and_then(|m| m.sender.poll_timeout()),
            stage_deadline(&stage, &log),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(now + Duration::from_millis(100));
        tokio::select! {
            r = sip.recv_from(&mut sip_buf) => {
                let (n, from) = r.context("receiving SIP")?;
                let bytes = sip_buf.get(..n).unwrap_or_default();
                ep.handle_datagram(clock.now(), from, signaling::endpoint::Transport::Udp, bytes);
            }
            r = rtp.recv_from(&mut rtp_buf) => {
                let (n, _) = r.context("receiving RTP")?;
                if let Some(m) = media.as_mut() {
                    log.packets_received += 1;
                    on_rtp(clock.now(), rtp_buf.get(..n).unwrap_or_default(), m, &mut log);
                }
            }
            _ = tokio::time::sleep_until(clock.instant(deadline)) => {
                let now = clock.now();
                ep.handle_timeout(now);
                if let Some(m) = media.as_mut() {
                    m.sender.handle_timeout(now);
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn on_event(
    event: EndpointEvent,
    handle: CallHandle,
    now: Duration,
    prefs: &MediaPrefs,
    media: &mut Option<Media>,
    stage: &mut Stage,
    log: &mut CallerLog,
    seed: u64,
) -> anyhow::Result<()> {
    match event {
        EndpointEvent::Answered { call, answer } if call == handle => {
            let parsed = sdp::parse_sdp(&answer).context("the gateway's SDP answer")?;
            let negotiated = sdp::negotiated_from_answer(prefs, &parsed)
                .map_err(|e| anyhow!("the gateway's SDP answer: {e}"))?;
            log.codec = Some(negotiated.codec.codec);
            let mut m = start_media(&negotiated, seed)?;
            m.sender.handle_timeout(now);
            *media = Some(m);
        }
        EndpointEvent::CallEstablished { call } if call == handle => {
            log.answered = Some(now);
            *stage = Stage::WaitingForBeep { answered: now };
        }
        EndpointEvent::CallEnded { call, reason } if call == handle => {
            log.ended = Some((now, reason));
            if log.answered.is_none() {
                bail!("the gateway did not answer ({reason:?})");
            }
            *stage = Stage::Done;
        }
        _ => {}
    }
    Ok(())
}

fn start_media(n: &Negotiated, seed: u64) -> anyhow::Result<Media> {
    let kind = runtime::convert::codec_kind(n.codec.codec);
    let mut cfg = SenderConfig::new(
        n.codec.pt,
        kind,
        (seed >> 32) as u32,
        (seed >> 16) as u16,
        seed as u32,
    );
    cfg.ptime_ms = n.ptime_ms;
    cfg.telephone_event_pt = n.telephone_event_pt;
    if cfg.telephone_event_pt.is_none() {
        bail!("the gateway's answer has no telephone-event: cannot press #");
    }
    Ok(Media {
        remote: n.remote_addr,
        pt: n.codec.pt,
        sender: RtpSender::new(cfg).context("RTP sender")?,
        decoder: codec::decoder(kind).context("decoder")?,
        decoded: Vec::new(),
    })
}

/// Moves the script on: speak after the beep, press `#` after the pause.
fn advance(
    now: Duration,
    stage: &mut Stage,
    m: &mut Media,
    script: &Script,
    log: &mut CallerLog,
) -> anyhow::Result<()> {
    while let Some(event) = m.sender.poll_event() {
        if let SendEvent::PlayoutFinished { id: PHRASE, at } = event {
            if let Some((start, _)) = log.phrase {
                log.phrase = Some((start, Some(at)));
            }
            *stage = Stage::Pausing {
                until: at + script.pause_before_digit,
            };
        }
    }
    match *stage {
        Stage::WaitingForBeep { .. } if stage_deadline(stage, log).is_some_and(|t| now >= t) => {
            m.sender
                .play(now, PHRASE, script.phrase.clone(), false)
                .context("playing the phrase")?;
            log.phrase = Some((now, None));
            *stage = Stage::Speaking;
        }
        Stage::Pausing { until } if now >= until => {
            m.sender
                .send_digit(now, Digit::Pound, DIGIT_MS)
                .context("pressing #")?;
            log.digit = Some(now);
            *stage = Stage::Pressed { at: now };
        }
        _ => {}
    }
    Ok(())
}

fn stage_deadline(stage: &Stage, log: &CallerLog) -> Option<Duration> {
    match *stage {
        Stage::WaitingForBeep { answered } => Some(match log.beep {
            Some((_, Some(end))) => end + AFTER_BEEP,
            _ => answered + NO_BEEP,
        }),
        Stage::Pausing { until } => Some(until),
        Stage::Pressed { at } => Some(at + HANG_UP_AFTER),
        Stage::Dialing | Stage::Speaking | Stage::Done => None,
    }
}

/// Listens for the beep in what the gateway sends.
fn on_rtp(now: Duration, datagram: &[u8], m: &mut Media, log: &mut CallerLog) {
    let Ok(packet) = media::rtp::parse(datagram) else {
        return;
    };
    if packet.payload_type.0 != m.pt {
        return;
    }
    m.decoded.clear();
    if m.decoder.decode(packet.payload, &mut m.decoded).is_err() {
        return;
    }
    let peak = m
        .decoded
        .iter()
        .map(|s| s.saturating_abs())
        .max()
        .unwrap_or(0);
    match log.beep {
        None if peak >= BEEP_ON => log.beep = Some((now, None)),
        Some((start, None)) if peak < BEEP_OFF => log.beep = Some((start, Some(now))),
        _ => {}
    }
}

fn uri(user: &str, ip: IpAddr, port: Option<u16>) -> Uri {
    Uri {
        scheme: Scheme::Sip,
        user: Some(user.into()),
        password: None,
        host: match ip {
            IpAddr::V4(v4) => Host::V4(v4),
            IpAddr::V6(v6) => Host::V6(v6),
        },
        port,
        params: Vec::new(),
        headers: Vec::new(),
    }
}

/// Tags, branches, SSRC and sequence numbers only need to differ between runs: the standard
/// library's per-process random hasher keys are enough.
fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}
