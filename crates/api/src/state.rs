//! Everything a request handler or the engine's [`crate::ApiHandle`] reaches.

use std::sync::{Arc, Mutex, MutexGuard};

use recorder::params::Limits;

use crate::auth::Authenticator;
use crate::config::ApiConfig;
use crate::engine::{CallId, Engine};
use crate::error::Error;
use crate::events::EventRing;
use crate::handle::ApiHandle;
use crate::metrics::Metrics;
use crate::notify::{HttpTransport, Notifier, Transport};
use crate::recordings::Recordings;
use crate::store::Store;

struct Inner {
    config: ApiConfig,
    limits: Limits,
    engine: Arc<dyn Engine>,
    auth: Authenticator,
    store: Mutex<Store>,
    recordings: Arc<Recordings>,
    notifier: Notifier,
    events: EventRing,
    metrics: Arc<Metrics>,
    runtime: tokio::runtime::Handle,
    in_flight: Arc<tokio::sync::Semaphore>,
}

/// Shared state of one API instance; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl AppState {
    /// Builds the state with the HTTPS notification transport. Must run inside a tokio runtime:
    /// it resumes the notification spool.
    pub fn new(config: ApiConfig, engine: Arc<dyn Engine>) -> Result<AppState, Error> {
        let transport =
            HttpTransport::new(config.notification_timeout).ok_or(Error::InvalidConfig {
                what: "HTTP client (TLS roots)",
            })?;
        AppState::with_transport(config, engine, Arc::new(transport))
    }

    /// As [`AppState::new`] with another way to POST notifications (tests, proxies).
    pub fn with_transport(
        config: ApiConfig,
        engine: Arc<dyn Engine>,
        transport: Arc<dyn Transport>,
    ) -> Result<AppState, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::InvalidConfig {
            what: "no tokio runtime (build the state inside one)",
        })?;
        let metrics = Arc::new(Metrics::default());
        let notifier = Notifier::start(&config, transport, metrics.clone())?;
        std::fs::create_dir_all(&config.recordings_dir).map_err(|_| Error::InvalidConfig {
            what: "recordings directory",
        })?;
        let (recordings, due) = Recordings::load(
            &config.public_url,
            &config.recordings_dir,
            config.recording_retention,
            crate::clock::unix_seconds(),
        )
        .map_err(|_| Error::InvalidConfig {
            what: "recordings directory",
        })?;
        let recordings = Arc::new(recordings);
        for (id, after) in due {
            // Weak: a dropped instance leaves its files to the next start, which finds them due.
            let r = Arc::downgrade(&recordings);
            runtime.spawn(async move {
                tokio::time::sleep(after).await;
                if let Some(r) = r.upgrade() {
                    let _ = tokio::task::spawn_blocking(move || r.expire(id)).await;
                }
            });
        }
        Ok(AppState {
            inner: Arc::new(Inner {
                limits: Limits {
                    max_seconds: config.max_seconds,
                },
                auth: Authenticator::new(&config)?,
                recordings,
                events: EventRing::new(config.events_ring),
                store: Mutex::new(Store::default()),
                runtime,
                in_flight: Arc::new(tokio::sync::Semaphore::new(config.max_in_flight)),
                engine,
                notifier,
                metrics,
                config,
            }),
        })
    }

    /// The handle the engine reports through.
    pub fn handle(&self) -> ApiHandle {
        ApiHandle::new(self.clone())
    }

    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub fn notifier(&self) -> &Notifier {
        &self.inner.notifier
    }

    pub(crate) fn limits(&self) -> Limits {
        self.inner.limits
    }

    pub(crate) fn engine(&self) -> &dyn Engine {
        self.inner.engine.as_ref()
    }

    pub(crate) fn auth(&self) -> &Authenticator {
        &self.inner.auth
    }

    pub(crate) fn recordings(&self) -> &Recordings {
        &self.inner.recordings
    }

    pub(crate) fn events(&self) -> &EventRing {
        &self.inner.events
    }

    pub(crate) fn runtime(&self) -> &tokio::runtime::Handle {
        &self.inner.runtime
    }

    /// A slot for one API request, or `429` when all are taken.
    pub(crate) fn admit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Error> {
        self.inner
            .in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::TooManyRequests)
    }

    /// The store lock is never held across an `.await`.
    pub(crate) fn store(&self) -> Result<MutexGuard<'_, Store>, Error> {
        self.inner.store.lock().map_err(|_| Error::Internal {
            reason: "call store poisoned",
        })
    }

    /// Sends to the call's callback (or the default one), else to the `/events` stream.
    pub(crate) fn notify(&self, call: &CallId, callback: Option<String>, body: String) {
        match callback.or_else(|| self.inner.config.default_callback.clone()) {
            Some(url) => self.inner.notifier.enqueue(&call.0, url, body),
            None => self.inner.events.publish(body),
        }
    }
}
