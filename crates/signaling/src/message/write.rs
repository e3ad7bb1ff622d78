//! Serialization (RFC 3261 §7): start line, headers in order with canonical names, and a
//! Content-Length computed from the body.

use std::fmt::Write as _;

use super::types::{HeaderName, Headers, Request, Response, SipMessage};

impl Request {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = String::with_capacity(256 + self.headers.len() * 48);
        // Writing to a String cannot fail.
        let _ = write!(head, "{} {} SIP/2.0\r\n", self.method, self.uri);
        finish(head, &self.headers, &self.body)
    }
}

impl Response {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = String::with_capacity(256 + self.headers.len() * 48);
        let _ = write!(head, "SIP/2.0 {} {}\r\n", self.status, self.reason);
        finish(head, &self.headers, &self.body)
    }
}

impl SipMessage {
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            SipMessage::Request(r) => r.to_bytes(),
            SipMessage::Response(r) => r.to_bytes(),
        }
    }
}

/// Writes the headers with the body's real length as Content-Length, in place of the first
/// one received (or last when there was none), so a stream peer never mis-frames what follows
/// (RFC 3261 §18.3) and a parsed message serializes in its original order.
fn finish(mut head: String, headers: &Headers, body: &[u8]) -> Vec<u8> {
    let mut wrote_length = false;
    for h in headers.iter() {
        if *h.name == HeaderName::ContentLength {
            if !wrote_length {
                let _ = write!(head, "Content-Length: {}\r\n", body.len());
                wrote_length = true;
            }
            continue;
        }
        head.push_str(h.name.as_str());
        head.push_str(": ");
        head.push_str(h.value);
        head.push_str("\r\n");
    }
    if !wrote_length {
        let _ = write!(head, "Content-Length: {}\r\n", body.len());
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}
