//! Recording downloads: the per-recording token, Range requests, DELETE, live streaming.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

mod common;

use api::{CallState, RecordingLink};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use futures_util::StreamExt;
use tower::ServiceExt;

fn recording(h: &Harness, name: &str, data: &[u8], finished: bool) -> RecordingLink {
    let call = incoming_call(h, Some(CallState::Established));
    let path = h.state.config().recordings_dir.join(name);
    std::fs::write(&path, data).unwrap();
    let handle = h.state.handle();
    let link = handle.recording_started(&call, path);
    if finished {
        handle.recording_finished(link.id);
    }
    link
}

async fn get(h: &Harness, link: &RecordingLink, token: &str, range: Option<&str>) -> Reply {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("authorization", auth.as_str())];
    if let Some(r) = range {
        headers.push(("range", r));
    }
    send_raw(
        &h.state,
        Method::GET,
        &format!("/recordings/{}", link.id),
        &headers,
        vec![],
    )
    .await
}

#[tokio::test]
async fn download_whole_and_ranges() {
    let h = harness();
    let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let link = recording(&h, "a.wav", &data, true);
    let r = get(&h, &link, &link.token, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), "application/octet-stream");
    assert_eq!(r.header("accept-ranges"), "bytes");
    assert_eq!(r.body, data);
    let r = get(&h, &link, &link.token, Some("bytes=10-19")).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.header("content-range"), "bytes 10-19/1000");
    assert_eq!(r.body, &data[10..20]);
    let r = get(&h, &link, &link.token, Some("bytes=-5")).await;
    assert_eq!(r.body, &data[995..]);
    let r = get(&h, &link, &link.token, Some("bytes=1000-")).await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(r.header("content-range"), "bytes */1000");
    r.error();
}

#[tokio::test]
async fn a_token_opens_only_its_recording_and_delete_makes_it_404() {
    let h = harness();
    let a = recording(&h, "a.wav", b"aaaa", true);
    let b = recording(&h, "b.wav", b"bbbb", true);
    let r = get(&h, &a, &b.token, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error().0, "unauthenticated");
    let r = get(&h, &a, TOKEN, None).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "API tokens do not open recordings"
    );
    let auth = format!("Bearer {}", a.token);
    let uri = format!("/recordings/{}", a.id);
    let r = send_raw(
        &h.state,
        Method::DELETE,
        &uri,
        &[("authorization", &auth)],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = get(&h, &a, &a.token, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error().0, "itemNotFound");
    let r = send_raw(
        &h.state,
        Method::DELETE,
        &uri,
        &[("authorization", &auth)],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&h, &b, &b.token, None).await.body, b"bbbb");
    let r = send_raw(
        &h.state,
        Method::GET,
        "/recordings/..%2F..%2Fetc%2Fpasswd",
        &[("authorization", &auth)],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(start_paused = true)]
async fn a_growing_recording_streams_until_finished() {
    let h = harness();
    let link = recording(&h, "live.wav", b"head-", false);
    let path = h.state.config().recordings_dir.join("live.wav");
    let auth = format!("Bearer {}", link.token);
    let req = Request::get(format!("/recordings/{}", link.id))
        .header("authorization", auth)
        .body(Body::empty())
        .unwrap();
    let resp = api::router(h.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let reader = tokio::spawn(async move {
        let mut out = Vec::new();
        let mut s = resp.into_body().into_data_stream();
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        out
    });
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"middle-").unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    f.write_all(b"tail").unwrap();
    h.state.handle().recording_finished(link.id);
    assert_eq!(reader.await.unwrap(), b"head-middle-tail");
}

/// Runs `f` on a runtime of its own, dropped afterwards as a process exits: the timers it armed
/// die with it, what it wrote to disk stays.
fn process<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(f)
}

/// An instance whose directories outlive it (the harness's drop removes them), for a restart.
fn instance(cfg: &api::ApiConfig) -> std::mem::ManuallyDrop<Harness> {
    std::mem::ManuallyDrop::new(harness_with(cfg.clone(), FakeWebhook::failing(0)))
}

#[test]
fn a_recording_still_downloads_with_its_token_after_a_restart() {
    let cfg = config();
    let _state_dir = remove_on_drop(&cfg);
    let (a, b) = process(async {
        let h = instance(&cfg);
        // `b` was still being written when the process stopped.
        (
            recording(&h, "a.wav", b"aaaa", true),
            recording(&h, "b.wav", b"bbbb", false),
        )
    });
    process(async {
        let h = instance(&cfg);
        let r = get(&h, &a, &a.token, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, b"aaaa");
        let r = get(&h, &b, &b.token, Some("bytes=1-2")).await;
        assert_eq!(
            r.status,
            StatusCode::PARTIAL_CONTENT,
            "complete after a restart"
        );
        assert_eq!(r.body, b"bb");
        assert_eq!(
            get(&h, &a, &b.token, None).await.status,
            StatusCode::UNAUTHORIZED
        );
        let r = send_raw(
            &h.state,
            Method::DELETE,
            &format!("/recordings/{}", a.id),
            &[("authorization", &format!("Bearer {}", a.token))],
            vec![],
        )
        .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
    });
    process(async {
        let h = harness_with(cfg.clone(), FakeWebhook::failing(0));
        assert_eq!(
            get(&h, &a, &a.token, None).await.status,
            StatusCode::NOT_FOUND,
            "a deleted recording stays deleted"
        );
        assert_eq!(get(&h, &b, &b.token, None).await.body, b"bbbb");
    });
}

#[test]
fn retention_still_deletes_a_recording_after_a_restart() {
    let cfg = config();
    let _state_dir = remove_on_drop(&cfg);
    let path = cfg.recordings_dir.join("r.wav");
    let link = process(async {
        let h = instance(&cfg);
        let call = incoming_call(&h, Some(CallState::Established));
        std::fs::write(&path, b"data").unwrap();
        let handle = h.state.handle();
        let link = handle.recording_started(&call, path.clone());
        handle.recording_finished(link.id);
        handle.call_event(api::CallEvent::Terminated {
            call,
            result_info: api::ResultInfo {
                code: 200,
                subcode: 0,
                message: "bye".into(),
            },
        });
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        link
    });
    assert!(path.exists());
    process(async {
        let h = harness_with(cfg.clone(), FakeWebhook::failing(0));
        assert_eq!(
            get(&h, &link, &link.token, None).await.status,
            StatusCode::OK
        );
        tokio::time::sleep(cfg.recording_retention + std::time::Duration::from_secs(1)).await;
        assert!(!path.exists(), "deleted on time by the new instance");
        assert_eq!(
            get(&h, &link, &link.token, None).await.status,
            StatusCode::NOT_FOUND
        );
    });
}
