//! RTCP: sender reports read; our reports sent every 5 s ± 50 % (RFC 3550 §6.2, §6.3.5), sender
//! reports while we send (§6.4.1), receiver reports otherwise.

use std::time::Duration;

use super::MediaSession;
use crate::rtcp;
use crate::rtp::Ssrc;

impl MediaSession {
    pub(super) fn handle_rtcp(&mut self, now: Duration, datagram: &[u8]) {
        self.rtcp_received += 1;
        let Ok(reports) = rtcp::sender_reports(datagram) else {
            self.malformed += 1;
            return;
        };
        for (ssrc, ntp) in reports {
            if let Some(r) = self.jitter.reception_mut().filter(|r| r.ssrc() == ssrc) {
                r.on_sender_report(now, ntp);
            }
        }
    }

    pub(super) fn queue_report(&mut self, now: Duration) {
        let Some(reception) = self.jitter.reception_mut() else {
            return;
        };
        let block = reception.report_block(now);
        let sent = match (self.sent, self.config.wallclock) {
            (Some(sent), Some(wall)) if sent.packets > 0 => Some(rtcp::SenderInfo {
                ntp_time: rtcp::ntp_time(wall + now),
                rtp_time: sent.rtp_time,
                packets: sent.packets,
                octets: sent.octets,
            }),
            _ => None,
        };
        if let Ok(bytes) = rtcp::report(
            Ssrc(self.config.ssrc),
            &self.config.cname,
            sent,
            vec![block],
        ) {
            self.transmit.push_back(bytes);
        }
    }

    /// RFC 3550 §6.3.5: the interval is randomised over [0.5, 1.5] × the nominal one so that
    /// reports from many calls do not synchronise.
    pub(super) fn report_interval(&mut self) -> Duration {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let factor = 0.5 + (self.rng % 1000) as f64 / 1000.0;
        rtcp::REPORT_INTERVAL.mul_f64(factor)
    }
}
