//! Header grammar is enforced before the user agent acts on a message: a request with a
//! malformed From, To or Via is answered 400 and never becomes a call (RFC 3261 §8.2.2,
//! §21.4.1); a response with a malformed Via is dropped and changes nothing.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use signaling::endpoint::{EndReason, Endpoint, EndpointConfig, EndpointEvent, Transport};
use signaling::message::{parse_datagram, HeaderName, NameAddr, SipMessage, Uri};

const BOT: &str = "127.0.0.1:5080";
const PEER: &str = "127.0.0.1:5062";

fn bot() -> Endpoint {
    Endpoint::new(EndpointConfig::new(BOT.parse().unwrap()))
}

fn peer() -> SocketAddr {
    PEER.parse().unwrap()
}

fn invite(from: &str) -> Vec<u8> {
    format!(
        "INVITE sip:bot@127.0.0.1:5080 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKstrict1;rport\r\n\
         Max-Forwards: 70\r\n\
         From: {from}\r\n\
         To: <sip:bot@127.0.0.1>\r\n\
         Call-ID: strict-1\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:peer@127.0.0.1:5062>\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn drain(ep: &mut Endpoint) -> (Vec<Vec<u8>>, Vec<EndpointEvent>) {
    let mut sent = Vec::new();
    while let Some(t) = ep.poll_transmit() {
        sent.push(t.bytes);
    }
    let mut events = Vec::new();
    while let Some(e) = ep.poll_event() {
        events.push(e);
    }
    (sent, events)
}

fn status_of(bytes: &[u8]) -> Option<u16> {
    match parse_datagram(bytes).ok()? {
        SipMessage::Response(r) => Some(r.status),
        SipMessage::Request(_) => None,
    }
}

#[test]
fn invite_with_malformed_from_gets_400_and_no_call() {
    for from in [
        "\"Alice <sip:alice@127.0.0.1>;tag=a1",
        "Alice, Smith <sip:alice@127.0.0.1>;tag=a1",
        "<sip:alice@127.0.0.1;tag=a1",
        "<sip:alice@127.0.0.1>;tag=a1 junk",
    ] {
        let mut ua = bot();
        ua.handle_datagram(Duration::ZERO, peer(), Transport::Udp, &invite(from));
        let (sent, events) = drain(&mut ua);
        let statuses: Vec<_> = sent.iter().filter_map(|b| status_of(b)).collect();
        assert_eq!(statuses, vec![400], "{from}");
        assert!(
            events.iter().any(|e| matches!(
                e,
                EndpointEvent::MessageDropped {
                    error: signaling::Error::BadHeader { name: "From", .. },
                    ..
                }
            )),
            "{from}: {events:?}"
        );
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, EndpointEvent::IncomingCall { .. })),
            "{from}"
        );
        assert_eq!(ua.call_count(), 0);
    }
    // The same INVITE with a well-formed From is a call.
    let mut ua = bot();
    let good = invite("\"Alice\" <sip:alice@127.0.0.1>;tag=a1");
    ua.handle_datagram(Duration::ZERO, peer(), Transport::Udp, &good);
    let (_, events) = drain(&mut ua);
    assert!(events
        .iter()
        .any(|e| matches!(e, EndpointEvent::IncomingCall { .. })));
}

#[test]
fn response_with_malformed_via_is_dropped() {
    let mut ua = bot();
    let call = ua.invite(
        Duration::ZERO,
        Uri::parse("sip:peer@127.0.0.1:5062").unwrap(),
        NameAddr::new(Uri::parse("sip:bot@127.0.0.1:5080").unwrap()),
        Bytes::new(),
        peer(),
        None,
    );
    let (sent, _) = drain(&mut ua);
    let Ok(SipMessage::Request(req)) = parse_datagram(&sent[0]) else {
        panic!("expected our INVITE");
    };
    let h = &req.headers;
    let busy = |extra_via: &str| {
        format!(
            "SIP/2.0 486 Busy Here\r\nVia: {}\r\n{extra_via}From: {}\r\nTo: {};tag=p1\r\n\
             Call-ID: {}\r\nCSeq: {}\r\nContent-Length: 0\r\n\r\n",
            h.first(&HeaderName::Via).unwrap(),
            h.first(&HeaderName::From).unwrap(),
            h.first(&HeaderName::To).unwrap(),
            h.first(&HeaderName::CallId).unwrap(),
            h.first(&HeaderName::CSeq).unwrap(),
        )
        .into_bytes()
    };
    let now = Duration::from_millis(20);
    ua.handle_datagram(
        now,
        peer(),
        Transport::Udp,
        &busy("Via: SIP/2.0/UDP 192.0.2.15;;branch=z9hG4bKproxy\r\n"),
    );
    let (sent, events) = drain(&mut ua);
    assert!(sent.is_empty(), "a dropped response is never ACKed");
    assert!(matches!(
        events.as_slice(),
        [EndpointEvent::MessageDropped {
            error: signaling::Error::BadHeader { name: "Via", .. },
            ..
        }]
    ));
    // The call is still waiting: the well-formed 486 ends it.
    ua.handle_datagram(now, peer(), Transport::Udp, &busy(""));
    let (_, events) = drain(&mut ua);
    assert!(events.iter().any(|e| matches!(
        e,
        EndpointEvent::CallEnded { call: c, reason: EndReason::Rejected(486) } if *c == call
    )));
}
