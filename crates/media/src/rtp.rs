//! RTP packets as they arrive: a zero-copy header parser, the RTP/RTCP demultiplexer for
//! rtcp-mux, and the newtypes that keep identities and clocks apart.
//!
//! The parser borrows the datagram instead of going through `rtc-rtp`'s `Packet`, which copies
//! the payload and allocates CSRC and extension lists on every packet: the receive path runs 50
//! times a second per call and only needs the fixed header and the payload slice.

use crate::Error;

/// RTP synchronisation source (RFC 3550 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ssrc(pub u32);

/// RTP sequence number as carried on the wire (wraps at 2^16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeqNo(pub u16);

/// RTP payload type (7 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PayloadType(pub u8);

/// An RTP timestamp together with the clock it counts in, so that it is never mixed with
/// wall-clock time or with another stream's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpTimestamp {
    pub ticks: u32,
    pub clock_rate: u32,
}

impl RtpTimestamp {
    pub fn new(ticks: u32, clock_rate: u32) -> RtpTimestamp {
        RtpTimestamp { ticks, clock_rate }
    }
}

/// One RTP packet borrowed from its datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    pub marker: bool,
    pub payload_type: PayloadType,
    pub seq: SeqNo,
    pub timestamp: u32,
    pub ssrc: Ssrc,
    /// Payload with CSRCs, header extension and padding removed.
    pub payload: &'a [u8],
}

const FIXED_HEADER: usize = 12;

/// RFC 5761 §4: with rtcp-mux, a second byte whose low 7 bits fall in 64–95 is RTCP
/// (packet types 192–223), since those RTP payload types are never assigned.
pub fn is_rtcp(datagram: &[u8]) -> bool {
    matches!(datagram.get(1), Some(b) if (64..=95).contains(&(b & 0x7f)))
}

fn malformed(reason: &'static str) -> Error {
    Error::Malformed {
        what: "RTP packet",
        reason,
    }
}

/// Parses an RTP packet (RFC 3550 §5.1, header extension §5.3.1, padding §5.1 P bit).
pub fn parse(datagram: &[u8]) -> Result<RtpPacket<'_>, Error> {
    let header = datagram
        .get(..FIXED_HEADER)
        .ok_or_else(|| malformed("shorter than the fixed header"))?;
    let b0 = header[0];
    if b0 >> 6 != 2 {
        return Err(malformed("version is not 2"));
    }
    let padding = b0 & 0x20 != 0;
    let extension = b0 & 0x10 != 0;
    let csrc_count = usize::from(b0 & 0x0f);
    let b1 = header[1];
    let seq = u16::from_be_bytes([header[2], header[3]]);
    let timestamp = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    let ssrc = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);

    let mut start = FIXED_HEADER + 4 * csrc_count;
    if extension {
        let ext = datagram
            .get(start..start + 4)
            .ok_or_else(|| malformed("truncated header extension"))?;
        let words = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
        start += 4 + 4 * words;
    }
    let mut body = datagram
        .get(start..)
        .ok_or_else(|| malformed("header longer than packet"))?;
    if padding {
        let pad = usize::from(
            *body
                .last()
                .ok_or_else(|| malformed("padding bit on empty payload"))?,
        );
        if pad == 0 || pad > body.len() {
            return Err(malformed("bad padding length"));
        }
        body = body
            .get(..body.len() - pad)
            .ok_or_else(|| malformed("bad padding length"))?;
    }
    Ok(RtpPacket {
        marker: b1 & 0x80 != 0,
        payload_type: PayloadType(b1 & 0x7f),
        seq: SeqNo(seq),
        timestamp,
        ssrc: Ssrc(ssrc),
        payload: body,
    })
}

/// Extends 16-bit sequence numbers to a monotonic 64-bit counter (RFC 3550 Appendix A.1):
/// a packet is placed at the extension closest to the highest one seen so far, so reordering
/// across the wrap keeps its order and a wrap bumps the rollover count.
#[derive(Debug, Clone, Default)]
pub struct SeqExtender {
    highest: Option<u64>,
}

