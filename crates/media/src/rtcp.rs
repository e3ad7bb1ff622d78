//! RTCP for one received stream: the RFC 3550 reception statistics (loss, extended highest
//! sequence, interarrival jitter), the sender-report timing we echo back as LSR/DLSR, and the
//! receiver reports we send every ~5 s.

use std::time::Duration;

use rtc_rtcp::packet::Packet;
use rtc_rtcp::receiver_report::ReceiverReport;
use rtc_rtcp::reception_report::ReceptionReport;
use rtc_rtcp::sender_report::SenderReport;
use rtc_rtcp::source_description::{
    SdesType, SourceDescription, SourceDescriptionChunk, SourceDescriptionItem,
};

use crate::rtp::Ssrc;
use crate::Error;

/// RFC 3550 §6.2: the nominal interval for a two-party audio session.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(5);

/// Reception statistics for one source (RFC 3550 Appendix A.3 and A.8).
#[derive(Debug, Clone)]
pub struct ReceptionStats {
    ssrc: Ssrc,
    clock_rate: u32,
    base_seq: u64,
    max_seq: u64,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// Previous relative transit time, in RTP clock ticks.
    transit: Option<i64>,
    /// Interarrival jitter in RTP clock ticks (RFC 3550 §6.4.1, the J estimator).
    jitter: f64,
    /// Middle 32 bits of the last SR's NTP timestamp, and when it arrived.
    last_sr: Option<(u32, Duration)>,
}

impl ReceptionStats {
    pub fn new(ssrc: Ssrc, clock_rate: u32, first_ext_seq: u64) -> ReceptionStats {
        ReceptionStats {
            ssrc,
            clock_rate: clock_rate.max(1),
            base_seq: first_ext_seq,
            max_seq: first_ext_seq,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            transit: None,
            jitter: 0.0,
            last_sr: None,
        }
    }

    pub fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    /// Counts one packet that is not a duplicate.
    pub fn on_packet(&mut self, now: Duration, ext_seq: u64, rtp_ts: u32) {
        self.received += 1;
        self.max_seq = self.max_seq.max(ext_seq);
        self.base_seq = self.base_seq.min(ext_seq);
        // RFC 3550 §6.4.1: D = (Rj - Ri) - (Sj - Si), J += (|D| - J) / 16.
        let arrival = (now.as_nanos() * u128::from(self.clock_rate) / 1_000_000_000) as i64;
        let transit = arrival.wrapping_sub(i64::from(rtp_ts));
        if let Some(prev) = self.transit {
            let d = transit.wrapping_sub(prev);
            // A timestamp jump shows up as one huge D; cap it so one resync does not dominate.
            let d = (d.unsigned_abs() as f64).min(f64::from(self.clock_rate));
            self.jitter += (d - self.jitter) / 16.0;
        }
        self.transit = Some(transit);
    }

    /// Counts a packet whose timestamp says nothing about arrival timing (an RFC 4733 event
    /// keeps its start timestamp across packets).
    pub fn count(&mut self, ext_seq: u64) {
        self.received += 1;
        self.max_seq = self.max_seq.max(ext_seq);
        self.base_seq = self.base_seq.min(ext_seq);
    }

    /// Forgets the transit baseline after a timestamp jump, keeping the loss counters.
    pub fn resync(&mut self) {
        self.transit = None;
    }

    pub fn on_sender_report(&mut self, now: Duration, ntp_time: u64) {
        self.last_sr = Some(((ntp_time >> 16) as u32, now));
    }

    pub fn received(&self) -> u64 {
        self.received
    }

    pub fn expected(&self) -> u64 {
        self.max_seq - self.base_seq + 1
    }

