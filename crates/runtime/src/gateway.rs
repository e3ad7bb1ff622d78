//! `callclip serve`: binds the sockets, starts the API, the signaling loop and the call tasks,
//! and shuts them down in order on SIGTERM or Ctrl-C.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use signaling::endpoint::{Endpoint, EndpointConfig};
use signaling::message::{Host, Scheme, Uri};
use signaling::timer::TimerConfig;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::Config;
use crate::prompts::{PromptSettings, PromptStore};
use crate::sip_loop::SipLoop;
use crate::sip_transport::SipTransport;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(transparent)]
    Transport(#[from] crate::sip_transport::TransportError),
    #[error("cannot listen for the API on {addr}")]
    ApiBind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("API setup: {0}")]
    Api(#[from] api::Error),
    #[error("cannot create directory {path}")]
    Dir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("sip.public_address {0:?} is not host or host:port")]
    PublicAddress(String),
    #[error("{key}: cannot read {path}")]
    KeyFile {
        key: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// The address peers should use for us: `sip.public_address` or the address the SIP sockets are
/// bound to (the listen address, with the port the OS chose when it was 0).
fn public_host(config: &Config, listen: SocketAddr) -> Result<(Host, u16), GatewayError> {
    let public = config.sip.public_address.trim();
    if public.is_empty() {
        return Ok((ip_host(listen.ip()), listen.port()));
    }
    if let Ok(sa) = public.parse::<SocketAddr>() {
        return Ok((ip_host(sa.ip()), sa.port()));
    }
    let (host, port) = match public.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (
            h,
            p.parse()
                .map_err(|_| GatewayError::PublicAddress(public.into()))?,
        ),
        _ => (public, listen.port()),
    };
    let host = Host::parse(host).map_err(|_| GatewayError::PublicAddress(public.into()))?;
    Ok((host, port))
}

fn ip_host(ip: IpAddr) -> Host {
    match ip {
        IpAddr::V4(v4) => Host::V4(v4),
        IpAddr::V6(v6) => Host::V6(v6),
    }
}

