//! The RTP send path: prompts, beeps, silence or comfort noise, and RFC 4733 digits, paced by
//! the caller's clock.
//!
//! `RtpSender` owns one packet slot every ptime. Each slot carries, in priority order: the
//! digit being sent (audio pauses meanwhile), the next ptime of the item at the head of the
//! play queue, or silence. Silence is encoded zeros, or with a negotiated CN payload type one
//! RFC 3389 packet at the start of the silence and a refresh every [`CN_REFRESH`]. The RTP
//! timestamp advances by one packet's worth every slot whether or not a packet goes out, so
//! after a CN gap the next audio packet's timestamp reflects the real elapsed time.
//!
//! The marker bit is set on the first packet of the stream, on the first packet of each
//! item that follows silence, after a digit, and after a timing resync (RFC 3551 §4.1).
//! An item queued while only silence is going out starts at once: the slot grid is moved to
//! `now` rather than the prompt waiting up to one ptime for the next slot.

mod digit;
pub mod packet;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use crate::codec::{self, cn, CodecKind, Encoder};
use crate::wav::Pcm;
use crate::{Digit, Error};
use digit::DigitSend;

/// Interval between CN refreshes. RFC 3389 §4 leaves it open; 200 ms sends 5 packets a second
/// instead of 50 while keeping NAT bindings and the peer's RTP inactivity timer fed.
pub const CN_REFRESH: Duration = Duration::from_millis(200);
/// Most packets sent by one late `handle_timeout`; older missed slots are skipped so a stalled
/// runtime never floods the peer (their timestamps are still consumed).
pub const MAX_BURST: u32 = 3;

/// Identifies one `play` request in the events it produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlaybackId(pub u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendEvent {
    /// The item's first packet was sent at `at`.
    PlayoutStarted { id: PlaybackId, at: Duration },
    /// The item's last packet has been sent and its audio has elapsed: `at` is the slot after
    /// the last packet (start + length rounded up to ptime).
    PlayoutFinished { id: PlaybackId, at: Duration },
    /// `stop` removed the item, playing or queued.
    PlayoutStopped { id: PlaybackId, at: Duration },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderConfig {
    pub pt: u8,
    pub kind: CodecKind,
    /// Packet interval from the SDP `a=ptime`, 10–60 ms in 10 ms steps (normalised by `new`).
    pub ptime_ms: u32,
    pub ssrc: u32,
    /// Random per RFC 3550 §5.1, chosen by the caller.
    pub initial_seq: u16,
    pub initial_ts: u32,
    pub cn_pt: Option<u8>,
    pub telephone_event_pt: Option<u8>,
}

impl SenderConfig {
    /// A 20 ms, CN-less, DTMF-less configuration.
    pub fn new(pt: u8, kind: CodecKind, ssrc: u32, initial_seq: u16, initial_ts: u32) -> Self {
        SenderConfig {
            pt,
            kind,
            ptime_ms: 20,
            ssrc,
            initial_seq,
            initial_ts,
            cn_pt: None,
            telephone_event_pt: None,
        }
    }
}

/// Rounds an SDP ptime to one we can send: 10–60 ms in 10 ms steps, and for Opus one of its
/// frame sizes (RFC 6716 §2.1.4: 30 and 50 ms are not single frames).
fn normalise_ptime(kind: CodecKind, ptime_ms: u32) -> u32 {
    let p = (ptime_ms.saturating_add(5) / 10 * 10).clamp(10, 60);
    match (kind, p) {
        (CodecKind::Opus, 30) => 20,
        (CodecKind::Opus, 50) => 40,
        _ => p,
    }
}

struct Item {
    id: PlaybackId,
    pcm: Arc<Pcm>,
    looped: bool,
    pos: usize,
    started: bool,
}

pub struct RtpSender {
    cfg: SenderConfig,
    encoder: Box<dyn Encoder>,
    ptime: Duration,
    samples_per_packet: usize,
    ticks_per_packet: u32,
    /// Due time of the next slot; `None` until the first `now` arrives.
    next_slot: Option<Duration>,
    seq: u16,
    /// RTP timestamp of the next slot.
    ts: u32,
    queue: VecDeque<Item>,
    /// Item whose last packet went out in the previous slot: finished at the next slot.
    finishing: Option<PlaybackId>,
    digits: VecDeque<DigitSend>,
    /// The next packet of any audio starts a talkspurt: stream start, after CN, a digit or a
    /// resync.
    need_marker: bool,
    /// The last audio slot was encoded silence, so the next item's first packet is marked.
    in_silence: bool,
    /// Slot time of the last CN packet, while in a CN silence.
    last_cn: Option<Duration>,
    pcm: Vec<i16>,
    payload: Vec<u8>,
    transmits: VecDeque<Vec<u8>>,
    events: VecDeque<SendEvent>,
    packets: u32,
    octets: u32,
}

