//! A fake engine, a fake webhook transport and request helpers shared by the scenario tests.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use api::{
    ApiConfig, AppState, CallEvent, CallId, CallState, Command, Engine, EngineError, EngineFuture,
    Party, PartyKind, PostFuture, StaticToken, Transport,
};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

pub const TOKEN: &str = "test-token";

/// Records every command and answers with a configurable verdict.
#[derive(Default)]
pub struct FakeEngine {
    pub commands: Mutex<Vec<Command>>,
    pub verdict: Mutex<Option<EngineError>>,
}

impl Engine for FakeEngine {
    fn submit(&self, cmd: Command) -> EngineFuture {
        self.commands.lock().unwrap().push(cmd);
        let v = self.verdict.lock().unwrap().clone();
        Box::pin(async move { v.map_or(Ok(()), Err) })
    }
}

/// (url, headers, body) of one POST.
pub type Attempt = (String, Vec<(String, String)>, String);

/// A webhook that answers `fail_first` attempts with 500, then 200; records every attempt.
#[derive(Default)]
pub struct FakeWebhook {
    pub fail_first: Mutex<usize>,
    pub attempts: Mutex<Vec<Attempt>>,
}

impl FakeWebhook {
    pub fn failing(n: usize) -> Arc<FakeWebhook> {
        let w = FakeWebhook::default();
        *w.fail_first.lock().unwrap() = n;
        Arc::new(w)
    }

    /// Bodies of the attempts that were answered 2xx, in order.
    pub fn delivered(&self) -> Vec<Value> {
        self.attempts
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, h, _)| h.iter().any(|(k, v)| k == "x-test-status" && v == "200"))
            .map(|(_, _, b)| serde_json::from_str(b).unwrap())
            .collect()
    }
}

impl Transport for FakeWebhook {
    fn post(&self, url: &str, headers: Vec<(&'static str, String)>, body: String) -> PostFuture {
        let mut fail = self.fail_first.lock().unwrap();
        let status = if *fail > 0 {
            *fail -= 1;
            500
        } else {
            200
        };
        let mut h: Vec<(String, String)> = headers
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        h.push(("x-test-status".into(), status.to_string()));
        self.attempts
            .lock()
            .unwrap()
            .push((url.to_string(), h, body));
        Box::pin(async move { Some(status) })
    }
}

pub fn temp_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("callclip-api-{name}-{}", uuid::Uuid::new_v4()))
}

pub fn config() -> ApiConfig {
    let root = temp_dir("state");
    let mut c = ApiConfig::new("https://bot.example", root.join("spool"), root.join("rec"));
    c.static_tokens = vec![StaticToken::from_plain(TOKEN)];
    c
}

/// Removes the state directory of a `config()` (spool and recordings) when dropped.
pub struct RemoveOnDrop(Option<PathBuf>);

pub fn remove_on_drop(config: &ApiConfig) -> RemoveOnDrop {
    RemoveOnDrop(config.spool_dir.parent().map(PathBuf::from))
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(root) = &self.0 {
            let _ = std::fs::remove_dir_all(root);
        }
    }
}

pub struct Harness {
    pub state: AppState,
    pub engine: Arc<FakeEngine>,
    pub webhook: Arc<FakeWebhook>,
    _state_dir: RemoveOnDrop,
}

pub fn harness_with(config: ApiConfig, webhook: Arc<FakeWebhook>) -> Harness {
    let engine = Arc::new(FakeEngine::default());
    let state_dir = remove_on_drop(&config);
    let state = AppState::with_transport(config, engine.clone(), webhook.clone()).unwrap();
    Harness {
        state,
        engine,
        webhook,
        _state_dir: state_dir,
    }
}

pub fn harness() -> Harness {
    harness_with(config(), Arc::new(FakeWebhook::default()))
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).unwrap().to_str().unwrap()
    }

    /// Asserts the Graph error envelope and returns (code, message).
    pub fn error(&self) -> (String, String) {
        let v = self.json();
        let e = &v["error"];
        assert!(
            e["innerError"]["request-id"].as_str().unwrap().len() == 36,
            "{v}"
        );
        assert!(
            e["innerError"]["date"].as_str().unwrap().ends_with('Z'),
            "{v}"
        );
        (
            e["code"].as_str().unwrap().to_string(),
            e["message"].as_str().unwrap().to_string(),
        )
    }
}

pub async fn send_raw(
    state: &AppState,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = api::router(state.clone())
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// An authorized JSON request.
pub async fn send(state: &AppState, method: Method, uri: &str, body: &str) -> Reply {
    let auth = format!("Bearer {TOKEN}");
    send_raw(
        state,
        method,
        uri,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        body.as_bytes().to_vec(),
    )
    .await
}

/// An incoming call reported by the engine, then brought to `state`.
pub fn incoming_call(h: &Harness, state: Option<CallState>) -> CallId {
    let call = CallId::new_random();
    let handle = h.state.handle();
    handle.call_event(CallEvent::Incoming {
        call: call.clone(),
        call_chain_id: "abc@pbx".into(),
        source: Party {
            kind: PartyKind::User,
            id: "sip:alice@pbx".into(),
            display_name: Some("Alice".into()),
        },
        targets: vec![Party {
            kind: PartyKind::User,
            id: "sip:bot@pbx".into(),
            display_name: None,
        }],
        request_uri: "sip:bot@10.0.0.1".into(),
    });
    if let Some(s) = state {
        handle.call_event(CallEvent::StateChanged {
            call: call.clone(),
            state: s,
            result_info: None,
        });
    }
    call
}
