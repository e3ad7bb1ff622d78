//! Our INVITE challenged with 401: answered once with digest credentials (RFC 3261 §22.2).

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use signaling::endpoint::{Credentials, EndReason, Endpoint, EndpointConfig, EndpointEvent};
use signaling::message::{parse_datagram, HeaderName, NameAddr, Response, SipMessage, Uri};
use signaling::testkit::{NetConfig, Network};

const PBX: &str = "127.0.0.1:5060";

fn last_invite(net: &Network, pbx: SocketAddr) -> signaling::message::Request {
    let raw = net
        .sent
        .iter()
        .rev()
        .find(|s| s.to == pbx && s.start_line.starts_with("INVITE "))
        .unwrap();
    match parse_datagram(&raw.bytes).unwrap() {
        SipMessage::Request(r) => r,
        SipMessage::Response(_) => unreachable!(),
    }
}

fn reply(
    net: &mut Network,
    node: usize,
    pbx: SocketAddr,
    status: u16,
    extra: &[(HeaderName, &str)],
) {
    let invite = last_invite(net, pbx);
    let mut r = Response::for_request(&invite, status, "x");
    let mut to = invite.to().unwrap();
    to.set_tag("pbx");
    r.headers.set(HeaderName::To, to.to_string());
    for (name, value) in extra {
        r.headers.push(name.clone(), *value);
    }
    net.inject(node, pbx, &r.to_bytes());
}

fn caller(with_credentials: bool) -> (Network, usize, SocketAddr) {
    let addr: SocketAddr = "127.0.0.1:5062".parse().unwrap();
    let mut cfg = EndpointConfig::new(addr);
    if with_credentials {
        cfg.credentials = Some(Credentials {
            username: "bot".into(),
            password: "secret".into(),
        });
    }
    let mut net = Network::new(1, NetConfig::perfect());
    let node = net.add(addr, Endpoint::new(cfg));
    let pbx: SocketAddr = PBX.parse().unwrap();
    let now = net.now;
    net.endpoint(node).invite(
        now,
        Uri::parse("sip:100@127.0.0.1:5060").unwrap(),
        NameAddr::new(Uri::parse("sip:bot@127.0.0.1").unwrap()),
        Bytes::from_static(b"v=0\r\n"),
        pbx,
        None,
    );
    net.flush();
    (net, node, pbx)
}

const CHALLENGE: &str = "Digest realm=\"pbx\", nonce=\"n1\", qop=\"auth\", algorithm=MD5";

#[test]
fn a_401_is_answered_once_with_credentials_and_the_call_proceeds() {
    let (mut net, node, pbx) = caller(true);
    reply(
        &mut net,
        node,
        pbx,
        401,
        &[(HeaderName::WwwAuthenticate, CHALLENGE)],
    );
    let second = last_invite(&net, pbx);
    assert_eq!(second.cseq().unwrap().seq, 2);
    let auth = second.headers.first(&HeaderName::Authorization).unwrap();
    assert!(
        auth.contains("username=\"bot\"") && auth.contains("nonce=\"n1\""),
        "{auth}"
    );
    assert_eq!(
        net.count_sent(node, "ACK "),
        1,
        "the 401 is ACKed by its transaction"
    );
    reply(
        &mut net,
        node,
        pbx,
        200,
        &[(HeaderName::Contact, "<sip:100@127.0.0.1:5060>")],
    );
    net.run_for(Duration::from_millis(10), 100);
    assert!(net
        .events(node)
        .iter()
        .any(|e| matches!(e, EndpointEvent::CallEstablished { .. })));
}

#[test]
fn a_second_401_or_missing_credentials_reject_the_call() {
    for with_credentials in [true, false] {
        let (mut net, node, pbx) = caller(with_credentials);
        reply(
            &mut net,
            node,
            pbx,
            401,
            &[(HeaderName::WwwAuthenticate, CHALLENGE)],
        );
        if with_credentials {
            reply(
                &mut net,
                node,
                pbx,
                401,
                &[(HeaderName::WwwAuthenticate, CHALLENGE)],
            );
        }
        net.flush();
        let ended = net.events(node).iter().find_map(|e| match e {
            EndpointEvent::CallEnded { reason, .. } => Some(*reason),
            _ => None,
        });
        assert_eq!(ended, Some(EndReason::Rejected(401)));
    }
}