    /// Cumulative packets lost (RFC 3550 §6.4.1), negative when duplicates were counted.
    pub fn lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }

    pub fn jitter(&self) -> Duration {
        Duration::from_secs_f64(self.jitter / f64::from(self.clock_rate))
    }

    /// One report block (RFC 3550 §6.4.2 and Appendix A.3), starting a new loss interval.
    pub fn report_block(&mut self, now: Duration) -> ReceptionReport {
        let expected = self.expected();
        let expected_interval = expected - self.expected_prior;
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval.saturating_sub(received_interval);
        let fraction_lost = (lost_interval << 8)
            .checked_div(expected_interval)
            .map_or(0, |f| f.min(255) as u8);
        // 24-bit signed cumulative loss, clamped (RFC 3550 §6.4.1).
        let total_lost = (self.lost().clamp(-0x80_0000, 0x7f_ffff) as i32 as u32) & 0xff_ffff;
        let (last_sender_report, delay) = match self.last_sr {
            Some((lsr, at)) => {
                let since = now.saturating_sub(at);
                // DLSR in units of 1/65536 s.
                let dlsr = (since.as_nanos() * 65_536 / 1_000_000_000).min(u128::from(u32::MAX));
                (lsr, dlsr as u32)
            }
            None => (0, 0),
        };
        ReceptionReport {
            ssrc: self.ssrc.0,
            fraction_lost,
            total_lost,
            // Extended highest sequence number: the rollover count lives in the upper 16 bits.
            last_sequence_number: self.max_seq as u32,
            jitter: self.jitter.min(f64::from(u32::MAX)) as u32,
            last_sender_report,
            delay,
        }
    }
}

/// Sender reports found in an incoming RTCP datagram, as (sender SSRC, 64-bit NTP time).
pub fn sender_reports(datagram: &[u8]) -> Result<Vec<(Ssrc, u64)>, Error> {
    let mut buf = datagram;
    let packets = rtc_rtcp::packet::unmarshal(&mut buf).map_err(|_| Error::Malformed {
        what: "RTCP packet",
        reason: "not a valid compound packet",
    })?;
    Ok(packets
        .iter()
        .filter_map(|p| p.as_any().downcast_ref::<SenderReport>())
        .map(|sr| (Ssrc(sr.ssrc), sr.ntp_time))
        .collect())
}

/// What we have sent, for a sender report (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderInfo {
    /// 64-bit NTP time of the report (seconds since 1900 in the upper 32 bits).
    pub ntp_time: u64,
    /// The RTP timestamp that corresponds to `ntp_time` on our stream's clock.
    pub rtp_time: u32,
    pub packets: u32,
    /// Payload octets (no headers).
    pub octets: u32,
}

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET_S: u64 = 2_208_988_800;