impl RtpSender {
    pub fn new(config: SenderConfig) -> Result<RtpSender, Error> {
        let ptime_ms = normalise_ptime(config.kind, config.ptime_ms);
        let cfg = SenderConfig { ptime_ms, ..config };
        let samples_per_packet = (cfg.kind.pcm_rate() * ptime_ms / 1_000) as usize;
        Ok(RtpSender {
            encoder: codec::encoder(cfg.kind)?,
            ptime: Duration::from_millis(u64::from(ptime_ms)),
            samples_per_packet,
            ticks_per_packet: cfg.kind.rtp_clock_rate() * ptime_ms / 1_000,
            next_slot: None,
            seq: cfg.initial_seq,
            ts: cfg.initial_ts,
            queue: VecDeque::new(),
            finishing: None,
            digits: VecDeque::new(),
            need_marker: true,
            in_silence: false,
            last_cn: None,
            pcm: Vec::with_capacity(samples_per_packet),
            payload: Vec::with_capacity(1_500),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            packets: 0,
            octets: 0,
            cfg,
        })
    }

    /// The configuration in force (ptime normalised).
    pub fn config(&self) -> &SenderConfig {
        &self.cfg
    }

    /// Queues `pcm` (at the codec's PCM rate) behind whatever is playing.
    pub fn play(
        &mut self,
        now: Duration,
        id: PlaybackId,
        pcm: Arc<Pcm>,
        looped: bool,
    ) -> Result<(), Error> {
        let expected = self.cfg.kind.pcm_rate();
        if pcm.rate != expected {
            return Err(Error::PromptRate {
                expected,
                actual: pcm.rate,
            });
        }
        match self.next_slot {
            // Audio that follows silence goes out now, not at the next slot: the slot grid moves
            // earlier by less than one ptime. Timestamps stay continuous and the first packet
            // is marked, so the receiver re-times the talkspurt (RFC 3551 §4.1).
            Some(slot) if slot > now && self.is_idle() => {
                self.next_slot = Some(now);
                self.need_marker = true;
            }
            _ => {
                self.next_slot.get_or_insert(now);
            }
        }
        self.queue.push_back(Item {
            id,
            pcm,
            looped,
            pos: 0,
            started: false,
        });
        Ok(())
    }

    /// Stops the playing item and drops the queue; silence follows from the next slot.
    pub fn stop(&mut self, now: Duration) {
        if let Some(id) = self.finishing.take() {
            self.events
                .push_back(SendEvent::PlayoutFinished { id, at: now });
        }
        for item in self.queue.drain(..) {
            self.events.push_back(SendEvent::PlayoutStopped {
                id: item.id,
                at: now,
            });
        }
    }

    /// Whether an item is playing or queued.
    pub fn is_playing(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Nothing but silence or comfort noise would go out in the next slot.
    fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.digits.is_empty() && self.finishing.is_none()
    }

    /// Sends an RFC 4733 event of `duration_ms` after any digit already queued.
    pub fn send_digit(
        &mut self,
        now: Duration,
        digit: Digit,
        duration_ms: u32,
    ) -> Result<(), Error> {
        if self.cfg.telephone_event_pt.is_none() {
            return Err(Error::SenderConfig {
                reason: "no telephone-event payload type negotiated",
            });
        }
        // Events count on the audio stream's clock: they share its SSRC and timestamps.
        let ticks = u64::from(duration_ms) * u64::from(self.cfg.kind.rtp_clock_rate()) / 1_000;
        self.next_slot.get_or_insert(now);
        self.digits.push_back(DigitSend::new(
            digit,
            u32::try_from(ticks).unwrap_or(u32::MAX),
        ));
        Ok(())
    }

    pub fn handle_timeout(&mut self, now: Duration) {
        let mut slot = *self.next_slot.get_or_insert(now);
        if slot > now {
            return;
        }
        let due = (now - slot).as_micros() / self.ptime.as_micros().max(1) + 1;
        let skip = due.saturating_sub(u128::from(MAX_BURST)) as u32;
        if skip > 0 {
            slot += self.ptime * skip;
            self.ts = self
                .ts
                .wrapping_add(self.ticks_per_packet.wrapping_mul(skip));
            self.need_marker = true;
        }
        while slot <= now {
            self.send_slot(slot);
            slot += self.ptime;
            self.ts = self.ts.wrapping_add(self.ticks_per_packet);
        }
        self.next_slot = Some(slot);
    }

    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<SendEvent> {
        self.events.pop_front()
    }

    /// The next slot; `Duration::ZERO` before the first `now` so the caller ticks at once.
    pub fn poll_timeout(&self) -> Option<Duration> {
        Some(self.next_slot.unwrap_or(Duration::ZERO))
    }

