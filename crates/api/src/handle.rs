//! How the engine reports back: call events update the resources and become notifications;
//! recordings are registered for download; media counters feed `/metrics`.

use std::path::PathBuf;

use crate::engine::{CallEvent, CallId, CallState, OperationStatus, RecordingId, ResultInfo};
use crate::metrics::Metrics;
use crate::model;
use crate::notify;
use crate::recordings::Recordings;
use crate::state::AppState;
use crate::store::{Call, Direction, OpKind};

pub use crate::store::RecordingLink;

/// Given to the runtime; cheap to clone, callable from any thread.
#[derive(Clone)]
pub struct ApiHandle {
    state: AppState,
}

impl ApiHandle {
    pub(crate) fn new(state: AppState) -> ApiHandle {
        ApiHandle { state }
    }

    /// Applies one event. Events of one call must come in the order they happened: the
    /// notifications leave in that order (an operation's completion before the call's `deleted`).
    pub fn call_event(&self, ev: CallEvent) {
        let out = match self.state.store() {
            Ok(mut store) => self.apply(&mut store, ev),
            Err(_) => None,
        };
        if let Some((call, callback, body)) = out {
            self.state.notify(&call, callback, body);
        }
    }

    /// Registers a recording file the engine is about to write; the returned link goes into
    /// the operation (`recordingLocation`, `recordingAccessToken`) via
    /// [`crate::engine::OperationOutcome::recording`].
    pub fn recording_started(&self, call: &CallId, path: PathBuf) -> RecordingLink {
        self.state.recordings().start(call, path)
    }

    /// The file is complete: live downloads end, Range requests become available.
    pub fn recording_finished(&self, id: RecordingId) {
        self.state.recordings().finish(id);
    }

    pub fn rtp_received(&self, packets: u64) {
        Metrics::add(&self.state.metrics().rtp_packets_received, packets);
    }

    pub fn rtp_lost(&self, packets: u64) {
        Metrics::add(&self.state.metrics().rtp_packets_lost, packets);
    }

    pub fn config(&self) -> &crate::ApiConfig {
        self.state.config()
    }

    /// Returns the notification to send: (call, its callback, body).
    fn apply(
        &self,
        store: &mut crate::store::Store,
        ev: CallEvent,
    ) -> Option<(CallId, Option<String>, String)> {
        match ev {
            CallEvent::Incoming {
                call,
                call_chain_id,
                source,
                targets,
                request_uri,
            } => {
                Metrics::add(&self.state.metrics().calls_incoming, 1);
                let mut c = Call::new(
                    call.clone(),
                    CallState::Incoming,
                    Direction::Incoming,
                    call_chain_id,
                );
                c.source = Some(source);
                c.targets = targets;
                c.request_uri = Some(request_uri);
                let body = notify::body("created", &model::call_path(&call), model::call(&c));
                store.insert(c);
                Some((call, None, body))
            }
            CallEvent::StateChanged {
                call,
                state: CallState::Terminated,
                result_info,
            } => self.terminated(store, call, result_info),
            CallEvent::StateChanged {
                call,
                state,
                result_info,
            } => {
                let c = store.call_mut(&call).filter(|c| !c.is_over())?;
                c.state = state;
                if result_info.is_some() {
                    c.result_info = result_info;
                }
                let body = notify::body("updated", &model::call_path(&call), model::call(c));
                Some((call, c.callback_uri.clone(), body))
            }
            CallEvent::Tone { call, digit } => {
                let c = store.call_mut(&call).filter(|c| c.tones_subscribed)?;
                let seq = c.tone.map_or(1, |(s, _)| s.saturating_add(1));
                c.tone = Some((seq, digit));
                let body = notify::body("updated", &model::call_path(&call), model::call(c));
                Some((call, c.callback_uri.clone(), body))
            }
            CallEvent::RecordStarted {
                call,
                op,
                client_context,
            } => {
                let c = store.call_mut(&call).filter(|c| !c.is_over())?;
                let mut o = crate::store::Operation::new(
                    OpKind::Record,
                    OperationStatus::Running,
                    client_context,
                );
                o.id = op.clone();
                c.operations.insert(op, o);
                None
            }
            CallEvent::OperationUpdated { call, op, outcome } => {
                let c = store.call_mut(&call)?;
                let callback = c.callback_uri.clone();
                let Some(o) = c.operations.get_mut(&op) else {
                    tracing::debug!(%call, %op, "update for an unknown operation ignored");
                    return None;
                };
                if o.is_finished() {
                    return None;
                }
                let had_link = o.recording.is_some();
                o.status = outcome.status;
                o.completion_reason = outcome.completion_reason.or(o.completion_reason);
                o.result_info = outcome.result_info.or(o.result_info.take());
                if let Some(id) = outcome.recording {
                    o.recording = self.state.recordings().link(id).or(o.recording.take());
                }
                let path = model::operation_path(&call, &op);
                if o.is_finished() {
                    let kind =
                        model::operation_type(o.kind).trim_start_matches("#microsoft.graph.");
                    let reason = o
                        .completion_reason
                        .map(model::completion_reason_name)
                        .unwrap_or(model::status_name(o.status));
                    self.state.metrics().operation_finished(kind, reason);
                    let body = notify::body("deleted", &path, model::operation(&call, o, true));
                    Some((call, callback, body))
                } else if !had_link && o.recording.is_some() && o.kind == OpKind::Record {
                    // streamWhileRecording: the bot learns where to stream from while running.
                    let body = notify::body("updated", &path, model::operation(&call, o, true));
                    Some((call, callback, body))
                } else {
                    None
                }
            }
            CallEvent::Terminated { call, result_info } => {
                self.terminated(store, call, Some(result_info))
            }
        }
    }

