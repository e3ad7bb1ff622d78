//! A seeded, lossy network in virtual time for driving endpoints against each other.
//!
//! Packets are lost, duplicated and delayed (with jitter, hence reordered) from one seeded RNG;
//! time jumps straight to the next delivery or `poll_timeout` deadline, so Timer B's 32 s pass
//! in microseconds. A bound on steps turns a livelock into a test failure.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::endpoint::{Endpoint, EndpointEvent, Transport};

/// How the network misbehaves.
#[derive(Debug, Clone, Copy)]
pub struct NetConfig {
    /// Probability in 0..=1 that a packet is dropped.
    pub loss: f64,
    /// Probability in 0..=1 that a delivered packet arrives twice.
    pub duplicate: f64,
    pub min_delay: Duration,
    /// Extra delay drawn uniformly from 0..jitter; larger than the packet spacing, it reorders.
    pub jitter: Duration,
}

impl NetConfig {
    pub fn perfect() -> Self {
        Self {
            loss: 0.0,
            duplicate: 0.0,
            min_delay: Duration::from_millis(10),
            jitter: Duration::ZERO,
        }
    }

    /// 10 % loss, 5 % duplication, 10–60 ms delay.
    pub fn lossy() -> Self {
        Self {
            loss: 0.10,
            duplicate: 0.05,
            min_delay: Duration::from_millis(10),
            jitter: Duration::from_millis(50),
        }
    }
}

/// One packet handed to the network, whether or not it arrived.
#[derive(Debug, Clone)]
pub struct Sent {
    pub at: Duration,
    pub from: SocketAddr,
    pub to: SocketAddr,
    /// The start line, e.g. `SIP/2.0 200 OK` or `BYE sip:… SIP/2.0`.
    pub start_line: String,
    pub bytes: Vec<u8>,
}

struct Node {
    addr: SocketAddr,
    endpoint: Endpoint,
    events: Vec<EndpointEvent>,
    /// How many events `run_until_with` has shown to its reaction.
    seen: usize,
}

/// Drops the next `remaining` packets from `from` whose start line contains `needle`.
#[derive(Debug, Clone)]
pub struct DropRule {
    pub from: SocketAddr,
    pub needle: String,
    pub remaining: usize,
}

type InFlight = Reverse<(Duration, u64, SocketAddr, SocketAddr, Vec<u8>)>;

pub struct Network {
    pub now: Duration,
    config: NetConfig,
    rng: StdRng,
    nodes: Vec<Node>,
    by_addr: HashMap<SocketAddr, usize>,
    in_flight: BinaryHeap<InFlight>,
    seq: u64,
    /// Every packet sent, in order.
    pub sent: Vec<Sent>,
    /// Targeted losses on top of the random ones.
    pub drops: Vec<DropRule>,
}

impl Network {
    pub fn new(seed: u64, config: NetConfig) -> Self {
        Self {
            now: Duration::ZERO,
            config,
            rng: StdRng::seed_from_u64(seed),
            nodes: Vec::new(),
            by_addr: HashMap::new(),
            in_flight: BinaryHeap::new(),
            seq: 0,
            sent: Vec::new(),
            drops: Vec::new(),
        }
    }

    /// Attaches an endpoint reachable at its configured host:port; returns its index.
    pub fn add(&mut self, addr: SocketAddr, endpoint: Endpoint) -> usize {
        let index = self.nodes.len();
        self.nodes.push(Node {
            addr,
            endpoint,
            events: Vec::new(),
            seen: 0,
        });
        self.by_addr.insert(addr, index);
        index
    }

    pub fn endpoint(&mut self, node: usize) -> &mut Endpoint {
        &mut self.nodes[node].endpoint
    }

    pub fn endpoint_ref(&self, node: usize) -> &Endpoint {
        &self.nodes[node].endpoint
    }

    pub fn addr(&self, node: usize) -> SocketAddr {
        self.nodes[node].addr
    }

    /// Events the node has produced so far.
    pub fn events(&self, node: usize) -> &[EndpointEvent] {
        &self.nodes[node].events
    }

