//! The demo's bot end: an HTTP/1.1 listener on loopback that takes the gateway's notification
//! POSTs (keep-alive, Content-Length bodies) and hands their bodies over in arrival order.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Largest header block and body accepted; notifications are a few hundred bytes.
const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 1024 * 1024;

pub struct Webhook {
    pub url: String,
    pub bodies: mpsc::UnboundedReceiver<String>,
}

/// Listens on 127.0.0.1 with a port the OS picks; the task ends with the runtime.
pub async fn start() -> anyhow::Result<Webhook> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .context("webhook listener")?;
    let addr: SocketAddr = listener.local_addr().context("webhook listener")?;
    let (tx, bodies) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(connection(stream, tx.clone()));
        }
    });
    Ok(Webhook {
        url: format!("http://{addr}/callback"),
        bodies,
    })
}

/// Serves one connection until the peer closes it or sends something that is not a request.
async fn connection(mut stream: TcpStream, tx: mpsc::UnboundedSender<String>) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let Some(head_len) = read_until_head(&mut stream, &mut buf).await else {
            return;
        };
        let head = String::from_utf8_lossy(buf.get(..head_len).unwrap_or_default()).into_owned();
        let length = content_length(&head).unwrap_or(0);
        if length > MAX_BODY {
            return;
        }
        let total = head_len + length;
        while buf.len() < total {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            }
        }
        let body = String::from_utf8_lossy(buf.get(head_len..total).unwrap_or_default());
        if head.starts_with("POST ") {
            let _ = tx.send(body.into_owned());
        }
        buf.drain(..total);
        let reply = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";
        if stream.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// Reads until `buf` holds a whole header block; returns its length including the blank line.
async fn read_until_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<usize> {
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(i + 4);
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
}

fn content_length(head: &str) -> Option<usize> {
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[tokio::test]
    async fn keep_alive_posts_arrive_in_order() {
        let mut hook = start().await.unwrap();
        let addr = hook
            .url
            .trim_start_matches("http://")
            .trim_end_matches("/callback");
        let mut s = TcpStream::connect(addr).await.unwrap();
        for body in ["{\"a\":1}", "{\"b\":2}"] {
            let req = format!(
                "POST /callback HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            s.write_all(req.as_bytes()).await.unwrap();
            let mut reply = [0u8; 64];
            let n = s.read(&mut reply).await.unwrap();
            assert!(reply[..n].starts_with(b"HTTP/1.1 204"));
        }
        assert_eq!(hook.bodies.recv().await.unwrap(), "{\"a\":1}");
        assert_eq!(hook.bodies.recv().await.unwrap(), "{\"b\":2}");
    }
}
