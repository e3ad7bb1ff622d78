//! Non-INVITE client transaction (RFC 3261 §17.1.2).

use std::time::Duration;

use super::{is_provisional, Context, Target, TimerName, TransactionEvent, TransactionId};
use crate::message::{Request, Response, SipMessage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

#[derive(Debug)]
pub(crate) struct NonInviteClient {
    id: TransactionId,
    pub state: State,
    pub request: Request,
    pub target: Target,
    interval: Duration,
}

impl NonInviteClient {
    pub fn start(id: TransactionId, request: Request, target: Target, cx: &mut Context) -> Self {
        cx.send(target, SipMessage::Request(request.clone()));
        if !target.transport.is_reliable() {
            cx.arm(id, TimerName::E, cx.config.t1);
        }
        cx.arm(id, TimerName::F, cx.config.t1x64());
        Self {
            id,
            state: State::Trying,
            request,
            target,
            interval: cx.config.t1,
        }
    }

    pub fn on_timer(&mut self, timer: TimerName, cx: &mut Context) {
        match (self.state, timer) {
            // §17.1.2.2: E doubles up to T2 while Trying and stays at T2 once Proceeding.
            (State::Trying | State::Proceeding, TimerName::E) => {
                cx.send(self.target, SipMessage::Request(self.request.clone()));
                self.interval = match self.state {
                    State::Trying => cx.config.backoff_capped(self.interval),
                    _ => cx.config.t2,
                };
                cx.arm(self.id, TimerName::E, self.interval);
            }
            (State::Trying | State::Proceeding, TimerName::F) => {
                cx.events.push_back(TransactionEvent::Timeout {
                    id: self.id,
                    method: self.request.method.clone(),
                });
                self.terminate(cx);
            }
            (State::Completed, TimerName::K) => self.terminate(cx),
            _ => {}
        }
    }

    pub fn on_response(&mut self, response: Response, cx: &mut Context) {
        if !matches!(self.state, State::Trying | State::Proceeding) {
            return;
        }
        if is_provisional(response.status) {
            self.state = State::Proceeding;
        } else {
            cx.disarm(self.id, TimerName::E);
            cx.disarm(self.id, TimerName::F);
            self.state = State::Completed;
            let k = Context::linger(self.target, cx.config.t4);
            cx.arm(self.id, TimerName::K, k);
        }
        cx.events.push_back(TransactionEvent::Response {
            id: self.id,
            method: self.request.method.clone(),
            response,
        });
    }

    fn terminate(&mut self, cx: &mut Context) {
        self.state = State::Terminated;
        cx.disarm_all(self.id);
    }
}
