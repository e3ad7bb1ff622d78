//! Delivery of commsNotifications to a call's callbackUri: one queue per call (head-of-line, so
//! a call's notifications arrive in order), retried with exponential backoff until the give-up
//! time, signed with `X-Callclip-Signature` when a secret is set and carrying a JWT in
//! `Authorization` when a key is (`notify_jwt`).
//!
//! Each notification is written to the on-disk spool while its first attempt is already on the
//! way: the write's two fsyncs never delay a delivery. The spool file is removed once the
//! notification is delivered or given up (after its write finished); what is pending at a
//! restart is resumed from it. The runtime waits for outstanding writes when it shuts down.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::clock;
use crate::config::ApiConfig;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::notify_jwt::NotificationSigner;
use crate::spool::{Pending, Spool};

pub const SIGNATURE_HEADER: &str = "x-callclip-signature";

/// The commsNotifications body with one notification.
pub fn body(change_type: &str, resource_url: &str, resource_data: Value) -> String {
    json!({
        "@odata.type": "#microsoft.graph.commsNotifications",
        "value": [{
            "@odata.type": "#microsoft.graph.commsNotification",
            "changeType": change_type,
            "resourceUrl": resource_url,
            "resourceData": resource_data,
        }]
    })
    .to_string()
}

/// `t=<unix>,v1=<hex hmac-sha256(secret, "<t>.<body>")>`.
pub fn signature(secret: &[u8], unix: u64, body: &str) -> String {
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        // HMAC accepts keys of any length; this arm is unreachable.
        Err(_) => return String::new(),
    };
    mac.update(format!("{unix}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={unix},v1={hex}")
}

/// Sends one POST; `None` when no HTTP status came back (refused, reset, timeout).
pub type PostFuture = Pin<Box<dyn Future<Output = Option<u16>> + Send>>;

pub trait Transport: Send + Sync + 'static {
    fn post(&self, url: &str, headers: Vec<(&'static str, String)>, body: String) -> PostFuture;
}

/// The production transport: reqwest with rustls, no redirects followed.
pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    pub fn new(timeout: Duration) -> Option<HttpTransport> {
        reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .ok()
            .map(|client| HttpTransport { client })
    }
}

impl Transport for HttpTransport {
    fn post(&self, url: &str, headers: Vec<(&'static str, String)>, body: String) -> PostFuture {
        let mut req = self.client.post(url).body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        Box::pin(async move { req.send().await.ok().map(|r| r.status().as_u16()) })
    }
}

struct Item {
    pending: Pending,
    deadline: Instant,
    /// The spool write still in flight for this item (none when it was loaded from the spool).
    write: Option<SpoolWrite>,
}

struct SpoolWrite {
    done: tokio::task::JoinHandle<()>,
    /// Set once the item is finished with: a write that has not begun by then is skipped.
    finished: Arc<AtomicBool>,
}

struct Inner {
    spool: Spool,
    transport: Arc<dyn Transport>,
    secret: Option<Vec<u8>>,
    signer: Option<NotificationSigner>,
    give_up: Duration,
    backoff: Duration,
    backoff_max: Duration,
    attempt_timeout: Duration,
    metrics: Arc<Metrics>,
    next_seq: AtomicU64,
    runtime: tokio::runtime::Handle,
    queues: Mutex<HashMap<String, mpsc::UnboundedSender<Item>>>,
    stop: watch::Sender<bool>,
}

/// Cheap to clone; every clone feeds the same queues.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

impl Notifier {
    /// Opens the spool and resumes what it holds. Must run inside a tokio runtime.
    pub fn start(
        config: &ApiConfig,
        transport: Arc<dyn Transport>,
        metrics: Arc<Metrics>,
    ) -> Result<Notifier, Error> {
        let signer = config
            .notification_jwt
            .as_ref()
            .map(|key| {
                NotificationSigner::new(
                    key,
                    &config.public_url,
                    config.notification_jwt_audience.as_deref(),
                )
            })
            .transpose()?;
        let (spool, loaded) = Spool::open(&config.spool_dir).map_err(|e| {
            tracing::error!(dir = %config.spool_dir.display(), error = %e, "notification spool");
            Error::InvalidConfig {
                what: "notification spool directory",
            }
        })?;
        let next = loaded.last().map(|p| p.seq.saturating_add(1)).unwrap_or(1);
        let notifier = Notifier {
            inner: Arc::new(Inner {
                spool,
                transport,
                secret: config.notification_secret.clone(),
                signer,
                give_up: config.notification_give_up,
                backoff: config.notification_backoff,
                backoff_max: config.notification_backoff_max,
                attempt_timeout: config.notification_timeout,
                metrics,
                next_seq: AtomicU64::new(next),
                runtime: tokio::runtime::Handle::current(),
                queues: Mutex::new(HashMap::new()),
                stop: watch::channel(false).0,
            }),
        };
        let now_unix = clock::unix_seconds();
        for p in loaded {
            let age = Duration::from_secs(now_unix.saturating_sub(p.created_unix));
            let deadline = Instant::now() + notifier.inner.give_up.saturating_sub(age);
            notifier.dispatch(Item {
                pending: p,
                deadline,
                write: None,
            });
        }
        Ok(notifier)
    }

