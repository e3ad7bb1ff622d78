//! The endpoint registering with a scripted registrar over a seeded, lossy link in virtual time:
//! the REGISTERs travel in client transactions (Timer E, Timer F), and refreshes, digest
//! answers and unregistration show up on the wire.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use signaling::auth::{credentials, Challenge, DigestRequest};
use signaling::endpoint::{
    Endpoint, EndpointConfig, EndpointEvent, RegistrationConfig, RegistrationEvent, Transport,
};
use signaling::message::{
    parse_datagram, HeaderName, Host, Request, Response, SipMessage, Uri, Via,
};

const CHALLENGE: &str = r#"Digest realm="callclip.test", nonce="n0nce", algorithm=MD5, qop="auth""#;
const REGISTRAR_URI: &str = "sip:192.0.2.1";
const CONTACT: &str = "sip:callclip@192.0.2.10:5080";

fn bot_addr() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 10], 5080))
}

fn registrar_addr() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], 5060))
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn registration_config(expires: u32) -> RegistrationConfig {
    RegistrationConfig {
        registrar: Uri::parse(REGISTRAR_URI).unwrap(),
        aor: Uri::parse("sip:bot@192.0.2.1").unwrap(),
        contact: Uri::parse(CONTACT).unwrap(),
        username: "bot".into(),
        password: "secret".into(),
        expires,
        via: Via::new("UDP", Host::parse("192.0.2.10").unwrap(), Some(5080)),
    }
}

fn digest_field<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let start = value.find(&format!(" {name}="))? + name.len() + 2;
    let rest = value.get(start..)?;
    let rest = rest.strip_prefix('"').unwrap_or(rest);
    rest.split(['"', ',']).next()
}

/// Recomputes the digest response the way a registrar does.
fn credentials_valid(req: &Request) -> bool {
    let Some(value) = req.headers.first(&HeaderName::Authorization) else {
        return false;
    };
    let challenge = Challenge::parse(CHALLENGE).unwrap();
    let cnonce = digest_field(value, "cnonce").unwrap_or("");
    let nc = u32::from_str_radix(digest_field(value, "nc").unwrap_or("0"), 16).unwrap();
    let expected = credentials(
        &challenge,
        "bot",
        "secret",
        DigestRequest {
            method: "REGISTER",
            uri: REGISTRAR_URI,
            body: b"",
        },
        cnonce,
        nc,
    );
    digest_field(value, "uri") == Some(REGISTRAR_URI)
        && digest_field(value, "response") == digest_field(&expected, "response")
}

/// A registrar that challenges unauthenticated REGISTERs and grants `grant` seconds (or what
/// was asked for, if less) to authenticated ones. Stateless: a retransmission gets the same
/// answer again.
struct Registrar {
    grant: u32,
    /// Answers nothing (a dead registrar).
    silent: bool,
    /// Every REGISTER that reached it, with its arrival time.
    received: Vec<(Duration, Request)>,
}

impl Registrar {
    fn handle(&mut self, now: Duration, bytes: &[u8]) -> Option<Response> {
        let Ok(SipMessage::Request(req)) = parse_datagram(bytes) else {
            panic!("the bot sent something that is not a request");
        };
        self.received.push((now, req.clone()));
        if self.silent {
            return None;
        }
        if !credentials_valid(&req) {
            let mut r = Response::for_request(&req, 401, "Unauthorized");
            r.headers.push(HeaderName::WwwAuthenticate, CHALLENGE);
            return Some(r);
        }
        let asked: u32 = req
            .headers
            .first(&HeaderName::Expires)
            .and_then(|v| v.parse().ok())
            .unwrap();
        let mut r = Response::for_request(&req, 200, "OK");
        r.headers.push(
            HeaderName::Contact,
            format!("<{CONTACT}>;expires={}", asked.min(self.grant)),
        );
        Some(r)
    }

