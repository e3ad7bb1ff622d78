//! Requests inside and outside a call: INFO DTMF, re-offers, OPTIONS, and the error answers.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use signaling::endpoint::{CallHandle, EndpointEvent};
use signaling::message::Method;
use signaling::testkit::{NetConfig, Pair, ANSWER};

const STEPS: usize = 20_000;

/// A call set up between peer and bot; returns (peer's handle, bot's handle).
fn established(seed: u64, config: NetConfig) -> (Pair, CallHandle, CallHandle) {
    let mut p = Pair::new(seed, config, false);
    let peer_call = p.dial();
    let (bot, peer) = (p.bot, p.peer);
    p.net.run_until_with(
        STEPS,
        |n, node, e| {
            if let (true, EndpointEvent::IncomingCall { call, .. }) = (node == bot, e) {
                let now = n.now;
                n.endpoint(bot)
                    .answer(now, *call, Bytes::from_static(ANSWER))
                    .unwrap();
            }
        },
        |n| {
            [bot, peer].iter().all(|&i| {
                n.events(i)
                    .iter()
                    .any(|e| matches!(e, EndpointEvent::CallEstablished { .. }))
            })
        },
    );
    let bot_call = p.net.events(bot).iter().find_map(|e| match e {
        EndpointEvent::IncomingCall { call, .. } => Some(*call),
        _ => None,
    });
    (p, peer_call, bot_call.unwrap())
}

fn dtmf(p: &Pair) -> Vec<(CallHandle, char, Option<u32>)> {
    p.net
        .events(p.bot)
        .iter()
        .filter_map(|e| match e {
            EndpointEvent::Dtmf {
                call,
                digit_char,
                duration_ms,
            } => Some((*call, *digit_char, *duration_ms)),
            _ => None,
        })
        .collect()
}

#[test]
fn info_dtmf_in_both_body_types_reaches_the_bot_once_each() {
    for seed in 0..20 {
        let config = if seed == 0 {
            NetConfig::perfect()
        } else {
            NetConfig::lossy()
        };
        let (mut p, peer_call, bot_call) = established(seed, config);
        let now = p.net.now;
        let peer = p.peer;
        p.net
            .endpoint(peer)
            .send_in_dialog(
                now,
                peer_call,
                Method::Info,
                Some("application/dtmf-relay"),
                Bytes::from_static(b"Signal=5\r\nDuration=160\r\n"),
            )
            .unwrap();
        p.net.run_for(Duration::from_secs(40), STEPS);
        let now = p.net.now;
        p.net
            .endpoint(peer)
            .send_in_dialog(
                now,
                peer_call,
                Method::Info,
                Some("application/dtmf"),
                Bytes::from_static(b"#"),
            )
            .unwrap();
        p.net.run_for(Duration::from_secs(40), STEPS);
        assert_eq!(
            dtmf(&p),
            [(bot_call, '5', Some(160)), (bot_call, '#', None)],
            "seed {seed}: retransmitted INFOs are absorbed"
        );
        assert!(p.net.count_sent(p.bot, "200 OK") >= 3, "seed {seed}");
    }
}

#[test]
fn info_with_another_package_gets_415() {
    let (mut p, peer_call, _) = established(3, NetConfig::perfect());
    let (now, peer) = (p.net.now, p.peer);
    p.net
        .endpoint(peer)
        .send_in_dialog(
            now,
            peer_call,
            Method::Info,
            Some("application/media_control+xml"),
            Bytes::from_static(b"<x/>"),
        )
        .unwrap();
    p.net.run_for(Duration::from_secs(1), STEPS);
    assert_eq!(p.net.count_sent(p.bot, "415 "), 1);
    assert!(dtmf(&p).is_empty());
}

