//! The UAS half: incoming INVITEs and in-dialog requests, and the commands that answer them.

use std::time::Duration;

use bytes::Bytes;

use super::call::{Call, CallTimer, PendingOk, Phase};
use super::dtmf::{self, InfoBody};
use super::{addressing, CallHandle, CommandError, EndReason, Endpoint, EndpointEvent};
use crate::dialog::Dialog;
use crate::message::{HeaderName, Method, Request, Response, Uri};
use crate::transaction::{Target, TransactionId};

const SDP: &str = "application/sdp";

fn is_sdp(request: &Request) -> bool {
    request.body.is_empty()
        || request.content_type().is_some_and(|ct| {
            ct.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case(SDP))
        })
}

impl Endpoint {
    pub(super) fn on_request(
        &mut self,
        now: Duration,
        id: TransactionId,
        request: Request,
        source: Target,
    ) {
        let has_to_tag = request.to().is_ok_and(|t| t.tag().is_some());
        match request.method {
            Method::Invite if !has_to_tag => self.on_invite(now, id, request, source),
            Method::Cancel => self.on_cancel(now, id, request),
            Method::Options if !has_to_tag => {
                let tag = self.random_token();
                let mut r = self.response(&request, 200, Some(&tag));
                self.add_capabilities(&mut r);
                self.reply_with(now, id, r);
            }
            Method::Invite | Method::Bye | Method::Info | Method::Update | Method::Options => {
                self.in_dialog(now, id, request, source)
            }
            _ => {
                let tag = self.random_token();
                let mut r = self.response(&request, 405, Some(&tag));
                self.add_capabilities(&mut r);
                self.reply_with(now, id, r);
            }
        }
    }

    fn on_invite(&mut self, now: Duration, id: TransactionId, request: Request, source: Target) {
        if let Some((status, retry)) = self.refusing {
            let tag = self.random_token();
            let mut r = self.response(&request, status, Some(&tag));
            if let Some(secs) = retry {
                r.headers.push(HeaderName::RetryAfter, secs.to_string());
            }
            return self.reply_with(now, id, r);
        }
        // RFC 3261 §21.4.13: a body we cannot read.
        if !is_sdp(&request) {
            let tag = self.random_token();
            let mut r = self.response(&request, 415, Some(&tag));
            self.add_capabilities(&mut r);
            return self.reply_with(now, id, r);
        }
        // §8.2.2.3: an extension we do not support.
        let unsupported: Vec<String> = request
            .headers
            .all(&HeaderName::Require)
            .flat_map(|v| v.split(','))
            .map(|o| o.trim().to_string())
            .filter(|o| !o.is_empty() && !self.config.supported.iter().any(|s| s == o))
            .collect();
        if !unsupported.is_empty() {
            let tag = self.random_token();
            let mut r = self.response(&request, 420, Some(&tag));
            r.headers.push(
                HeaderName::Other("Unsupported".into()),
                unsupported.join(", "),
            );
            return self.reply_with(now, id, r);
        }
        let (Ok(from), Ok(to), Ok(call_id)) = (request.from(), request.to(), request.call_id())
        else {
            return self.reply(now, id, &request, 400);
        };
        let call_id = call_id.to_string();
        let handle = self.new_handle();
        let local_tag = self.random_token();
        self.by_txn.insert(id, handle);
        self.by_dialog
            .insert((call_id.clone(), local_tag.clone()), handle);
        let event = EndpointEvent::IncomingCall {
            call: handle,
            call_id: call_id.clone(),
            from,
            to,
            request_uri: request.uri.clone(),
            offer: request.body.clone(),
            source: source.addr,
        };
        let call = Call::new(Phase::Offered, call_id, local_tag, request, id, source);
        self.calls.insert(handle, call);
        if self.config.ring {
            let _ = self.ringing(now, handle);
        }
        self.events.push_back(event);
    }