    fn terminated(
        &self,
        store: &mut crate::store::Store,
        call: CallId,
        result_info: Option<ResultInfo>,
    ) -> Option<(CallId, Option<String>, String)> {
        let c = store.call_mut(&call).filter(|c| !c.is_over())?;
        c.state = CallState::Terminated;
        c.result_info = result_info.or(c.result_info.take());
        for o in c.operations.values_mut().filter(|o| !o.is_finished()) {
            // Operations the engine never finished cannot run any more.
            o.status = OperationStatus::Failed;
        }
        let body = notify::body("deleted", &model::call_path(&call), model::call(c));
        let callback = c.callback_uri.clone();
        self.schedule_cleanup(call.clone());
        Some((call, callback, body))
    }

    /// Recordings and the ended call are forgotten after their configured retention. The
    /// recordings' deletion time goes to disk too, so a restart in between still deletes them.
    fn schedule_cleanup(&self, call: CallId) {
        let state = self.state.clone();
        let (rec_after, call_after) = (
            state.config().recording_retention,
            state.config().call_retention,
        );
        let delete_at = crate::clock::unix_seconds().saturating_add(rec_after.as_secs());
        self.state.runtime().spawn(async move {
            on_recordings(&state, &call, move |r, c| r.call_ended(c, delete_at)).await;
            let (first, second) = (rec_after.min(call_after), rec_after.max(call_after));
            for (wait, elapsed) in [(first, first), (second - first, second)] {
                tokio::time::sleep(wait).await;
                if elapsed >= rec_after {
                    on_recordings(&state, &call, |r, c| r.delete_call(c)).await;
                }
                if elapsed >= call_after {
                    if let Ok(mut s) = state.store() {
                        s.remove(&call);
                    }
                }
            }
        });
    }
}

/// Registry file I/O, off the async threads.
async fn on_recordings(
    state: &AppState,
    call: &CallId,
    f: impl FnOnce(&Recordings, &CallId) + Send + 'static,
) {
    let (s, c) = (state.clone(), call.clone());
    let _ = tokio::task::spawn_blocking(move || f(s.recordings(), &c)).await;
}