    /// Queues a notification for `call`: the first attempt starts at once, the spool write
    /// beside it. After `stop` it is only spooled, for the next start.
    pub fn enqueue(&self, call: &str, url: String, body: String) {
        let p = Pending {
            seq: self.inner.next_seq.fetch_add(1, Ordering::Relaxed),
            call: call.to_string(),
            url,
            created_unix: clock::unix_seconds(),
            body,
        };
        let finished = Arc::new(AtomicBool::new(false));
        let (spool, copy, skip) = (self.inner.spool.clone(), p.clone(), finished.clone());
        let done = self.inner.runtime.spawn_blocking(move || {
            if skip.load(Ordering::Acquire) {
                return;
            }
            if let Err(e) = spool.write(&copy) {
                tracing::warn!(seq = copy.seq, error = %e, "notification not spooled; delivering anyway");
            }
        });
        if *self.inner.stop.borrow() {
            return;
        }
        let deadline = Instant::now() + self.inner.give_up;
        self.dispatch(Item {
            pending: p,
            deadline,
            write: Some(SpoolWrite { done, finished }),
        });
    }

    /// Stops delivering; what is still pending stays in the spool for the next start.
    pub fn stop(&self) {
        self.inner.stop.send_replace(true);
    }

    fn dispatch(&self, item: Item) {
        let Ok(mut queues) = self.inner.queues.lock() else {
            return;
        };
        let call = item.pending.call.clone();
        let item = match queues.get(&call) {
            Some(tx) => match tx.send(item) {
                Ok(()) => return,
                Err(mpsc::error::SendError(item)) => item,
            },
            None => item,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        // The receiver is alive: it was created on the line above.
        let _ = tx.send(item);
        queues.insert(call.clone(), tx);
        let n = self.clone();
        tokio::spawn(async move { n.run_queue(call, rx).await });
    }

    /// One call's queue: strictly one notification at a time, in sequence order.
    async fn run_queue(self, call: String, mut rx: mpsc::UnboundedReceiver<Item>) {
        loop {
            let item = match rx.try_recv() {
                Ok(item) => item,
                Err(_) => {
                    // Senders only send while holding this lock, so an empty queue seen under
                    // it stays empty until the entry is gone.
                    let Ok(mut queues) = self.inner.queues.lock() else {
                        return;
                    };
                    match rx.try_recv() {
                        Ok(item) => item,
                        Err(_) => {
                            queues.remove(&call);
                            return;
                        }
                    }
                }
            };
            if !self.deliver(item).await {
                return;
            }
        }
    }

    /// Returns false when stopped (the item stays spooled).
    async fn deliver(&self, item: Item) -> bool {
        let inner = &self.inner;
        let mut stop = inner.stop.subscribe();
        let mut delay = inner.backoff;
        let p = &item.pending;
        loop {
            if *stop.borrow() {
                return false;
            }
            let mut headers = vec![("content-type", "application/json".to_string())];
            let now_unix = clock::unix_seconds();
            if let Some(secret) = &inner.secret {
                headers.push((SIGNATURE_HEADER, signature(secret, now_unix, &p.body)));
            }
            if let Some(token) = inner.signer.as_ref().and_then(|s| s.token(now_unix)) {
                headers.push(("authorization", format!("Bearer {token}")));
            }
            let attempt = tokio::time::timeout(
                inner.attempt_timeout,
                inner.transport.post(&p.url, headers, p.body.clone()),
            );
            let status = tokio::select! {
                r = attempt => r.ok().flatten(),
                _ = stop.changed() => return false,
            };
            if status.is_some_and(|s| (200..300).contains(&s)) {
                Metrics::add(&inner.metrics.notifications_delivered, 1);
                self.forget(item);
                return true;
            }
            if Instant::now() + delay > item.deadline {
                tracing::warn!(seq = p.seq, call = %p.call, "notification given up");
                Metrics::add(&inner.metrics.notifications_dropped, 1);
                self.forget(item);
                return true;
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {},
                _ = stop.changed() => return false,
            }
            Metrics::add(&inner.metrics.notification_retries, 1);
            delay = delay.saturating_mul(2).min(inner.backoff_max);
        }
    }

    /// Removes the item's spool file, once its write (if still running) is done.
    fn forget(&self, item: Item) {
        let spool = self.inner.spool.clone();
        let seq = item.pending.seq;
        let write = item.write;
        tokio::spawn(async move {
            if let Some(w) = write {
                w.finished.store(true, Ordering::Release);
                let _ = w.done.await;
            }
            let removed = tokio::task::spawn_blocking(move || spool.remove(seq)).await;
            if !matches!(removed, Ok(Ok(()))) {
                tracing::warn!(seq, "spool file not removed");
            }
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_vector() {
        // HMAC-SHA256("key", "1.{}") computed independently (Python's hmac module).
        assert_eq!(
            signature(b"key", 1, "{}"),
            "t=1,v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }

    #[test]
    fn body_has_graph_shape() {
        let v: Value = serde_json::from_str(&body("deleted", "/x", json!({"id": "1"}))).unwrap();
        assert_eq!(v["@odata.type"], "#microsoft.graph.commsNotifications");
        assert_eq!(
            v["value"][0]["@odata.type"],
            "#microsoft.graph.commsNotification"
        );
        assert_eq!(v["value"][0]["changeType"], "deleted");
        assert_eq!(v["value"][0]["resourceUrl"], "/x");
    }
}
