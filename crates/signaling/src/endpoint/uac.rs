//! The UAC half: our INVITE, its responses, and hanging up either side of a call.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;

use super::call::{Call, CallTimer, Phase};
use super::{addressing, CallHandle, CommandError, EndReason, Endpoint, EndpointEvent};
use crate::auth::{Challenge, DigestClient, DigestRequest};
use crate::dialog::Dialog;
use crate::message::{
    CSeq, HeaderName, Headers, Method, NameAddr, Request, Response, SipMessage, Uri,
};
use crate::transaction::{Target, TransactionId};

impl Endpoint {
    /// Places a call to `target` (Request-URI and To), sending the INVITE to `dest`. `call_id`
    /// is used as the Call-ID when it is a valid one (RFC 3261 §25.1 `word`, e.g. the API's
    /// `callChainId`), else a random one is made.
    pub fn invite(
        &mut self,
        now: Duration,
        target: Uri,
        mut from: NameAddr,
        offer_sdp: Bytes,
        dest: SocketAddr,
        call_id: Option<&str>,
    ) -> CallHandle {
        let handle = self.new_handle();
        let local_tag = self.random_token();
        from.set_tag(local_tag.clone());
        let call_id = match call_id.filter(|c| crate::message::text::is_call_id(c)) {
            Some(c) => c.to_string(),
            None => format!("{}@{}", self.random_token(), self.config.host),
        };
        let via = self.new_via();
        let mut h = Headers::new();
        h.push(HeaderName::Via, via.to_string());
        h.push(HeaderName::MaxForwards, "70");
        h.push(HeaderName::From, from.to_string());
        h.push(HeaderName::To, NameAddr::new(target.clone()).to_string());
        h.push(HeaderName::CallId, call_id.clone());
        h.push(HeaderName::CSeq, CSeq::new(1, Method::Invite).to_string());
        h.push(HeaderName::Contact, format!("<{}>", self.config.contact));
        h.push(HeaderName::Allow, super::types::join(&self.config.allow));
        if !self.config.user_agent.is_empty() {
            h.push(HeaderName::UserAgent, self.config.user_agent.clone());
        }
        if !offer_sdp.is_empty() {
            h.push(HeaderName::ContentType, "application/sdp");
        }
        let invite = Request {
            method: Method::Invite,
            uri: target,
            headers: h,
            body: offer_sdp.clone(),
        };
        let peer = Target {
            addr: dest,
            transport: self.config.transport,
        };
        let txn = self.send_in_txn(now, handle, invite.clone(), dest);
        let mut call = Call::new(
            Phase::Calling,
            call_id.clone(),
            local_tag.clone(),
            invite,
            txn.unwrap_or(TransactionId(0)),
            peer,
        );
        call.local_sdp = offer_sdp;
        self.calls.insert(handle, call);
        self.by_dialog.insert((call_id, local_tag), handle);
        if txn.is_none() {
            self.end(now, handle, EndReason::TransportError);
        }
        handle
    }

    /// Ends a call from our side: BYE when established, CANCEL for our unanswered INVITE,
    /// 480 for an unanswered incoming call. The CallEnded event follows at once.
    pub fn hangup(&mut self, now: Duration, call: CallHandle) -> Result<(), CommandError> {
        let c = self
            .calls
            .get_mut(&call)
            .ok_or(CommandError::UnknownCall(call))?;
        if c.ended {
            return Err(CommandError::WrongState(call));
        }
        match c.phase {
            Phase::Offered => return self.final_failure(now, call, 480, &[]),
            // §15: no BYE before the ACK for our 2xx; it goes out when the ACK (or the
            // 64·T1 timeout) comes.
            Phase::Answered => c.bye_after_ack = true,
            Phase::Established => self.send_bye(now, call),
            Phase::Calling => {
                c.cancel_requested = true;
                // §9.1: CANCEL only once a provisional response shows the INVITE arrived.
                if c.got_provisional {
                    let txn = c.invite_txn;
                    self.send_cancel(now, call, txn);
                }
                let guard = self.config.timers.t1x64();
                self.timers
                    .set((call, CallTimer::CancelGuard), now.saturating_add(guard));
                return Ok(());
            }
        }
        self.end(now, call, EndReason::LocalBye);
        Ok(())
    }

    fn send_cancel(&mut self, now: Duration, call: CallHandle, invite: TransactionId) {
        if let Some(id) = self.layer.cancel(now, invite) {
            self.by_txn.insert(id, call);
        }
    }

