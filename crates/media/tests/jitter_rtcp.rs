//! RTCP on the receive side: multiplexed sender reports are read, and receiver reports go out
//! about every 5 s with loss, extended highest sequence, jitter and LSR/DLSR (RFC 3550 §6.4.2).
#![allow(clippy::unwrap_used)] // Tests unwrap freely (STYLE.md).

mod jitter_support;

use jitter_support::*;
use rtc_rtcp::packet::Packet;
use rtc_rtcp::receiver_report::ReceiverReport;
use rtc_rtcp::sender_report::SenderReport;

fn sender_report(ssrc: u32, ntp: u64) -> Vec<u8> {
    let sr = SenderReport {
        ssrc,
        ntp_time: ntp,
        rtp_time: 8000,
        packet_count: 50,
        octet_count: 8000,
        reports: vec![],
        profile_extensions: Default::default(),
    };
    let packets: Vec<Box<dyn Packet>> = vec![Box::new(sr)];
    rtc_rtcp::packet::marshal(&packets).unwrap().to_vec()
}

#[test]
fn receiver_reports_carry_loss_sequence_and_sr_echo() {
    let quiet = vec![0xffu8; 160];
    let mut s: Schedule = (0..1000u32)
        .filter(|i| i % 20 != 7) // 5 % loss
        .map(|i| {
            (
                ms(20 * u64::from(i)),
                rtp(
                    0,
                    false,
                    65_000u16.wrapping_add(i as u16),
                    160 * i,
                    42,
                    &quiet,
                ),
            )
        })
        .collect();
    s.push((ms(1000), sender_report(42, 0xaaaa_bbbb_cccc_dddd)));
    s.push((ms(1001), vec![0x80, 200, 0, 1])); // truncated RTCP: counted, ignored
    let mut d = Driver::new(config());
    d.run(s, ms(20_500));

    let reports: Vec<(std::time::Duration, ReceiverReport)> = d
        .sent
        .iter()
        .map(|(t, bytes)| {
            let mut buf = &bytes[..];
            let pkts = rtc_rtcp::packet::unmarshal(&mut buf).unwrap();
            let rr = pkts[0]
                .as_any()
                .downcast_ref::<ReceiverReport>()
                .unwrap()
                .clone();
            (*t, rr)
        })
        .collect();
    assert!(
        (3..=8).contains(&reports.len()),
        "{} reports in 20 s",
        reports.len()
    );
    for w in reports.windows(2) {
        let gap = w[1].0 - w[0].0;
        assert!(gap >= ms(2500) && gap <= ms(7500), "interval {gap:?}");
    }
    let (t, rr) = &reports[0];
    assert_eq!(rr.ssrc, 0xca11_c11b);
    let block = &rr.reports[0];
    assert_eq!(block.ssrc, 42);
    assert_eq!(block.last_sender_report, 0xbbbb_cccc);
    let dlsr = block.delay as f64 / 65536.0;
    assert!((dlsr - (t.as_secs_f64() - 1.0)).abs() < 0.01, "DLSR {dlsr}");
    // About 5 % of the packets in the interval were lost (fraction in 1/256).
    assert!(
        (8..=18).contains(&block.fraction_lost),
        "fraction {}",
        block.fraction_lost
    );
    // Sequence started at 65000 and wrapped: the cycle count shows in the upper 16 bits.
    let last = &reports.last().unwrap().1.reports[0];
    assert_eq!(last.last_sequence_number >> 16, 2);
    // One loss every 400 ms up to the last report.
    let last_at = reports.last().unwrap().0.as_millis() as u32;
    assert!(
        last.total_lost.abs_diff(last_at / 400) <= 1,
        "total lost {}",
        last.total_lost
    );
    assert!(
        last.jitter < 8,
        "jitter {} ticks on a perfect network",
        last.jitter
    );
    let stats = d.session.stats();
    assert_eq!(stats.lost, 50);
    assert_eq!(stats.rtcp_received, 2);
    assert_eq!(stats.malformed, 1);
}

#[test]
fn no_reports_before_any_rtp() {
    let mut d = Driver::new(config());
    d.run(Vec::new(), ms(20_000));
    assert!(d.sent.is_empty());
}

/// While we send (RFC 3550 §6.4), our reports are sender reports: what the send path counted,
/// the NTP time from the wall clock at `now` = 0, and the report block on the caller's stream.
#[test]
fn while_sending_the_reports_are_sender_reports() {
    use media::codec::CodecKind;
    use media::send::{RtpSender, SenderConfig};

    let quiet = vec![0xffu8; 160];
    let schedule: Schedule = (0..600u32)
        .map(|i| {
            (
                ms(20 * u64::from(i)),
                rtp(0, false, i as u16, 160 * i, 42, &quiet),
            )
        })
        .collect();
    let mut cfg = config();
    cfg.wallclock = Some(std::time::Duration::from_secs(1_800_000_000));
    let mut d = Driver::new(cfg);
    let mut sender = RtpSender::new(SenderConfig::new(0, CodecKind::Pcmu, 7, 1, 1_000)).unwrap();
    // Our stream: 50 packets a second from t = 0, reported to the session as the runtime does.
    let mut t = ms(0);
    while t <= ms(12_000) {
        sender.handle_timeout(t);
        while sender.poll_transmit().is_some() {}
        d.session.handle_sent(sender.sent(t));
        d.run(
            schedule
                .iter()
                .filter(|(at, _)| *at >= t && *at < t + ms(20))
                .cloned()
                .collect(),
            t + ms(20),
        );
        t += ms(20);
    }
    let srs: Vec<(std::time::Duration, SenderReport)> = d
        .sent
        .iter()
        .filter_map(|(at, bytes)| {
            let mut buf = &bytes[..];
            let pkts = rtc_rtcp::packet::unmarshal(&mut buf).unwrap();
            pkts[0]
                .as_any()
                .downcast_ref::<SenderReport>()
                .map(|sr| (*at, sr.clone()))
        })
        .collect();
    assert!(!srs.is_empty(), "sender reports once we send");
    assert_eq!(srs.len(), d.sent.len(), "no receiver reports while sending");
    for (at, sr) in &srs {
        assert_eq!(sr.ssrc, config().ssrc);
        // About 50 packets of 160 octets per second so far.
        let expected = (at.as_millis() / 20) as u32;
        assert!(
            sr.packet_count.abs_diff(expected) <= 2,
            "{at:?}: {}",
            sr.packet_count
        );
        assert_eq!(sr.octet_count, sr.packet_count * 160);
        let unix = (sr.ntp_time >> 32) - 2_208_988_800;
        assert_eq!(unix, 1_800_000_000 + at.as_secs());
        // The RTP time matches the instant: 8 ticks per ms from the initial timestamp.
        let want = 1_000 + (at.as_millis() * 8) as u32;
        assert!(
            sr.rtp_time.abs_diff(want) <= 160,
            "{at:?}: {} vs {want}",
            sr.rtp_time
        );
        assert_eq!(sr.reports.len(), 1);
        assert_eq!(sr.reports[0].ssrc, 42);
    }
}
