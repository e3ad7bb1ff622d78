//! `MediaSession`: the receive side of one call's media, behind one sans-IO façade.
//!
//! Datagrams go in with `handle_rtp(now, ..)` (RTP or, with rtcp-mux, RTCP), SIP INFO digits
//! with `handle_info_digit`, and the clock with `handle_timeout(now)`. Out come 20 ms frames,
//! digits and speech endpoints from `poll_event`, RTCP reports from `poll_transmit`, and the
//! next deadline from `poll_timeout`. The send path (`send::RtpSender`) is driven beside it;
//! what it has sent is handed over with `handle_sent`, which makes the reports sender reports.
//!
//! Timeline: a frame's `at` is the time it is due on the `now` clock (audio arrival plus the
//! playout delay). Digit times are on the same timeline: an RFC 4733 event from the audio's
//! SSRC is placed by its RTP timestamp, other sources at `now` plus the playout delay, so the
//! recorder can cut a tone out of the frames it belongs to. Once the first packet has
//! arrived, frames keep coming every 20 ms (silence when the peer sends nothing), so silence
//! timers run on audio; before that there are none, and `last_rtp_at` stays `None`.
//!
//! The run loop, as the runtime drives it:
//! ```
//! use std::time::Duration;
//! use media::codec::CodecKind;
//! use media::session::{MediaEvent, MediaSession, SessionConfig};
//!
//! let mut session = MediaSession::new(SessionConfig {
//!     audio_pts: vec![(0, CodecKind::Pcmu), (8, CodecKind::Pcma)],
//!     telephone_events: vec![(101, 8000)],
//!     cn_pt: Some(13),
//!     send_pt: Some(0),
//!     ptime_ms: 20,
//!     ssrc: 0x1234_5678,
//!     cname: "callclip".into(),
//!     seed: 42,
//!     inband_dtmf: true,
//!     wallclock: None,
//! })?;
//! let mut datagram = vec![0x80, 0, 0, 1, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef];
//! datagram.extend_from_slice(&[0xff; 160]); // 20 ms of PCMU silence
//!
//! let now = Duration::from_millis(1000);
//! session.handle_rtp(now, &datagram); // from the socket
//! let mut wake = session.poll_timeout(); // the next frame, RTCP report or sender deadline
//! while let Some(at) = wake.filter(|t| *t <= now + Duration::from_millis(100)) {
//!     session.handle_timeout(at); // the runtime sleeps until `at`
//!     while let Some(event) = session.poll_event() {
//!         match event {
//!             MediaEvent::Frame { samples, rate, .. } => assert_eq!((samples.len(), rate), (160, 8000)),
//!             MediaEvent::Digit { .. } | MediaEvent::DigitEnded { .. } => {}
//!             MediaEvent::SpeechStarted { .. } | MediaEvent::SpeechEnded { .. } => {}
//!             MediaEvent::SsrcChanged { .. } => {}
//!         }
//!     }
//!     while let Some(_bytes) = session.poll_transmit() { /* send to the peer's media address */ }
//!     wake = session.poll_timeout();
//! }
//! assert_eq!(session.last_rtp_at(), Some(now));
//! # Ok::<(), media::Error>(())
//! ```

mod digits;
mod reports;

use std::collections::VecDeque;
use std::time::Duration;

use crate::codec::{self, CodecKind, Decoder};
use crate::dtmf::dedup::DigitDedup;
use crate::dtmf::inband::{ToneDetector, ToneUpdate};
use crate::dtmf::rfc4733::{EventReceiver, EventUpdate};
use crate::dtmf::DigitSource;
use crate::jitter::{Arrival, FrameKind, JitterBuffer, FRAME};
use crate::rtp::{self, PayloadType, Ssrc};
use crate::send::Sent;
use crate::vad::{Endpoint, Endpointer, Vad};
use crate::{Digit, Error};