    pub(super) fn on_response(
        &mut self,
        now: Duration,
        id: TransactionId,
        method: Method,
        response: Response,
    ) {
        let Some(handle) = self.by_txn.get(&id).copied() else {
            return;
        };
        let initial = self.calls.get(&handle).is_some_and(|c| c.invite_txn == id);
        match method {
            Method::Invite if initial => self.on_invite_response(now, handle, response),
            Method::Invite if response.status >= 200 && response.status < 300 => {
                let via = self.new_via();
                self.ack_again(handle, response, via);
            }
            // §12.2.1.2: 481 and 408 to a request inside the dialog end it.
            Method::Invite | Method::Update | Method::Info
                if matches!(response.status, 408 | 481) =>
            {
                self.send_bye(now, handle);
                self.end(now, handle, EndReason::Rejected(response.status));
            }
            _ => {}
        }
    }

    fn on_invite_response(&mut self, now: Duration, handle: CallHandle, response: Response) {
        let status = response.status;
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if status < 200 {
            let cancel_now = !call.got_provisional && call.cancel_requested;
            call.got_provisional = true;
            let (txn, ended) = (call.invite_txn, call.ended);
            if cancel_now {
                self.send_cancel(now, handle, txn);
            }
            if !ended {
                self.events.push_back(EndpointEvent::Progress {
                    call: handle,
                    status,
                });
            }
        } else if status < 300 {
            self.on_invite_success(now, handle, response);
        } else if matches!(status, 401 | 407)
            && !call.authenticated
            && !call.cancel_requested
            && self.config.credentials.is_some()
        {
            if !self.retry_with_credentials(now, handle, &response) {
                self.end(now, handle, EndReason::Rejected(status));
            }
        } else {
            let reason = if call.cancel_requested && status == 487 {
                EndReason::Cancelled
            } else {
                EndReason::Rejected(status)
            };
            self.end(now, handle, reason);
        }
    }

    /// §13.2.2.4: every 2xx is ACKed; the first creates the dialog.
    fn on_invite_success(&mut self, now: Duration, handle: CallHandle, response: Response) {
        let via = self.new_via();
        let contact = self.config.contact.clone();
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if call.dialog.is_some() {
            return self.ack_again(handle, response, via);
        }
        let dialog = match Dialog::uac(&call.invite, &response, contact) {
            Ok(d) => d,
            Err(_) => return self.end(now, handle, EndReason::Rejected(response.status)),
        };
        let seq = call.invite.cseq().map_or(1, |c: CSeq| c.seq);
        let ack = dialog.ack(seq, via);
        let Some(addr) = addressing::resolve(dialog.next_hop()) else {
            return self.end(now, handle, EndReason::TransportError);
        };
        let to = Target {
            addr,
            transport: self.config.transport,
        };
        self.layer
            .send_stateless(to, SipMessage::Request(ack.clone()));
        call.ack = Some((ack, to));
        call.dialog = Some(dialog);
        call.phase = Phase::Established;
        self.timers.cancel(&(handle, CallTimer::CancelGuard));
        if call.cancel_requested || call.ended {
            // §15: the CANCEL lost the race with the 2xx; the call is torn down with BYE.
            self.send_bye(now, handle);
            return self.end(now, handle, EndReason::LocalBye);
        }
        self.events.push_back(EndpointEvent::Answered {
            call: handle,
            answer: response.body,
        });
        self.events
            .push_back(EndpointEvent::CallEstablished { call: handle });
    }