    /// §9.2: 200 to the CANCEL; 487 to the INVITE unless a final response already went out.
    fn on_cancel(&mut self, now: Duration, id: TransactionId, request: Request) {
        let Some(invite_txn) = self.layer.invite_for_cancel(&request) else {
            return self.reply(now, id, &request, 481);
        };
        let handle = self.by_txn.get(&invite_txn).copied();
        let tag = handle
            .and_then(|h| self.calls.get(&h))
            .map(|c| c.local_tag.clone());
        let ok = self.response(&request, 200, tag.as_deref());
        self.reply_with(now, id, ok);
        let Some(handle) = handle else { return };
        let Some(call) = self.calls.get(&handle) else {
            return;
        };
        if call.phase == Phase::Offered && !call.ended {
            let r = self.response(&call.invite, 487, Some(&call.local_tag));
            self.layer.respond(now, invite_txn, r);
            self.end(now, handle, EndReason::Cancelled);
        }
    }

    fn in_dialog(&mut self, now: Duration, id: TransactionId, request: Request, source: Target) {
        let Some(handle) = self.dialog_call(&request) else {
            return self.reply(now, id, &request, 481);
        };
        let seq = request.cseq().map_or(0, |c| c.seq);
        let Some(call) = self.calls.get_mut(&handle) else {
            return self.reply(now, id, &request, 481);
        };
        let in_order = match call.dialog.as_mut() {
            Some(d) if !call.ended => d.accept_remote_cseq(seq),
            _ => return self.reply(now, id, &request, 481),
        };
        if !in_order {
            return self.reply(now, id, &request, 500);
        }
        match request.method {
            Method::Bye => {
                let r = self.response(&request, 200, None);
                self.reply_with(now, id, r);
                self.end(now, handle, EndReason::RemoteBye);
            }
            Method::Info => self.on_info(now, id, handle, request),
            Method::Options => {
                let mut r = self.response(&request, 200, None);
                self.add_capabilities(&mut r);
                self.reply_with(now, id, r);
            }
            _ => self.on_reoffer(now, id, handle, request, source),
        }
    }

    fn on_info(&mut self, now: Duration, id: TransactionId, call: CallHandle, request: Request) {
        let status = match dtmf::classify(request.content_type(), &request.body) {
            InfoBody::Digit { digit, duration_ms } => {
                self.events.push_back(EndpointEvent::Dtmf {
                    call,
                    digit_char: digit,
                    duration_ms,
                });
                200
            }
            InfoBody::Empty => 200,
            InfoBody::Unsupported => 415,
            InfoBody::Malformed => 400,
        };
        let mut r = self.response(&request, status, None);
        if status == 415 {
            self.add_capabilities(&mut r);
        }
        self.reply_with(now, id, r);
    }

