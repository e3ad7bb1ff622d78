//! Mangled and truncated messages never panic the user agent, whatever state the call is in.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use signaling::endpoint::{EndpointEvent, Transport};
use signaling::testkit::{NetConfig, Pair, ANSWER};

#[test]
fn mutated_traffic_is_answered_or_dropped_without_panicking() {
    // A real exchange gives the seed corpus: INVITE, ACK, BYE and the bot's responses.
    let mut p = Pair::new(3, NetConfig::perfect(), true);
    p.dial();
    let bot = p.bot;
    p.net.run_until_with(
        20_000,
        |n, node, e| {
            let now = n.now;
            match e {
                EndpointEvent::IncomingCall { call, .. } if node == bot => n
                    .endpoint(bot)
                    .answer(now, *call, Bytes::from_static(ANSWER))
                    .unwrap(),
                EndpointEvent::CallEstablished { call } if node != bot => {
                    n.endpoint(node).hangup(now, *call).unwrap()
                }
                _ => {}
            }
        },
        |n| {
            n.events(bot)
                .iter()
                .any(|e| matches!(e, EndpointEvent::CallEnded { .. }))
        },
    );
    let corpus: Vec<Vec<u8>> = p.net.sent.iter().map(|s| s.bytes.clone()).collect();
    assert!(corpus.len() >= 6);

    let mut rng = StdRng::seed_from_u64(99);
    let from: SocketAddr = "127.0.0.1:5062".parse().unwrap();
    for i in 0..3000u64 {
        let mut msg = corpus[rng.random_range(0..corpus.len())].clone();
        match rng.random_range(0..4) {
            0 => msg.truncate(rng.random_range(0..msg.len())),
            1 => {
                for _ in 0..rng.random_range(1..8) {
                    let at = rng.random_range(0..msg.len());
                    msg[at] = rng.random();
                }
            }
            2 => {
                let at = rng.random_range(0..msg.len());
                let junk: Vec<u8> = (0..rng.random_range(1..40)).map(|_| rng.random()).collect();
                msg.splice(at..at, junk);
            }
            _ => {
                let at = rng.random_range(0..msg.len());
                msg.drain(at..(at + rng.random_range(1..20)).min(msg.len()));
            }
        }
        let transport = if i % 5 == 0 {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        p.net.now += Duration::from_millis(7);
        let now = p.net.now;
        let ep = p.net.endpoint(bot);
        ep.handle_datagram(now, from, transport, &msg);
        if ep.poll_timeout().is_some_and(|t| t <= now) {
            ep.handle_timeout(now);
        }
        while ep.poll_transmit().is_some() {}
        while ep.poll_event().is_some() {}
    }
}
