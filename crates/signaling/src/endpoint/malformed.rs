//! Requests the parser refused: answer 400 when the Via can still be read (RFC 3261 §8.2.2,
//! §21.4.1), so the client stops retransmitting and learns why.

use std::net::SocketAddr;

use bytes::Bytes;

use super::addressing;
use crate::message::{HeaderName, Headers, Response, Via};
use crate::transaction::{Target, Transport};

/// The 400 for an unparseable request, and where it goes; `None` for responses, for ACKs and
/// for requests whose Via cannot be recovered.
pub(crate) fn bad_request(
    bytes: &[u8],
    error: &crate::Error,
    source: SocketAddr,
    transport: Transport,
) -> Option<(Target, Response)> {
    let text = std::str::from_utf8(bytes.get(..bytes.len().min(8192))?).ok()?;
    let mut lines = text.split("\r\n").flat_map(|l| l.split('\n'));
    let start = lines.next()?;
    // RFC 3261 §17.2.1: an ACK is never answered, malformed or not.
    if start.starts_with("SIP/") || !start.ends_with("SIP/2.0") || start.starts_with("ACK ") {
        return None;
    }
    let mut headers = Headers::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = match name.trim().to_ascii_lowercase().as_str() {
            "via" | "v" => HeaderName::Via,
            "from" | "f" => HeaderName::From,
            "to" | "t" => HeaderName::To,
            "call-id" | "i" => HeaderName::CallId,
            "cseq" => HeaderName::CSeq,
            _ => continue,
        };
        headers.push(name, value.trim());
    }
    let top = headers.first(&HeaderName::Via)?.split(',').next()?;
    let mut via = Via::parse(top).ok()?;
    if via.rport().is_some() {
        via.set_param("rport", Some(source.port().to_string()));
        via.set_param("received", Some(source.ip().to_string()));
    }
    let target = addressing::reply_target(Some(&via), source, transport);
    let reason = format!("Bad Request ({error})").replace(['\r', '\n'], " ");
    Some((
        target,
        Response {
            status: 400,
            reason,
            headers,
            body: Bytes::new(),
        },
    ))
}

/// The 400 for a stream message that cannot be framed (RFC 3261 §18.3: Content-Length is
/// required on TCP and must be right), as bytes to write before closing the connection.
pub fn stream_framing_error(
    bytes: &[u8],
    error: &crate::Error,
    source: SocketAddr,
) -> Option<Vec<u8>> {
    bad_request(bytes, error, source, Transport::Tcp).map(|(_, r)| r.to_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use crate::error::ParseErrorKind;

    #[test]
    fn unparseable_request_with_a_via_gets_400_with_the_reason() {
        let raw = b"INVITE sip:bot@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKq\r\nCSeq: x INVITE\r\n\r\n";
        let err = crate::Error::BadHeader {
            name: "CSeq",
            kind: ParseErrorKind::Number,
        };
        let source = "192.0.2.1:5062".parse().unwrap();
        let (target, r) = bad_request(raw, &err, source, Transport::Udp).unwrap();
        assert_eq!(target.addr, source);
        assert_eq!(r.status, 400);
        assert!(r.reason.contains("CSeq"));
        assert!(bad_request(b"\x00\x01garbage", &err, source, Transport::Udp).is_none());
    }

    #[test]
    fn a_malformed_ack_is_never_answered() {
        let raw = b"ACK sip:bot@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKq\r\nCSeq: x ACK\r\n\r\n";
        let err = crate::Error::BadHeader {
            name: "CSeq",
            kind: ParseErrorKind::Number,
        };
        let source = "192.0.2.1:5062".parse().unwrap();
        assert!(bad_request(raw, &err, source, Transport::Udp).is_none());
    }
}