#[test]
fn reinvite_with_sdp_is_a_reoffer_answered_by_the_runtime() {
    let (mut p, peer_call, bot_call) = established(4, NetConfig::perfect());
    let (now, peer, bot) = (p.net.now, p.peer, p.bot);
    let hold = Bytes::from_static(b"v=0\r\na=sendonly\r\n");
    p.net
        .endpoint(peer)
        .send_in_dialog(
            now,
            peer_call,
            Method::Invite,
            Some("application/sdp"),
            hold.clone(),
        )
        .unwrap();
    p.net.run_until(STEPS, |n| {
        n.events(bot)
            .iter()
            .any(|e| matches!(e, EndpointEvent::Reoffer { .. }))
    });
    let offer = p.net.events(bot).iter().find_map(|e| match e {
        EndpointEvent::Reoffer { call, offer } => Some((*call, offer.clone())),
        _ => None,
    });
    assert_eq!(offer, Some((bot_call, hold)));
    let now = p.net.now;
    let recv = Bytes::from_static(b"v=0\r\na=recvonly\r\n");
    p.net
        .endpoint(bot)
        .answer_reoffer(now, bot_call, recv.clone())
        .unwrap();
    p.net.run_for(Duration::from_secs(40), STEPS);
    let answers: Vec<Bytes> = p
        .net
        .events(peer)
        .iter()
        .filter_map(|e| match e {
            EndpointEvent::Answered { answer, .. } => Some(answer.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(answers.last(), Some(&recv));
    // The re-INVITE's 200 was ACKed: one 200 for it, no retransmissions, call still up.
    assert_eq!(p.net.count_sent(bot, "200 OK"), 2);
    assert_eq!(p.ended(bot), None);
}

#[test]
fn update_without_body_is_answered_without_asking_the_runtime() {
    let (mut p, peer_call, _) = established(5, NetConfig::perfect());
    let (now, peer, bot) = (p.net.now, p.peer, p.bot);
    p.net
        .endpoint(peer)
        .send_in_dialog(now, peer_call, Method::Update, None, Bytes::new())
        .unwrap();
    p.net.run_for(Duration::from_secs(1), STEPS);
    assert_eq!(p.net.count_sent(bot, "200 OK"), 2);
    assert!(!p
        .net
        .events(bot)
        .iter()
        .any(|e| matches!(e, EndpointEvent::Reoffer { .. })));
}

const RAW: &str = "127.0.0.1:5999";

fn raw_request(method: &str, to_tag: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} sip:bot@127.0.0.1:5080 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK{method}{to_tag};rport\r\n\
         From: <sip:raw@127.0.0.1:5999>;tag=r1\r\nTo: <sip:bot@127.0.0.1:5080>{to_tag}\r\n\
         Call-ID: raw-{method}\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\n\
         Contact: <sip:raw@127.0.0.1:5999>\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn answers_to_raw(p: &Pair) -> Vec<String> {
    let raw: SocketAddr = RAW.parse().unwrap();
    p.net.sent_to(raw)
}

#[test]
fn out_of_dialog_requests_get_the_right_answers() {
    let mut p = Pair::new(9, NetConfig::perfect(), false);
    let raw: SocketAddr = RAW.parse().unwrap();
    let bot = p.bot;
    p.net.inject(bot, raw, &raw_request("OPTIONS", "", "", ""));
    p.net
        .inject(bot, raw, &raw_request("BYE", ";tag=nope", "", ""));
    p.net.inject(
        bot,
        raw,
        &raw_request("SUBSCRIBE", "", "Event: dialog\r\n", ""),
    );
    p.net.inject(
        bot,
        raw,
        &raw_request("INVITE", "", "Content-Type: text/plain\r\n", "hello"),
    );
    p.net.inject(bot, raw, b"INVITE sip:bot@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKbad\r\nCSeq: one INVITE\r\n\r\n");
    p.net.inject(bot, raw, b"\x16\x03\x01 not sip at all");
    // INVITEs get their 100 Trying first; the final answers are what matter here.
    let got: Vec<String> = answers_to_raw(&p)
        .into_iter()
        .filter(|m| !m.starts_with("SIP/2.0 100"))
        .collect();
    let starts: Vec<&str> = got.iter().map(|m| m.lines().next().unwrap()).collect();
    assert_eq!(starts[0], "SIP/2.0 200 OK");
    assert!(got[0].contains("Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"));
    assert!(got[0].contains("Accept: application/sdp"));
    assert_eq!(starts[1], "SIP/2.0 481 Call/Transaction Does Not Exist");
    assert!(starts[2].starts_with("SIP/2.0 405"));
    assert!(got[2].contains("Allow: "));
    assert_eq!(starts[3], "SIP/2.0 415 Unsupported Media Type");
    assert!(
        starts[4].starts_with("SIP/2.0 400 Bad Request ("),
        "{}",
        starts[4]
    );
    assert_eq!(starts.len(), 5, "garbage gets no answer");
    // rport: answered at the packet's source port.
    assert!(got[0].contains("rport=5999"));
    let dropped = p
        .net
        .events(bot)
        .iter()
        .filter(|e| matches!(e, EndpointEvent::MessageDropped { .. }))
        .count();
    assert_eq!(dropped, 2);
    assert!(!p
        .net
        .events(bot)
        .iter()
        .any(|e| matches!(e, EndpointEvent::IncomingCall { .. })));
}

#[test]
fn refusing_new_calls_answers_503_with_retry_after() {
    let mut p = Pair::new(10, NetConfig::perfect(), false);
    let bot = p.bot;
    p.net.endpoint(bot).refuse_new_calls(503, Some(30));
    p.dial();
    p.net.run_for(Duration::from_secs(1), STEPS);
    assert_eq!(
        p.ended(p.peer),
        Some(signaling::endpoint::EndReason::Rejected(503))
    );
    let raw = p
        .net
        .sent
        .iter()
        .find(|s| s.start_line.starts_with("SIP/2.0 503"))
        .map(|s| String::from_utf8_lossy(&s.bytes).into_owned())
        .unwrap();
    assert!(raw.contains("Retry-After: 30"));
}
