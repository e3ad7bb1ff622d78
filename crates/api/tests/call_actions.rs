//! Call actions reach the engine as commands; tones, /events, /openapi.json, /metrics.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

mod common;

use api::{CallEvent, CallState, Command, RejectReason};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use futures_util::StreamExt;
use media::Digit;
use tower::ServiceExt;

fn last_command(h: &Harness) -> Command {
    h.engine.commands.lock().unwrap().last().cloned().unwrap()
}

#[tokio::test]
async fn answer_reject_redirect_are_202_and_reach_the_engine() {
    let h = harness();
    let call = incoming_call(&h, None);
    let r = send(
        &h.state,
        Method::GET,
        &format!("/communications/calls/{call}"),
        "",
    )
    .await;
    let v = r.json();
    assert_eq!(v["@odata.type"], "#microsoft.graph.call");
    assert_eq!(v["state"], "incoming");
    assert_eq!(v["direction"], "incoming");
    assert_eq!(v["callChainId"], "abc@pbx");
    assert_eq!(v["source"]["identity"]["user"]["id"], "sip:alice@pbx");
    assert_eq!(
        v["callRoutes"][0]["final"]["user"]["id"],
        "sip:bot@10.0.0.1"
    );
    assert!(v["resultInfo"].is_null() && v["toneInfo"].is_null());

    let r = send(
        &h.state,
        Method::POST,
        &format!("/communications/calls/{call}/reject"),
        r#"{"reason":"Busy"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(
        last_command(&h),
        Command::Reject {
            call: call.clone(),
            reason: RejectReason::Busy
        }
    );

    let r = send(
        &h.state,
        Method::POST,
        &format!("/communications/calls/{call}/redirect"),
        r#"{"targets":[{"identity":{"user":{"id":"sip:carol@pbx"}}}]}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert!(
        matches!(last_command(&h), Command::Redirect { targets, .. } if targets[0].id == "sip:carol@pbx")
    );

    let r = send(
        &h.state,
        Method::POST,
        &format!("/communications/calls/{call}/answer"),
        r#"{"callbackUri":"https://bot/cb2","acceptedModalities":["audio"],
            "mediaConfig":{"preFetchMedia":[{"uri":"https://p/hello.wav","resourceId":"hello"}]}}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let Command::Answer { media, .. } = last_command(&h) else {
        panic!()
    };
    assert_eq!(media.pre_fetch[0].resource_id.as_deref(), Some("hello"));
    let r = send(
        &h.state,
        Method::GET,
        &format!("/communications/calls/{call}"),
        "",
    )
    .await;
    assert_eq!(r.json()["callbackUri"], "https://bot/cb2");
}

