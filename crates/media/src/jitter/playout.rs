//! Playout: one 20 ms frame per `poll_frame`, from decoded packets, concealment or silence, with
//! the delay adapted to the measured jitter by stretching or skipping whole frames.

use std::time::Duration;

use super::*;

impl JitterBuffer {
    /// Produces the frame due at or before `now`, writing its samples into `out` (cleared
    /// first). Returns the frame's playout time and what it is made of.
    pub fn poll_frame(
        &mut self,
        now: Duration,
        out: &mut Vec<i16>,
    ) -> Option<(Duration, FrameKind)> {
        let due = self.next_due?;
        if now < due {
            return None;
        }
        self.next_due = Some(due + FRAME);
        out.clear();
        if let Some(adjust) = self.adapt(due) {
            self.pending = adjust;
        }
        let kind = match self.pending {
            Adjust::Stretch => {
                self.pending = Adjust::None;
                self.stats.stretched_frames += 1;
                self.fill(self.frame_samples, out)
            }
            Adjust::Skip
                if self.fill_run > 0 && self.nothing_before(self.play_ts + 2 * self.frame_ts) =>
            {
                // Only empty timestamp space is skipped: the delay shrinks during silence
                // and no audio is ever dropped for it.
                self.pending = Adjust::None;
                self.stats.skipped_frames += 1;
                self.play_ts += self.frame_ts;
                self.fifo_end_ts = self.fifo_end_ts.max(self.play_ts);
                self.next_frame(out)
            }
            _ => self.next_frame(out),
        };
        match kind {
            FrameKind::Concealed => self.stats.concealed_frames += 1,
            FrameKind::Silence => self.stats.silence_frames += 1,
            FrameKind::Decoded => {}
        }
        Some((due, kind))
    }

    /// Moves the playout delay toward the target one frame at a time (RFC 3550 §6.4.1 jitter
    /// drives the target; a late packet raises it for a while).
    pub(super) fn adapt(&mut self, due: Duration) -> Option<Adjust> {
        if due.saturating_sub(self.window_start) < ADAPT_WINDOW {
            return None;
        }
        let jitter = self
            .reception
            .as_ref()
            .map_or(Duration::ZERO, |r| r.jitter());
        self.late_boost = if self.window_late {
            (self.late_boost + FRAME).min(MAX_DELAY)
        } else {
            self.late_boost.saturating_sub(Duration::from_millis(5))
        };
        self.target = (jitter * 3 + MIN_DELAY + self.late_boost).clamp(MIN_DELAY, MAX_DELAY);
        let min_delay = self.window_min_delay_us.take();
        self.window_start = due;
        self.window_late = false;
        let target_us = self.target.as_micros() as i64;
        Some(match min_delay {
            Some(d) if d < target_us - 5_000 => Adjust::Stretch,
            Some(d) if d > target_us + 30_000 => Adjust::Skip,
            _ => Adjust::None,
        })
    }

    /// No decoded audio and no packet before `ts`.
    pub(super) fn nothing_before(&self, ts: i64) -> bool {
        self.fifo.is_empty() && self.packets.first_key_value().is_none_or(|(k, _)| *k >= ts)
    }

    /// Takes the next 20 ms of timestamp space from the buffer.
    pub(super) fn next_frame(&mut self, out: &mut Vec<i16>) -> FrameKind {
        let mut kind = FrameKind::Decoded;
        let frame_end_ts = self.play_ts + self.frame_ts;
        while self.fifo_end_ts < frame_end_ts {
            while let Some(entry) = self.packets.first_entry() {
                if *entry.key() >= self.fifo_end_ts {
                    break;
                }
                entry.remove();
                self.stats.late += 1;
            }
            let next_ts = self.packets.first_key_value().map(|(ts, _)| *ts);
            match next_ts {
                Some(ts) if ts == self.fifo_end_ts => {
                    if let Some(b) = self.packets.remove(&ts) {
                        self.play_packet(b);
                    }
                }
                Some(ts) if ts < frame_end_ts => {
                    kind = worse(kind, self.fill_ts(ts - self.fifo_end_ts));
                }
                _ => {
                    kind = worse(kind, self.fill_ts(frame_end_ts - self.fifo_end_ts));
                }
            }
        }
        if kind == FrameKind::Decoded {
            self.fill_run = 0;
        } else {
            self.fill_run += 1;
        }
        let n = self.frame_samples.min(self.fifo.len());
        out.extend(self.fifo.drain(..n));
        out.resize(self.frame_samples, 0);
        self.play_ts = frame_end_ts;
        kind
    }

    pub(super) fn play_packet(&mut self, b: Buffered) {
        self.last_seq = Some(b.ext_seq);
        match b.slot {
            Slot::ComfortNoise => self.comfort_noise = true,
            Slot::Audio { pt, payload } => {
                self.comfort_noise = false;
                self.scratch.clear();
                let Some((_, dec)) = self.decoders.iter_mut().find(|(p, _)| *p == pt) else {
                    return;
                };
                if dec.decode(&payload, &mut self.scratch).is_err() {
                    self.stats.decode_errors += 1;
                    return;
                }
                self.last_pt = Some(pt);
                self.fifo.extend(self.scratch.iter().copied());
                self.fifo_end_ts += self.scratch.len() as i64 * self.clock_rate / self.pcm_rate;
            }
        }
    }

    /// Fills `ts` ticks of missing audio: concealment right after audio, silence after comfort
    /// noise or once a gap has gone on long enough to be DTX rather than loss.
    pub(super) fn fill_ts(&mut self, ts: i64) -> FrameKind {
        let samples = (ts.max(0) * self.pcm_rate / self.clock_rate) as usize;
        self.fifo_end_ts += ts.max(0);
        let mut tmp = std::mem::take(&mut self.scratch);
        tmp.clear();
        let kind = self.fill(samples, &mut tmp);
        self.fifo.extend(tmp.iter().copied());
        self.scratch = tmp;
        kind
    }

    pub(super) fn fill(&mut self, samples: usize, out: &mut Vec<i16>) -> FrameKind {
        let conceal = !self.comfort_noise && self.fill_run < MAX_CONCEAL_FRAMES;
        let dec = self
            .last_pt
            .and_then(|pt| self.decoders.iter_mut().find(|(p, _)| *p == pt));
        match dec {
            Some((_, dec)) if conceal => {
                let start = out.len();
                dec.conceal(samples, out);
                out.resize(start + samples, 0);
                FrameKind::Concealed
            }
            _ => {
                out.resize(out.len() + samples, 0);
                FrameKind::Silence
            }
        }
    }
}

fn worse(a: FrameKind, b: FrameKind) -> FrameKind {
    match (a, b) {
        (FrameKind::Silence, _) | (_, FrameKind::Silence) => FrameKind::Silence,
        (FrameKind::Concealed, _) | (_, FrameKind::Concealed) => FrameKind::Concealed,
        _ => FrameKind::Decoded,
    }
}
