//! The endpoint's REGISTER client: carries [`Registration`]'s requests in non-INVITE client
//! transactions, so Timer E retransmits them and Timer F reports a registrar that never answers
//! (RFC 3261 §10.2, §17.1.2).

use std::net::SocketAddr;
use std::time::Duration;

use rand::Rng;

use super::{Endpoint, EndpointEvent};
use crate::message::Response;
use crate::registration::{Registration, RegistrationConfig};
use crate::transaction::{Target, TransactionId};

/// One registration and the transactions carrying it.
pub(super) struct Registrar {
    client: Registration,
    /// The registrar's resolved address; every REGISTER goes there.
    dest: SocketAddr,
    /// The transaction of the latest REGISTER. Older ones (superseded by `unregister`) may still
    /// deliver a response, which the client discards by CSeq; their Timer F is ignored.
    current: Option<TransactionId>,
    /// Every REGISTER transaction not yet finished, `current` included.
    live: Vec<TransactionId>,
}

impl Endpoint {
    /// Starts registering at the registrar `dest` (an address the runtime resolved), replacing
    /// any earlier registration without unregistering it.
    pub fn register(&mut self, now: Duration, config: RegistrationConfig, dest: SocketAddr) {
        let seed = self.rng.random::<u64>();
        self.registrar = Some(Registrar {
            client: Registration::new(config, seed),
            dest,
            current: None,
            live: Vec::new(),
        });
        self.pump_registration(now);
    }

    /// Removes the binding with `Expires: 0` (RFC 3261 §10.2.2); `false` when nothing was
    /// registered. After `true`, an `EndpointEvent::Registration(Unregistered)` (or `Failed`)
    /// follows: at shutdown the runtime keeps its loop running until then, or until a short
    /// grace period ends.
    pub fn unregister(&mut self, now: Duration) -> bool {
        let Some(r) = self.registrar.as_mut() else {
            return false;
        };
        r.client.unregister(now);
        self.pump_registration(now);
        true
    }

    /// `true` when `id` carries one of our REGISTERs.
    pub(super) fn is_register_txn(&self, id: TransactionId) -> bool {
        self.registrar
            .as_ref()
            .is_some_and(|r| r.live.contains(&id))
    }

    /// A response in a REGISTER transaction; finals end it.
    pub(super) fn on_register_response(
        &mut self,
        now: Duration,
        id: TransactionId,
        response: &Response,
    ) {
        if let Some(r) = self.registrar.as_mut() {
            if response.status >= 200 {
                r.live.retain(|t| *t != id);
            }
            r.client.handle_response(now, response);
        }
        self.pump_registration(now);
    }

    /// Timer F fired on a REGISTER transaction: the registrar never answered (§17.1.2.2).
    pub(super) fn on_register_timeout(&mut self, now: Duration, id: TransactionId) {
        if let Some(r) = self.registrar.as_mut() {
            r.live.retain(|t| *t != id);
            if r.current == Some(id) {
                r.current = None;
                r.client.handle_no_response(now);
            }
        }
        self.pump_registration(now);
    }

    /// Refresh and retry timers.
    pub(super) fn registration_timeout(&mut self, now: Duration) {
        if let Some(r) = self.registrar.as_mut() {
            if r.client.poll_timeout().is_some_and(|d| d <= now) {
                r.client.handle_timeout(now);
            }
        }
        self.pump_registration(now);
    }

    pub(super) fn registration_deadline(&self) -> Option<Duration> {
        self.registrar.as_ref()?.client.poll_timeout()
    }

    /// Sends what the client queued and surfaces its events.
    fn pump_registration(&mut self, now: Duration) {
        let transport = self.config.transport;
        let Some(r) = self.registrar.as_mut() else {
            return;
        };
        while let Some(request) = r.client.poll_request() {
            let target = Target {
                addr: r.dest,
                transport,
            };
            match self.layer.send_request(now, request, target) {
                Some(id) => {
                    r.current = Some(id);
                    r.live.push(id);
                }
                // The client always writes a fresh z9hG4bK branch, so this is unreachable in
                // practice; treat it like a registrar that never answered.
                None => {
                    r.current = None;
                    r.client.handle_no_response(now);
                }
            }
        }
        while let Some(event) = r.client.poll_event() {
            self.events.push_back(EndpointEvent::Registration(event));
        }
    }
}