#[tokio::test]
async fn delete_keepalive_play_prompt_cancel() {
    let h = harness();
    let call = incoming_call(&h, Some(CallState::Established));
    let r = send(
        &h.state,
        Method::POST,
        &format!("/communications/calls/{call}/keepAlive"),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = send(
        &h.state,
        Method::POST,
        &format!("/communications/calls/{call}/playPrompt"),
        r##"{"prompts":[{"@odata.type":"#microsoft.graph.mediaPrompt","mediaInfo":{"uri":"https://p/a.wav"}}],"clientContext":"pp"}"##,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["@odata.type"], "#microsoft.graph.playPromptOperation");
    assert!(v["completionReason"].is_null());
    assert!(r.header("location").ends_with(v["id"].as_str().unwrap()));
    let r = send(
        &h.state,
        Method::POST,
        &format!("/communications/calls/{call}/cancelMediaProcessing"),
        "{}",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(
        v["@odata.type"],
        "#microsoft.graph.cancelMediaProcessingOperation"
    );
    assert_eq!(v["status"], "completed");
    assert_eq!(
        last_command(&h),
        Command::CancelMedia { call: call.clone() }
    );
    let r = send(
        &h.state,
        Method::GET,
        &format!(
            "/communications/calls/{call}/operations/{}",
            v["id"].as_str().unwrap()
        ),
        "",
    )
    .await;
    assert_eq!(
        r.json()["@odata.type"],
        "#microsoft.graph.cancelMediaProcessingOperation"
    );
    let r = send(
        &h.state,
        Method::DELETE,
        &format!("/communications/calls/{call}"),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(last_command(&h), Command::Hangup { call });
}

/// Reads SSE frames until `n` notifications were seen.
async fn sse_notifications(h: &Harness, n: usize) -> Vec<serde_json::Value> {
    let req = Request::get("/events")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let resp = api::router(h.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut s = resp.into_body().into_data_stream();
    let mut text = String::new();
    let mut out = Vec::new();
    while out.len() < n {
        let chunk = s.next().await.unwrap().unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = text.find("\n\n") {
            let frame: String = text.drain(..end + 2).collect();
            if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) {
                assert!(frame.contains("event: notification"));
                out.push(serde_json::from_str(data).unwrap());
            }
        }
    }
    out
}

#[tokio::test]
async fn without_a_callback_notifications_stream_at_events_with_tones() {
    let h = harness();
    let call = incoming_call(&h, Some(CallState::Established));
    let handle = h.state.handle();
    // Before subscribeToTone digits are not reported.
    handle.call_event(CallEvent::Tone {
        call: call.clone(),
        digit: Digit::D5,
    });
    let r = send(
        &h.state,
        Method::POST,
        &format!("/communications/calls/{call}/subscribeToTone"),
        r#"{"clientContext":"t"}"#,
    )
    .await;
    assert_eq!(r.json()["status"], "completed");
    assert_eq!(
        r.json()["@odata.type"],
        "#microsoft.graph.subscribeToToneOperation"
    );
    handle.call_event(CallEvent::Tone {
        call: call.clone(),
        digit: Digit::Pound,
    });
    handle.call_event(CallEvent::Tone {
        call: call.clone(),
        digit: Digit::D1,
    });
    let got = sse_notifications(&h, 4).await;
    let n: Vec<&serde_json::Value> = got.iter().map(|v| &v["value"][0]).collect();
    assert_eq!(n[0]["changeType"], "created");
    assert_eq!(n[0]["resourceData"]["state"], "incoming");
    assert_eq!(n[1]["resourceData"]["state"], "established");
    assert_eq!(n[2]["resourceData"]["toneInfo"]["tone"], "pound");
    assert_eq!(n[2]["resourceData"]["toneInfo"]["sequenceId"], 1);
    assert_eq!(n[3]["resourceData"]["toneInfo"]["tone"], "tone1");
    assert_eq!(n[3]["resourceData"]["toneInfo"]["sequenceId"], 2);
    assert_eq!(
        n[3]["resourceData"]["toneInfo"]["@odata.type"],
        "#microsoft.graph.toneInfo"
    );
}

#[tokio::test]
async fn openapi_healthz_metrics() {
    let h = harness();
    incoming_call(&h, Some(CallState::Established));
    h.state.handle().rtp_received(50);
    h.state.handle().rtp_lost(2);
    let r = send_raw(&h.state, Method::GET, "/healthz", &[], vec![]).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = send_raw(&h.state, Method::GET, "/openapi.json", &[], vec![]).await;
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    for p in [
        "/communications/calls/{id}/record",
        "/beta/communications/calls/{id}/recordResponse",
        "/app/calls/{id}/operations/{opId}",
        "/recordings/{recId}",
    ] {
        assert!(doc["paths"][p].is_object(), "{p}");
    }
    let r = send_raw(&h.state, Method::GET, "/metrics", &[], vec![]).await;
    let text = String::from_utf8(r.body).unwrap();
    assert!(
        text.contains("callclip_rtp_packets_received_total 50\n"),
        "{text}"
    );
    assert!(text.contains("callclip_rtp_packets_lost_total 2\n"));
    assert!(text.contains("callclip_calls{state=\"established\"} 1\n"));
    assert!(text.contains("callclip_calls_incoming_total 1\n"));
}

#[tokio::test]
async fn serve_answers_on_a_loopback_listener_and_shuts_down() {
    let h = harness();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(listener, h.state.clone(), async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let r = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .post(format!("http://{addr}/communications/calls/nope/record"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "8522");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