    /// Packets sent by `node` whose start line contains `needle`.
    pub fn count_sent(&self, node: usize, needle: &str) -> usize {
        let addr = self.addr(node);
        self.sent
            .iter()
            .filter(|s| s.from == addr && s.start_line.contains(needle))
            .count()
    }

    /// Delivers raw bytes to `node` now, as if from `from` (which need not be a node; what is
    /// sent back to it shows up in [`Self::sent`]).
    pub fn inject(&mut self, node: usize, from: SocketAddr, bytes: &[u8]) {
        let now = self.now;
        self.nodes[node]
            .endpoint
            .handle_datagram(now, from, Transport::Udp, bytes);
        self.flush();
    }

    /// Packets sent to `to`, as text.
    pub fn sent_to(&self, to: SocketAddr) -> Vec<String> {
        self.sent
            .iter()
            .filter(|s| s.to == to)
            .map(|s| String::from_utf8_lossy(&s.bytes).into_owned())
            .collect()
    }

    /// Moves transmits into the network and events into each node's log.
    pub fn flush(&mut self) {
        for i in 0..self.nodes.len() {
            while let Some(t) = self.nodes[i].endpoint.poll_transmit() {
                let from = self.nodes[i].addr;
                let start_line = String::from_utf8_lossy(&t.bytes)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                self.sent.push(Sent {
                    at: self.now,
                    from,
                    to: t.to,
                    start_line: start_line.clone(),
                    bytes: t.bytes.clone(),
                });
                let targeted = self.drops.iter_mut().find(|d| {
                    d.remaining > 0 && d.from == from && start_line.contains(d.needle.as_str())
                });
                if let Some(rule) = targeted {
                    rule.remaining -= 1;
                    continue;
                }
                if self.rng.random_bool(self.config.loss) {
                    continue;
                }
                let copies = if self.rng.random_bool(self.config.duplicate) {
                    2
                } else {
                    1
                };
                for _ in 0..copies {
                    let delay = self.delay();
                    self.seq += 1;
                    self.in_flight.push(Reverse((
                        self.now + delay,
                        self.seq,
                        from,
                        t.to,
                        t.bytes.clone(),
                    )));
                }
            }
            while let Some(e) = self.nodes[i].endpoint.poll_event() {
                self.nodes[i].events.push(e);
            }
        }
    }

    fn delay(&mut self) -> Duration {
        let jitter_us = self.config.jitter.as_micros() as u64;
        let extra = if jitter_us == 0 {
            0
        } else {
            self.rng.random_range(0..jitter_us)
        };
        self.config.min_delay + Duration::from_micros(extra)
    }

