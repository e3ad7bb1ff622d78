//! Answering: the final responses to an incoming INVITE or re-offer, the reliability of our 2xx
//! (RFC 3261 §13.3.1.4) and the BYE that ends an answered call.

use std::time::Duration;

use bytes::Bytes;

use super::call::{Call, CallTimer, PendingOk, Phase};
use super::uas::SDP;
use super::{addressing, CallHandle, CommandError, EndReason, Endpoint, EndpointEvent};
use crate::dialog::Dialog;
use crate::message::{HeaderName, Method, Request, Response, Uri};
use crate::transaction::{Target, TransactionId};

impl Endpoint {
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
    pub(super) fn send_answer(
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
