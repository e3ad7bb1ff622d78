//! The REGISTER client (RFC 3261 §10.2), sans-IO.
//!
//! It builds REGISTER requests for the runtime to send through a client transaction (which does
//! the retransmissions), answers digest challenges (RFC 3261 §22.2), refreshes the binding
//! before it lapses and backs off after failures. Inputs: `handle_response(now, ..)`,
//! `handle_no_response(now)`, `handle_timeout(now)`, `unregister(now)`. Outputs:
//! `poll_request`, `poll_event`, `poll_timeout`.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::auth::{Challenge, DigestClient, DigestRequest};
use crate::message::{
    CSeq, Contacts, HeaderName, Headers, Method, NameAddr, Param, Request, Response, Uri, Via,
};
use crate::timer::TimerTable;

/// What to register, where, and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationConfig {
    /// The Request-URI: the registrar's domain (RFC 3261 §10.2).
    pub registrar: Uri,
    /// The address-of-record, written in From and To.
    pub aor: Uri,
    /// Where calls to the AOR should reach us.
    pub contact: Uri,
    pub username: String,
    pub password: String,
    /// Requested binding lifetime in seconds; the registrar may grant less.
    pub expires: u32,
    /// Our Via with transport and sent-by; `branch` and `rport` are added per request.
    pub via: Via,
}

/// What the runtime reports to the user or logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationEvent {
    /// The binding is in place for `expires` seconds (the granted, not the requested, time).
    Registered {
        expires: u32,
    },
    /// A REGISTER failed with `status` (408 for no response); a retry is scheduled unless this
    /// was the unregistration.
    Failed {
        status: u16,
    },
    Unregistered,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum RegTimer {
    /// Re-REGISTER before the binding lapses.
    Refresh,
    /// Try again after a failure.
    Retry,
}

/// Which header carried the challenge, and so which one answers it (RFC 3261 §22.2, §22.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChallengeHeader {
    Www,
    Proxy,
}

#[derive(Debug, Clone)]
struct InFlight {
    cseq: u32,
    expires: u32,
    /// The nonce this request was signed with, to tell a rejected password from a new nonce.
    signed_nonce: Option<String>,
}

/// Challenged retries allowed within one registration attempt before giving up.
const MAX_AUTH_ROUNDS: u32 = 3;
/// Refresh at least this long before the binding expires.
const REFRESH_MARGIN_S: u32 = 5;
/// Failure backoff: 30 s doubling up to 30 min (the shape of RFC 5626 §4.5).
const RETRY_BASE: Duration = Duration::from_secs(30);
const RETRY_MAX: Duration = Duration::from_secs(1800);

pub struct Registration {
    config: RegistrationConfig,
    rng: StdRng,
    digest: DigestClient,
    call_id: String,
    from_tag: String,
    cseq: u32,
    /// The last challenge, reused to sign refreshes up front (RFC 3261 §22.3).
    challenge: Option<(ChallengeHeader, Challenge)>,
    in_flight: Option<InFlight>,
    auth_rounds: u32,
    failures: u32,
    /// Set once `unregister` was called; no refresh or retry follows.
    unregistering: bool,
    timers: TimerTable<RegTimer>,
    requests: VecDeque<Request>,
    events: VecDeque<RegistrationEvent>,
}

impl Registration {
    /// Creates the client and queues the first REGISTER. `seed` feeds the Call-ID, tag, branch
    /// and cnonce generator, so runs are reproducible.
    pub fn new(config: RegistrationConfig, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let call_id = format!("{:016x}{:016x}", rng.random::<u64>(), rng.random::<u64>());
        let from_tag = format!("{:016x}", rng.random::<u64>());
        let digest = DigestClient::new(config.username.clone(), config.password.clone());
        let mut reg = Registration {
            config,
            rng,
            digest,
            call_id,
            from_tag,
            cseq: 0,
            challenge: None,
            in_flight: None,
            auth_rounds: 0,
            failures: 0,
            unregistering: false,
            timers: TimerTable::new(),
            requests: VecDeque::new(),
            events: VecDeque::new(),
        };
        reg.send(reg.config.expires);
        reg
    }