/// A Unix time as a 64-bit NTP timestamp (RFC 3550 §4).
pub fn ntp_time(unix: Duration) -> u64 {
    let secs = unix.as_secs().saturating_add(NTP_UNIX_OFFSET_S);
    let frac = (u64::from(unix.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// A compound report + SDES CNAME datagram (RFC 3550 §6.1: every compound packet carries a
/// CNAME). With `sent` it is a sender report (§6.4: we are an active sender), else a receiver
/// report.
pub fn report(
    own: Ssrc,
    cname: &str,
    sent: Option<SenderInfo>,
    blocks: Vec<ReceptionReport>,
) -> Result<Vec<u8>, Error> {
    let Some(info) = sent else {
        return receiver_report(own, cname, blocks);
    };
    let sr = SenderReport {
        ssrc: own.0,
        ntp_time: info.ntp_time,
        rtp_time: info.rtp_time,
        packet_count: info.packets,
        octet_count: info.octets,
        reports: blocks,
        profile_extensions: Default::default(),
    };
    compound(Box::new(sr), own, cname)
}

fn compound(first: Box<dyn Packet>, own: Ssrc, cname: &str) -> Result<Vec<u8>, Error> {
    let sdes = SourceDescription {
        chunks: vec![SourceDescriptionChunk {
            source: own.0,
            items: vec![SourceDescriptionItem {
                sdes_type: SdesType::SdesCname,
                text: bytes::Bytes::copy_from_slice(cname.as_bytes()),
            }],
        }],
    };
    let packets: Vec<Box<dyn Packet>> = vec![first, Box::new(sdes)];
    rtc_rtcp::packet::marshal(&packets)
        .map(|b| b.to_vec())
        .map_err(|_| Error::Malformed {
            what: "RTCP report",
            reason: "could not be encoded",
        })
}

/// A compound RR + SDES CNAME datagram (RFC 3550 §6.1: every compound packet carries a CNAME).
pub fn receiver_report(
    own: Ssrc,
    cname: &str,
    blocks: Vec<ReceptionReport>,
) -> Result<Vec<u8>, Error> {
    let rr = ReceiverReport {
        ssrc: own.0,
        reports: blocks,
        profile_extensions: Default::default(),
    };
    compound(Box::new(rr), own, cname)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn reports_loss_fraction_and_extended_sequence() {
        let mut s = ReceptionStats::new(Ssrc(9), 8000, 70_000);
        for i in 0..100u64 {
            if i % 10 == 3 {
                continue;
            }
            let now = Duration::from_millis(20 * i);
            s.on_packet(now, 70_000 + i, (160 * i) as u32);
        }
        assert_eq!(s.lost(), 10);
        let b = s.report_block(Duration::from_secs(2));
        assert_eq!(b.fraction_lost, (10 * 256 / 100) as u8);
        assert_eq!(b.total_lost, 10);
        assert_eq!(b.last_sequence_number, 70_099);
        assert_eq!(b.jitter, 0);
        // A new interval with no loss reports zero fraction but keeps the total.
        s.on_packet(Duration::from_secs(3), 70_100, 16_000);
        let b = s.report_block(Duration::from_secs(3));
        assert_eq!(b.fraction_lost, 0);
        assert_eq!(b.total_lost, 10);
    }

    #[test]
    fn a_sender_report_carries_what_was_sent_and_the_cname() {
        let info = SenderInfo {
            ntp_time: ntp_time(Duration::from_millis(1_800_000_000_500)),
            rtp_time: 4_000,
            packets: 50,
            octets: 8_000,
        };
        let bytes = report(Ssrc(7), "bot@h", Some(info), Vec::new()).unwrap();
        let mut buf = bytes.as_slice();
        let packets = rtc_rtcp::packet::unmarshal(&mut buf).unwrap();
        let sr = packets[0]
            .as_any()
            .downcast_ref::<SenderReport>()
            .expect("SR first");
        assert_eq!(
            (sr.ssrc, sr.rtp_time, sr.packet_count, sr.octet_count),
            (7, 4_000, 50, 8_000)
        );
        // 1 800 000 000 s after 1970, half a second in.
        assert_eq!(sr.ntp_time >> 32, 1_800_000_000 + 2_208_988_800);
        assert_eq!(sr.ntp_time & 0xffff_ffff, 1 << 31);
        assert!(packets[1].as_any().is::<SourceDescription>());
        assert_eq!(
            sender_reports(&bytes).unwrap(),
            vec![(Ssrc(7), sr.ntp_time)]
        );
    }

    #[test]
    fn echoes_last_sender_report_with_delay() {
        let mut s = ReceptionStats::new(Ssrc(9), 8000, 1);
        s.on_sender_report(Duration::from_secs(10), 0x1122_3344_5566_7788);
        let b = s.report_block(Duration::from_millis(10_500));
        assert_eq!(b.last_sender_report, 0x3344_5566);
        assert_eq!(b.delay, 32_768);
    }

    #[test]
    fn measures_interarrival_jitter() {
        let mut s = ReceptionStats::new(Ssrc(9), 8000, 1);
        for i in 0..200u64 {
            let wobble = if i % 2 == 0 { 0 } else { 10 };
            s.on_packet(
                Duration::from_millis(20 * i + wobble),
                i + 1,
                (160 * i) as u32,
            );
        }
        let j = s.jitter().as_secs_f64() * 1000.0;
        assert!((8.0..=11.0).contains(&j), "jitter {j} ms");
    }

    #[test]
    fn receiver_report_round_trips_through_the_parser() {
        let mut s = ReceptionStats::new(Ssrc(5), 8000, 1);
        s.on_packet(Duration::ZERO, 1, 0);
        let bytes =
            receiver_report(Ssrc(77), "callclip", vec![s.report_block(Duration::ZERO)]).unwrap();
        assert!(crate::rtp::is_rtcp(&bytes));
        let mut buf = &bytes[..];
        let parsed = rtc_rtcp::packet::unmarshal(&mut buf).unwrap();
        let rr = parsed[0].as_any().downcast_ref::<ReceiverReport>().unwrap();
        assert_eq!(rr.ssrc, 77);
        assert_eq!(rr.reports[0].ssrc, 5);
        assert!(sender_reports(&bytes).unwrap().is_empty());
        assert!(sender_reports(&[0x80, 200, 0]).is_err());
    }
}
