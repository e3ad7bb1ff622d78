//! The four RFC 3261 §17 machines, driven in virtual time through `TransactionLayer`.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

use std::time::Duration;

use signaling::message::{parse_datagram, Request, Response, SipMessage};
use signaling::timer::TimerConfig;
use signaling::transaction::{Outgoing, Target, TransactionEvent, TransactionLayer, Transport};

const UDP: Target = Target {
    addr: std::net::SocketAddr::V4(std::net::SocketAddrV4::new(
        std::net::Ipv4Addr::new(192, 0, 2, 1),
        5062,
    )),
    transport: Transport::Udp,
};
const TCP: Target = Target {
    transport: Transport::Tcp,
    ..UDP
};

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn request(method: &str, branch: &str) -> Request {
    let raw = format!(
        "{method} sip:bot@192.0.2.2 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.1:5062;branch={branch}\r\n\
         From: <sip:a@192.0.2.1>;tag=f\r\nTo: <sip:bot@192.0.2.2>\r\n\
         Call-ID: c1\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\n\
         Contact: <sip:a@192.0.2.1:5062>\r\nContent-Length: 0\r\n\r\n"
    );
    match parse_datagram(raw.as_bytes()).unwrap() {
        SipMessage::Request(r) => r,
        SipMessage::Response(_) => unreachable!(),
    }
}

fn response(req: &Request, status: u16) -> Response {
    let mut r = Response::for_request(req, status, "x");
    if status > 100 {
        let mut to = req.to().unwrap();
        to.set_tag("t");
        r.headers
            .set(signaling::message::HeaderName::To, to.to_string());
    }
    r
}

type Timeline = (Vec<(Duration, Outgoing)>, Vec<(Duration, TransactionEvent)>);

/// Runs timers up to `until`, returning what was sent (with send time) and the events.
fn run(layer: &mut TransactionLayer, until: Duration) -> Timeline {
    let (mut sent, mut events) = (Vec::new(), Vec::new());
    let mut now = Duration::ZERO;
    loop {
        while let Some(o) = layer.poll_outgoing() {
            sent.push((now, o));
        }
        while let Some(e) = layer.poll_event() {
            events.push((now, e));
        }
        match layer.poll_timeout() {
            Some(t) if t <= until => {
                now = t;
                layer.handle_timeout(now);
            }
            _ => return (sent, events),
        }
    }
}

#[test]
fn invite_client_retransmits_on_a_and_times_out_on_b_at_64_t1() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let id = layer
        .send_request(Duration::ZERO, request("INVITE", "z9hG4bKa"), UDP)
        .unwrap();
    let (sent, events) = run(&mut layer, secs(100.0));
    let times: Vec<f64> = sent.iter().map(|(t, _)| t.as_secs_f64()).collect();
    // §17.1.1.2: Timer A doubles without a cap: 0.5, 1, 2, 4, 8, 16 s apart.
    assert_eq!(times, [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, secs(32.0));
    assert!(matches!(events[0].1, TransactionEvent::Timeout { id: t, .. } if t == id));
    assert_eq!(layer.len(), (0, 0));
}

#[test]
fn non_invite_client_caps_e_at_t2_and_times_out_on_f_at_64_t1() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    layer
        .send_request(Duration::ZERO, request("OPTIONS", "z9hG4bKo"), UDP)
        .unwrap();
    let (sent, events) = run(&mut layer, secs(100.0));
    let times: Vec<f64> = sent.iter().map(|(t, _)| t.as_secs_f64()).collect();
    assert_eq!(
        times,
        [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, secs(32.0));
    assert!(matches!(events[0].1, TransactionEvent::Timeout { .. }));
}

#[test]
fn reliable_transport_sends_once_and_still_times_out() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    layer
        .send_request(Duration::ZERO, request("INVITE", "z9hG4bKt"), TCP)
        .unwrap();
    let (sent, events) = run(&mut layer, secs(100.0));
    assert_eq!(sent.len(), 1);
    assert_eq!(events[0].0, secs(32.0));
}

#[test]
fn invite_client_acks_failures_itself_and_absorbs_their_retransmissions() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let invite = request("INVITE", "z9hG4bKf");
    layer
        .send_request(Duration::ZERO, invite.clone(), UDP)
        .unwrap();
    layer.poll_outgoing();
    let busy = response(&invite, 486);
    layer.handle_response(secs(0.1), busy.clone());
    layer.handle_response(secs(0.2), busy);
    let acks: Vec<_> = std::iter::from_fn(|| layer.poll_outgoing()).collect();
    assert_eq!(acks.len(), 2, "one ACK per final response");
    for ack in &acks {
        let SipMessage::Request(ack) = &ack.message else {
            panic!()
        };
        assert_eq!(ack.method, signaling::message::Method::Ack);
        assert_eq!(ack.top_via().unwrap().branch(), Some("z9hG4bKf"));
        assert_eq!(ack.to().unwrap().tag(), Some("t"));
    }
    let events: Vec<_> = std::iter::from_fn(|| layer.poll_event()).collect();
    assert_eq!(events.len(), 1, "the retransmitted 486 is not passed up");
}