    /// The next instant anything happens.
    pub fn next_wake(&self) -> Option<Duration> {
        let delivery = self.in_flight.peek().map(|Reverse(p)| p.0);
        let timers = self
            .nodes
            .iter()
            .filter_map(|n| n.endpoint.poll_timeout())
            .min();
        match (delivery, timers) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Advances to the next event (never past `limit`); `false` when nothing is left to do.
    pub fn step(&mut self, limit: Duration) -> bool {
        self.flush();
        let Some(next) = self.next_wake() else {
            return false;
        };
        if next > limit {
            self.now = limit;
            return false;
        }
        self.now = self.now.max(next);
        while let Some(Reverse(p)) = self.in_flight.peek() {
            if p.0 > self.now {
                break;
            }
            let Some(Reverse((_, _, from, to, bytes))) = self.in_flight.pop() else {
                break;
            };
            if let Some(&i) = self.by_addr.get(&to) {
                let now = self.now;
                self.nodes[i]
                    .endpoint
                    .handle_datagram(now, from, Transport::Udp, &bytes);
            }
        }
        for node in &mut self.nodes {
            if node.endpoint.poll_timeout().is_some_and(|d| d <= self.now) {
                node.endpoint.handle_timeout(self.now);
            }
        }
        self.flush();
        true
    }

    /// Steps until `done` holds. Panics after `max_steps` (a livelock) or when the network
    /// goes idle first.
    pub fn run_until(&mut self, max_steps: usize, mut done: impl FnMut(&Network) -> bool) {
        for _ in 0..max_steps {
            self.flush();
            if done(self) {
                return;
            }
            assert!(self.step(Duration::MAX), "network idle at {:?}", self.now);
        }
        panic!("no progress after {max_steps} steps (now {:?})", self.now);
    }

    /// Like [`Self::run_until`], showing every new event to `react` once, which may drive the
    /// endpoints (answer, hang up, …) as a scripted peer would.
    pub fn run_until_with(
        &mut self,
        max_steps: usize,
        mut react: impl FnMut(&mut Network, usize, &EndpointEvent),
        mut done: impl FnMut(&Network) -> bool,
    ) {
        for _ in 0..max_steps {
            self.flush();
            for i in 0..self.nodes.len() {
                let events = std::mem::take(&mut self.nodes[i].events);
                for e in events.iter().skip(self.nodes[i].seen) {
                    react(self, i, e);
                }
                self.nodes[i].seen = events.len();
                let newer = std::mem::replace(&mut self.nodes[i].events, events);
                self.nodes[i].events.extend(newer);
            }
            self.flush();
            if done(self) {
                return;
            }
            assert!(self.step(Duration::MAX), "network idle at {:?}", self.now);
        }
        panic!("no progress after {max_steps} steps (now {:?})", self.now);
    }

    /// Steps until virtual time reaches `now + d`. Panics after `max_steps`.
    pub fn run_for(&mut self, d: Duration, max_steps: usize) {
        let end = self.now + d;
        for _ in 0..max_steps {
            if !self.step(end) {
                self.now = end;
                return;
            }
        }
        panic!("no progress after {max_steps} steps (now {:?})", self.now);
    }
}

/// A bot-like UAS and a scripted UAC peer on one network.
pub struct Pair {
    pub net: Network,
    pub bot: usize,
    pub peer: usize,
}

pub const BOT_PORT: u16 = 5080;
pub const PEER_PORT: u16 = 5062;
pub const OFFER: &[u8] = b"v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 16000 RTP/AVP 0 101\r\n";
pub const ANSWER: &[u8] = b"v=0\r\no=bot 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0 101\r\n";

impl Pair {
    pub fn new(seed: u64, config: NetConfig, ring: bool) -> Self {
        use crate::endpoint::EndpointConfig;
        let mut net = Network::new(seed, config);
        let bot_addr = SocketAddr::from(([127, 0, 0, 1], BOT_PORT));
        let peer_addr = SocketAddr::from(([127, 0, 0, 1], PEER_PORT));
        let mut bot_cfg = EndpointConfig::new(bot_addr);
        bot_cfg.seed = seed.wrapping_mul(2).wrapping_add(1);
        bot_cfg.ring = ring;
        let mut peer_cfg = EndpointConfig::new(peer_addr);
        peer_cfg.seed = seed.wrapping_mul(2).wrapping_add(2);
        peer_cfg.user_agent = "peer".to_string();
        let bot = net.add(bot_addr, Endpoint::new(bot_cfg));
        let peer = net.add(peer_addr, Endpoint::new(peer_cfg));
        Self { net, bot, peer }
    }

    /// The peer sends an INVITE with [`OFFER`] to the bot.
    pub fn dial(&mut self) -> crate::endpoint::CallHandle {
        use crate::message::{NameAddr, Uri};
        let now = self.net.now;
        // Constant, well-formed URIs (the parser's own tests cover this form): cannot fail.
        let target = Uri::parse("sip:bot@127.0.0.1:5080").expect("literal URI");
        let from = NameAddr::new(Uri::parse("sip:peer@127.0.0.1:5062").expect("literal URI")); // as above
        let dest = self.net.addr(self.bot);
        self.net.endpoint(self.peer).invite(
            now,
            target,
            from,
            bytes::Bytes::from_static(OFFER),
            dest,
            None,
        )
    }

    /// Why `node`'s first call ended, if it has.
    pub fn ended(&self, node: usize) -> Option<crate::endpoint::EndReason> {
        self.net.events(node).iter().find_map(|e| match e {
            EndpointEvent::CallEnded { reason, .. } => Some(*reason),
            _ => None,
        })
    }

    pub fn count(&self, node: usize, pred: impl Fn(&EndpointEvent) -> bool) -> usize {
        self.net.events(node).iter().filter(|e| pred(e)).count()
    }
}
