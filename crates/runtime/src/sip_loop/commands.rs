//! The Graph API's commands, checked against the call's state.

use super::*;

impl SipLoop {
    pub(super) async fn on_command(
        &mut self,
        now: Duration,
        cmd: Command,
    ) -> Result<(), EngineError> {
        if let Command::CreateCall {
            call,
            targets,
            source,
            call_chain_id,
            ..
        } = cmd
        {
            return self.create_call(now, call, targets, source, &call_chain_id);
        }
        let Some(&h) = self.by_id.get(cmd.call()) else {
            return Err(EngineError::NotFound);
        };
        let Some(e) = self.calls.get(&h) else {
            return Err(EngineError::NotFound);
        };
        let state = e.state;
        let established = matches!(state, CallState::Established | CallState::Hold);
        let forward = |e: &Entry, c: CallCommand| match &e.task {
            Some(t) => t.try_send(c).map_err(|_| EngineError::Unavailable),
            None => Err(EngineError::NotAllowed { state }),
        };
        match cmd {
            Command::CreateCall { .. } => Ok(()),
            Command::Answer { media, .. } => {
                if state != CallState::Incoming || self.drain_until.is_some() {
                    return Err(EngineError::NotAllowed { state });
                }
                self.answer(now, h, &media.pre_fetch)
            }
            Command::Reject { reason, .. } => {
                if state != CallState::Incoming {
                    return Err(EngineError::NotAllowed { state });
                }
                let status = match reason {
                    api::RejectReason::None => 480,
                    api::RejectReason::Busy => 486,
                    api::RejectReason::Forbidden => 603,
                };
                self.endpoint
                    .reject(now, h, status)
                    .map_err(|_| EngineError::NotAllowed { state })
            }
            Command::Redirect { targets, .. } => {
                if state != CallState::Incoming {
                    return Err(EngineError::NotAllowed { state });
                }
                let uris: Vec<Uri> = targets.iter().filter_map(route::party_uri).collect();
                if uris.is_empty() {
                    return Err(EngineError::Internal {
                        reason: "no redirect target is a SIP URI",
                    });
                }
                self.endpoint
                    .redirect(now, h, uris)
                    .map_err(|_| EngineError::NotAllowed { state })
            }
            Command::Hangup { .. } => {
                self.hang_up(now, h);
                Ok(())
            }
            Command::Record { op, params, .. } => {
                if !established {
                    return Err(EngineError::NotAllowed { state });
                }
                forward(
                    e,
                    CallCommand::Record {
                        op,
                        params: Box::new(params),
                        hang_up_after: false,
                    },
                )
            }
            Command::PlayPrompt {
                op,
                prompts,
                looped,
                ..
            } => {
                if !established {
                    return Err(EngineError::NotAllowed { state });
                }
                let params =
                    recorder::PlayPromptParams::new(prompts, looped, None).map_err(|_| {
                        EngineError::Internal {
                            reason: "invalid prompts",
                        }
                    })?;
                forward(
                    e,
                    CallCommand::PlayPrompt {
                        op,
                        params: Box::new(params),
                    },
                )
            }
            Command::SubscribeToTone { .. } => {
                if !established {
                    return Err(EngineError::NotAllowed { state });
                }
                forward(e, CallCommand::SubscribeTones)
            }
            Command::CancelMedia { .. } => {
                if !established {
                    return Err(EngineError::NotAllowed { state });
                }
                forward(e, CallCommand::CancelMedia)
            }
            Command::KeepAlive { .. } => Ok(()),
        }
    }

    pub(super) fn create_call(
        &mut self,
        now: Duration,
        id: CallId,
        targets: Vec<Party>,
        source: Option<Party>,
        call_chain_id: &str,
    ) -> Result<(), EngineError> {
        if self.drain_until.is_some() {
            return Err(EngineError::Unavailable);
        }
        info!(call = %id, ?targets, "create call");
        let (target, dest) = route::outgoing(&targets, self.registrar.as_ref())?;
        let port = self.ports.bind(self.media_ip).map_err(|e| {
            warn!(error = %e, "no RTP port for an outgoing call");
            EngineError::Unavailable
        })?;
        let mut entry = self.entry(id.clone(), CallState::Establishing, Bytes::new(), true);
        let local = LocalMedia {
            ip: self.media_ip,
            rtp_port: port.port,
            session_id: entry.session_id,
            session_version: 1,
        };
        let offer = sdp::offer(&self.prefs, local);
        entry.local_port = port.port;
        entry.rtp_port = Some(port);
        let from = source
            .as_ref()
            .and_then(route::party_uri)
            .unwrap_or_else(|| self.endpoint.config().contact.clone());
        let h = self.endpoint.invite(
            now,
            target,
            NameAddr::new(from),
            Bytes::from(offer),
            dest,
            Some(call_chain_id),
        );
        info!(call = %id, %dest, "outgoing call");
        self.by_id.insert(id, h);
        self.calls.insert(h, entry);
        Ok(())
    }
}