    /// Removes the binding: a REGISTER with `Expires: 0` (RFC 3261 §10.2.2).
    pub fn unregister(&mut self, _now: Duration) {
        self.unregistering = true;
        self.timers.cancel(&RegTimer::Refresh);
        self.timers.cancel(&RegTimer::Retry);
        self.auth_rounds = 0;
        self.send(0);
    }

    pub fn handle_response(&mut self, now: Duration, response: &Response) {
        let Some(in_flight) = self.in_flight.clone() else {
            return;
        };
        // A response to an earlier, abandoned request is not ours to act on (RFC 3261 §10.2.4
        // CSeq ordering).
        match response.headers.cseq() {
            Ok(c) if c.seq == in_flight.cseq && c.method == Method::Register => {}
            _ => return,
        }
        match response.status {
            100..=199 => {}
            200..=299 => self.on_success(now, response, &in_flight),
            401 | 407 => self.on_challenge(now, response, &in_flight),
            423 => self.on_interval_too_brief(now, response, &in_flight),
            status => self.fail(now, status),
        }
    }

    /// The client transaction timed out (RFC 3261 §17.1.2.2 Timer F): handled as a 408.
    pub fn handle_no_response(&mut self, now: Duration) {
        if self.in_flight.is_some() {
            self.fail(now, 408);
        }
    }

    pub fn handle_timeout(&mut self, now: Duration) {
        while let Some(timer) = self.timers.pop_expired(now) {
            match timer {
                RegTimer::Refresh | RegTimer::Retry => {
                    self.auth_rounds = 0;
                    self.send(self.config.expires);
                }
            }
        }
    }

    pub fn poll_request(&mut self) -> Option<Request> {
        self.requests.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<RegistrationEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Duration> {
        self.timers.next_deadline()
    }

    fn on_success(&mut self, now: Duration, response: &Response, in_flight: &InFlight) {
        self.in_flight = None;
        self.failures = 0;
        self.auth_rounds = 0;
        if in_flight.expires == 0 {
            self.events.push_back(RegistrationEvent::Unregistered);
            return;
        }
        let granted = self.granted_expires(response).unwrap_or(in_flight.expires);
        if granted == 0 {
            self.events.push_back(RegistrationEvent::Unregistered);
            return;
        }
        self.events
            .push_back(RegistrationEvent::Registered { expires: granted });
        self.timers.set(
            RegTimer::Refresh,
            now.saturating_add(refresh_delay(granted)),
        );
    }

    /// RFC 3261 §10.2.4: our Contact's `expires` parameter, else the Expires header.
    fn granted_expires(&self, response: &Response) -> Option<u32> {
        let from_contact = match response.headers.contacts() {
            Ok(Contacts::List(list)) => list
                .iter()
                .find(|c| c.uri == self.config.contact)
                .or(list.first())
                .and_then(|c| c.param("expires").flatten())
                .and_then(|v| v.trim().parse::<u32>().ok()),
            _ => None,
        };
        from_contact.or_else(|| response.headers.expires().ok().flatten())
    }

    /// RFC 3261 §22.2: answer a challenge once per nonce; a stale nonce may be retried.
    fn on_challenge(&mut self, now: Duration, response: &Response, in_flight: &InFlight) {
        let (which, name) = if response.status == 407 {
            (ChallengeHeader::Proxy, HeaderName::ProxyAuthenticate)
        } else {
            (ChallengeHeader::Www, HeaderName::WwwAuthenticate)
        };
        let Ok(challenge) = Challenge::best(response.headers.all(&name)) else {
            return self.fail(now, response.status);
        };
        let same_nonce = in_flight.signed_nonce.as_deref() == Some(challenge.nonce.as_str());
        self.auth_rounds = self.auth_rounds.saturating_add(1);
        if (same_nonce && !challenge.stale) || self.auth_rounds > MAX_AUTH_ROUNDS {
            self.challenge = None;
            return self.fail(now, response.status);
        }
        self.challenge = Some((which, challenge));
        self.send(in_flight.expires);
    }

    /// RFC 3261 §10.2.8: retry with the registrar's Min-Expires.
    fn on_interval_too_brief(&mut self, now: Duration, response: &Response, in_flight: &InFlight) {
        let min = response
            .headers
            .first_named("Min-Expires")
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|m| *m > in_flight.expires);
        match min {
            Some(min) => {
                self.config.expires = min;
                self.send(min);
            }
            None => self.fail(now, 423),
        }
    }

