//! CANCEL before the answer, and CANCEL racing the bot's 200 (RFC 3261 §9.2).

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

use std::time::Duration;

use bytes::Bytes;
use signaling::endpoint::{EndReason, EndpointEvent};
use signaling::testkit::{NetConfig, Pair, ANSWER};

const STEPS: usize = 20_000;

#[test]
fn caller_cancels_before_the_answer() {
    for seed in 0..30 {
        let config = if seed == 0 {
            NetConfig::perfect()
        } else {
            NetConfig::lossy()
        };
        let mut p = Pair::new(seed, config, true);
        let call = p.dial();
        let peer = p.peer;
        p.net.run_until(STEPS, |n| {
            n.events(peer)
                .iter()
                .any(|e| matches!(e, EndpointEvent::Progress { .. }))
        });
        let now = p.net.now;
        p.net.endpoint(peer).hangup(now, call).unwrap();
        p.net.run_for(Duration::from_secs(70), STEPS);
        assert_eq!(p.ended(p.bot), Some(EndReason::Cancelled), "seed {seed}");
        assert_eq!(p.ended(peer), Some(EndReason::Cancelled), "seed {seed}");
        assert!(
            p.net.count_sent(p.bot, "487 Request Terminated") >= 1,
            "seed {seed}"
        );
        // The bot cannot answer a cancelled call.
        let bot_call = p.net.events(p.bot).iter().find_map(|e| match e {
            EndpointEvent::IncomingCall { call, .. } => Some(*call),
            _ => None,
        });
        let now = p.net.now;
        assert!(p
            .net
            .endpoint(p.bot)
            .answer(now, bot_call.unwrap(), Bytes::from_static(ANSWER))
            .is_err());
    }
}

#[test]
fn cancel_racing_the_200_leaves_the_call_up_then_bye_ends_it() {
    for seed in 0..40 {
        let config = if seed == 0 {
            NetConfig::perfect()
        } else {
            NetConfig::lossy()
        };
        let mut p = Pair::new(seed, config, true);
        let peer_call = p.dial();
        let bot = p.bot;
        p.net.run_until(STEPS, |n| {
            n.events(bot)
                .iter()
                .any(|e| matches!(e, EndpointEvent::IncomingCall { .. }))
        });
        let bot_call = p.net.events(bot).iter().find_map(|e| match e {
            EndpointEvent::IncomingCall { call, .. } => Some(*call),
            _ => None,
        });
        // Both act at the same instant: the 200 and the CANCEL cross on the wire. The peer's
        // CANCEL waits for a provisional response if it has none yet (§9.1).
        let peer = p.peer;
        p.net.run_until(STEPS, |n| {
            n.events(peer)
                .iter()
                .any(|e| matches!(e, EndpointEvent::Progress { .. }))
        });
        let now = p.net.now;
        p.net
            .endpoint(bot)
            .answer(now, bot_call.unwrap(), Bytes::from_static(ANSWER))
            .unwrap();
        p.net.endpoint(p.peer).hangup(now, peer_call).unwrap();
        p.net.run_for(Duration::from_secs(70), STEPS);

        assert_eq!(
            p.net.count_sent(bot, "487"),
            0,
            "seed {seed}: 2xx already sent"
        );
        // The peer ACKs the 2xx and hangs up with BYE; the bot sees an ordinary remote BYE.
        assert_eq!(p.ended(bot), Some(EndReason::RemoteBye), "seed {seed}");
        assert_eq!(p.ended(p.peer), Some(EndReason::LocalBye), "seed {seed}");
        assert!(p.net.count_sent(p.peer, "CANCEL ") >= 1, "seed {seed}");
        assert!(p.net.count_sent(p.peer, "BYE ") >= 1, "seed {seed}");
        assert_eq!(p.net.endpoint_ref(bot).call_count(), 0, "seed {seed}");
    }
}
