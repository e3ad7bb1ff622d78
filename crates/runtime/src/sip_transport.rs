//! SIP over UDP and TCP (RFC 3261 §18): one UDP socket and one TCP listener on the same address.
//! Inbound messages are handed to the signaling loop as whole messages; TCP streams are framed by
//! Content-Length with the signaling crate's stream parser. Outbound TCP reuses the connection the
//! peer opened, or opens one.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, Mutex};

/// Largest SIP message accepted over either transport.
pub const MAX_MESSAGE: usize = 65_535;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    Udp,
    Tcp,
}

/// One whole SIP message as it arrived.
#[derive(Debug)]
pub struct Inbound {
    pub proto: Proto,
    pub from: SocketAddr,
    pub bytes: Bytes,
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot bind SIP {proto:?} on {addr}")]
    Bind {
        proto: Proto,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot send SIP to {to}")]
    Send {
        to: SocketAddr,
        source: std::io::Error,
    },
}

/// The SIP sockets. Cheap to clone.
#[derive(Clone)]
pub struct SipTransport {
    udp: Arc<UdpSocket>,
    tcp: Arc<Mutex<HashMap<SocketAddr, mpsc::Sender<Bytes>>>>,
    inbound: mpsc::Sender<Inbound>,
    local: SocketAddr,
}

impl SipTransport {
    /// Binds UDP and TCP on `addr` and starts the readers; messages arrive on the returned channel.
    pub async fn bind(
        addr: SocketAddr,
    ) -> Result<(SipTransport, mpsc::Receiver<Inbound>), TransportError> {
        let udp = UdpSocket::bind(addr)
            .await
            .map_err(|source| TransportError::Bind {
                proto: Proto::Udp,
                addr,
                source,
            })?;
        let local = udp.local_addr().map_err(|source| TransportError::Bind {
            proto: Proto::Udp,
            addr,
            source,
        })?;
        let listener = TcpListener::bind(local)
            .await
            .map_err(|source| TransportError::Bind {
                proto: Proto::Tcp,
                addr: local,
                source,
            })?;
        let (tx, rx) = mpsc::channel(1024);
        let transport = SipTransport {
            udp: Arc::new(udp),
            tcp: Arc::default(),
            inbound: tx,
            local,
        };
        tokio::spawn(transport.clone().udp_reader());
        tokio::spawn(transport.clone().tcp_acceptor(listener));
        Ok((transport, rx))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub async fn send(
        &self,
        proto: Proto,
        to: SocketAddr,
        bytes: Bytes,
    ) -> Result<(), TransportError> {
        match proto {
            Proto::Udp => {
                self.udp
                    .send_to(&bytes, to)
                    .await
                    .map_err(|source| TransportError::Send { to, source })?;
            }
            Proto::Tcp => {
                let existing = self.tcp.lock().await.get(&to).cloned();
                let writer = match existing {
                    Some(w) if !w.is_closed() => w,
                    _ => {
                        let stream = TcpStream::connect(to)
                            .await
                            .map_err(|source| TransportError::Send { to, source })?;
                        self.adopt(stream, to).await
                    }
                };
                if writer.send(bytes).await.is_err() {
                    return Err(TransportError::Send {
                        to,
                        source: std::io::ErrorKind::BrokenPipe.into(),
                    });
                }
            }
        }
        Ok(())
    }

    async fn udp_reader(self) {
        let mut buf = vec![0u8; MAX_MESSAGE];
        loop {
            match self.udp.recv_from(&mut buf).await {
                Ok((n, from)) => {
                    let bytes = Bytes::copy_from_slice(&buf[..n]);
                    // RFC 5626 §3.5.1 keepalives (CRLF) carry no message.
                    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    if self
                        .inbound
                        .send(Inbound {
                            proto: Proto::Udp,
                            from,
                            bytes,
                        })
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) => tracing::debug!(error = %e, "SIP UDP receive error"),
            }
        }
    }

    async fn tcp_acceptor(self, listener: TcpListener) {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    self.adopt(stream, peer).await;
                }
                Err(e) => tracing::warn!(error = %e, "SIP TCP accept error"),
            }
        }
    }

    /// Registers a connection for outbound reuse and starts its reader and writer.
    async fn adopt(&self, stream: TcpStream, peer: SocketAddr) -> mpsc::Sender<Bytes> {
        let (mut rd, mut wr) = stream.into_split();
        let (tx, mut rx) = mpsc::channel::<Bytes>(64);
        self.tcp.lock().await.insert(peer, tx.clone());
        tokio::spawn(async move {
            while let Some(b) = rx.recv().await {
                if wr.write_all(&b).await.is_err() {
                    break;
                }
            }
        });
        let this = self.clone();
        tokio::spawn(async move {
            let mut buf: Vec<u8> = Vec::with_capacity(4096);
            let mut chunk = vec![0u8; 16 * 1024];
            loop {
                let n = match rd.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                if !this.drain_stream(&mut buf, peer).await {
                    break;
                }
            }
            this.tcp.lock().await.remove(&peer);
        });
        tx
    }

    /// Hands every complete message in `buf` to the loop; false closes the connection.
    async fn drain_stream(&self, buf: &mut Vec<u8>, peer: SocketAddr) -> bool {
        loop {
            match signaling::message::parse_stream(buf) {
                Ok(Some((_, used))) if used > 0 => {
                    let used = used.min(buf.len());
                    let bytes = Bytes::copy_from_slice(&buf[..used]);
                    buf.drain(..used);
                    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    if self
                        .inbound
                        .send(Inbound {
                            proto: Proto::Tcp,
                            from: peer,
                            bytes,
                        })
                        .await
                        .is_err()
                    {
                        return false;
                    }
                }
                Ok(_) => return buf.len() <= MAX_MESSAGE,
                Err(e) => {
                    tracing::info!(%peer, error = %e, "closing SIP TCP connection after a framing error");
                    if let Some(reply) = signaling::endpoint::stream_framing_error(buf, &e, peer) {
                        if let Some(w) = self.tcp.lock().await.get(&peer).cloned() {
                            let _ = w.send(Bytes::from(reply)).await;
                        }
                    }
                    return false;
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[tokio::test]
    async fn tcp_message_without_content_length_gets_400_and_framed_messages_arrive_whole() {
        let (t, mut rx) = SipTransport::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let mut s = TcpStream::connect(t.local_addr()).await.unwrap();
        let ok = "OPTIONS sip:bot@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKa\r\n\
                  From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bot@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n\
                  Content-Length: 0\r\n\r\n";
        // Split across writes: framing must wait for the whole message.
        s.write_all(&ok.as_bytes()[..40]).await.unwrap();
        s.flush().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await; // let the first half arrive alone
        s.write_all(&ok.as_bytes()[40..]).await.unwrap();
        let m = tokio::time::timeout(std::time::Duration::from_secs(2), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.proto, Proto::Tcp);
        assert_eq!(&m.bytes[..], ok.as_bytes());
        let bad = ok.replace("Content-Length: 0\r\n", "").replace("c1", "c2");
        s.write_all(bad.as_bytes()).await.unwrap();
        let mut reply = Vec::new();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), s.read_to_end(&mut reply))
            .await;
        let reply = String::from_utf8_lossy(&reply);
        assert!(reply.starts_with("SIP/2.0 400"), "{reply}");
        assert!(reply.contains("Call-ID: c2"), "{reply}");
    }
}