    /// A re-INVITE or UPDATE (§14.2, RFC 3311). Without a body we offer our last SDP again.
    fn on_reoffer(
        &mut self,
        now: Duration,
        id: TransactionId,
        handle: CallHandle,
        request: Request,
        source: Target,
    ) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let busy = call.reoffer.is_some()
            || call.phase != Phase::Established
            || (request.method == Method::Invite && call.ok.is_some());
        if busy || !is_sdp(&request) {
            let status = if busy { 500 } else { 415 };
            let mut r = self.response(&request, status, None);
            if busy {
                r.headers.push(HeaderName::RetryAfter, "1");
            }
            return self.reply_with(now, id, r);
        }
        if let Some(d) = call.dialog.as_mut() {
            d.refresh_target(&request);
        }
        if request.body.is_empty() {
            let body = if request.method == Method::Invite {
                call.local_sdp.clone()
            } else {
                Bytes::new()
            };
            self.send_answer(now, handle, id, &request, source, body);
        } else {
            let offer = request.body.clone();
            call.reoffer = Some((id, request, source));
            self.events.push_back(EndpointEvent::Reoffer {
                call: handle,
                offer,
            });
        }
    }

    /// Answers a `Reoffer` with our SDP.
    pub fn answer_reoffer(
        &mut self,
        now: Duration,
        call: CallHandle,
        answer_sdp: Bytes,
    ) -> Result<(), CommandError> {
        let c = self
            .calls
            .get_mut(&call)
            .ok_or(CommandError::UnknownCall(call))?;
        let (id, request, source) = c.reoffer.take().ok_or(CommandError::WrongState(call))?;
        c.local_sdp = answer_sdp.clone();
        self.send_answer(now, call, id, &request, source, answer_sdp);
        Ok(())
    }

    /// A 2xx carrying `body`; for INVITEs kept and retransmitted until the ACK (§13.3.1.4).
    fn send_answer(
        &mut self,
        now: Duration,
        handle: CallHandle,
        id: TransactionId,
        request: &Request,
        source: Target,
        body: Bytes,
    ) {
        let mut r = self.response(request, 200, None);
        r.headers
            .push(HeaderName::Contact, format!("<{}>", self.config.contact));
        if !body.is_empty() {
            r.headers.push(HeaderName::ContentType, SDP);
        }
        r.body = body;
        if request.method == Method::Invite {
            self.add_capabilities(&mut r);
            let seq = request.cseq().map_or(0, |c| c.seq);
            self.start_ok(now, handle, id, r, seq, source);
        } else {
            self.reply_with(now, id, r);
        }
    }

    fn start_ok(
        &mut self,
        now: Duration,
        handle: CallHandle,
        id: TransactionId,
        response: Response,
        seq: u32,
        to: Target,
    ) {
        self.layer.respond(now, id, response.clone());
        let t1 = self.config.timers.t1;
        if let Some(call) = self.calls.get_mut(&handle) {
            call.ok = Some(PendingOk {
                response,
                seq,
                interval: t1,
                to,
            });
        }
        self.timers
            .set((handle, CallTimer::OkRetransmit), now.saturating_add(t1));
        let limit = self.config.timers.t1x64();
        self.timers
            .set((handle, CallTimer::OkTimeout), now.saturating_add(limit));
    }

    pub(super) fn retransmit_ok(&mut self, now: Duration, handle: CallHandle) {
        let timers = self.config.timers;
        let Some(ok) = self.calls.get_mut(&handle).and_then(|c| c.ok.as_mut()) else {
            return;
        };
        let (to, response) = (ok.to, ok.response.clone());
        ok.interval = timers.backoff_capped(ok.interval);
        let next = now.saturating_add(ok.interval);
        self.layer
            .send_stateless(to, crate::message::SipMessage::Response(response));
        self.timers.set((handle, CallTimer::OkRetransmit), next);
    }

    /// §13.3.1.4: no ACK within 64·T1 — the dialog is confirmed and then torn down with BYE.
    pub(super) fn ok_timed_out(&mut self, now: Duration, handle: CallHandle) {
        self.timers.cancel(&(handle, CallTimer::OkRetransmit));
        if let Some(call) = self.calls.get_mut(&handle) {
            call.ok = None;
            call.phase = Phase::Established;
        }
        self.send_bye(now, handle);
        self.end(now, handle, EndReason::Timeout);
    }

    /// The ACK for a 2xx (§13.3.1.4): stops the retransmissions and confirms the call.
    pub(super) fn on_ack(&mut self, now: Duration, request: Request) {
        let Some(handle) = self.dialog_call(&request) else {
            return;
        };
        let seq = request.cseq().map_or(0, |c| c.seq);
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if call.ok.as_ref().is_none_or(|ok| ok.seq != seq) {
            return;
        }
        call.ok = None;
        self.timers.cancel(&(handle, CallTimer::OkRetransmit));
        self.timers.cancel(&(handle, CallTimer::OkTimeout));
        let first = call.phase == Phase::Answered;
        call.phase = Phase::Established;
        let late_answer = call.invite.body.is_empty() && !request.body.is_empty();
        let bye = call.bye_after_ack;
        if first && !call.ended {
            if late_answer {
                self.events.push_back(EndpointEvent::Answered {
                    call: handle,
                    answer: request.body,
                });
            }
            self.events
                .push_back(EndpointEvent::CallEstablished { call: handle });
        }
        if bye {
            self.send_bye(now, handle);
        }
    }

    /// Sends 180 Ringing for an incoming call not yet answered.
    pub fn ringing(&mut self, now: Duration, call: CallHandle) -> Result<(), CommandError> {
        let c = self.offered(call)?;
        let mut r = self.response(&c.invite, 180, Some(&c.local_tag));
        r.headers
            .push(HeaderName::Contact, format!("<{}>", self.config.contact));
        let txn = c.invite_txn;
        self.layer.respond(now, txn, r);
        Ok(())
    }

    /// Accepts an incoming call with our SDP answer (200 OK, retransmitted until the ACK).
    pub fn answer(
        &mut self,
        now: Duration,
        call: CallHandle,
        answer_sdp: Bytes,
    ) -> Result<(), CommandError> {
        let c = self.offered(call)?;
        let (invite, tag, txn, peer) =
            (c.invite.clone(), c.local_tag.clone(), c.invite_txn, c.peer);
        let dialog = match Dialog::uas(&invite, &tag, self.config.contact.clone()) {
            Ok(d) => d,
            Err(_) => {
                self.reject(now, call, 400)?;
                return Err(CommandError::WrongState(call));
            }
        };
        let mut r = self.response(&invite, 200, Some(&tag));
        r.headers
            .push(HeaderName::Contact, format!("<{}>", self.config.contact));
        self.add_capabilities(&mut r);
        if !answer_sdp.is_empty() {
            r.headers.push(HeaderName::ContentType, SDP);
        }
        r.body = answer_sdp.clone();
        if let Some(c) = self.calls.get_mut(&call) {
            c.dialog = Some(dialog);
            c.local_sdp = answer_sdp;
            c.phase = Phase::Answered;
        }
        let seq = invite.cseq().map_or(0, |c| c.seq);
        self.start_ok(now, call, txn, r, seq, peer);
        Ok(())
    }

    /// Refuses an incoming call with a final status (480, 486, 603, …).
    pub fn reject(
        &mut self,
        now: Duration,
        call: CallHandle,
        status: u16,
    ) -> Result<(), CommandError> {
        self.final_failure(now, call, status, &[])
    }

    /// Redirects an incoming call (302 Moved Temporarily with the given Contacts).
    pub fn redirect(
        &mut self,
        now: Duration,
        call: CallHandle,
        contacts: Vec<Uri>,
    ) -> Result<(), CommandError> {
        self.final_failure(now, call, 302, &contacts)
    }

    pub(super) fn final_failure(
        &mut self,
        now: Duration,
        call: CallHandle,
        status: u16,
        contacts: &[Uri],
    ) -> Result<(), CommandError> {
        let status = if (300..700).contains(&status) {
            status
        } else {
            480
        };
        let c = self.offered(call)?;
        let mut r = self.response(&c.invite, status, Some(&c.local_tag));
        for uri in contacts {
            r.headers.push(HeaderName::Contact, format!("<{uri}>"));
        }
        let txn = c.invite_txn;
        self.layer.respond(now, txn, r);
        self.end(now, call, EndReason::Rejected(status));
        Ok(())
    }

    fn offered(&self, call: CallHandle) -> Result<&Call, CommandError> {
        let c = self
            .calls
            .get(&call)
            .ok_or(CommandError::UnknownCall(call))?;
        if c.phase != Phase::Offered || c.ended {
            return Err(CommandError::WrongState(call));
        }
        Ok(c)
    }

    /// BYE within the call's dialog (§15.1.1), to the first route or the remote target.
    pub(super) fn send_bye(&mut self, now: Duration, handle: CallHandle) {
        let via = self.new_via();
        let Some(dialog) = self.calls.get_mut(&handle).and_then(|c| c.dialog.as_mut()) else {
            return;
        };
        let bye = dialog.request(Method::Bye, via, None, Bytes::new());
        match addressing::resolve(dialog.next_hop()) {
            Some(to) => {
                self.send_in_txn(now, handle, bye, to);
            }
            None => self.end(now, handle, EndReason::TransportError),
        }
    }
}
