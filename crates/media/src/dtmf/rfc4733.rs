//! RFC 4733 telephone-event receiver: one digit per event, however its packets are repeated.
//!
//! An event is identified by its RTP timestamp (RFC 4733 §2.5.1.2: every packet of one event
//! carries the event's start timestamp). The digit is reported on the first packet of the
//! event, or on its end packet when every earlier one was lost; the three end packets, with the
//! same or new sequence numbers, are absorbed.

use std::time::Duration;

use crate::rtp::Ssrc;
use crate::{Digit, Error};

/// The 4-byte event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPayload {
    pub event: u8,
    pub end: bool,
    pub volume: u8,
    /// In RTP clock ticks since the event's timestamp.
    pub duration: u16,
}

pub fn parse_event(payload: &[u8]) -> Result<EventPayload, Error> {
    match payload {
        [event, flags, d0, d1, ..] => Ok(EventPayload {
            event: *event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([*d0, *d1]),
        }),
        _ => Err(Error::Malformed {
            what: "telephone-event payload",
            reason: "shorter than 4 bytes",
        }),
    }
}

/// What the receiver learned from a packet or a timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventUpdate {
    /// A new digit; `duration` is known when the first packet seen was already an end packet.
    Started {
        digit: Digit,
        at: Duration,
        duration: Option<Duration>,
    },
    /// The digit reported earlier has ended after `duration`.
    Ended {
        digit: Digit,
        at: Duration,
        duration: Duration,
    },
}

/// One telephone-event packet as the session hands it over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    pub ssrc: Ssrc,
    pub ts: u32,
    /// The clock of the payload type it came with (`telephone-event/8000`, `/48000`…):
    /// durations count in it (RFC 4733 §2.5.1.3).
    pub clock_rate: u32,
    pub payload: EventPayload,
}

#[derive(Debug, Clone, Copy)]
struct Current {
    ssrc: Ssrc,
    ts: u32,
    clock_rate: u32,
    digit: Digit,
    at: Duration,
    duration: u16,
    last_packet: Duration,
}

/// If an event's end packets are all lost, it is closed this long after its last packet.
const END_TIMEOUT: Duration = Duration::from_millis(300);
const FINISHED_MEMORY: usize = 8;

#[derive(Debug, Default)]
pub struct EventReceiver {
    current: Option<Current>,
    /// Recently finished events (SSRC, timestamp), so late end repeats stay absorbed.
    finished: [Option<(Ssrc, u32)>; FINISHED_MEMORY],
    finished_next: usize,
}

impl EventReceiver {
    /// `at` is the event's start on the caller's media timeline.
    pub fn handle(
        &mut self,
        now: Duration,
        at: Duration,
        pkt: EventPacket,
        out: &mut Vec<EventUpdate>,
    ) {
        let EventPacket {
            ssrc,
            ts,
            clock_rate,
            payload: ev,
        } = pkt;
        let Some(digit) = Digit::from_event_code(ev.event) else {
            return;
        };
        if self.finished.contains(&Some((ssrc, ts))) {
            return;
        }
        if let Some(cur) = self.current.as_mut() {
            if cur.ssrc == ssrc && cur.ts == ts {
                cur.duration = cur.duration.max(ev.duration);
                cur.last_packet = now;
                if ev.end {
                    let cur = *cur;
                    self.finish(cur, out);
                }
                return;
            }
            // A new event while one is open: the open one lost its end packets.
            let cur = *cur;
            self.finish(cur, out);
        }
        if ev.end {
            out.push(EventUpdate::Started {
                digit,
                at,
                duration: Some(ticks(ev.duration, clock_rate)),
            });
            self.remember(ssrc, ts);
            return;
        }
        out.push(EventUpdate::Started {
            digit,
            at,
            duration: None,
        });
        self.current = Some(Current {
            ssrc,
            ts,
            clock_rate,
            digit,
            at,
            duration: ev.duration,
            last_packet: now,
        });
    }

    /// Closes an event whose end packets never came.
    pub fn handle_timeout(&mut self, now: Duration, out: &mut Vec<EventUpdate>) {
        if let Some(cur) = self.current {
            if now.saturating_sub(cur.last_packet) >= END_TIMEOUT {
                self.finish(cur, out);
            }
        }
    }

    pub fn poll_timeout(&self) -> Option<Duration> {
        self.current.map(|c| c.last_packet + END_TIMEOUT)
    }

    fn finish(&mut self, cur: Current, out: &mut Vec<EventUpdate>) {
        self.current = None;
        self.remember(cur.ssrc, cur.ts);
        out.push(EventUpdate::Ended {
            digit: cur.digit,
            at: cur.at,
            duration: ticks(cur.duration, cur.clock_rate),
        });
    }

