//! Whole calls between the bot's UAS and a scripted peer, on perfect and lossy networks.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

use std::time::Duration;

use bytes::Bytes;
use signaling::endpoint::{EndReason, EndpointEvent};
use signaling::testkit::{DropRule, NetConfig, Network, Pair, ANSWER, OFFER};

const STEPS: usize = 20_000;

/// Bot answers every call at once; the peer hangs up once established.
fn answer_then_peer_hangs_up(net: &mut Network, node: usize, e: &EndpointEvent, bot: usize) {
    let now = net.now;
    match e {
        EndpointEvent::IncomingCall { call, .. } if node == bot => {
            net.endpoint(bot)
                .answer(now, *call, Bytes::from_static(ANSWER))
                .unwrap();
        }
        EndpointEvent::CallEstablished { call } if node != bot => {
            net.endpoint(node).hangup(now, *call).unwrap();
        }
        _ => {}
    }
}

fn run_call(seed: u64, config: NetConfig) -> Pair {
    let mut p = Pair::new(seed, config, false);
    p.dial();
    let (bot, peer) = (p.bot, p.peer);
    let mut net = std::mem::replace(&mut p.net, Network::new(0, NetConfig::perfect()));
    net.run_until_with(
        STEPS,
        |n, node, e| answer_then_peer_hangs_up(n, node, e, bot),
        |n| {
            [bot, peer].iter().all(|&i| {
                n.events(i)
                    .iter()
                    .any(|e| matches!(e, EndpointEvent::CallEnded { .. }))
            })
        },
    );
    // Let retransmissions and linger timers run out.
    net.run_for(Duration::from_secs(70), STEPS);
    p.net = net;
    p
}

#[test]
fn call_sets_up_carries_sdp_and_ends_with_bye_on_a_perfect_network() {
    let p = run_call(1, NetConfig::perfect());
    let offer = p.net.events(p.bot).iter().find_map(|e| match e {
        EndpointEvent::IncomingCall { offer, source, .. } => Some((offer.clone(), *source)),
        _ => None,
    });
    assert_eq!(offer, Some((Bytes::from_static(OFFER), p.net.addr(p.peer))));
    let answer = p.net.events(p.peer).iter().find_map(|e| match e {
        EndpointEvent::Answered { answer, .. } => Some(answer.clone()),
        _ => None,
    });
    assert_eq!(answer, Some(Bytes::from_static(ANSWER)));
    assert_eq!(p.ended(p.bot), Some(EndReason::RemoteBye));
    assert_eq!(p.ended(p.peer), Some(EndReason::LocalBye));
    for node in [p.bot, p.peer] {
        assert_eq!(
            p.count(node, |e| matches!(e, EndpointEvent::CallEstablished { .. })),
            1
        );
    }
    // One 100, one 200 for the INVITE, one 200 for the BYE; nothing retransmitted.
    assert_eq!(p.net.count_sent(p.bot, "100 Trying"), 1);
    assert_eq!(p.net.count_sent(p.bot, "200 OK"), 2);
    assert_eq!(
        p.net.endpoint_ref(p.bot).call_count(),
        0,
        "ended calls are forgotten"
    );
}

#[test]
fn calls_survive_loss_duplication_and_reordering() {
    let mut invite_retransmitted = 0;
    for seed in 0..60 {
        let p = run_call(seed, NetConfig::lossy());
        if p.net.count_sent(p.peer, "INVITE ") > 1 {
            invite_retransmitted += 1;
        }
        assert_eq!(
            p.count(p.bot, |e| matches!(e, EndpointEvent::IncomingCall { .. })),
            1,
            "seed {seed}: retransmitted INVITEs are absorbed"
        );
        assert_eq!(p.ended(p.bot), Some(EndReason::RemoteBye), "seed {seed}");
        assert_eq!(p.ended(p.peer), Some(EndReason::LocalBye), "seed {seed}");
        assert_eq!(
            p.count(p.peer, |e| matches!(
                e,
                EndpointEvent::CallEstablished { .. }
            )),
            1,
            "seed {seed}"
        );
    }
    assert!(invite_retransmitted > 0, "the loss reached some INVITEs");
}

#[test]
fn two_hundred_is_retransmitted_until_the_ack_arrives() {
    let mut p = Pair::new(7, NetConfig::perfect(), false);
    let peer_addr = p.net.addr(p.peer);
    p.net.drops.push(DropRule {
        from: peer_addr,
        needle: "ACK ".into(),
        remaining: 2,
    });
    p.dial();
    let bot = p.bot;
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
            n.events(bot)
                .iter()
                .any(|e| matches!(e, EndpointEvent::CallEstablished { .. }))
        },
    );
    // The 200 went out at answer time, then T1 and 2·T1 later; the third ACK got through.
    let oks: Vec<Duration> = p
        .net
        .sent
        .iter()
        .filter(|s| s.from == p.net.addr(bot) && s.start_line.contains("200 OK"))
        .map(|s| s.at)
        .collect();
    assert_eq!(oks.len(), 3);
    assert_eq!(oks[1] - oks[0], Duration::from_millis(500));
    assert_eq!(oks[2] - oks[1], Duration::from_millis(1000));
    p.net.run_for(Duration::from_secs(10), STEPS);
    assert_eq!(
        p.net.count_sent(bot, "200 OK"),
        3,
        "no retransmission after the ACK"
    );
    assert_eq!(p.ended(bot), None);
}

