//! What the SIP endpoint reports: new calls, answers, re-offers, digits, ends.

use super::*;

impl SipLoop {
    pub(super) fn on_event(&mut self, now: Duration, ev: EndpointEvent) {
        match ev {
            EndpointEvent::IncomingCall {
                call,
                call_id,
                from,
                to,
                request_uri,
                offer,
                source,
            } => {
                let id = CallId::new_random();
                let _span = info_span!("call", call = %id).entered();
                info!(%source, from = %from, to = %to, sip_call_id = %call_id, "incoming call");
                self.by_id.insert(id.clone(), call);
                let entry = self.entry(id.clone(), CallState::Incoming, offer, false);
                self.calls.insert(call, entry);
                self.api.call_event(CallEvent::Incoming {
                    call: id,
                    call_chain_id: call_id,
                    source: party(&from),
                    targets: vec![party(&to)],
                    request_uri: request_uri.to_string(),
                });
                match self.config.calls.incoming_mode {
                    IncomingMode::Notify => {
                        if let Some(e) = self.calls.get_mut(&call) {
                            e.answer_by = Some(
                                now + Duration::from_secs(self.config.calls.answer_timeout_seconds),
                            );
                        }
                    }
                    IncomingMode::Answer | IncomingMode::Flow => {
                        if let Err(e) = self.answer(now, call, &[]) {
                            warn!(error = %e, "cannot answer");
                        }
                    }
                }
            }
            EndpointEvent::Progress { call, status } => {
                if status == 180 || status == 183 {
                    self.set_state(call, CallState::Ringing);
                }
            }
            EndpointEvent::Answered { call, answer } => self.on_answered(now, call, answer),
            EndpointEvent::CallEstablished { call } => self.on_established(now, call),
            EndpointEvent::CallEnded { call, reason } => {
                let Some(mut e) = self.calls.remove(&call) else {
                    return;
                };
                let _span = info_span!("call", call = %e.id).entered();
                info!(?reason, "call ended");
                self.by_id.remove(&e.id);
                let result = convert::end_result(reason);
                match e.task.take() {
                    Some(task) => {
                        let _ = task.try_send(CallCommand::Ended { result });
                    }
                    None => self.api.call_event(CallEvent::Terminated {
                        call: e.id,
                        result_info: result,
                    }),
                }
            }
            EndpointEvent::Reoffer { call, offer } => self.on_reoffer(now, call, offer),
            EndpointEvent::Dtmf {
                call,
                digit_char,
                duration_ms,
            } => {
                if let (Some(digit), Some(task)) = (
                    Digit::from_char(digit_char),
                    self.calls.get(&call).and_then(|e| e.task.as_ref()),
                ) {
                    let duration = duration_ms.map(|ms| Duration::from_millis(u64::from(ms)));
                    let _ = task.try_send(CallCommand::InfoDigit { digit, duration });
                }
            }
            EndpointEvent::Registration(event) => {
                info!(?event, "registration");
                if matches!(
                    event,
                    RegistrationEvent::Unregistered | RegistrationEvent::Failed { .. }
                ) {
                    self.unregistering = false;
                }
            }
            EndpointEvent::MessageDropped { source, error } => {
                info!(%source, %error, "SIP message dropped");
            }
        }
    }

    pub(super) fn entry(
        &mut self,
        id: CallId,
        state: CallState,
        offer: Bytes,
        outgoing: bool,
    ) -> Entry {
        self.seed = self
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Entry {
            id,
            state,
            offer,
            outgoing,
            task: None,
            answer_by: None,
            hang_up_at: None,
            session_id: self.seed >> 1,
            version: 1,
            rtp_port: None,
            local_port: 0,
        }
    }

    pub(super) fn set_state(&mut self, call: CallHandle, state: CallState) {
        if let Some(e) = self.calls.get_mut(&call) {
            if e.state != state {
                info!(call = %e.id, state = %state, "call state");
                e.state = state;
                self.api.call_event(CallEvent::StateChanged {
                    call: e.id.clone(),
                    state,
                    result_info: None,
                });
            }
        }
    }
}