    fn remember(&mut self, ssrc: Ssrc, ts: u32) {
        if let Some(slot) = self.finished.get_mut(self.finished_next) {
            *slot = Some((ssrc, ts));
        }
        self.finished_next = (self.finished_next + 1) % FINISHED_MEMORY;
    }
}

fn ticks(duration: u16, clock_rate: u32) -> Duration {
    Duration::from_micros(u64::from(duration) * 1_000_000 / u64::from(clock_rate.max(1)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    fn ev(event: u8, end: bool, duration: u16) -> EventPayload {
        EventPayload {
            event,
            end,
            volume: 10,
            duration,
        }
    }

    fn pkt(ssrc: Ssrc, ts: u32, clock_rate: u32, payload: EventPayload) -> EventPacket {
        EventPacket {
            ssrc,
            ts,
            clock_rate,
            payload,
        }
    }

    #[test]
    fn durations_count_in_the_payload_types_clock() {
        let mut r = EventReceiver::default();
        let mut out = Vec::new();
        let ms = Duration::from_millis;
        // telephone-event/48000 beside Opus: 4800 ticks are 100 ms, not 600.
        r.handle(
            ms(0),
            ms(0),
            pkt(Ssrc(1), 9, 48_000, ev(1, false, 960)),
            &mut out,
        );
        r.handle(
            ms(80),
            ms(0),
            pkt(Ssrc(1), 9, 48_000, ev(1, true, 4_800)),
            &mut out,
        );
        r.handle(
            ms(90),
            ms(0),
            pkt(Ssrc(1), 77, 8_000, ev(2, true, 800)),
            &mut out,
        );
        let durations: Vec<Option<Duration>> = out
            .iter()
            .map(|u| match u {
                EventUpdate::Started { duration, .. } => *duration,
                EventUpdate::Ended { duration, .. } => Some(*duration),
            })
            .collect();
        assert_eq!(durations, vec![None, Some(ms(100)), Some(ms(100))]);
    }

    #[test]
    fn parses_payload() {
        let e = parse_event(&[11, 0x8a, 0x05, 0x00]).unwrap();
        assert_eq!(e, ev(11, true, 1280));
        assert!(parse_event(&[1, 2, 3]).is_err());
    }

    #[test]
    fn one_digit_per_event_with_repeated_ends() {
        let mut r = EventReceiver::default();
        let mut out = Vec::new();
        let s = Ssrc(1);
        let ms = Duration::from_millis;
        for (i, d) in [160u16, 320, 480, 640].iter().enumerate() {
            r.handle(
                ms(50 * i as u64),
                ms(0),
                pkt(s, 8000, 8000, ev(5, false, *d)),
                &mut out,
            );
        }
        for i in 0..3 {
            r.handle(
                ms(200 + i),
                ms(0),
                pkt(s, 8000, 8000, ev(5, true, 800)),
                &mut out,
            );
        }
        assert_eq!(
            out,
            vec![
                EventUpdate::Started {
                    digit: Digit::D5,
                    at: ms(0),
                    duration: None
                },
                EventUpdate::Ended {
                    digit: Digit::D5,
                    at: ms(0),
                    duration: ms(100)
                },
            ]
        );
    }

    #[test]
    fn end_packet_alone_reports_the_digit() {
        let mut r = EventReceiver::default();
        let mut out = Vec::new();
        let ms = Duration::from_millis;
        r.handle(
            ms(0),
            ms(0),
            pkt(Ssrc(1), 1, 8000, ev(11, true, 1280)),
            &mut out,
        );
        r.handle(
            ms(1),
            ms(0),
            pkt(Ssrc(1), 1, 8000, ev(11, true, 1280)),
            &mut out,
        );
        assert_eq!(
            out,
            vec![EventUpdate::Started {
                digit: Digit::Pound,
                at: ms(0),
                duration: Some(ms(160))
            }]
        );
    }

    #[test]
    fn lost_end_is_closed_by_timeout() {
        let mut r = EventReceiver::default();
        let mut out = Vec::new();
        let ms = Duration::from_millis;
        r.handle(
            ms(0),
            ms(0),
            pkt(Ssrc(1), 1, 8000, ev(1, false, 400)),
            &mut out,
        );
        r.handle_timeout(ms(100), &mut out);
        assert_eq!(out.len(), 1);
        r.handle_timeout(ms(300), &mut out);
        assert_eq!(out.len(), 2);
        assert!(r.poll_timeout().is_none());
    }
}