#[test]
fn no_ack_within_64_t1_ends_the_call_with_bye() {
    let mut p = Pair::new(8, NetConfig::perfect(), false);
    let peer_addr = p.net.addr(p.peer);
    p.net.drops.push(DropRule {
        from: peer_addr,
        needle: "ACK ".into(),
        remaining: usize::MAX,
    });
    p.dial();
    let bot = p.bot;
    let mut answered_at = None;
    p.net.run_until_with(
        STEPS,
        |n, node, e| {
            if let (true, EndpointEvent::IncomingCall { call, .. }) = (node == bot, e) {
                let now = n.now;
                answered_at = Some(now);
                n.endpoint(bot)
                    .answer(now, *call, Bytes::from_static(ANSWER))
                    .unwrap();
            }
        },
        |n| {
            n.events(bot)
                .iter()
                .any(|e| matches!(e, EndpointEvent::CallEnded { .. }))
        },
    );
    assert_eq!(p.ended(bot), Some(EndReason::Timeout));
    assert_eq!(p.net.now - answered_at.unwrap(), Duration::from_secs(32));
    assert_eq!(p.net.count_sent(bot, "BYE "), 1);
    // T1 doubling to T2: 0.5, 1, 2, 4, 4, … s apart within 32 s.
    assert_eq!(p.net.count_sent(bot, "200 OK"), 11);
    p.net.run_for(Duration::from_secs(1), STEPS);
    assert_eq!(p.ended(p.peer), Some(EndReason::RemoteBye));
}

#[test]
fn bot_hangs_up_with_bye_and_the_peer_answers_200() {
    for seed in 0..20 {
        let mut p = Pair::new(seed, NetConfig::lossy(), true);
        p.dial();
        let bot = p.bot;
        p.net.run_until_with(
            STEPS,
            |n, node, e| {
                let now = n.now;
                match e {
                    EndpointEvent::IncomingCall { call, .. } if node == bot => n
                        .endpoint(bot)
                        .answer(now, *call, Bytes::from_static(ANSWER))
                        .unwrap(),
                    EndpointEvent::CallEstablished { call } if node == bot => {
                        n.endpoint(bot).hangup(now, *call).unwrap()
                    }
                    _ => {}
                }
            },
            |n| {
                n.events(1)
                    .iter()
                    .any(|e| matches!(e, EndpointEvent::CallEnded { .. }))
            },
        );
        p.net.run_for(Duration::from_secs(40), STEPS);
        assert_eq!(p.ended(bot), Some(EndReason::LocalBye), "seed {seed}");
        assert_eq!(p.ended(p.peer), Some(EndReason::RemoteBye), "seed {seed}");
        assert!(p.net.count_sent(bot, "180 Ringing") >= 1, "seed {seed}");
        assert!(p.net.count_sent(p.peer, "200 OK") >= 1, "seed {seed}");
    }
}

#[test]
fn retransmitted_invite_is_absorbed_while_the_bot_decides() {
    let mut p = Pair::new(11, NetConfig::perfect(), false);
    let bot_addr = p.net.addr(p.bot);
    // Without the 100 Trying the peer keeps retransmitting its INVITE (Timer A).
    p.net.drops.push(DropRule {
        from: bot_addr,
        needle: "100 Trying".into(),
        remaining: 2,
    });
    p.dial();
    p.net.run_for(Duration::from_secs(3), STEPS);
    assert_eq!(p.net.count_sent(p.peer, "INVITE "), 3);
    assert_eq!(
        p.count(p.bot, |e| matches!(e, EndpointEvent::IncomingCall { .. })),
        1
    );
    let call = p.net.events(p.bot).iter().find_map(|e| match e {
        EndpointEvent::IncomingCall { call, .. } => Some(*call),
        _ => None,
    });
    let (now, bot) = (p.net.now, p.bot);
    p.net
        .endpoint(bot)
        .answer(now, call.unwrap(), Bytes::from_static(ANSWER))
        .unwrap();
    p.net.run_for(Duration::from_secs(1), STEPS);
    assert_eq!(
        p.count(p.peer, |e| matches!(
            e,
            EndpointEvent::CallEstablished { .. }
        )),
        1
    );
}
