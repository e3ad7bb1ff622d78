//! The gateway inside another program (`callclip demo`, tools, tests): on loopback with ports
//! the OS picks, stopped through a handle instead of a signal.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::Path;

use tokio::sync::oneshot;

use crate::config::Config;
use crate::gateway::{self, GatewayError, Running};

/// A gateway running in this process. Dropping it starts the shutdown too.
pub struct Embedded {
    running: Running,
    stop: oneshot::Sender<()>,
    public_url: String,
}

/// `config` moved onto 127.0.0.1 with free ports, its recordings, spool and prompts under
/// `dir`, and no registration.
pub fn loopback(mut config: Config, dir: &Path) -> Config {
    let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
    config.sip.listen = SocketAddr::new(lo, 0);
    config.sip.public_address = String::new();
    config.sip.register.registrar = String::new();
    config.api.listen = SocketAddr::new(lo, 0);
    if let Some(port) = free_even_udp_port(lo) {
        // Room for the one call of the demo: its RTP port and the RTCP port above.
        config.rtp.ports = format!("{port}-{}", port + 1);
    }
    config.recordings.dir = dir.join("recordings");
    config.notifications.spool_dir = dir.join("spool");
    config.prompts.dir = dir.join("prompts");
    config
}

/// An even UDP port with its odd neighbour, both unbound right now (RTP on the even port, RTCP
/// on the next, RFC 3550 §11).
fn free_even_udp_port(ip: IpAddr) -> Option<u16> {
    (0..64).find_map(|_| {
        let rtp = UdpSocket::bind(SocketAddr::new(ip, 0)).ok()?;
        let port = rtp.local_addr().ok()?.port();
        if port % 2 != 0 || port == u16::MAX {
            return None;
        }
        UdpSocket::bind(SocketAddr::new(ip, port + 1)).ok()?;
        Some(port)
    })
}

/// Starts the gateway; an API port of 0 is bound first so `api.public_url` can name the real one.
pub async fn start(mut config: Config) -> Result<Embedded, GatewayError> {
    let listener = tokio::net::TcpListener::bind(config.api.listen)
        .await
        .map_err(|source| GatewayError::ApiBind {
            addr: config.api.listen,
            source,
        })?;
    if config.api.listen.port() == 0 {
        let addr = listener
            .local_addr()
            .map_err(|source| GatewayError::ApiBind {
                addr: config.api.listen,
                source,
            })?;
        config.api.public_url = format!("http://{addr}");
    }
    let public_url = config.api.public_url.clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let running = gateway::start(config, listener, shutdown).await?;
    Ok(Embedded {
        running,
        stop,
        public_url,
    })
}

impl Embedded {
    pub fn sip_addr(&self) -> SocketAddr {
        self.running.sip_addr()
    }

    pub fn api_addr(&self) -> SocketAddr {
        self.running.api_addr()
    }

    /// The base URL every API link (recordingLocation, operations) starts with.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Shuts down like SIGTERM does (calls drain, pending notifications get a moment) and waits.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        self.running.stopped().await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[tokio::test]
    async fn starts_on_free_loopback_ports_and_stops() {
        let dir = std::env::temp_dir().join(format!("callclip-embedded-{}", std::process::id()));
        let config = loopback(Config::load(None, |_| None).unwrap(), &dir);
        let gw = start(config).await.unwrap();
        assert!(gw.sip_addr().ip().is_loopback() && gw.sip_addr().port() != 0);
        assert_ne!(gw.api_addr().port(), 0);
        assert_eq!(gw.public_url(), format!("http://{}", gw.api_addr()));
        let health = tokio::net::TcpStream::connect(gw.api_addr()).await;
        assert!(health.is_ok());
        tokio::time::timeout(std::time::Duration::from_secs(10), gw.shutdown())
            .await
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
