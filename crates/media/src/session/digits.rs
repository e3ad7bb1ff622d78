//! The three DTMF paths into one digit stream: RFC 4733 events, SIP INFO digits and (fed from
//! `process_frame`) in-band tones, each digit reported once (`DigitDedup`) with its timing.

use std::time::Duration;

use super::{MediaEvent, MediaSession};
use crate::dtmf::rfc4733::{self, EventUpdate};
use crate::dtmf::DigitSource;
use crate::{rtp, Digit};

impl MediaSession {
    pub(super) fn handle_event(
        &mut self,
        now: Duration,
        pkt: &rtp::RtpPacket<'_>,
        clock_rate: u32,
    ) {
        self.event_packets += 1;
        self.jitter.observe(now, pkt);
        let Ok(ev) = rfc4733::parse_event(pkt.payload) else {
            self.malformed += 1;
            return;
        };
        // RFC 4733 §2.1: events on the audio clock share its timeline; others (a /8000 event
        // beside Opus) are placed at their arrival plus the playout delay.
        let at = if self.jitter.clock_rate() == clock_rate {
            self.jitter.playout_time(pkt.ssrc, pkt.timestamp)
        } else {
            None
        }
        .unwrap_or(now + self.jitter.target_delay());
        let mut updates = std::mem::take(&mut self.updates);
        let event = rfc4733::EventPacket {
            ssrc: pkt.ssrc,
            ts: pkt.timestamp,
            clock_rate,
            payload: ev,
        };
        self.events.handle(now, at, event, &mut updates);
        self.apply_event_updates(&mut updates);
        self.updates = updates;
    }

    pub(super) fn apply_event_updates(&mut self, updates: &mut Vec<EventUpdate>) {
        for u in updates.drain(..) {
            match u {
                EventUpdate::Started {
                    digit,
                    at,
                    duration,
                } => self.digit_started(digit, DigitSource::Rfc4733, at, duration),
                EventUpdate::Ended {
                    digit,
                    at,
                    duration,
                } => self.digit_ended(digit, DigitSource::Rfc4733, at, duration),
            }
        }
    }

    /// A digit from a SIP INFO body (RFC 6086 `application/dtmf-relay`).
    pub fn handle_info_digit(&mut self, now: Duration, digit: Digit, duration: Option<Duration>) {
        let at = now + self.jitter.target_delay();
        self.digit_started(digit, DigitSource::SipInfo, at, duration);
    }

    pub(super) fn digit_started(
        &mut self,
        digit: Digit,
        source: DigitSource,
        at: Duration,
        duration: Option<Duration>,
    ) {
        if !self.dedup.accept(digit, source, at, duration) {
            return;
        }
        // SIP INFO without a Duration never gets an end: it stays a one-shot digit.
        if duration.is_none() && source != DigitSource::SipInfo {
            self.open_digits.push((digit, source, at));
        }
        self.out.push_back(MediaEvent::Digit {
            digit,
            started_at: at,
            ended_at: duration.map(|d| at + d),
            source,
        });
    }

    pub(super) fn digit_ended(
        &mut self,
        digit: Digit,
        source: DigitSource,
        at: Duration,
        d: Duration,
    ) {
        let Some(i) = self
            .open_digits
            .iter()
            .position(|o| *o == (digit, source, at))
        else {
            return;
        };
        self.open_digits.swap_remove(i);
        self.dedup.set_duration(digit, source, at, d);
        self.out.push_back(MediaEvent::DigitEnded {
            digit,
            started_at: at,
            ended_at: at + d,
            source,
        });
    }
}