    /// RFC 3261 §22.2: the same INVITE with a new branch, the next CSeq and the credentials
    /// for the strongest challenge. `false` when no challenge can be answered.
    fn retry_with_credentials(
        &mut self,
        now: Duration,
        handle: CallHandle,
        response: &Response,
    ) -> bool {
        let (challenge_header, auth_header) = if response.status == 407 {
            (
                HeaderName::ProxyAuthenticate,
                HeaderName::ProxyAuthorization,
            )
        } else {
            (HeaderName::WwwAuthenticate, HeaderName::Authorization)
        };
        let Ok(challenge) = Challenge::best(response.headers.all(&challenge_header)) else {
            return false;
        };
        let Some(creds) = self.config.credentials.clone() else {
            return false;
        };
        let via = self.new_via();
        let Some(call) = self.calls.get_mut(&handle) else {
            return false;
        };
        let mut invite = call.invite.clone();
        let seq = invite.cseq().map_or(1, |c| c.seq).saturating_add(1);
        invite.headers.set(HeaderName::Via, via.to_string());
        invite
            .headers
            .set(HeaderName::CSeq, CSeq::new(seq, Method::Invite).to_string());
        let uri = invite.uri.to_string();
        let value = DigestClient::new(creds.username, creds.password).authorize(
            &challenge,
            DigestRequest {
                method: "INVITE",
                uri: &uri,
                body: &invite.body,
            },
            &mut self.rng,
        );
        invite.headers.set(auth_header, value);
        call.authenticated = true;
        call.invite = invite.clone();
        let dest = call.peer.addr;
        match self.send_in_txn(now, handle, invite, dest) {
            Some(txn) => {
                if let Some(call) = self.calls.get_mut(&handle) {
                    call.invite_txn = txn;
                }
                true
            }
            None => false,
        }
    }

    /// A 2xx for a dialog we already have: a retransmission (ACK again) or the answer to our
    /// re-INVITE (a new ACK with its CSeq, §13.2.2.4).
    fn ack_again(&mut self, handle: CallHandle, response: Response, via: crate::message::Via) {
        let seq = response.cseq().map_or(0, |c| c.seq);
        let transport = self.config.transport;
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if let Some((ack, to)) = &call.ack {
            if ack.cseq().is_ok_and(|c| c.seq == seq) {
                let (ack, to) = (ack.clone(), *to);
                return self.layer.send_stateless(to, SipMessage::Request(ack));
            }
        }
        let Some(dialog) = call.dialog.as_ref() else {
            return;
        };
        let ack = dialog.ack(seq, via);
        let Some(addr) = addressing::resolve(dialog.next_hop()) else {
            return;
        };
        let to = Target { addr, transport };
        self.layer
            .send_stateless(to, SipMessage::Request(ack.clone()));
        call.ack = Some((ack, to));
        if !call.ended && !response.body.is_empty() {
            self.events.push_back(EndpointEvent::Answered {
                call: handle,
                answer: response.body,
            });
        }
    }

    /// Sends INFO, UPDATE, OPTIONS or a re-INVITE inside an established call.
    pub fn send_in_dialog(
        &mut self,
        now: Duration,
        call: CallHandle,
        method: Method,
        content_type: Option<&str>,
        body: Bytes,
    ) -> Result<(), CommandError> {
        if !matches!(
            method,
            Method::Info | Method::Update | Method::Options | Method::Invite
        ) {
            return Err(CommandError::WrongState(call));
        }
        let via = self.new_via();
        let c = self
            .calls
            .get_mut(&call)
            .ok_or(CommandError::UnknownCall(call))?;
        let dialog = match (c.phase, c.ended, c.dialog.as_mut()) {
            (Phase::Established, false, Some(d)) => d,
            _ => return Err(CommandError::WrongState(call)),
        };
        if method == Method::Invite {
            c.local_sdp = body.clone();
        }
        let request = dialog.request(method, via, content_type, body);
        let to = addressing::resolve(dialog.next_hop()).ok_or(CommandError::Unresolvable)?;
        self.send_in_txn(now, call, request, to);
        Ok(())
    }

    /// A 2xx retransmission after the INVITE transaction is gone still needs its ACK.
    pub(super) fn on_stray(&mut self, response: Response) {
        let is_invite_ok = (200..300).contains(&response.status)
            && response.cseq().is_ok_and(|c| c.method == Method::Invite);
        if !is_invite_ok {
            return;
        }
        let key = match (response.call_id(), response.from()) {
            (Ok(id), Ok(from)) => (id.to_string(), from.tag().unwrap_or_default().to_string()),
            _ => return,
        };
        let ack = self
            .by_dialog
            .get(&key)
            .and_then(|h| self.calls.get(h))
            .and_then(|c| c.ack.clone());
        if let Some((ack, to)) = ack {
            self.layer.send_stateless(to, SipMessage::Request(ack));
        }
    }

    pub(super) fn on_txn_timeout(&mut self, now: Duration, id: TransactionId, method: Method) {
        let Some(handle) = self.by_txn.get(&id).copied() else {
            return;
        };
        let calling = self
            .calls
            .get(&handle)
            .is_some_and(|c| c.phase == Phase::Calling);
        if method == Method::Invite && calling {
            self.end(now, handle, EndReason::Timeout);
        }
    }
}
