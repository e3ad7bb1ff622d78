//! Sending one RFC 4733 telephone event: a start packet with the marker bit, an update every
//! packet interval carrying the duration so far, and the end packet sent three times
//! (RFC 4733 §2.5.1.2–§2.5.1.4). Every packet shares the event's start timestamp; each gets its
//! own sequence number, as every RTP packet does (RFC 3550 §5.1).

use crate::Digit;

/// Volume field of the events we send: −10 dBm0 (RFC 4733 §2.3.4, a typical DTMF level).
const VOLUME: u8 = 10;
/// Copies of the end packet (RFC 4733 §2.5.1.4).
const END_COPIES: u8 = 3;

/// One event in flight.
#[derive(Debug, Clone)]
pub struct DigitSend {
    digit: Digit,
    /// Total length in RTP ticks, at most `u16::MAX` (longer events would need segments,
    /// RFC 4733 §2.5.1.3, which no DTMF digit does).
    total: u16,
    /// RTP timestamp of the first packet, carried by every packet of the event.
    pub start_ts: Option<u32>,
    elapsed: u32,
    ends_sent: u8,
}

/// What to put in the next packet of the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    pub marker: bool,
    pub ts: u32,
    pub payload: [u8; 4],
}

impl DigitSend {
    pub fn new(digit: Digit, duration_ticks: u32) -> DigitSend {
        DigitSend {
            digit,
            total: duration_ticks.clamp(1, u32::from(u16::MAX)) as u16,
            start_ts: None,
            elapsed: 0,
            ends_sent: 0,
        }
    }

    pub fn is_done(&self) -> bool {
        self.ends_sent >= END_COPIES
    }

    /// The packet for the slot whose audio timestamp is `slot_ts`, `step` ticks long.
    pub fn next_packet(&mut self, slot_ts: u32, step: u32) -> EventPacket {
        let start = *self.start_ts.get_or_insert(slot_ts);
        let marker = self.elapsed == 0;
        self.elapsed = self.elapsed.saturating_add(step);
        let end = self.elapsed >= u32::from(self.total);
        let duration = if end {
            self.ends_sent = self.ends_sent.saturating_add(1);
            self.total
        } else {
            self.elapsed as u16
        };
        let flags = (u8::from(end) << 7) | VOLUME;
        let [d0, d1] = duration.to_be_bytes();
        EventPacket {
            marker,
            ts: start,
            payload: [self.digit.event_code(), flags, d0, d1],
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use crate::dtmf::rfc4733::parse_event;

    #[test]
    fn event_runs_start_updates_and_three_ends() {
        let mut d = DigitSend::new(Digit::D5, 800);
        let packets: Vec<_> = (0..8u32)
            .map_while(|i| (!d.is_done()).then(|| d.next_packet(1000 + i * 160, 160)))
            .collect();
        assert_eq!(packets.len(), 7);
        assert!(packets[0].marker);
        assert!(packets[1..].iter().all(|p| !p.marker && p.ts == 1000));
        let parsed: Vec<_> = packets
            .iter()
            .map(|p| parse_event(&p.payload).unwrap())
            .collect();
        assert_eq!(parsed[0].duration, 160);
        assert!(!parsed[3].end);
        assert!(parsed[4..]
            .iter()
            .all(|e| e.end && e.duration == 800 && e.event == 5));
    }
}
