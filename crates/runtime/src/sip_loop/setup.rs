//! Answering and starting a call's media: SDP negotiation, RTP ports, the call task.

use super::*;

impl SipLoop {
    /// Negotiates the offer, starts the call's media and sends 200 OK (or refuses: 488, 503).
    pub(super) fn answer(
        &mut self,
        now: Duration,
        call: CallHandle,
        pre_fetch: &[recorder::PromptRef],
    ) -> Result<(), EngineError> {
        let Some(e) = self.calls.get(&call) else {
            return Err(EngineError::NotFound);
        };
        let offer = match sdp::parse_sdp(&e.offer) {
            Ok(o) => o,
            Err(err) => {
                info!(error = %err, "offer unusable: 488");
                let _ = self.endpoint.reject(now, call, 488);
                return Ok(());
            }
        };
        let port = match self.ports.bind(self.media_ip) {
            Ok(p) => p,
            Err(err) => {
                warn!(error = %err, "no RTP port: 503");
                let _ = self.endpoint.reject(now, call, 503);
                return Err(EngineError::Unavailable);
            }
        };
        let local = LocalMedia {
            ip: self.media_ip,
            rtp_port: port.port,
            session_id: e.session_id,
            session_version: e.version,
        };
        let (negotiated, answer) = match sdp::answer(&offer, &self.prefs, local) {
            Ok(x) => x,
            Err(err) => {
                info!(error = %err, "no common codec: 488");
                let _ = self.endpoint.reject(now, call, 488);
                return Ok(());
            }
        };
        // serviceHostedMediaConfig.preFetchMedia: warm the cache at the call's codec rate.
        let rate = convert::codec_kind(negotiated.codec.codec).pcm_rate();
        for p in pre_fetch {
            let (store, p) = (self.prompts.clone(), p.clone());
            tokio::spawn(async move {
                if let Err(e) = store.load(&p.uri, p.resource_id.as_deref(), rate).await {
                    info!(error = %e, "preFetchMedia failed");
                }
            });
        }
        self.start_media(call, port, negotiated)?;
        if let Err(err) = self.endpoint.answer(now, call, Bytes::from(answer)) {
            warn!(error = %err, "answer refused");
            return Err(EngineError::NotAllowed {
                state: CallState::Terminated,
            });
        }
        if let Some(e) = self.calls.get_mut(&call) {
            e.answer_by = None;
        }
        self.set_state(call, CallState::Establishing);
        Ok(())
    }

    pub(super) fn start_media(
        &mut self,
        call: CallHandle,
        port: crate::rtp_ports::RtpPort,
        negotiated: Negotiated,
    ) -> Result<(), EngineError> {
        let Some(e) = self.calls.get_mut(&call) else {
            return Err(EngineError::NotFound);
        };
        info!(codec = ?negotiated.codec.codec, pt = negotiated.codec.pt, remote = %negotiated.remote_addr, local_port = port.port, "media negotiated");
        e.local_port = port.port;
        self.seed = self
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let setup = CallSetup {
            handle: call,
            call: e.id.clone(),
            port,
            negotiated,
            seed: self.seed,
            recordings_dir: self.config.recordings.dir.clone(),
            receive_timeout: Duration::from_secs(self.config.rtp.receive_timeout_seconds),
            comfort_noise: self.config.rtp.comfort_noise,
        };
        let task = CallTask::new(
            setup,
            self.clock,
            self.api.clone(),
            self.prompts.clone(),
            self.reports.0.clone(),
        )
        .map_err(|err| {
            warn!(error = %err, "call media setup failed");
            EngineError::Internal {
                reason: "media setup failed",
            }
        })?;
        let (tx, rx) = mpsc::channel(64);
        let span = info_span!("call", call = %e.id);
        tokio::spawn(tracing::Instrument::instrument(task.run(rx), span));
        self.tasks += 1;
        e.task = Some(tx);
        Ok(())
    }

    pub(super) fn on_established(&mut self, now: Duration, call: CallHandle) {
        self.set_state(call, CallState::Established);
        let max = self.config.sip.max_call_seconds;
        let flow = self.config.calls.incoming_mode == IncomingMode::Flow;
        let Some(e) = self.calls.get_mut(&call) else {
            return;
        };
        if max > 0 {
            e.hang_up_at = Some(now + Duration::from_secs(max));
        }
        if let Some(until) = self.drain_until {
            e.hang_up_at = Some(e.hang_up_at.map_or(until, |t| t.min(until)));
        }
        if flow && !e.outgoing {
            match crate::flow::record_params(&self.config.calls.flow, self.config.api.max_seconds) {
                Ok(params) => {
                    let op = api::OperationId::new_random();
                    self.api.call_event(CallEvent::RecordStarted {
                        call: e.id.clone(),
                        op: op.clone(),
                        client_context: None,
                    });
                    if let Some(task) = &e.task {
                        let _ = task.try_send(CallCommand::Record {
                            op,
                            params: Box::new(params),
                            hang_up_after: true,
                        });
                    }
                }
                Err(err) => warn!(error = %err, "calls.flow is invalid; hanging up"),
            }
        }
    }

    pub(super) fn on_answered(&mut self, now: Duration, call: CallHandle, answer: Bytes) {
        let Some(e) = self.calls.get_mut(&call) else {
            return;
        };
        let parsed = sdp::parse_sdp(&answer).ok();
        let negotiated = parsed
            .as_ref()
            .and_then(|a| sdp::negotiated_from_answer(&self.prefs, a).ok());
        match (negotiated, e.rtp_port.take()) {
            (Some(n), Some(port)) => {
                if let Err(err) = self.start_media(call, port, n) {
                    warn!(error = ?err, "cannot start media for the outgoing call");
                    self.hang_up(now, call);
                }
            }
            _ => {
                warn!("the answer to our offer is unusable; hanging up");
                self.hang_up(now, call);
            }
        }
    }

    pub(super) fn on_reoffer(&mut self, now: Duration, call: CallHandle, offer: Bytes) {
        let Some(e) = self.calls.get_mut(&call) else {
            return;
        };
        let answer = sdp::parse_sdp(&offer).ok().and_then(|o| {
            e.version += 1;
            let local = LocalMedia {
                ip: self.media_ip,
                rtp_port: e.local_port,
                session_id: e.session_id,
                session_version: e.version,
            };
            sdp::answer(&o, &self.prefs, local).ok()
        });
        match answer {
            Some((n, text)) => {
                let hold = n.on_hold();
                if let Some(task) = &e.task {
                    let _ = task.try_send(CallCommand::Renegotiated(Box::new(n)));
                }
                let _ = self.endpoint.answer_reoffer(now, call, Bytes::from(text));
                self.set_state(
                    call,
                    if hold {
                        CallState::Hold
                    } else {
                        CallState::Established
                    },
                );
            }
            None => {
                // RFC 3261 §14.2: a re-offer we cannot accept gets 488 and the call goes on.
                let _ = self.endpoint.answer_reoffer(now, call, Bytes::new());
            }
        }
    }
}
