//! Media operations: record (recordResponse), playPrompt, subscribeToTone,
//! cancelMediaProcessing, and reading an operation back.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::auth::{Caller, ROLE_ACCESS_MEDIA};
use crate::body::JsonBody;
use crate::calls::live_call;
use crate::engine::{CallId, CallState, Command, OperationId, OperationStatus};
use crate::error::Error;
use crate::state::AppState;
use crate::store::{OpKind, Operation};
use crate::{model, requests};

fn established(s: CallState) -> bool {
    s == CallState::Established
}

/// Stores the operation, hands the command to the engine, answers `200` + `Location`.
/// A refused command leaves no operation behind, so a retried request starts it once.
async fn start(
    state: &AppState,
    call: CallId,
    op: Operation,
    cmd: impl FnOnce(OperationId) -> Command,
) -> Result<Response, Error> {
    let op_id = op.id.clone();
    let json = model::operation(&call, &op, false);
    {
        let mut store = state.store()?;
        let c = store.call_mut(&call).ok_or(Error::CallNotFound)?;
        c.operations.insert(op_id.clone(), op);
    }
    if let Err(e) = state.engine().submit(cmd(op_id.clone())).await {
        state.store()?.remove_operation(&call, &op_id);
        return Err(e.into());
    }
    let location = format!(
        "{}{}",
        state.config().public_url,
        model::operation_path(&call, &op_id)
    );
    Ok(([(header::LOCATION, location)], Json(json)).into_response())
}

pub async fn record(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, Error> {
    caller.require(ROLE_ACCESS_MEDIA)?;
    let call = CallId(id);
    live_call(&state, &call, established)?;
    let params = requests::record(&body, state.limits())?;
    let op = Operation::new(
        OpKind::Record,
        OperationStatus::Running,
        params.client_context.clone(),
    );
    let c = call.clone();
    start(&state, call, op, |op| Command::Record {
        call: c,
        op,
        params,
    })
    .await
}

pub async fn play_prompt(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, Error> {
    caller.require(ROLE_ACCESS_MEDIA)?;
    let call = CallId(id);
    live_call(&state, &call, established)?;
    let req = requests::play_prompt(&body)?;
    let op = Operation::new(
        OpKind::PlayPrompt,
        OperationStatus::Running,
        req.client_context,
    );
    let c = call.clone();
    start(&state, call, op, |op| Command::PlayPrompt {
        call: c,
        op,
        prompts: req.prompts,
        looped: req.looped,
    })
    .await
}

pub async fn subscribe_to_tone(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, Error> {
    caller.require(ROLE_ACCESS_MEDIA)?;
    let call = CallId(id);
    live_call(&state, &call, established)?;
    let ctx = requests::client_context(&body)?;
    let op = Operation::new(OpKind::SubscribeToTone, OperationStatus::Completed, ctx);
    let c = call.clone();
    let resp = start(&state, call.clone(), op, |_| Command::SubscribeToTone {
        call: c,
    })
    .await?;
    if let Some(c) = state.store()?.call_mut(&call) {
        c.tones_subscribed = true;
    }
    Ok(resp)
}

pub async fn cancel_media_processing(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, Error> {
    caller.require(ROLE_ACCESS_MEDIA)?;
    let call = CallId(id);
    live_call(&state, &call, established)?;
    let ctx = requests::client_context(&body)?;
    let op = Operation::new(
        OpKind::CancelMediaProcessing,
        OperationStatus::Completed,
        ctx,
    );
    let c = call.clone();
    start(&state, call, op, |_| Command::CancelMedia { call: c }).await
}

pub async fn get_operation(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, op)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, Error> {
    caller.require_any()?;
    let call = CallId(id);
    let store = state.store()?;
    let c = store.call(&call).ok_or(Error::CallNotFound)?;
    let o = c
        .operations
        .get(&OperationId(op))
        .ok_or(Error::OperationNotFound)?;
    Ok(Json(model::operation(&call, o, false)))
}