/// A PEM file named by `key`, or `None` when the setting is empty.
fn pem_file(key: &'static str, path: &str) -> Result<Option<String>, GatewayError> {
    if path.is_empty() {
        return Ok(None);
    }
    std::fs::read_to_string(path)
        .map(Some)
        .map_err(|source| GatewayError::KeyFile {
            key,
            path: path.into(),
            source,
        })
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn api_config(config: &Config) -> Result<api::ApiConfig, GatewayError> {
    let mut c = api::ApiConfig::new(
        &config.api.public_url,
        config.notifications.spool_dir.clone(),
        config.recordings.dir.clone(),
    );
    // "sha256:<hex>" entries hold only the digest (validated when the config was loaded).
    c.static_tokens = config
        .api
        .tokens
        .iter()
        .map(|t| {
            t.strip_prefix("sha256:")
                .and_then(api::StaticToken::from_hex)
                .unwrap_or_else(|| api::StaticToken::from_plain(t))
        })
        .collect();
    let a = &config.api;
    if !a.jwt_hs256_secret.is_empty() {
        c.jwt_keys.push(api::JwtKey::Hs256 {
            secret: a.jwt_hs256_secret.clone().into_bytes(),
        });
    }
    if let Some(pem) = pem_file(
        "api.jwt_rs256_public_key_file",
        &a.jwt_rs256_public_key_file,
    )? {
        c.jwt_keys.push(api::JwtKey::Rs256Pem { pem });
    }
    if let Some(pem) = pem_file(
        "api.jwt_es256_public_key_file",
        &a.jwt_es256_public_key_file,
    )? {
        c.jwt_keys.push(api::JwtKey::Es256Pem { pem });
    }
    c.jwt_audience = non_empty(&a.jwt_audience);
    c.default_callback = non_empty(&config.calls.callback_url);
    let n = &config.notifications;
    c.notification_secret = non_empty(&n.secret).map(String::into_bytes);
    c.notification_give_up = Duration::from_secs(n.give_up_seconds);
    c.notification_backoff_max = Duration::from_secs(n.backoff_max_seconds.max(1));
    c.notification_jwt = match pem_file(
        "notifications.jwt_private_key_file",
        &n.jwt_private_key_file,
    )? {
        Some(pem) => Some(api::notify_jwt::private_key_from_pem(pem)),
        None => non_empty(&n.jwt_hs256_secret).map(|s| api::JwtKey::Hs256 {
            secret: s.into_bytes(),
        }),
    };
    c.notification_jwt_audience = non_empty(&n.jwt_audience);
    c.recording_retention = Duration::from_secs(config.recordings.retention_seconds);
    c.max_seconds = config.api.max_seconds;
    Ok(c)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub async fn serve(config: Config) -> Result<(), GatewayError> {
    let listener = tokio::net::TcpListener::bind(config.api.listen)
        .await
        .map_err(|source| GatewayError::ApiBind {
            addr: config.api.listen,
            source,
        })?;
    start(config, listener, shutdown_signal())
        .await?
        .stopped()
        .await;
    Ok(())
}

/// A started gateway: where it listens, and the task that runs it until its shutdown future
/// resolves and every call has drained.
pub struct Running {
    sip: SocketAddr,
    api: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// The bound SIP address (UDP and TCP).
    pub fn sip_addr(&self) -> SocketAddr {
        self.sip
    }

    /// The bound API address.
    pub fn api_addr(&self) -> SocketAddr {
        self.api
    }

    /// Waits until the gateway has shut down.
    pub async fn stopped(self) {
        if let Err(e) = self.task.await {
            warn!(error = %e, "the gateway task failed");
        }
    }
}

/// Starts the gateway with the API on `listener` and the SIP sockets on `config.sip.listen`
/// (port 0: one the OS picks); it runs until `shutdown` resolves.
pub async fn start(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Running, GatewayError> {
    let api_addr = listener
        .local_addr()
        .map_err(|source| GatewayError::ApiBind {
            addr: config.api.listen,
            source,
        })?;
    let config = Arc::new(config);
    for dir in [&config.recordings.dir, &config.notifications.spool_dir] {
        std::fs::create_dir_all(dir).map_err(|source| GatewayError::Dir {
            path: dir.clone(),
            source,
        })?;
    }
    match crate::recording_file::repair_dir(&config.recordings.dir) {
        Ok(fixed) => {
            for r in fixed {
                warn!(?r, "repaired a recording left behind by an earlier run");
            }
        }
        Err(e) => warn!(error = %e, "cannot check recordings for repair"),
    }
    let clock = Clock::new();
    let (engine, engine_rx) = api::channel(1024);
    let state = api::AppState::new(api_config(&config)?, Arc::new(engine))?;
    let handle = state.handle();
    let (transport, sip_rx) = SipTransport::bind(config.sip.listen).await?;
    let (host, port) = public_host(&config, transport.local_addr())?;
    let media_ip = match &host {
        Host::V4(v4) if !v4.is_unspecified() => IpAddr::V4(*v4),
        Host::V6(v6) if !v6.is_unspecified() => IpAddr::V6(*v6),
        _ => config.sip.listen.ip(),
    };
    let mut ep = EndpointConfig::new(transport.local_addr());
    ep.host = host.clone();
    ep.port = port;
    ep.contact = Uri {
        scheme: Scheme::Sip,
        user: Some("callclip".into()),
        password: None,
        host,
        port: Some(port),
        params: Vec::new(),
        headers: Vec::new(),
    };
    ep.user_agent = config.sip.user_agent.clone();
    ep.ring = config.sip.ring;
    // The registration credentials also answer 401/407 challenges to our own INVITEs.
    let reg = &config.sip.register;
    if !reg.username.is_empty() {
        ep.credentials = Some(signaling::endpoint::Credentials {
            username: reg.username.clone(),
            password: reg.password.clone(),
        });
    }
    ep.seed = std::process::id() as u64
        ^ (clock.now().as_nanos() as u64).rotate_left(17)
        ^ 0x9e37_79b9_7f4a_7c15;
    ep.timers = TimerConfig {
        t1: Duration::from_millis(config.sip.t1_ms),
        t2: Duration::from_millis(config.sip.t2_ms),
        t4: Duration::from_millis(config.sip.t4_ms),
    };
    let prompts = PromptStore::new(PromptSettings {
        dir: config.prompts.dir.clone(),
        allow_http: config.prompts.allow_http,
        max_bytes: config.prompts.max_bytes,
        allowed_hosts: config.prompts.allowed_hosts.clone(),
        timeout: Duration::from_secs(config.prompts.fetch_timeout_seconds),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let api_stop = {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|v| *v).await;
        }
    };
    let api_task = tokio::spawn(api::serve(listener, state, api_stop));
    let sip_loop = SipLoop::new(
        clock,
        Endpoint::new(ep),
        transport.clone(),
        config.clone(),
        handle,
        prompts,
        media_ip,
    );
    let loop_stop = {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = tx.send(true);
        });
        rx
    };
    let sip_addr = transport.local_addr();
    info!(sip = %sip_addr, api = %api_addr, public_url = %config.api.public_url, mode = ?config.calls.incoming_mode, "callclip ready");
    let task = tokio::spawn(async move {
        sip_loop.run(sip_rx, engine_rx, loop_stop).await;
        // Give the last notifications a moment to leave; whatever is left stays in the spool.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = stop_tx.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), api_task).await;
        info!("callclip stopped");
    });
    Ok(Running {
        sip: sip_addr,
        api: api_addr,
        task,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    fn config(env: &[(&str, &str)]) -> Config {
        let map: std::collections::HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load(None, |k| map.get(k).cloned()).unwrap()
    }

    fn authenticator(c: &api::ApiConfig) -> api::auth::Authenticator {
        api::auth::Authenticator::new(c).unwrap()
    }

    #[test]
    fn hashed_static_tokens_and_jwt_keys_reach_the_api() {
        let digest = api::auth::sha256(b"s3cret");
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let tokens = format!("sha256:{hex},plain-token");
        let c = api_config(&config(&[
            ("CALLCLIP_API_TOKENS", &tokens),
            ("CALLCLIP_API_JWT_HS256_SECRET", "k"),
            ("CALLCLIP_API_JWT_AUDIENCE", "callclip"),
        ]))
        .unwrap();
        let a = authenticator(&c);
        assert!(
            a.check("s3cret").is_ok(),
            "the hashed entry opens with its token"
        );
        assert!(a.check("plain-token").is_ok());
        assert!(a.check(&format!("sha256:{hex}")).is_err());
        assert_eq!(
            c.jwt_keys,
            vec![api::JwtKey::Hs256 {
                secret: b"k".to_vec()
            }]
        );
        assert_eq!(c.jwt_audience.as_deref(), Some("callclip"));
    }

    #[test]
    fn notification_settings_reach_the_api() {
        let c = api_config(&config(&[
            ("CALLCLIP_NOTIFICATIONS_BACKOFF_MAX_SECONDS", "5"),
            ("CALLCLIP_NOTIFICATIONS_JWT_HS256_SECRET", "bot"),
            ("CALLCLIP_NOTIFICATIONS_JWT_AUDIENCE", "app-id"),
        ]))
        .unwrap();
        assert_eq!(c.notification_backoff_max, Duration::from_secs(5));
        assert_eq!(
            c.notification_jwt,
            Some(api::JwtKey::Hs256 {
                secret: b"bot".to_vec()
            })
        );
        assert_eq!(c.notification_jwt_audience.as_deref(), Some("app-id"));
        let off = api_config(&config(&[])).unwrap();
        assert!(off.notification_jwt.is_none() && off.jwt_keys.is_empty());
    }

    #[test]
    fn a_missing_key_file_names_its_setting() {
        let err = api_config(&config(&[(
            "CALLCLIP_NOTIFICATIONS_JWT_PRIVATE_KEY_FILE",
            "/nonexistent/key.pem",
        )]))
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("notifications.jwt_private_key_file"),
            "{err}"
        );
    }
}
