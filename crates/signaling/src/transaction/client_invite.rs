//! INVITE client transaction (RFC 3261 §17.1.1, with the Accepted state of RFC 6026 §8.4).

use std::time::Duration;

use super::Target;
use super::{is_provisional, is_success, Context, TimerName, TransactionEvent, TransactionId};
use crate::message::{CSeq, HeaderName, Headers, Method, Request, Response, SipMessage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Calling,
    Proceeding,
    Completed,
    Accepted,
    Terminated,
}

#[derive(Debug)]
pub(crate) struct InviteClient {
    id: TransactionId,
    pub state: State,
    pub request: Request,
    pub target: Target,
    interval: Duration,
    ack: Option<Request>,
}

impl InviteClient {
    pub fn start(id: TransactionId, request: Request, target: Target, cx: &mut Context) -> Self {
        cx.send(target, SipMessage::Request(request.clone()));
        if !target.transport.is_reliable() {
            cx.arm(id, TimerName::A, cx.config.t1);
        }
        cx.arm(id, TimerName::B, cx.config.t1x64());
        Self {
            id,
            state: State::Calling,
            request,
            target,
            interval: cx.config.t1,
            ack: None,
        }
    }

    pub fn on_timer(&mut self, timer: TimerName, cx: &mut Context) {
        match (self.state, timer) {
            // §17.1.1.2: Timer A doubles without a cap.
            (State::Calling, TimerName::A) => {
                cx.send(self.target, SipMessage::Request(self.request.clone()));
                self.interval = self.interval.saturating_mul(2);
                cx.arm(self.id, TimerName::A, self.interval);
            }
            (State::Calling, TimerName::B) => {
                cx.events.push_back(TransactionEvent::Timeout {
                    id: self.id,
                    method: Method::Invite,
                });
                self.terminate(cx);
            }
            (State::Completed, TimerName::D) | (State::Accepted, TimerName::M) => {
                self.terminate(cx)
            }
            _ => {}
        }
    }

    pub fn on_response(&mut self, response: Response, cx: &mut Context) {
        let status = response.status;
        match self.state {
            State::Calling | State::Proceeding => {
                cx.disarm(self.id, TimerName::A);
                cx.disarm(self.id, TimerName::B);
                if is_provisional(status) {
                    self.state = State::Proceeding;
                } else if is_success(status) {
                    self.state = State::Accepted;
                    cx.arm(self.id, TimerName::M, cx.config.t1x64());
                } else {
                    let ack = ack_for_failure(&self.request, &response);
                    cx.send(self.target, SipMessage::Request(ack.clone()));
                    self.ack = Some(ack);
                    self.state = State::Completed;
                    let d = Context::linger(self.target, cx.config.timer_d());
                    cx.arm(self.id, TimerName::D, d);
                }
                self.pass_up(response, cx);
            }
            // §17.1.1.2: a retransmitted failure is answered with the same ACK, not passed up.
            State::Completed if status >= 300 => {
                if let Some(ack) = &self.ack {
                    cx.send(self.target, SipMessage::Request(ack.clone()));
                }
            }
            // RFC 6026 §8.4: every 2xx goes to the TU, which owns the ACK.
            State::Accepted if is_success(status) => self.pass_up(response, cx),
            _ => {}
        }
    }

    fn pass_up(&self, response: Response, cx: &mut Context) {
        cx.events.push_back(TransactionEvent::Response {
            id: self.id,
            method: Method::Invite,
            response,
        });
    }

    fn terminate(&mut self, cx: &mut Context) {
        self.state = State::Terminated;
        cx.disarm_all(self.id);
    }
}

/// RFC 3261 §17.1.1.3: the ACK for a non-2xx final response is part of the INVITE transaction.
pub(crate) fn ack_for_failure(invite: &Request, response: &Response) -> Request {
    let mut headers = Headers::new();
    if let Ok(via) = invite.top_via() {
        headers.push(HeaderName::Via, via.to_string());
    }
    for route in invite.headers.all(&HeaderName::Route) {
        headers.push(HeaderName::Route, route);
    }
    headers.push(HeaderName::MaxForwards, "70");
    for name in [HeaderName::From, HeaderName::CallId] {
        if let Some(v) = invite.headers.first(&name) {
            headers.push(name, v);
        }
    }
    if let Some(to) = response.headers.first(&HeaderName::To) {
        headers.push(HeaderName::To, to);
    }
    let seq = invite.cseq().map_or(1, |c| c.seq);
    headers.push(HeaderName::CSeq, CSeq::new(seq, Method::Ack).to_string());
    Request {
        method: Method::Ack,
        uri: invite.uri.clone(),
        headers,
        body: bytes::Bytes::new(),
    }
}
