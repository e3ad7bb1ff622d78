//! RTP ports from the configured range: even ports, each call's socket bound once and released
//! when the call task ends.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};

/// Hands out ports round-robin so a just-released port is not reused at once (late packets of
/// the previous call would land in the next one).
#[derive(Clone)]
pub struct PortPool {
    inner: Arc<Mutex<PoolState>>,
}

struct PoolState {
    range: RangeInclusive<u16>,
    next: u16,
    in_use: std::collections::HashSet<u16>,
}

#[derive(Debug, thiserror::Error)]
#[error("no free RTP port in {low}-{high}")]
pub struct PortsExhausted {
    pub low: u16,
    pub high: u16,
}

/// A bound RTP socket and the RTCP socket on the next port up (RFC 3550 §11); the pair goes
/// back to the pool on drop.
pub struct RtpPort {
    pub socket: UdpSocket,
    pub rtcp: UdpSocket,
    pub port: u16,
    pool: PortPool,
}

impl Drop for RtpPort {
    fn drop(&mut self) {
        if let Ok(mut s) = self.pool.inner.lock() {
            s.in_use.remove(&self.port);
        }
    }
}

impl PortPool {
    pub fn new(range: RangeInclusive<u16>) -> PortPool {
        let next = *range.start() + (*range.start() % 2);
        PortPool {
            inner: Arc::new(Mutex::new(PoolState {
                range,
                next,
                in_use: Default::default(),
            })),
        }
    }

    /// Binds the next free even port on `ip`.
    pub fn bind(&self, ip: IpAddr) -> Result<RtpPort, PortsExhausted> {
        let mut s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (low, high) = (*s.range.start(), *s.range.end());
        let count = (usize::from(high - low) / 2) + 1;
        for _ in 0..count {
            let port = s.next;
            s.next = if port.saturating_add(2) > high {
                low + (low % 2)
            } else {
                port + 2
            };
            if port >= high || s.in_use.contains(&port) {
                continue;
            }
            let rtp = UdpSocket::bind(SocketAddr::new(ip, port));
            let rtcp = UdpSocket::bind(SocketAddr::new(ip, port + 1));
            if let (Ok(socket), Ok(rtcp)) = (rtp, rtcp) {
                if socket.set_nonblocking(true).is_ok() && rtcp.set_nonblocking(true).is_ok() {
                    s.in_use.insert(port);
                    return Ok(RtpPort {
                        socket,
                        rtcp,
                        port,
                        pool: self.clone(),
                    });
                }
            }
        }
        Err(PortsExhausted { low, high })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn even_ports_released_on_drop_and_exhaustion_reported() {
        let pool = PortPool::new(41000..=41003);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let a = pool.bind(ip).unwrap();
        let b = pool.bind(ip).unwrap();
        assert_eq!((a.port % 2, b.port % 2), (0, 0));
        assert_ne!(a.port, b.port);
        assert!(pool.bind(ip).is_err());
        drop(a);
        assert!(pool.bind(ip).is_ok());
    }
}
