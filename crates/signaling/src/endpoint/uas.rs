//! The UAS half: incoming INVITEs, CANCEL, and the requests inside a call.

use std::time::Duration;

use bytes::Bytes;

use super::call::{Call, Phase};
use super::dtmf::{self, InfoBody};
use super::{CallHandle, EndReason, Endpoint, EndpointEvent};
use crate::message::{HeaderName, Method, Request};
use crate::transaction::{Target, TransactionId};

pub(super) const SDP: &str = "application/sdp";

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
}
