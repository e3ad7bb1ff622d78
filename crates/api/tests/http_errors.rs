//! Every error the contract lists answers with the Graph envelope and the right status.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

mod common;

use api::{CallState, EngineError, JwtKey};
use axum::http::{Method, StatusCode};
use common::*;

fn jwt(roles: &[&str]) -> String {
    let claims = serde_json::json!({"roles": roles, "exp": 4_000_000_000u64});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"jwt-secret"),
    )
    .unwrap()
}

#[tokio::test]
async fn missing_or_wrong_token_is_401_unauthenticated() {
    let h = harness();
    let r = send_raw(
        &h.state,
        Method::GET,
        "/communications/calls/x",
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error().0, "unauthenticated");
    let r = send_raw(
        &h.state,
        Method::GET,
        "/communications/calls/x",
        &[("authorization", "Bearer nope")],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn jwt_without_the_role_is_403_access_denied() {
    let mut c = config();
    c.jwt_keys = vec![JwtKey::Hs256 {
        secret: b"jwt-secret".to_vec(),
    }];
    let h = harness_with(c, std::sync::Arc::new(FakeWebhook::default()));
    let call = incoming_call(&h, Some(CallState::Established));
    let media_only = format!("Bearer {}", jwt(&["Calls.AccessMedia.All"]));
    let headers = [
        ("authorization", media_only.as_str()),
        ("content-type", "application/json"),
    ];
    let r = send_raw(
        &h.state,
        Method::POST,
        "/communications/calls",
        &headers,
        br#"{"targets":[{"identity":{"phone":{"id":"+1"}}}]}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (code, msg) = r.error();
    assert_eq!(code, "accessDenied");
    assert!(msg.contains("Calls.Initiate.All"));
    // The same token may record.
    let uri = format!("/communications/calls/{call}/record");
    let r = send_raw(&h.state, Method::POST, &uri, &headers, b"{}".to_vec()).await;
    assert_eq!(r.status, StatusCode::OK);
    let initiate_only = format!("Bearer {}", jwt(&["Calls.Initiate.All"]));
    let r = send_raw(
        &h.state,
        Method::POST,
        &uri,
        &[
            ("authorization", &initiate_only),
            ("content-type", "application/json"),
        ],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn each_invalid_record_parameter_is_400_naming_it() {
    let h = harness();
    let call = incoming_call(&h, Some(CallState::Established));
    let uri = format!("/communications/calls/{call}/record");
    let long = "x".repeat(257);
    let cases = [
        (
            r#"{"maxRecordDurationInSeconds":0}"#.to_string(),
            "maxRecordDurationInSeconds",
        ),
        (
            r#"{"maxRecordDurationInSeconds":301}"#.into(),
            "maxRecordDurationInSeconds",
        ),
        (
            r#"{"initialSilenceTimeoutInSeconds":-1}"#.into(),
            "initialSilenceTimeoutInSeconds",
        ),
        (
            r#"{"maxSilenceTimeoutInSeconds":"5"}"#.into(),
            "maxSilenceTimeoutInSeconds",
        ),
        (r#"{"playBeep":"yes"}"#.into(), "playBeep"),
        (r#"{"bargeInAllowed":1}"#.into(), "bargeInAllowed"),
        (r#"{"stopTones":["E"]}"#.into(), "stopTones"),
        (r##"{"stopTones":"#"}"##.into(), "stopTones"),
        (format!(r#"{{"clientContext":"{long}"}}"#), "clientContext"),
        (
            r#"{"prompts":[{"mediaInfo":{"uri":"a"}},{"mediaInfo":{"uri":"b"}}]}"#.into(),
            "prompts",
        ),
        (
            r#"{"prompts":[{"mediaInfo":{}}]}"#.into(),
            "prompts[0].mediaInfo.uri",
        ),
    ];
    for (body, field) in cases {
        let r = send(&h.state, Method::POST, &uri, &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        let (code, msg) = r.error();
        assert_eq!(code, "invalidRequest");
        assert!(msg.starts_with(field), "{body}: {msg}");
    }
    assert!(
        h.engine.commands.lock().unwrap().is_empty(),
        "nothing reached the engine"
    );
}

#[tokio::test]
async fn malformed_json_and_wrong_shapes_are_400() {
    let h = harness();
    let call = incoming_call(&h, Some(CallState::Established));
    let uri = format!("/communications/calls/{call}/record");
    for body in ["{", "[]", "\"x\"", "{\"a\":}"] {
        let r = send(&h.state, Method::POST, &uri, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.error().0, "invalidRequest");
    }
    let r = send(
        &h.state,
        Method::POST,
        "/communications/calls",
        r#"{"targets":5}"#,
    )
    .await;
    assert_eq!(r.error().1, "targets must be an array");
    let r = send(
        &h.state,
        Method::POST,
        &format!("/communications/calls/{call}/playPrompt"),
        "{}",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().1.starts_with("prompts"));
}

#[tokio::test]
async fn unknown_call_is_404_8522_and_unknown_operation_404_item_not_found() {
    let h = harness();
    for (m, path) in [
        (Method::GET, "/communications/calls/nope"),
        (Method::DELETE, "/beta/communications/calls/nope"),
        (Method::POST, "/v1.0/communications/calls/nope/record"),
        (Method::POST, "/app/calls/nope/keepAlive"),
        (Method::GET, "/communications/calls/nope/operations/x"),
    ] {
        let r = send(&h.state, m, path, "").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.error(), ("8522".into(), "Call not found.".into()));
    }
    let call = incoming_call(&h, None);
    let r = send(
        &h.state,
        Method::GET,
        &format!("/communications/calls/{call}/operations/x"),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error().0, "itemNotFound");
}

#[tokio::test]
async fn media_before_established_and_answer_after_are_409() {
    let h = harness();
    let call = incoming_call(&h, None);
    let r = send(
        &h.state,
        Method::POST,
        &format!("/communications/calls/{call}/record"),
        "{}",
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let (code, msg) = r.error();
    assert_eq!(code, "notAllowed");
    assert!(msg.contains("incoming"));
    h.state.handle().call_event(api::CallEvent::StateChanged {
        call: call.clone(),
        state: CallState::Established,
        result_info: None,
    });
    let r = send(
        &h.state,
        Method::POST,
        &format!("/communications/calls/{call}/answer"),
        "{}",
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn engine_verdicts_map_to_409_503_500() {
    let h = harness();
    let call = incoming_call(&h, Some(CallState::Established));
    let uri = format!("/communications/calls/{call}/record");
    for (verdict, status, code) in [
        (
            EngineError::NotAllowed {
                state: CallState::Hold,
            },
            StatusCode::CONFLICT,
            "notAllowed",
        ),
        (
            EngineError::Unavailable,
            StatusCode::SERVICE_UNAVAILABLE,
            "serviceNotAvailable",
        ),
        (
            EngineError::Internal { reason: "boom" },
            StatusCode::INTERNAL_SERVER_ERROR,
            "generalException",
        ),
    ] {
        *h.engine.verdict.lock().unwrap() = Some(verdict);
        let r = send(&h.state, Method::POST, &uri, "{}").await;
        assert_eq!(r.status, status);
        assert_eq!(r.error().0, code);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(r.header("retry-after"), "1");
        }
    }
    // A refused record leaves no operation behind: a retry cannot start it twice.
    *h.engine.verdict.lock().unwrap() = None;
    let r = send(&h.state, Method::POST, &uri, "{}").await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn oversized_body_is_413_and_wrong_content_type_415() {
    let h = harness();
    let call = incoming_call(&h, Some(CallState::Established));
    let uri = format!("/communications/calls/{call}/record");
    let big = format!(r#"{{"clientContext":"{}"}}"#, "x".repeat(70 * 1024));
    let r = send(&h.state, Method::POST, &uri, &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    r.error();
    let auth = format!("Bearer {TOKEN}");
    let r = send_raw(
        &h.state,
        Method::POST,
        &uri,
        &[("authorization", &auth), ("content-type", "text/plain")],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    r.error();
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_with_the_envelope() {
    let h = harness();
    let r = send(&h.state, Method::GET, "/nothing/here", "").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error().0, "itemNotFound");
    let r = send(
        &h.state,
        Method::GET,
        "/communications/calls/x/bogusAction",
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    r.error();
    let r = send(&h.state, Method::PUT, "/communications/calls", "{}").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    r.error();
    let r = send(&h.state, Method::POST, "/healthz", "").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    r.error();
}

#[tokio::test]
async fn over_the_in_flight_limit_is_429_with_retry_after_and_starts_nothing() {
    let mut c = config();
    c.max_in_flight = 0;
    let h = harness_with(c, std::sync::Arc::new(FakeWebhook::default()));
    let call = incoming_call(&h, Some(CallState::Established));
    let r = send(
        &h.state,
        Method::POST,
        &format!("/communications/calls/{call}/record"),
        "{}",
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("retry-after"), "1");
    assert_eq!(r.error().0, "tooManyRequests");
    assert!(h.engine.commands.lock().unwrap().is_empty());
}
