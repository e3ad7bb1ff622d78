//! The `call` resource: create, read, hang up, answer, reject, redirect, keepAlive.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::auth::{Caller, ROLE_INITIATE};
use crate::body::JsonBody;
use crate::engine::{CallId, CallState, Command};
use crate::error::Error;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::store::{Call, Direction};
use crate::{model, requests};

/// The call if it exists and has not ended (`404 "8522"` otherwise), checked by `allowed`.
pub(crate) fn live_call(
    state: &AppState,
    id: &CallId,
    allowed: impl Fn(CallState) -> bool,
) -> Result<(), Error> {
    let store = state.store()?;
    let c = store
        .call(id)
        .filter(|c| !c.is_over())
        .ok_or(Error::CallNotFound)?;
    if allowed(c.state) {
        Ok(())
    } else {
        Err(Error::NotAllowed { state: c.state })
    }
}

fn call_json(state: &AppState, id: &CallId) -> Result<serde_json::Value, Error> {
    let store = state.store()?;
    store.call(id).map(model::call).ok_or(Error::CallNotFound)
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, Error> {
    caller.require(ROLE_INITIATE)?;
    let req = requests::create_call(&body)?;
    let id = CallId::new_random();
    let chain = uuid::Uuid::new_v4().to_string();
    let mut call = Call::new(
        id.clone(),
        CallState::Establishing,
        Direction::Outgoing,
        chain.clone(),
    );
    call.callback_uri = req.callback_uri;
    call.source = req.source.clone();
    call.targets = req.targets.clone();
    call.media = req.media.clone();
    state.store()?.insert(call);
    // The answer shows the call as created (`establishing`), whatever the engine reports while
    // this request is in flight (a fast 180 would make it `ringing`).
    let created = call_json(&state, &id)?;
    let cmd = Command::CreateCall {
        call: id.clone(),
        targets: req.targets,
        source: req.source,
        media: req.media,
        call_chain_id: chain,
    };
    if let Err(e) = state.engine().submit(cmd).await {
        state.store()?.remove(&id);
        return Err(e.into());
    }
    Metrics::add(&state.metrics().calls_outgoing, 1);
    let location = format!("{}{}", state.config().public_url, model::call_path(&id));
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    )
        .into_response())
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, Error> {
    caller.require_any()?;
    call_json(&state, &CallId(id)).map(Json)
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    caller.require_any()?;
    let id = CallId(id);
    live_call(&state, &id, |_| true)?;
    state.engine().submit(Command::Hangup { call: id }).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn answer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<StatusCode, Error> {
    caller.require(ROLE_INITIATE)?;
    let id = CallId(id);
    live_call(&state, &id, |s| s == CallState::Incoming)?;
    let req = requests::answer(&body)?;
    let media = req.media.clone();
    // The answer's callbackUri applies to everything the answer causes (`establishing`,
    // `established`), so it is stored before the engine runs; a refusal restores the old one.
    let previous = match state.store()?.call_mut(&id) {
        Some(c) => {
            let previous = (c.callback_uri.clone(), c.media.clone());
            if let Some(uri) = req.callback_uri.clone() {
                c.callback_uri = Some(uri);
            }
            c.media = req.media.clone();
            previous
        }
        None => return Err(Error::CallNotFound),
    };
    let submitted = state
        .engine()
        .submit(Command::Answer {
            call: id.clone(),
            media,
        })
        .await;
    if let Err(e) = submitted {
        if let Some(c) = state.store()?.call_mut(&id) {
            (c.callback_uri, c.media) = previous;
        }
        return Err(e.into());
    }
    Ok(StatusCode::ACCEPTED)
}

pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<StatusCode, Error> {
    caller.require_any()?;
    let id = CallId(id);
    live_call(&state, &id, |s| s == CallState::Incoming)?;
    let reason = requests::reject(&body)?;
    state
        .engine()
        .submit(Command::Reject { call: id, reason })
        .await?;
    Ok(StatusCode::ACCEPTED)
}

pub async fn redirect(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<StatusCode, Error> {
    caller.require_any()?;
    let id = CallId(id);
    live_call(&state, &id, |s| s == CallState::Incoming)?;
    let targets = requests::redirect(&body)?;
    state
        .engine()
        .submit(Command::Redirect { call: id, targets })
        .await?;
    Ok(StatusCode::ACCEPTED)
}

pub async fn keep_alive(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    caller.require_any()?;
    let id = CallId(id);
    live_call(&state, &id, |_| true)?;
    state
        .engine()
        .submit(Command::KeepAlive { call: id })
        .await?;
    Ok(StatusCode::OK)
}
