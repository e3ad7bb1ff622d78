//! Non-INVITE server transaction (RFC 3261 §17.2.2).

use super::{is_provisional, Context, Target, TimerName, TransactionId};
use crate::message::{Request, Response, SipMessage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

#[derive(Debug)]
pub(crate) struct NonInviteServer {
    id: TransactionId,
    pub state: State,
    pub request: Request,
    pub reply_to: Target,
    last_response: Option<Response>,
}

impl NonInviteServer {
    pub fn start(id: TransactionId, request: Request, reply_to: Target) -> Self {
        Self {
            id,
            state: State::Trying,
            request,
            reply_to,
            last_response: None,
        }
    }

    /// A retransmitted request: absorbed while Trying, answered with the last response after.
    pub fn on_retransmission(&mut self, cx: &mut Context) {
        if let (State::Proceeding | State::Completed, Some(r)) = (self.state, &self.last_response) {
            cx.send(self.reply_to, SipMessage::Response(r.clone()));
        }
    }

    pub fn respond(&mut self, response: Response, cx: &mut Context) {
        if !matches!(self.state, State::Trying | State::Proceeding) {
            return;
        }
        cx.send(self.reply_to, SipMessage::Response(response.clone()));
        if is_provisional(response.status) {
            self.state = State::Proceeding;
        } else {
            self.state = State::Completed;
            let j = Context::linger(self.reply_to, cx.config.t1x64());
            cx.arm(self.id, TimerName::J, j);
        }
        self.last_response = Some(response);
    }

    pub fn on_timer(&mut self, timer: TimerName, cx: &mut Context) {
        if (self.state, timer) == (State::Completed, TimerName::J) {
            self.state = State::Terminated;
            cx.disarm_all(self.id);
        }
    }
}