#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Every offered/negotiated audio payload type and its codec; the first is the primary one
    /// and fixes the output rate. Others with a different clock or PCM rate are dropped.
    pub audio_pts: Vec<(u8, CodecKind)>,
    /// Every telephone-event payload type the peer may send with, and its clock rate.
    pub telephone_events: Vec<(u8, u32)>,
    pub cn_pt: Option<u8>,
    /// Payload type the send path uses (read by the sender, not by the receive side).
    pub send_pt: Option<u8>,
    pub ptime_ms: u32,
    /// Our SSRC, used as the RTCP sender of reports.
    pub ssrc: u32,
    /// RTCP CNAME (RFC 3550 §6.5.1).
    pub cname: String,
    /// Seeds the RTCP interval randomisation.
    pub seed: u64,
    /// Run the Goertzel detector on decoded audio.
    pub inband_dtmf: bool,
    /// Unix time at `now` = 0, for the NTP timestamp of sender reports; `None`: receiver
    /// reports only.
    pub wallclock: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MediaEvent {
    /// 20 ms of decoded audio; `speech` is the voice-activity decision for this frame.
    Frame {
        at: Duration,
        samples: Vec<i16>,
        rate: u32,
        speech: bool,
    },
    /// A digit, reported as soon as it is known; `ended_at` is set when its end was already
    /// known, otherwise a `DigitEnded` follows.
    Digit {
        digit: Digit,
        started_at: Duration,
        ended_at: Option<Duration>,
        source: DigitSource,
    },
    DigitEnded {
        digit: Digit,
        started_at: Duration,
        ended_at: Duration,
        source: DigitSource,
    },
    SpeechStarted {
        at: Duration,
    },
    SpeechEnded {
        at: Duration,
    },
    SsrcChanged {
        from: Ssrc,
        to: Ssrc,
    },
}

/// Counters for the call's receive side.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReceiveStats {
    pub packets_received: u64,
    /// RFC 3550 cumulative loss of the current source.
    pub lost: i64,
    pub duplicates: u64,
    pub late: u64,
    pub unknown_pt: u64,
    pub malformed: u64,
    pub rtcp_received: u64,
    pub event_packets: u64,
    pub concealed_frames: u64,
    pub silence_frames: u64,
    pub jitter: Duration,
    pub playout_delay: Duration,
}

pub struct MediaSession {
    config: SessionConfig,
    jitter: JitterBuffer,
    events: EventReceiver,
    tones: Option<ToneDetector>,
    dedup: DigitDedup,
    open_digits: Vec<(Digit, DigitSource, Duration)>,
    vad: Vad,
    endpointer: Endpointer,
    out: VecDeque<MediaEvent>,
    transmit: VecDeque<Vec<u8>>,
    next_report: Option<Duration>,
    rng: u64,
    /// What our sender has sent, as of the last `handle_sent`.
    sent: Option<Sent>,
    frame: Vec<i16>,
    updates: Vec<EventUpdate>,
    tone_updates: Vec<ToneUpdate>,
    unknown_pt: u64,
    malformed: u64,
    rtcp_received: u64,
    event_packets: u64,
    last_rtp_at: Option<Duration>,
}

impl MediaSession {
    /// Builds the session with the codec module's decoders.
    pub fn new(config: SessionConfig) -> Result<MediaSession, Error> {
        MediaSession::with_decoders(config, codec::decoder)
    }

    /// Builds the session with decoders from `make` (tests and benches use their own).
    pub fn with_decoders(
        config: SessionConfig,
        make: impl Fn(CodecKind) -> Result<Box<dyn Decoder>, Error>,
    ) -> Result<MediaSession, Error> {
        let &(_, primary) = config.audio_pts.first().ok_or(Error::NoAudioPayloadType)?;
        let mut decoders = Vec::new();
        for &(pt, kind) in &config.audio_pts {
            if kind.pcm_rate() == primary.pcm_rate()
                && kind.rtp_clock_rate() == primary.rtp_clock_rate()
            {
                decoders.push((PayloadType(pt), make(kind)?));
            }
        }
        let jitter = JitterBuffer::new(decoders, primary.rtp_clock_rate(), primary.pcm_rate());
        let tones = config
            .inband_dtmf
            .then(|| ToneDetector::new(primary.pcm_rate()));
        Ok(MediaSession {
            rng: config.seed | 1,
            config,
            jitter,
            events: EventReceiver::default(),
            tones,
            dedup: DigitDedup::default(),
            open_digits: Vec::new(),
            vad: Vad::default(),
            endpointer: Endpointer::default(),
            out: VecDeque::new(),
            transmit: VecDeque::new(),
            next_report: None,
            sent: None,
            frame: Vec::new(),
            updates: Vec::new(),
            tone_updates: Vec::new(),
            unknown_pt: 0,
            malformed: 0,
            rtcp_received: 0,
            event_packets: 0,
            last_rtp_at: None,
        })
    }

    /// What the send path has sent so far (`RtpSender::sent`): the next report is a sender
    /// report (RFC 3550 §6.4.1) once `SessionConfig::wallclock` is known.
    pub fn handle_sent(&mut self, sent: Sent) {
        self.sent = Some(sent);
    }

    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// When the last RTP packet of any kind arrived; `None` if none ever did.
    pub fn last_rtp_at(&self) -> Option<Duration> {
        self.last_rtp_at
    }

