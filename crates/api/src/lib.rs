//! The Microsoft Graph–compatible HTTP surface of callclip (../shared/docs/API_CONTRACT.md).
//!
//! The API never touches SIP: accepted requests become [`Command`]s for an [`Engine`] the
//! runtime implements, and what happens on the call comes back as [`CallEvent`]s through an
//! [`ApiHandle`], which keeps the `call`/`operation` resources and sends the notifications.
//!
//! ```no_run
//! # async fn run(engine: std::sync::Arc<dyn api::Engine>) -> Result<(), Box<dyn std::error::Error>> {
//! let config = api::ApiConfig::new("https://bot.example", "/var/spool/callclip".into(), "/var/lib/callclip".into());
//! let state = api::AppState::new(config, engine)?;
//! let handle = state.handle(); // give this to the engine
//! # let _ = handle;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! api::serve(listener, state, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod auth;
pub mod body;
mod calls;
pub mod clock;
pub mod config;
mod download;
pub mod engine;
pub mod error;
mod events;
pub mod fields;
mod handle;
mod media;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod notify_jwt;
pub mod openapi;
pub mod recording_index;
pub mod recordings;
pub mod requests;
pub mod spool;
mod state;
pub mod store;

use std::future::Future;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};

pub use config::{ApiConfig, JwtKey, StaticToken};
pub use engine::{
    channel, CallEvent, CallId, CallState, ChannelEngine, Command, CompletionReason, Engine,
    EngineError, EngineFuture, EngineRequest, MediaConfig, OperationId, OperationOutcome,
    OperationStatus, Party, PartyKind, RecordingId, RejectReason, ResultInfo,
};
pub use error::Error;
pub use handle::{ApiHandle, RecordingLink};
pub use notify::{PostFuture, Transport};
pub use state::AppState;

fn calls_routes() -> Router<AppState> {
    Router::new()
        .route("/calls", post(calls::create))
        .route("/calls/{id}", get(calls::get).delete(calls::delete))
        .route("/calls/{id}/answer", post(calls::answer))
        .route("/calls/{id}/reject", post(calls::reject))
        .route("/calls/{id}/redirect", post(calls::redirect))
        .route("/calls/{id}/keepAlive", post(calls::keep_alive))
        .route("/calls/{id}/record", post(media::record))
        .route("/calls/{id}/recordResponse", post(media::record))
        .route("/calls/{id}/playPrompt", post(media::play_prompt))
        .route(
            "/calls/{id}/subscribeToTone",
            post(media::subscribe_to_tone),
        )
        .route(
            "/calls/{id}/cancelMediaProcessing",
            post(media::cancel_media_processing),
        )
        .route("/calls/{id}/operations/{op}", get(media::get_operation))
}

/// Admission control for the Graph routes: past `max_in_flight` a request is refused with
/// `429` before any work, so the SDKs' automatic retry cannot start an operation twice.
async fn admit(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match state.admit() {
        Ok(_permit) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn not_found() -> Error {
    Error::RouteNotFound
}

async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

async fn openapi_json(State(state): State<AppState>) -> impl IntoResponse {
    Json(openapi::document(&state.config().public_url))
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    let by_state: Vec<(CallState, usize)> = match state.store() {
        Ok(s) => s.count_by_state().into_iter().collect(),
        Err(_) => Vec::new(),
    };
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics().render(&by_state),
    )
}

/// Every route of the contract, the recordings, `/events`, `/openapi.json`, `/healthz`,
/// `/metrics`; anything else answers with the Graph error envelope.
pub fn router(state: AppState) -> Router {
    let limit = state.config().body_limit;
    let calls = calls_routes()
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), admit));
    let mut app = Router::new();
    for base in openapi::BASES {
        app = app.nest(base, calls.clone());
    }
    app.route(
        "/recordings/{id}",
        get(download::get).delete(download::delete),
    )
    .route("/events", get(events::sse))
    .route("/openapi.json", get(openapi_json))
    .route("/healthz", get(|| async { "ok" }))
    .route("/metrics", get(metrics_text))
    .method_not_allowed_fallback(method_not_allowed)
    .fallback(not_found)
    .layer(DefaultBodyLimit::max(limit))
    .with_state(state)
}

/// Serves until `shutdown` resolves, then stops notification delivery (pending notifications
/// stay in the spool for the next start).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let result = axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(shutdown)
        .await;
    state.notifier().stop();
    result
}
