//! Adaptive jitter buffer and decoder for one incoming audio stream.
//!
//! The output is a steady clock of 20 ms frames: once the first packet has arrived, frame `k`
//! is due at `first_due + k·20 ms` on the caller's `now` clock, whatever the network does. Each
//! frame covers the next 20 ms of RTP timestamp space (`play_ts`). Loss is concealed, gaps with
//! no packets (DTX, comfort noise, a peer that stopped sending) are filled with silence, and the
//! playout delay follows the measured interarrival jitter by inserting or skipping whole frames
//! of timestamp space, so the output timeline never shrinks or stalls.

mod playout;

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use crate::codec::Decoder;
use crate::rtcp::ReceptionStats;
use crate::rtp::{PayloadType, RtpPacket, SeqExtender, Ssrc, TsExtender};

pub const FRAME: Duration = Duration::from_millis(20);
pub const MIN_DELAY: Duration = Duration::from_millis(20);
pub const MAX_DELAY: Duration = Duration::from_millis(200);
const INITIAL_DELAY: Duration = Duration::from_millis(60);
/// A packet due to play further than this from the playout point is a timestamp jump, not
/// jitter: the buffer resynchronises on it.
const RESYNC_SPAN_US: i64 = 1_000_000;
const ADAPT_WINDOW: Duration = Duration::from_millis(500);
/// Loss is concealed for at most this many frames; a longer gap is DTX or a stalled peer and
/// gets silence.
const MAX_CONCEAL_FRAMES: u32 = 3;
const MAX_PACKETS: usize = 256;

/// What the buffer holds for a timestamp.
#[derive(Debug)]
enum Slot {
    Audio {
        pt: PayloadType,
        payload: Vec<u8>,
    },
    /// RFC 3389 comfort noise: silence until the next packet.
    ComfortNoise,
}

#[derive(Debug)]
struct Buffered {
    ext_seq: u64,
    slot: Slot,
}

/// How an arriving packet was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    Buffered,
    Duplicate,
    Late,
    /// The packet started a new timeline (first packet, timestamp jump).
    Resynced,
    /// The packet came from a new SSRC; the buffer resynchronised on it.
    SsrcChanged {
        from: Ssrc,
        to: Ssrc,
    },
}

/// What a produced frame is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    Decoded,
    Concealed,
    Silence,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    pub received: u64,
    pub duplicates: u64,
    pub late: u64,
    pub decode_errors: u64,
    pub concealed_frames: u64,
    pub silence_frames: u64,
    pub resyncs: u64,
    pub stretched_frames: u64,
    pub skipped_frames: u64,
}

/// Jitter buffer plus the decoders for every negotiated audio payload type of one stream.
pub struct JitterBuffer {
    decoders: Vec<(PayloadType, Box<dyn Decoder>)>,
    clock_rate: i64,
    pcm_rate: i64,
    frame_ts: i64,
    frame_samples: usize,

    ssrc: Option<Ssrc>,
    seq: SeqExtender,
    ts: TsExtender,
    /// Added to extended timestamps so that a new timeline (SSRC change, timestamp jump)
    /// continues right after the audio already buffered.
    ts_offset: i64,
    reception: Option<ReceptionStats>,
    /// Duplicate detection: bit `i` is set when `seen_top - i` was received.
    seen: u128,
    seen_top: u64,
    packets: BTreeMap<i64, Buffered>,
    last_rtp_at: Option<Duration>,

    next_due: Option<Duration>,
    play_ts: i64,
    fifo: VecDeque<i16>,
    fifo_end_ts: i64,
    last_seq: Option<u64>,
    last_pt: Option<PayloadType>,
    comfort_noise: bool,
    fill_run: u32,
    scratch: Vec<i16>,

    target: Duration,
    late_boost: Duration,
    window_start: Duration,
    window_min_delay_us: Option<i64>,
    window_late: bool,
    pending: Adjust,
    stats: JitterStats,
}

