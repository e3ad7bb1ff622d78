//! Outgoing RTP header (RFC 3550 §5.1): version 2, no padding, extension or CSRCs.

/// Fixed header length.
pub const HEADER_LEN: usize = 12;

/// Writes the 12-byte header followed by `payload` into a fresh datagram.
pub fn build(marker: bool, pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(HEADER_LEN + payload.len());
    p.push(0x80);
    p.push((u8::from(marker) << 7) | (pt & 0x7F));
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn header_reads_back_through_the_receive_parser() {
        let p = build(true, 8, 0xFFFF, 0xDEAD_BEEF, 0x1234_5678, &[1, 2, 3]);
        let parsed = crate::rtp::parse(&p).unwrap();
        assert!(parsed.marker);
        assert_eq!(parsed.payload_type.0, 8);
        assert_eq!(parsed.seq.0, 0xFFFF);
        assert_eq!(parsed.timestamp, 0xDEAD_BEEF);
        assert_eq!(parsed.ssrc.0, 0x1234_5678);
        assert_eq!(parsed.payload, &[1, 2, 3]);
    }
}
