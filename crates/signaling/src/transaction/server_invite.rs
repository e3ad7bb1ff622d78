//! INVITE server transaction (RFC 3261 §17.2.1, with the Accepted state of RFC 6026 §8.7).

use std::time::Duration;

use super::{
    is_provisional, is_success, Context, Target, TimerName, TransactionEvent, TransactionId,
};
use crate::message::{Method, Request, Response, SipMessage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Proceeding,
    Completed,
    Confirmed,
    Accepted,
    Terminated,
}

#[derive(Debug)]
pub(crate) struct InviteServer {
    id: TransactionId,
    pub state: State,
    pub request: Request,
    pub reply_to: Target,
    last_response: Option<Response>,
    interval: Duration,
}

impl InviteServer {
    /// §17.2.1: the 100 Trying goes out at once so the client stops retransmitting.
    pub fn start(
        id: TransactionId,
        request: Request,
        reply_to: Target,
        trying: Response,
        cx: &mut Context,
    ) -> Self {
        cx.send(reply_to, SipMessage::Response(trying.clone()));
        Self {
            id,
            state: State::Proceeding,
            request,
            reply_to,
            last_response: Some(trying),
            interval: cx.config.t1,
        }
    }

    /// A retransmitted INVITE: absorbed, the last response repeated while one is pending.
    pub fn on_retransmission(&mut self, cx: &mut Context) {
        if matches!(self.state, State::Proceeding | State::Completed) {
            self.resend_last(cx);
        }
    }

    /// An ACK matching this transaction: the ACK for our failure response (§17.2.1).
    pub fn on_ack(&mut self, ack: Request, source: Target, cx: &mut Context) {
        match self.state {
            State::Completed => {
                cx.disarm(self.id, TimerName::G);
                cx.disarm(self.id, TimerName::H);
                self.state = State::Confirmed;
                let i = Context::linger(self.reply_to, cx.config.t4);
                cx.arm(self.id, TimerName::I, i);
            }
            // RFC 6026 §8.7: an ACK that matches in Accepted belongs to the TU.
            State::Accepted => cx.events.push_back(TransactionEvent::Ack {
                request: ack,
                source,
            }),
            _ => {}
        }
    }

    pub fn respond(&mut self, response: Response, cx: &mut Context) {
        let status = response.status;
        match self.state {
            State::Proceeding => {
                cx.send(self.reply_to, SipMessage::Response(response.clone()));
                if is_success(status) {
                    self.state = State::Accepted;
                    cx.arm(self.id, TimerName::L, cx.config.t1x64());
                } else if !is_provisional(status) {
                    self.state = State::Completed;
                    if !self.reply_to.transport.is_reliable() {
                        cx.arm(self.id, TimerName::G, self.interval);
                    }
                    cx.arm(self.id, TimerName::H, cx.config.t1x64());
                }
                self.last_response = Some(response);
            }
            // §13.3.1.4: the TU retransmits its 2xx itself; the transaction just carries it.
            State::Accepted if is_success(status) => {
                cx.send(self.reply_to, SipMessage::Response(response));
            }
            _ => {}
        }
    }

    pub fn on_timer(&mut self, timer: TimerName, cx: &mut Context) {
        match (self.state, timer) {
            (State::Completed, TimerName::G) => {
                self.resend_last(cx);
                self.interval = cx.config.backoff_capped(self.interval);
                cx.arm(self.id, TimerName::G, self.interval);
            }
            (State::Completed, TimerName::H) => {
                cx.events.push_back(TransactionEvent::Timeout {
                    id: self.id,
                    method: Method::Invite,
                });
                self.terminate(cx);
            }
            (State::Confirmed, TimerName::I) | (State::Accepted, TimerName::L) => {
                self.terminate(cx)
            }
            _ => {}
        }
    }

    pub fn last_status(&self) -> Option<u16> {
        self.last_response.as_ref().map(|r| r.status)
    }

    fn resend_last(&self, cx: &mut Context) {
        if let Some(r) = &self.last_response {
            cx.send(self.reply_to, SipMessage::Response(r.clone()));
        }
    }

    fn terminate(&mut self, cx: &mut Context) {
        self.state = State::Terminated;
        cx.disarm_all(self.id);
    }
}