impl JitterBuffer {
    /// `clock_rate` is the RTP clock and `pcm_rate` the decoders' output rate; every decoder
    /// given must share them.
    pub fn new(
        decoders: Vec<(PayloadType, Box<dyn Decoder>)>,
        clock_rate: u32,
        pcm_rate: u32,
    ) -> JitterBuffer {
        let clock_rate = i64::from(clock_rate.max(1000));
        let pcm_rate = i64::from(pcm_rate.max(1000));
        JitterBuffer {
            decoders,
            clock_rate,
            pcm_rate,
            frame_ts: clock_rate / 50,
            frame_samples: (pcm_rate / 50) as usize,
            ssrc: None,
            seq: SeqExtender::default(),
            ts: TsExtender::default(),
            ts_offset: 0,
            reception: None,
            seen: 0,
            seen_top: 0,
            packets: BTreeMap::new(),
            last_rtp_at: None,
            next_due: None,
            play_ts: 0,
            fifo: VecDeque::new(),
            fifo_end_ts: 0,
            last_seq: None,
            last_pt: None,
            comfort_noise: false,
            fill_run: 0,
            scratch: Vec::new(),
            target: INITIAL_DELAY,
            late_boost: Duration::ZERO,
            window_start: Duration::ZERO,
            window_min_delay_us: None,
            window_late: false,
            pending: Adjust::None,
            stats: JitterStats::default(),
        }
    }

    pub fn pcm_rate(&self) -> u32 {
        self.pcm_rate as u32
    }

    pub fn clock_rate(&self) -> u32 {
        self.clock_rate as u32
    }

    pub fn ssrc(&self) -> Option<Ssrc> {
        self.ssrc
    }

    /// When the last packet of this stream arrived (for the media receive timeout).
    pub fn last_rtp_at(&self) -> Option<Duration> {
        self.last_rtp_at
    }