    fn send_slot(&mut self, at: Duration) {
        if let Some(id) = self.finishing.take() {
            self.events.push_back(SendEvent::PlayoutFinished { id, at });
        }
        if let (Some(pt), Some(d)) = (self.cfg.telephone_event_pt, self.digits.front_mut()) {
            let p = d.next_packet(self.ts, self.ticks_per_packet);
            if d.is_done() {
                self.digits.pop_front();
                self.need_marker = true;
            }
            self.last_cn = None;
            self.push_packet(p.marker, pt, p.ts, &p.payload);
            return;
        }
        if self.fill_from_queue(at) {
            self.last_cn = None;
            let after_silence = std::mem::replace(&mut self.in_silence, false);
            self.send_audio(after_silence);
            return;
        }
        match self.cfg.cn_pt {
            Some(cn_pt) => {
                let refresh_due = self.last_cn.is_none_or(|last| at >= last + CN_REFRESH);
                if refresh_due {
                    self.last_cn = Some(at);
                    let payload = cn::payload(cn::NoiseLevel::SILENCE);
                    // The CN packet opens the silence, so it never carries the marker; the
                    // audio after it does (RFC 3389 §4, RFC 3551 §4.1).
                    self.push_packet(false, cn_pt, self.ts, &payload);
                    self.need_marker = true;
                }
            }
            None => {
                self.pcm.clear();
                self.pcm.resize(self.samples_per_packet, 0);
                self.send_audio(false);
                self.in_silence = true;
            }
        }
    }

    /// Fills `self.pcm` with the head item's next ptime; false when nothing is queued.
    fn fill_from_queue(&mut self, at: Duration) -> bool {
        self.pcm.clear();
        while let Some(item) = self.queue.front_mut() {
            if !item.started {
                item.started = true;
                self.events
                    .push_back(SendEvent::PlayoutStarted { id: item.id, at });
            }
            let len = item.pcm.samples.len();
            if len == 0 {
                // Nothing to send: finished the moment it started.
                let id = item.id;
                self.queue.pop_front();
                self.events.push_back(SendEvent::PlayoutFinished { id, at });
                continue;
            }
            while self.pcm.len() < self.samples_per_packet {
                let want = self.samples_per_packet - self.pcm.len();
                let end = item.pos.saturating_add(want).min(len);
                self.pcm
                    .extend_from_slice(item.pcm.samples.get(item.pos..end).unwrap_or(&[]));
                item.pos = end;
                if item.pos >= len {
                    if !item.looped {
                        break;
                    }
                    item.pos = 0;
                }
            }
            if item.pos >= len && !item.looped {
                self.finishing = Some(item.id);
                self.queue.pop_front();
            }
            // A partial last packet is padded with silence; the next item starts on a slot.
            self.pcm.resize(self.samples_per_packet, 0);
            return true;
        }
        false
    }

    /// Encodes `self.pcm` and sends it; `talkspurt` forces the marker bit.
    fn send_audio(&mut self, talkspurt: bool) {
        self.payload.clear();
        let mut payload = std::mem::take(&mut self.payload);
        let marker = std::mem::replace(&mut self.need_marker, false) || talkspurt;
        if let Err(e) = self.encoder.encode(&self.pcm, &mut payload) {
            // A failed frame is dropped; its timestamp stays consumed like a lost packet.
            tracing::warn!(error = %e, "encoding an outgoing frame failed");
            self.need_marker = marker;
        } else {
            self.push_packet(marker, self.cfg.pt, self.ts, &payload);
        }
        self.payload = payload;
    }

    fn push_packet(&mut self, marker: bool, pt: u8, ts: u32, payload: &[u8]) {
        self.transmits.push_back(packet::build(
            marker,
            pt,
            self.seq,
            ts,
            self.cfg.ssrc,
            payload,
        ));
        self.seq = self.seq.wrapping_add(1);
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(payload.len() as u32);
    }

    /// What has been sent (RFC 3550 §6.4.1 sender info: packet and payload octet counts,
    /// wrapping) and the RTP timestamp of the instant `now` on this stream's clock.
    pub fn sent(&self, now: Duration) -> Sent {
        let rtp_time = match self.next_slot {
            Some(slot) => {
                let rate = i128::from(self.cfg.kind.rtp_clock_rate());
                let micros = now.as_micros() as i128 - slot.as_micros() as i128;
                self.ts
                    .wrapping_add((micros * rate / 1_000_000) as i64 as u32)
            }
            None => self.ts,
        };
        Sent {
            packets: self.packets,
            octets: self.octets,
            rtp_time,
        }
    }
}

/// What a sender has sent, for RTCP sender reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub packets: u32,
    pub octets: u32,
    /// The RTP timestamp of the instant it was asked for.
    pub rtp_time: u32,
}
