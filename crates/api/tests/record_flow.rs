//! The Graph "record a voice response" example end to end: request, operation, completion
//! notification with a downloadable recording, then the call's `deleted`.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

mod common;

use std::time::Duration;

use api::{
    CallEvent, CallState, Command, CompletionReason, OperationId, OperationOutcome,
    OperationStatus, ResultInfo,
};
use axum::http::{Method, StatusCode};
use common::*;
use media::Digit;
use serde_json::Value;

const GRAPH_EXAMPLE: &str = include_str!("data/graph_record_request.json");

/// Lets the notifier's tasks run (virtual time; spool writes run on the blocking pool).
async fn wait_for(mut done: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("condition not reached");
}

#[tokio::test(start_paused = true)]
async fn graph_example_request_is_accepted_verbatim() {
    let h = harness();
    let call = incoming_call(&h, Some(CallState::Established));
    let r = send(
        &h.state,
        Method::POST,
        &format!("/beta/communications/calls/{call}/record"),
        GRAPH_EXAMPLE,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    let id = v["id"].as_str().unwrap();
    assert_eq!(
        r.header("location"),
        format!("https://bot.example/communications/calls/{call}/operations/{id}")
    );
    assert_eq!(v["@odata.type"], "#microsoft.graph.recordOperation");
    assert_eq!(v["status"], "running");
    assert_eq!(v["clientContext"], "d45324c1-fcb5-430a-902c-f20af696537c");
    for k in ["completionReason", "resultInfo", "recordingLocation"] {
        assert_eq!(v[k], Value::Null, "{k}");
    }
    let last = h.engine.commands.lock().unwrap().last().cloned();
    let Some(Command::Record { params, .. }) = last else {
        panic!("no record command: {last:?}");
    };
    assert!(params.barge_in_allowed && params.play_beep);
    assert_eq!(params.max_record_duration, Duration::from_secs(10));
    assert_eq!(params.max_silence_timeout, Duration::from_secs(2));
    assert_eq!(
        params.stop_tones,
        vec![Digit::Pound, Digit::D1, Digit::Star]
    );
    let prompt = params.prompt.as_ref().unwrap();
    assert_eq!(prompt.uri, "https://cdn.contoso.com/beep.wav");
    assert_eq!(
        prompt.resource_id.as_deref(),
        Some("1D6DE2D4-CD51-4309-8DAA-70768651088E")
    );
    // The deprecated alias and recordResponse are the same action.
    for path in [
        format!("/app/calls/{call}/record"),
        format!("/communications/calls/{call}/recordResponse"),
    ] {
        let r = send(&h.state, Method::POST, &path, GRAPH_EXAMPLE).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test(start_paused = true)]
async fn completion_is_notified_before_the_call_is_deleted() {
    let mut cfg = config();
    cfg.notification_secret = Some(b"hook-secret".to_vec());
    let h = harness_with(cfg, FakeWebhook::failing(0));
    let created = send(
        &h.state,
        Method::POST,
        "/communications/calls",
        r##"{"@odata.type":"#microsoft.graph.call","callbackUri":"https://bot.example/cb",
            "targets":[{"@odata.type":"#microsoft.graph.invitationParticipantInfo",
              "identity":{"@odata.type":"#microsoft.graph.identitySet","user":{"id":"sip:bob@pbx","displayName":"Bob"}}}],
            "requestedModalities":["audio"],
            "mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig"}}"##,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let c = created.json();
    assert_eq!(c["state"], "establishing");
    assert_eq!(c["direction"], "outgoing");
    let call = api::CallId(c["id"].as_str().unwrap().to_string());
    assert_eq!(
        created.header("location"),
        format!("https://bot.example/communications/calls/{call}")
    );
    let handle = h.state.handle();
    handle.call_event(CallEvent::StateChanged {
        call: call.clone(),
        state: CallState::Established,
        result_info: None,
    });
    let r = send(
        &h.state,
        Method::POST,
        &format!("/communications/calls/{call}/record"),
        r##"{"clientContext":"ctx-1","stopTones":["#"]}"##,
    )
    .await;
    let op = OperationId(r.json()["id"].as_str().unwrap().to_string());

    let dir = h.state.config().recordings_dir.clone();
    let path = dir.join("clip.wav");
    std::fs::write(&path, b"RIFF....WAVEfmt ").unwrap();
    let link = handle.recording_started(&call, path);
    handle.recording_finished(link.id);
    handle.call_event(CallEvent::OperationUpdated {
        call: call.clone(),
        op: op.clone(),
        outcome: OperationOutcome {
            status: OperationStatus::Completed,
            completion_reason: Some(CompletionReason::StopToneDetected),
            result_info: Some(ResultInfo {
                code: 200,
                subcode: 0,
                message: "Action completed, stop tone detected.".into(),
            }),
            recording: Some(link.id),
        },
    });
    handle.call_event(CallEvent::Terminated {
        call: call.clone(),
        result_info: ResultInfo {
            code: 200,
            subcode: 0,
            message: "The call ended.".into(),
        },
    });
    wait_for(|| h.webhook.delivered().len() == 3).await;
    let got = h.webhook.delivered();
    let kinds: Vec<(&str, &str)> = got
        .iter()
        .map(|n| {
            let n = &n["value"][0];
            (
                n["changeType"].as_str().unwrap(),
                n["resourceData"]["@odata.type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("updated", "#microsoft.graph.call"),
            ("deleted", "#microsoft.graph.recordOperation"),
            ("deleted", "#microsoft.graph.call"),
        ]
    );
    let n = &got[1];
    assert_eq!(n["@odata.type"], "#microsoft.graph.commsNotifications");
    let n = &n["value"][0];
    assert_eq!(n["@odata.type"], "#microsoft.graph.commsNotification");
    assert_eq!(
        n["resourceUrl"],
        format!("/communications/calls/{call}/operations/{op}")
    );
    let d = &n["resourceData"];
    assert_eq!(d["@odata.id"], n["resourceUrl"]);
    assert_eq!(d["status"], "completed");
    assert_eq!(d["completionReason"], "stopToneDetected");
    assert_eq!(d["clientContext"], "ctx-1");
    assert_eq!(
        d["resultInfo"]["@odata.type"],
        "#microsoft.graph.resultInfo"
    );
    assert_eq!(d["resultInfo"]["code"], 200);
    assert_eq!(d["recordingLocation"], link.location.as_str());
    assert_eq!(d["recordingAccessToken"], link.token.as_str());
    assert_eq!(got[2]["value"][0]["resourceData"]["state"], "terminated");

    // Signed: t=<unix>,v1=hex(hmac(secret, "<t>.<body>")).
    let (url, headers, body) = h.webhook.attempts.lock().unwrap()[1].clone();
    assert_eq!(url, "https://bot.example/cb");
    let sig = &headers
        .iter()
        .find(|(k, _)| k == "x-callclip-signature")
        .unwrap()
        .1;
    let t: u64 = sig
        .split(',')
        .next()
        .unwrap()
        .strip_prefix("t=")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(sig, &api::notify::signature(b"hook-secret", t, &body));

    // GET shows the finished operation; keepAlive on the ended call is 404.
    let r = send(
        &h.state,
        Method::GET,
        &format!("/communications/calls/{call}/operations/{op}"),
        "",
    )
    .await;
    assert_eq!(r.json()["status"], "completed");
    let r = send(
        &h.state,
        Method::POST,
        &format!("/communications/calls/{call}/keepAlive"),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error().0, "8522");
}

#[tokio::test(start_paused = true)]
async fn recordings_and_call_expire_after_retention() {
    let h = harness();
    let call = incoming_call(&h, Some(CallState::Established));
    let handle = h.state.handle();
    let path = h.state.config().recordings_dir.join("r.wav");
    std::fs::write(&path, b"data").unwrap();
    let link = handle.recording_started(&call, path.clone());
    handle.recording_finished(link.id);
    handle.call_event(CallEvent::Terminated {
        call: call.clone(),
        result_info: ResultInfo {
            code: 200,
            subcode: 0,
            message: "bye".into(),
        },
    });
    tokio::time::sleep(h.state.config().recording_retention + Duration::from_secs(1)).await;
    assert!(!path.exists(), "file deleted after retention");
    let auth = format!("Bearer {}", link.token);
    let r = send_raw(
        &h.state,
        Method::GET,
        &format!("/recordings/{}", link.id),
        &[("authorization", &auth)],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(
        &h.state,
        Method::GET,
        &format!("/communications/calls/{call}"),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
