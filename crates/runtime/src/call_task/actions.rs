//! What the recorder asks of a call: playouts, recording files, completions.

use std::sync::Arc;
use std::time::Duration;

use super::*;

impl CallTask {
    pub(super) async fn on_action(&mut self, now: Duration, action: Action) {
        match action {
            Action::Play { op, playback, what } => match what {
                PlayWhat::Beep => {
                    if let Err(e) =
                        self.sender
                            .play(now, SendPlayback(playback.0), self.beep.clone(), false)
                    {
                        let _ = self
                            .queue
                            .handle_playout_failed(now, playback, e.to_string());
                    }
                }
                PlayWhat::Prompt(prompt) => {
                    let store = self.prompts.clone();
                    let tx = self.loaded.0.clone();
                    let rate = self.pcm_rate;
                    tokio::spawn(async move {
                        let result = store
                            .load(&prompt.uri, prompt.resource_id.as_deref(), rate)
                            .await;
                        let _ = tx
                            .send(PromptLoaded {
                                op,
                                playback,
                                looped: prompt.looped,
                                result,
                            })
                            .await;
                    });
                }
            },
            Action::StopPlayout { playback } => {
                self.stopped.insert(playback);
                self.sender.stop(now);
            }
            Action::StartRecording { op, rate } => {
                let path = self
                    .recordings_dir
                    .join(format!("{}.wav", uuid_like(&self.call, op)));
                // Creating the file syncs its directory and the registry writes an index:
                // blocking file calls, off the async threads.
                let (api, call, file) = (self.api.clone(), self.call.clone(), path.clone());
                let created = tokio::task::spawn_blocking(move || {
                    RecordingWriter::create(&file, rate)
                        .map(|w| (w, api.recording_started(&call, file)))
                })
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e)));
                match created {
                    Ok((w, link)) => {
                        self.writers.insert(op, (w, link.id));
                        // streamWhileRecording: recordingLocation is published while running.
                        if let (true, Some((api_op, _))) =
                            (self.streaming.remove(&op), self.ops.get(&op))
                        {
                            self.api.call_event(CallEvent::OperationUpdated {
                                call: self.call.clone(),
                                op: api_op.clone(),
                                outcome: api::OperationOutcome {
                                    status: api::OperationStatus::Running,
                                    completion_reason: None,
                                    result_info: None,
                                    recording: Some(link.id),
                                },
                            });
                        }
                    }
                    Err(e) => {
                        warn!(error = %e, path = %path.display(), "cannot create the recording file");
                        let _ = self.queue.handle_recording_failed(
                            now,
                            op,
                            format!("cannot create the recording file: {e}"),
                        );
                    }
                }
            }
            Action::WriteSamples { op, samples } => {
                let failed = match self.writers.get_mut(&op) {
                    Some((w, _)) => w.write(&samples).err(),
                    None => None,
                };
                if let Some(e) = failed {
                    warn!(error = %e, "recording write failed");
                    let _ = self.queue.handle_recording_failed(
                        now,
                        op,
                        format!("recording write failed: {e}"),
                    );
                }
            }
            Action::FinishRecording { op, keep_samples } => {
                if let Some((w, id)) = self.writers.remove(&op) {
                    // Truncate and header: blocking file calls, off the async threads.
                    let done =
                        tokio::task::spawn_blocking(move || w.finalize(Some(keep_samples))).await;
                    match done {
                        Ok(Ok((f, unsynced))) => {
                            debug!(samples = f.samples, path = %f.path.display(), "recording finished");
                            // The file is complete for every reader now; forcing it to the disk
                            // would put an fsync between the stop tone and the notification.
                            // The runtime waits for blocking tasks when it shuts down.
                            tokio::task::spawn_blocking(move || {
                                if let Err(e) = unsynced.sync() {
                                    warn!(error = %e, path = %f.path.display(), "recording fsync failed");
                                }
                            });
                        }
                        Ok(Err(e)) => warn!(error = %e, "recording finish failed"),
                        Err(e) => warn!(error = %e, "recording finish task failed"),
                    }
                    self.api.recording_finished(id);
                    self.finished_recordings.insert(op, id);
                }
            }
            Action::StatusChanged { .. } => {}
            Action::Completed(outcome) => {
                let Some((api_op, hang_up_after)) = self.ops.remove(&outcome.op) else {
                    return;
                };
                let recording = self.finished_recordings.remove(&outcome.op);
                info!(op = %api_op, reason = outcome.completion_reason.as_str(), status = outcome.status.as_str(), "operation completed");
                self.api.call_event(CallEvent::OperationUpdated {
                    call: self.call.clone(),
                    op: api_op,
                    outcome: convert::outcome(&outcome, recording),
                });
                if hang_up_after {
                    let _ = self
                        .reports
                        .send(CallReport::HangUp { call: self.handle })
                        .await;
                }
            }
        }
    }
}

/// The beep at `rate`, rendered once per rate for every call.
pub(super) fn shared_beep(rate: u32) -> Arc<Pcm> {
    static BEEPS: std::sync::Mutex<Vec<(u32, Arc<Pcm>)>> = std::sync::Mutex::new(Vec::new());
    let mut beeps = BEEPS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, b)) = beeps.iter().find(|(r, _)| *r == rate) {
        return b.clone();
    }
    let b = Arc::new(media::beep::BeepConfig::default().render(rate));
    beeps.push((rate, b.clone()));
    b
}

fn uuid_like(call: &CallId, op: OperationId) -> String {
    format!("{}-{}", call.0, op.0)
}