    /// When the next frame is due; `None` until the first packet.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.next_due
    }

    pub fn target_delay(&self) -> Duration {
        self.target
    }

    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    pub fn reception(&self) -> Option<&ReceptionStats> {
        self.reception.as_ref()
    }

    pub fn reception_mut(&mut self) -> Option<&mut ReceptionStats> {
        self.reception.as_mut()
    }

    /// When RTP time `ts` of the current source plays out, on the `now` clock.
    pub fn playout_time(&self, ssrc: Ssrc, ts: u32) -> Option<Duration> {
        if self.ssrc != Some(ssrc) {
            return None;
        }
        let due = self.next_due?;
        let mapped = ts.wrapping_add(self.ts_offset as u32);
        let delta = i64::from(mapped.wrapping_sub(self.play_ts as u32) as i32);
        let us = due.as_micros() as i64 + delta * 1_000_000 / self.clock_rate;
        Some(Duration::from_micros(us.max(0) as u64))
    }

    /// Counts a non-audio packet of the current source (RFC 4733 events share the audio's
    /// sequence space), so that it is not mistaken for loss.
    pub fn observe(&mut self, now: Duration, pkt: &RtpPacket<'_>) {
        if self.ssrc != Some(pkt.ssrc) {
            return;
        }
        self.last_rtp_at = Some(now);
        let ext_seq = self.seq.extend(pkt.seq);
        if !self.already_seen(ext_seq) {
            if let Some(r) = self.reception.as_mut() {
                r.count(ext_seq);
            }
        }
    }

    /// Takes an audio packet of a negotiated payload type.
    pub fn insert(&mut self, now: Duration, pkt: &RtpPacket<'_>) -> Arrival {
        self.insert_slot(
            now,
            pkt,
            Slot::Audio {
                pt: pkt.payload_type,
                payload: pkt.payload.to_vec(),
            },
        )
    }

    /// Takes a comfort-noise packet (RFC 3389): what follows is silence, not loss.
    pub fn insert_comfort_noise(&mut self, now: Duration, pkt: &RtpPacket<'_>) -> Arrival {
        self.insert_slot(now, pkt, Slot::ComfortNoise)
    }

    fn insert_slot(&mut self, now: Duration, pkt: &RtpPacket<'_>, slot: Slot) -> Arrival {
        self.last_rtp_at = Some(now);
        let mut outcome = Arrival::Buffered;
        if self.ssrc != Some(pkt.ssrc) {
            if let Some(from) = self.ssrc {
                outcome = Arrival::SsrcChanged { from, to: pkt.ssrc };
            }
            self.ssrc = Some(pkt.ssrc);
            self.seq = SeqExtender::default();
            self.ts = TsExtender::default();
            self.seen = 0;
            self.seen_top = 0;
            self.reception = None;
        }
        let ext_seq = self.seq.extend(pkt.seq);
        let mut ext_ts = self.ts.extend(pkt.timestamp).saturating_add(self.ts_offset);
        if self.already_seen(ext_seq) {
            self.stats.duplicates += 1;
            return Arrival::Duplicate;
        }
        self.stats.received += 1;
        let clock = self.clock_rate as u32;
        self.reception
            .get_or_insert_with(|| ReceptionStats::new(pkt.ssrc, clock, ext_seq))
            .on_packet(now, ext_seq, pkt.timestamp);

        let now_us = now.as_micros() as i64;
        let delay_us = self.next_due.map(|due| {
            due.as_micros() as i64 + (ext_ts - self.play_ts) * 1_000_000 / self.clock_rate - now_us
        });
        match delay_us {
            Some(d) if outcome == Arrival::Buffered && d.abs() <= RESYNC_SPAN_US => {
                if ext_ts < self.fifo_end_ts {
                    self.stats.late += 1;
                    self.window_late = true;
                    return Arrival::Late;
                }
                let min = self.window_min_delay_us.get_or_insert(d);
                *min = (*min).min(d);
            }
            _ => {
                ext_ts = self.resync(now, ext_ts);
                if outcome == Arrival::Buffered {
                    outcome = Arrival::Resynced;
                }
            }
        }
        if self.packets.len() >= MAX_PACKETS {
            self.packets.pop_last();
        }
        self.packets.insert(ext_ts, Buffered { ext_seq, slot });
        outcome
    }

    fn already_seen(&mut self, ext_seq: u64) -> bool {
        if self.seen == 0 || ext_seq > self.seen_top {
            let shift = ext_seq.saturating_sub(self.seen_top);
            self.seen = if self.seen == 0 || shift >= 128 {
                0
            } else {
                self.seen << shift
            } | 1;
            self.seen_top = ext_seq;
            return false;
        }
        let back = self.seen_top - ext_seq;
        if back >= 128 {
            return false;
        }
        let bit = 1u128 << back;
        let seen = self.seen & bit != 0;
        self.seen |= bit;
        seen
    }

    /// Starts a new timeline for a packet at `ext_ts`: it plays `target` from now, or right
    /// after the audio still buffered from the old timeline, whichever is later. The output
    /// clock is kept. Returns the packet's timestamp on the playout timeline.
    fn resync(&mut self, now: Duration, ext_ts: i64) -> i64 {
        self.stats.resyncs += 1;
        if let Some(r) = self.reception.as_mut() {
            r.resync();
        }
        let Some(due) = self.next_due else {
            self.next_due = Some(now + self.target);
            self.play_ts = ext_ts;
            self.fifo_end_ts = ext_ts;
            self.window_start = now;
            return ext_ts;
        };
        let lead_us = (now + self.target).as_micros() as i64 - due.as_micros() as i64;
        let wanted = self.play_ts + lead_us * self.clock_rate / 1_000_000;
        let buffered_end = self
            .packets
            .last_key_value()
            .map_or(self.fifo_end_ts, |(ts, _)| ts + self.frame_ts)
            .max(self.fifo_end_ts);
        let mapped = wanted.max(buffered_end);
        self.ts_offset = self.ts_offset.saturating_add(mapped - ext_ts);
        self.window_start = now;
        self.window_min_delay_us = None;
        self.window_late = false;
        mapped
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Adjust {
    None,
    Stretch,
    Skip,
}