impl SeqExtender {
    /// Starts sequence space at 2^16 so that reordered packets from just before the first one
    /// still get a positive extended number.
    const BASE: u64 = 1 << 16;

    pub fn extend(&mut self, seq: SeqNo) -> u64 {
        let Some(highest) = self.highest else {
            let ext = Self::BASE + u64::from(seq.0);
            self.highest = Some(ext);
            return ext;
        };
        let delta = i64::from(seq.0.wrapping_sub(highest as u16) as i16);
        let ext = (highest as i64).saturating_add(delta).max(0) as u64;
        if ext > highest {
            self.highest = Some(ext);
        }
        ext
    }

    pub fn highest(&self) -> Option<u64> {
        self.highest
    }
}

/// Extends 32-bit RTP timestamps the same way, so that timestamp wrap is invisible to the
/// jitter buffer.
#[derive(Debug, Clone, Default)]
pub struct TsExtender {
    last: Option<i64>,
}

impl TsExtender {
    pub fn extend(&mut self, ts: u32) -> i64 {
        let Some(last) = self.last else {
            let ext = i64::from(ts) + (1 << 32);
            self.last = Some(ext);
            return ext;
        };
        let delta = i64::from(ts.wrapping_sub(last as u32) as i32);
        let ext = last.saturating_add(delta);
        if ext > last {
            self.last = Some(ext);
        }
        ext
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    fn packet(pt: u8, seq: u16, ts: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0x80, pt];
        v.extend_from_slice(&seq.to_be_bytes());
        v.extend_from_slice(&ts.to_be_bytes());
        v.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn parses_header_extension_csrc_and_padding() {
        let mut v = packet(0x80, 7, 160, &[]);
        v[0] = 0x80 | 0x20 | 0x10 | 0x01;
        v.extend_from_slice(&[0, 0, 0, 9]); // one CSRC
        v.extend_from_slice(&[0xbe, 0xde, 0, 1, 1, 2, 3, 4]); // one-word extension
        v.extend_from_slice(&[0xaa, 0xbb, 0, 0, 3]); // payload + 3 bytes padding
        let p = parse(&v).unwrap();
        assert!(p.marker);
        assert_eq!(p.payload_type, PayloadType(0));
        assert_eq!(p.seq, SeqNo(7));
        assert_eq!(p.payload, &[0xaa, 0xbb]);
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        assert!(parse(&[]).is_err());
        assert!(parse(&[0x80, 0, 0]).is_err());
        let mut v = packet(0, 1, 1, &[]);
        v[0] = 0xa0; // padding bit, no payload
        assert!(parse(&v).is_err());
        let mut v = packet(0, 1, 1, &[]);
        v[0] = 0x8f; // 15 CSRCs missing
        assert!(parse(&v).is_err());
    }

    #[test]
    fn demuxes_rtcp_by_payload_type_range() {
        assert!(is_rtcp(&[0x80, 200]));
        assert!(is_rtcp(&[0x81, 201]));
        assert!(!is_rtcp(&packet(0, 1, 1, &[])));
        assert!(!is_rtcp(&packet(101, 1, 1, &[])));
        assert!(!is_rtcp(&packet(0x80 | 8, 1, 1, &[])));
    }

    #[test]
    fn extends_sequence_across_wrap_and_reorder() {
        let mut x = SeqExtender::default();
        let a = x.extend(SeqNo(65534));
        let b = x.extend(SeqNo(1));
        let c = x.extend(SeqNo(65535));
        let d = x.extend(SeqNo(0));
        assert_eq!(b, a + 3);
        assert_eq!(c, a + 1);
        assert_eq!(d, a + 2);
        assert_eq!(x.highest(), Some(b));
    }

    #[test]
    fn extends_timestamp_across_wrap() {
        let mut x = TsExtender::default();
        let a = x.extend(u32::MAX - 79);
        let b = x.extend(80);
        assert_eq!(b - a, 160);
    }
}