    /// One datagram from the media socket: RTP, or RTCP when multiplexed (RFC 5761 §4).
    pub fn handle_rtp(&mut self, now: Duration, datagram: &[u8]) {
        if rtp::is_rtcp(datagram) {
            self.handle_rtcp(now, datagram);
            return;
        }
        let Ok(pkt) = rtp::parse(datagram) else {
            self.malformed += 1;
            return;
        };
        self.last_rtp_at = Some(now);
        let pt = pkt.payload_type.0;
        let event_clock = self
            .config
            .telephone_events
            .iter()
            .find(|(p, _)| *p == pt)
            .map(|(_, rate)| *rate);
        if let Some(clock_rate) = event_clock {
            self.handle_event(now, &pkt, clock_rate);
        } else if self.config.cn_pt == Some(pt) {
            let arrival = self.jitter.insert_comfort_noise(now, &pkt);
            self.after_arrival(now, arrival);
        } else if self.config.audio_pts.iter().any(|(p, _)| *p == pt) {
            let arrival = self.jitter.insert(now, &pkt);
            self.after_arrival(now, arrival);
        } else {
            self.unknown_pt += 1;
        }
    }

    fn after_arrival(&mut self, now: Duration, arrival: Arrival) {
        if let Arrival::SsrcChanged { from, to } = arrival {
            self.out.push_back(MediaEvent::SsrcChanged { from, to });
        }
        if self.next_report.is_none() {
            self.next_report = Some(now + self.report_interval());
        }
    }

    /// Advances the clock: plays out due frames, closes events and sends due reports.
    pub fn handle_timeout(&mut self, now: Duration) {
        let mut frame = std::mem::take(&mut self.frame);
        while let Some((at, kind)) = self.jitter.poll_frame(now, &mut frame) {
            self.process_frame(at, kind, &frame);
        }
        self.frame = frame;

        let mut updates = std::mem::take(&mut self.updates);
        self.events.handle_timeout(now, &mut updates);
        self.apply_event_updates(&mut updates);
        self.updates = updates;

        if let Some(due) = self.next_report.filter(|d| now >= *d) {
            self.next_report = Some(due.max(now) + self.report_interval());
            self.queue_report(now);
        }
    }

    fn process_frame(&mut self, at: Duration, kind: FrameKind, pcm: &[i16]) {
        // DTX and comfort noise are silence and must not pull the noise floor to zero.
        let speech = kind != FrameKind::Silence && self.vad.process(pcm);
        if let Some(tones) = self.tones.as_mut() {
            let mut updates = std::mem::take(&mut self.tone_updates);
            tones.process(at, pcm, &mut updates);
            for u in updates.drain(..) {
                match u {
                    ToneUpdate::Started { digit, at } => {
                        self.digit_started(digit, DigitSource::InBand, at, None)
                    }
                    ToneUpdate::Ended {
                        digit,
                        at,
                        duration,
                    } => self.digit_ended(digit, DigitSource::InBand, at, duration),
                }
            }
            self.tone_updates = updates;
        }
        self.out.push_back(MediaEvent::Frame {
            at,
            samples: pcm.to_vec(),
            rate: self.jitter.pcm_rate(),
            speech,
        });
        match self.endpointer.process(at, FRAME, speech) {
            Some(Endpoint::SpeechStarted { at }) => {
                self.out.push_back(MediaEvent::SpeechStarted { at })
            }
            Some(Endpoint::SpeechEnded { at }) => {
                self.out.push_back(MediaEvent::SpeechEnded { at })
            }
            None => {}
        }
    }

    pub fn poll_event(&mut self) -> Option<MediaEvent> {
        self.out.pop_front()
    }

    /// RTCP datagrams to send to the peer.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// The earliest of: next frame, RFC 4733 end timeout, next RTCP report.
    pub fn poll_timeout(&self) -> Option<Duration> {
        [
            self.jitter.poll_timeout(),
            self.events.poll_timeout(),
            self.next_report,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn stats(&self) -> ReceiveStats {
        let j = self.jitter.stats();
        let reception = self.jitter.reception();
        ReceiveStats {
            packets_received: j.received,
            lost: reception.map_or(0, |r| r.lost()),
            duplicates: j.duplicates,
            late: j.late,
            unknown_pt: self.unknown_pt,
            malformed: self.malformed,
            rtcp_received: self.rtcp_received,
            event_packets: self.event_packets,
            concealed_frames: j.concealed_frames,
            silence_frames: j.silence_frames,
            jitter: reception.map_or(Duration::ZERO, |r| r.jitter()),
            playout_delay: self.jitter.target_delay(),
        }
    }
}