    /// (arrival time, Expires, has Authorization) of each distinct REGISTER, by CSeq.
    fn distinct(&self) -> Vec<(Duration, String, bool)> {
        let mut seen: Vec<(String, (Duration, String, bool))> = Vec::new();
        for (at, req) in &self.received {
            let cseq = req.headers.first(&HeaderName::CSeq).unwrap().to_string();
            if seen.iter().all(|(c, _)| *c != cseq) {
                let expires = req.headers.first(&HeaderName::Expires).unwrap().to_string();
                let auth = req.headers.first(&HeaderName::Authorization).is_some();
                seen.push((cseq, (*at, expires, auth)));
            }
        }
        seen.into_iter().map(|(_, v)| v).collect()
    }
}

/// The bot and the registrar joined by a link that loses `loss` of the packets either way and
/// delays each by 10–30 ms.
struct Lab {
    now: Duration,
    bot: Endpoint,
    registrar: Registrar,
    rng: StdRng,
    loss: f64,
    to_bot: BinaryHeap<Reverse<(Duration, u64, Vec<u8>)>>,
    seq: u64,
    events: Vec<(Duration, RegistrationEvent)>,
}

impl Lab {
    fn new(seed: u64, loss: f64) -> Self {
        let mut config = EndpointConfig::new(bot_addr());
        config.seed = seed;
        Self {
            now: Duration::ZERO,
            bot: Endpoint::new(config),
            registrar: Registrar {
                grant: 60,
                silent: false,
                received: Vec::new(),
            },
            rng: StdRng::seed_from_u64(seed),
            loss,
            to_bot: BinaryHeap::new(),
            seq: 0,
            events: Vec::new(),
        }
    }

    fn register(&mut self, expires: u32) {
        let now = self.now;
        self.bot
            .register(now, registration_config(expires), registrar_addr());
        self.flush();
    }

    fn unregister(&mut self) {
        let now = self.now;
        assert!(self.bot.unregister(now), "a registration to remove");
        self.flush();
    }

    fn delay(&mut self) -> Duration {
        Duration::from_millis(self.rng.random_range(10..30))
    }

    /// Carries the bot's datagrams to the registrar and its answers back into flight.
    fn flush(&mut self) {
        while let Some(t) = self.bot.poll_transmit() {
            assert_eq!(t.to, registrar_addr());
            if self.rng.random_bool(self.loss) {
                continue;
            }
            let arrival = self.now + self.delay();
            let Some(response) = self.registrar.handle(arrival, &t.bytes) else {
                continue;
            };
            if self.rng.random_bool(self.loss) {
                continue;
            }
            let back = arrival + self.delay();
            self.seq += 1;
            self.to_bot
                .push(Reverse((back, self.seq, response.to_bytes())));
        }
        while let Some(event) = self.bot.poll_event() {
            if let EndpointEvent::Registration(e) = event {
                self.events.push((self.now, e));
            }
        }
    }

    /// Runs until virtual time `end`, stepping from one delivery or deadline to the next.
    fn run_until(&mut self, end: Duration) {
        for _ in 0..10_000 {
            self.flush();
            let delivery = self.to_bot.peek().map(|Reverse(p)| p.0);
            let next = [delivery, self.bot.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(next) if next <= end => self.now = self.now.max(next),
                _ => {
                    self.now = end;
                    return;
                }
            }
            while self.to_bot.peek().is_some_and(|Reverse(p)| p.0 <= self.now) {
                let Some(Reverse((_, _, bytes))) = self.to_bot.pop() else {
                    break;
                };
                let now = self.now;
                self.bot
                    .handle_datagram(now, registrar_addr(), Transport::Udp, &bytes);
            }
            if self.bot.poll_timeout().is_some_and(|d| d <= self.now) {
                let now = self.now;
                self.bot.handle_timeout(now);
            }
        }
        panic!("no progress at {:?}", self.now);
    }