    fn fail(&mut self, now: Duration, status: u16) {
        self.in_flight = None;
        self.auth_rounds = 0;
        self.events.push_back(RegistrationEvent::Failed { status });
        if self.unregistering {
            return;
        }
        let shift = self.failures.min(6);
        self.failures = self.failures.saturating_add(1);
        let wait = RETRY_BASE.saturating_mul(1 << shift).min(RETRY_MAX);
        self.timers.cancel(&RegTimer::Refresh);
        self.timers.set(RegTimer::Retry, now.saturating_add(wait));
    }

    /// Queues a REGISTER asking for `expires` seconds: same Call-ID and From tag, next CSeq,
    /// new branch (RFC 3261 §10.2, §8.1.1.7).
    fn send(&mut self, expires: u32) {
        self.cseq = self.cseq.wrapping_add(1);
        let branch = format!("z9hG4bK{:016x}", self.rng.random::<u64>());
        let mut via = self.config.via.clone();
        via.params.retain(|p| {
            !p.name.eq_ignore_ascii_case("branch") && !p.name.eq_ignore_ascii_case("rport")
        });
        via.params.push(Param::new("rport", None));
        via.params.push(Param::new("branch", Some(branch)));
        let mut from = NameAddr::new(self.config.aor.clone());
        from.set_tag(self.from_tag.clone());

        let mut headers = Headers::new();
        headers.push(HeaderName::Via, via.to_string());
        headers.push(HeaderName::MaxForwards, "70");
        headers.push(HeaderName::From, from.to_string());
        headers.push(
            HeaderName::To,
            NameAddr::new(self.config.aor.clone()).to_string(),
        );
        headers.push(HeaderName::CallId, self.call_id.clone());
        headers.push(
            HeaderName::CSeq,
            CSeq::new(self.cseq, Method::Register).to_string(),
        );
        headers.push(
            HeaderName::Contact,
            NameAddr::new(self.config.contact.clone()).to_string(),
        );
        headers.push(HeaderName::Expires, expires.to_string());

        let mut signed_nonce = None;
        if let Some((which, challenge)) = &self.challenge {
            let uri = self.config.registrar.to_string();
            let value = self.digest.authorize(
                challenge,
                DigestRequest {
                    method: "REGISTER",
                    uri: &uri,
                    body: b"",
                },
                &mut self.rng,
            );
            let name = match which {
                ChallengeHeader::Www => HeaderName::Authorization,
                ChallengeHeader::Proxy => HeaderName::ProxyAuthorization,
            };
            headers.push(name, value);
            signed_nonce = Some(challenge.nonce.clone());
        }

        self.in_flight = Some(InFlight {
            cseq: self.cseq,
            expires,
            signed_nonce,
        });
        self.requests.push_back(Request {
            method: Method::Register,
            uri: self.config.registrar.clone(),
            headers,
            body: Bytes::new(),
        });
    }
}

/// Refresh at half the granted time, but at least `REFRESH_MARGIN_S` before expiry, and
/// never sooner than 1 s.
fn refresh_delay(granted: u32) -> Duration {
    let secs = (granted / 2)
        .min(granted.saturating_sub(REFRESH_MARGIN_S))
        .max(1);
    Duration::from_secs(u64::from(secs))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn refresh_is_half_the_grant_but_not_too_late() {
        assert_eq!(refresh_delay(3600), Duration::from_secs(1800));
        assert_eq!(refresh_delay(60), Duration::from_secs(30));
        assert_eq!(refresh_delay(8), Duration::from_secs(3));
        assert_eq!(refresh_delay(1), Duration::from_secs(1));
    }
}