#[test]
fn invite_server_retransmits_final_on_g_until_ack() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let invite = request("INVITE", "z9hG4bKs");
    assert!(layer.handle_request(Duration::ZERO, invite.clone(), UDP));
    let Some(TransactionEvent::Request { id, .. }) = layer.poll_event() else {
        panic!()
    };
    let trying = layer.poll_outgoing().unwrap();
    assert!(matches!(trying.message, SipMessage::Response(ref r) if r.status == 100));
    layer.respond(Duration::ZERO, id, response(&invite, 486));
    let (sent, _) = run(&mut layer, secs(3.6));
    let times: Vec<f64> = sent.iter().map(|(t, _)| t.as_secs_f64()).collect();
    assert_eq!(times, [0.0, 0.5, 1.5, 3.5]);
    // The ACK stops Timer G; Timer I (T4) then ends the transaction.
    let mut ack = request("ACK", "z9hG4bKs");
    ack.headers.set(
        signaling::message::HeaderName::To,
        "<sip:bot@192.0.2.2>;tag=t",
    );
    layer.handle_request(secs(3.6), ack, UDP);
    assert!(
        layer.poll_event().is_none(),
        "the ACK of a failure stays in the transaction"
    );
    let mut now = secs(3.6);
    while let Some(t) = layer.poll_timeout() {
        now = t;
        layer.handle_timeout(t);
    }
    assert!(layer.poll_outgoing().is_none());
    assert_eq!(now, secs(3.6 + 5.0));
    assert_eq!(layer.len(), (0, 0));
}

#[test]
fn invite_server_without_ack_times_out_on_h() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let invite = request("INVITE", "z9hG4bKh");
    layer.handle_request(Duration::ZERO, invite.clone(), UDP);
    let Some(TransactionEvent::Request { id, .. }) = layer.poll_event() else {
        panic!()
    };
    layer.respond(Duration::ZERO, id, response(&invite, 603));
    let (sent, events) = run(&mut layer, secs(100.0));
    // 100 + 603 + G retransmissions at 0.5, 1.5, 3.5, 7.5, then every T2 until 32 s.
    assert_eq!(sent.last().unwrap().0, secs(31.5));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, secs(32.0));
    assert!(matches!(events[0].1, TransactionEvent::Timeout { id: t, .. } if t == id));
}

#[test]
fn retransmitted_invite_is_absorbed_and_gets_the_last_provisional() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let invite = request("INVITE", "z9hG4bKr");
    layer.handle_request(Duration::ZERO, invite.clone(), UDP);
    layer.handle_request(secs(0.5), invite, UDP);
    let events: Vec<_> = std::iter::from_fn(|| layer.poll_event()).collect();
    assert_eq!(events.len(), 1);
    let sent: Vec<_> = std::iter::from_fn(|| layer.poll_outgoing()).collect();
    assert_eq!(
        sent.len(),
        2,
        "100 Trying, then again for the retransmission"
    );
}

#[test]
fn non_invite_server_absorbs_retransmissions_until_timer_j() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let bye = request("BYE", "z9hG4bKb");
    layer.handle_request(Duration::ZERO, bye.clone(), UDP);
    let Some(TransactionEvent::Request { id, .. }) = layer.poll_event() else {
        panic!()
    };
    // Trying: absorbed silently.
    layer.handle_request(secs(0.1), bye.clone(), UDP);
    assert!(layer.poll_outgoing().is_none());
    layer.respond(secs(0.2), id, response(&bye, 200));
    assert!(layer.poll_outgoing().is_some());
    // Completed: the 200 is repeated, the TU hears nothing.
    layer.handle_request(secs(1.0), bye.clone(), UDP);
    assert!(matches!(
        layer.poll_outgoing().unwrap().message,
        SipMessage::Response(ref r) if r.status == 200
    ));
    assert!(layer.poll_event().is_none());
    // Timer J (64·T1) ends it; the same request is then new again.
    assert_eq!(layer.poll_timeout(), Some(secs(32.2)));
    layer.handle_timeout(secs(32.2));
    layer.handle_request(secs(33.0), bye, UDP);
    assert!(matches!(
        layer.poll_event(),
        Some(TransactionEvent::Request { .. })
    ));
}
