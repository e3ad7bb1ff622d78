//! RFC 3261 §12.1.1: the answer to an INVITE that passed through record-routing proxies carries
//! their Record-Route values, in order, so the caller's ACK and BYE go back through them.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

use std::time::Duration;

use bytes::Bytes;
use signaling::endpoint::{Endpoint, EndpointConfig, EndpointEvent, Transport};
use signaling::message::{parse_datagram, HeaderName, SipMessage};

const INVITE: &str = "INVITE sip:bot@10.0.0.2:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.3:5060;branch=z9hG4bKproxy\r\n\
Via: SIP/2.0/UDP 10.0.0.4:5062;branch=z9hG4bKcaller\r\n\
Record-Route: <sip:10.0.0.3;lr>\r\n\
Record-Route: <sip:10.0.0.9;lr;ftag=x>\r\n\
From: <sip:alice@10.0.0.4>;tag=a1\r\n\
To: <sip:bot@10.0.0.3>\r\n\
Call-ID: rr-1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@10.0.0.4:5062>\r\n\
Max-Forwards: 69\r\n\
Content-Length: 0\r\n\r\n";

#[test]
fn the_200_to_a_record_routed_invite_carries_the_route_set_in_order() {
    let mut ep = Endpoint::new(EndpointConfig::new("10.0.0.2:5060".parse().unwrap()));
    let now = Duration::ZERO;
    ep.handle_datagram(
        now,
        "10.0.0.3:5060".parse().unwrap(),
        Transport::Udp,
        INVITE.as_bytes(),
    );
    let call = std::iter::from_fn(|| ep.poll_event())
        .find_map(|e| match e {
            EndpointEvent::IncomingCall { call, .. } => Some(call),
            _ => None,
        })
        .unwrap();
    ep.answer(now, call, Bytes::new()).unwrap();
    let ok = std::iter::from_fn(|| ep.poll_transmit())
        .filter_map(|t| match parse_datagram(&t.bytes) {
            Ok(SipMessage::Response(r)) if r.status == 200 => Some(r),
            _ => None,
        })
        .next()
        .unwrap();
    let rr: Vec<&str> = ok.headers.all(&HeaderName::RecordRoute).collect();
    assert_eq!(rr, ["<sip:10.0.0.3;lr>", "<sip:10.0.0.9;lr;ftag=x>"]);
}
