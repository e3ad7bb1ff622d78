//! Notification delivery: retry with backoff, order per call, give-up, the spool across a
//! restart, and the real HTTP transport against a loopback webhook.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use api::metrics::Metrics;
use api::notify::{HttpTransport, Notifier, Transport};
use common::*;
use tokio::time::Instant;

async fn wait_for(mut done: impl FnMut() -> bool) {
    for _ in 0..5000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("condition not reached");
}

fn spool_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "json")
            })
            .count()
        })
        .unwrap_or(0)
}

fn bodies(w: &FakeWebhook) -> Vec<String> {
    w.delivered()
        .iter()
        .map(|v| v["n"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn failing_webhook_is_retried_with_backoff_until_it_answers_2xx() {
    let cfg = config();
    let _state_dir = remove_on_drop(&cfg);
    let hook = FakeWebhook::failing(4);
    let metrics = Arc::new(Metrics::default());
    let n = Notifier::start(&cfg, hook.clone(), metrics.clone()).unwrap();
    let start = Instant::now();
    n.enqueue("call-1", "https://bot/cb".into(), r#"{"n":"a"}"#.into());
    wait_for(|| hook.delivered().len() == 1).await;
    // 500 ms, 1 s, 2 s, 4 s between the five attempts.
    assert!(
        start.elapsed() >= Duration::from_millis(7500),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(hook.attempts.lock().unwrap().len(), 5);
    assert_eq!(metrics.notification_retries.load(Ordering::Relaxed), 4);
    assert_eq!(metrics.notifications_delivered.load(Ordering::Relaxed), 1);
    wait_for(|| spool_files(&cfg.spool_dir) == 0).await;
}

#[tokio::test(start_paused = true)]
async fn notifications_of_one_call_arrive_in_order_head_of_line() {
    let cfg = config();
    let _state_dir = remove_on_drop(&cfg);
    let hook = FakeWebhook::failing(3);
    let n = Notifier::start(&cfg, hook.clone(), Arc::new(Metrics::default())).unwrap();
    for b in ["1", "2", "3", "4"] {
        n.enqueue(
            "call-1",
            "https://bot/cb".into(),
            format!(r#"{{"n":"{b}"}}"#),
        );
    }
    wait_for(|| hook.delivered().len() == 4).await;
    assert_eq!(bodies(&hook), ["1", "2", "3", "4"]);
    // Nothing after "1" was attempted before "1" got through.
    let attempts = hook.attempts.lock().unwrap();
    let first_four: Vec<&str> = attempts
        .iter()
        .take(4)
        .map(|(_, _, b)| b.as_str())
        .collect();
    assert!(
        first_four.iter().all(|b| b.contains("\"1\"")),
        "{first_four:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_notification_is_dropped_after_the_give_up_time() {
    let mut cfg = config();
    let _state_dir = remove_on_drop(&cfg);
    cfg.notification_give_up = Duration::from_secs(10);
    let hook = FakeWebhook::failing(usize::MAX);
    let metrics = Arc::new(Metrics::default());
    let n = Notifier::start(&cfg, hook.clone(), metrics.clone()).unwrap();
    n.enqueue("c", "https://bot/cb".into(), r#"{"n":"x"}"#.into());
    wait_for(|| metrics.notifications_dropped.load(Ordering::Relaxed) == 1).await;
    wait_for(|| spool_files(&cfg.spool_dir) == 0).await;
    let tries = hook.attempts.lock().unwrap().len();
    assert!((3..=6).contains(&tries), "{tries} attempts in 10 s");
}

#[tokio::test(start_paused = true)]
async fn pending_notifications_survive_a_restart() {
    let cfg = config();
    let _state_dir = remove_on_drop(&cfg);
    let down = FakeWebhook::failing(usize::MAX);
    let first = Notifier::start(&cfg, down.clone(), Arc::new(Metrics::default())).unwrap();
    first.enqueue("c", "https://bot/cb".into(), r#"{"n":"1"}"#.into());
    first.enqueue("c", "https://bot/cb".into(), r#"{"n":"2"}"#.into());
    wait_for(|| spool_files(&cfg.spool_dir) == 2 && !down.attempts.lock().unwrap().is_empty())
        .await;
    first.stop();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let attempts_before = down.attempts.lock().unwrap().len();

    let up = FakeWebhook::failing(0);
    let second = Notifier::start(&cfg, up.clone(), Arc::new(Metrics::default())).unwrap();
    wait_for(|| up.delivered().len() == 2).await;
    assert_eq!(bodies(&up), ["1", "2"]);
    wait_for(|| spool_files(&cfg.spool_dir) == 0).await;
    assert_eq!(
        down.attempts.lock().unwrap().len(),
        attempts_before,
        "stopped notifier is silent"
    );
    // New sequence numbers continue after the loaded ones.
    second.enqueue("c", "https://bot/cb".into(), r#"{"n":"3"}"#.into());
    wait_for(|| up.delivered().len() == 3).await;
}

#[tokio::test]
async fn http_transport_posts_json_to_a_loopback_webhook() {
    use axum::routing::post;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/cb",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let tx = tx.clone();
            async move {
                let ct = headers["content-type"].to_str().unwrap().to_string();
                tx.send((ct, body)).unwrap();
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let t = HttpTransport::new(Duration::from_secs(5)).unwrap();
    let status = t
        .post(
            &format!("http://{addr}/cb"),
            vec![("content-type", "application/json".into())],
            "{}".into(),
        )
        .await;
    assert_eq!(status, Some(202));
    assert_eq!(
        rx.recv().await.unwrap(),
        ("application/json".into(), "{}".into())
    );
    let refused = t.post("http://127.0.0.1:1/cb", vec![], "{}".into()).await;
    assert_eq!(refused, None);
}

#[tokio::test(start_paused = true)]
async fn a_configured_key_puts_a_verifiable_jwt_in_authorization() {
    let mut cfg = config();
    let _state_dir = remove_on_drop(&cfg);
    let hook = FakeWebhook::failing(0);
    let n = Notifier::start(&cfg, hook.clone(), Arc::new(Metrics::default())).unwrap();
    n.enqueue("call-1", "https://bot/cb".into(), r#"{"n":"a"}"#.into());
    wait_for(|| hook.delivered().len() == 1).await;
    let unsigned = hook.attempts.lock().unwrap()[0].1.clone();
    assert!(!unsigned.iter().any(|(k, _)| k == "authorization"));

    cfg.spool_dir = cfg.spool_dir.join("signed");
    cfg.notification_jwt = Some(api::JwtKey::Hs256 {
        secret: b"bot-shared-secret".to_vec(),
    });
    cfg.notification_jwt_audience = Some("bot-app-id".into());
    let hook = FakeWebhook::failing(0);
    let n = Notifier::start(&cfg, hook.clone(), Arc::new(Metrics::default())).unwrap();
    n.enqueue("call-1", "https://bot/cb".into(), r#"{"n":"b"}"#.into());
    wait_for(|| hook.delivered().len() == 1).await;
    let headers = hook.attempts.lock().unwrap()[0].1.clone();
    let auth = headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.clone())
        .expect("Authorization header");
    let token = auth.strip_prefix("Bearer ").unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.set_audience(&["bot-app-id"]);
    v.set_issuer(&[cfg.public_url.as_str()]);
    let key = jsonwebtoken::DecodingKey::from_secret(b"bot-shared-secret");
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &v).unwrap();
}