    fn registered_at(&self) -> Vec<(Duration, u32)> {
        self.events
            .iter()
            .filter_map(|(at, e)| match e {
                RegistrationEvent::Registered { expires } => Some((*at, *expires)),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn challenge_then_authenticated_register_then_refresh_at_half_the_grant() {
    let mut lab = Lab::new(1, 0.0);
    lab.register(3600);
    lab.run_until(secs(45));

    let registers = lab.registrar.distinct();
    assert_eq!(
        registers.len(),
        3,
        "challenge, authenticated, refresh: {registers:?}"
    );
    assert!(!registers[0].2, "the first REGISTER carries no credentials");
    assert!(
        registers[1].2,
        "the challenged REGISTER carries credentials"
    );
    assert!(registers[2].2, "the refresh is signed up front");
    assert!(registers.iter().all(|(_, expires, _)| expires == "3600"));
    assert!(lab.registrar.received.iter().all(|(_, r)| {
        r.headers.first(&HeaderName::Authorization).is_none() || credentials_valid(r)
    }));

    let refresh_at = registers[2].0;
    assert!(
        refresh_at >= secs(30) && refresh_at < Duration::from_millis(30_200),
        "refresh at {refresh_at:?}, expected ~30 s after a 60 s grant"
    );
    let registered = lab.registered_at();
    assert_eq!(registered.len(), 2, "{:?}", lab.events);
    assert!(registered.iter().all(|(_, expires)| *expires == 60));
    assert!(registered[0].0 < secs(1));
    assert!(
        lab.events
            .iter()
            .all(|(_, e)| matches!(e, RegistrationEvent::Registered { .. })),
        "no failure on a clean link: {:?}",
        lab.events
    );
}

#[test]
fn unregister_sends_expires_zero_and_stops_refreshing() {
    let mut lab = Lab::new(2, 0.0);
    lab.register(3600);
    lab.run_until(secs(10));
    assert_eq!(lab.registered_at().len(), 1);

    lab.unregister();
    lab.run_until(secs(300));

    let registers = lab.registrar.distinct();
    assert_eq!(registers.len(), 3, "{registers:?}");
    let (at, expires, signed) = &registers[2];
    assert_eq!(expires, "0");
    assert!(signed, "the unregistration is authenticated too");
    assert!(*at < secs(11));
    assert_eq!(
        lab.events.last().map(|(_, e)| e.clone()),
        Some(RegistrationEvent::Unregistered)
    );
    assert_eq!(
        lab.bot.poll_timeout(),
        None,
        "no refresh after unregistering"
    );
}

#[test]
fn unregister_without_registration_sends_nothing() {
    let mut lab = Lab::new(4, 0.0);
    assert!(!lab.bot.unregister(Duration::ZERO));
    lab.run_until(secs(60));
    assert!(lab.registrar.received.is_empty());
    assert!(lab.events.is_empty());
}

#[test]
fn lossy_link_still_registers_through_retransmissions() {
    let mut retransmitted = 0;
    for seed in 0..20 {
        let mut lab = Lab::new(100 + seed, 0.3);
        lab.register(3600);
        lab.run_until(secs(25));
        let registered = lab.registered_at();
        assert!(
            !registered.is_empty(),
            "seed {seed}: not registered, events {:?}",
            lab.events
        );
        assert!(lab
            .events
            .iter()
            .all(|(_, e)| !matches!(e, RegistrationEvent::Failed { .. })));
        if lab.registrar.received.len() > lab.registrar.distinct().len() {
            retransmitted += 1;
        }
    }
    assert!(
        retransmitted > 0,
        "30 % loss must cost some retransmissions"
    );
}

#[test]
fn silent_registrar_fails_with_408_after_timer_f_and_retries() {
    let mut lab = Lab::new(3, 0.0);
    lab.registrar.silent = true;
    lab.register(3600);
    lab.run_until(secs(40));

    let failed: Vec<_> = lab.events.iter().collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    let (at, event) = failed[0];
    assert_eq!(*event, RegistrationEvent::Failed { status: 408 });
    assert_eq!(*at, secs(32), "Timer F = 64·T1");
    // Timer E: 0, 0.5, 1.5, 3.5, 7.5, then every T2 = 4 s until 32 s.
    assert!(lab.registrar.received.len() >= 10);
    assert_eq!(lab.registrar.distinct().len(), 1);

    lab.run_until(secs(63));
    assert_eq!(
        lab.registrar.distinct().len(),
        2,
        "a new REGISTER 30 s after the failure"
    );
    assert_eq!(lab.registrar.distinct()[1].0.as_secs(), 62);
}
