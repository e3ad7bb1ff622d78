//! A minimal HTTP/1.1 client and webhook receiver for the end-to-end tests (std only, one
//! request per connection), so the tests talk to the gateway exactly as a bot would.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request; `token` becomes `Authorization: Bearer`.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Response {
    let mut s = TcpStream::connect(addr).expect("connect to the API");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("send request");
    read_response(s)
}

fn read_response(s: TcpStream) -> Response {
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (headers, len, chunked) = read_headers(&mut r);
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            if r.read_line(&mut size).unwrap_or(0) == 0 {
                break;
            }
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).expect("chunk");
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = len {
        body.resize(n, 0);
        r.read_exact(&mut body).expect("body");
    } else {
        r.read_to_end(&mut body).ok();
    }
    Response {
        status,
        headers,
        body,
    }
}

fn read_headers(r: &mut impl BufRead) -> (Vec<(String, String)>, Option<usize>, bool) {
    let mut headers = Vec::new();
    let (mut len, mut chunked) = (None, false);
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            if k.eq_ignore_ascii_case("content-length") {
                len = v.parse().ok();
            }
            if k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked") {
                chunked = true;
            }
            headers.push((k, v));
        }
    }
    (headers, len, chunked)
}

/// One notification POST as received: its headers and JSON body.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
    /// When the body had been read, before the answer went out (latency benches use it).
    pub at: Instant,
}

/// A webhook receiver on 127.0.0.1: every POST is answered `status` (200 by default) and handed
/// to the test through a channel.
pub struct Webhook {
    pub addr: SocketAddr,
    pub rx: mpsc::Receiver<Delivery>,
}

impl Webhook {
    pub fn start() -> Webhook {
        Self::start_on(TcpListener::bind("127.0.0.1:0").expect("bind webhook"))
    }

    pub fn start_on(listener: TcpListener) -> Webhook {
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let tx = tx.clone();
                std::thread::spawn(move || serve_one(conn, tx));
            }
        });
        Webhook { addr, rx }
    }

    pub fn url(&self) -> String {
        format!("http://{}/callback", self.addr)
    }

    /// Every notification item (`value[]`) until `pred` matches one, or panics after `within`.
    pub fn wait_for(
        &self,
        within: Duration,
        pred: impl FnMut(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        self.next_item(within, pred)
            .map(|(_, item)| item)
            .unwrap_or_else(|| panic!("no matching notification within {within:?}"))
    }

    /// The first notification item matching `pred` with the instant its POST was read,
    /// skipping the others; `None` after `within`.
    pub fn next_item(
        &self,
        within: Duration,
        mut pred: impl FnMut(&serde_json::Value) -> bool,
    ) -> Option<(Instant, serde_json::Value)> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let d = self.rx.recv_timeout(left).ok()?;
            if let Some(items) = d.body.get("value").and_then(|v| v.as_array()) {
                if let Some(item) = items.iter().find(|i| pred(i)) {
                    return Some((d.at, item.clone()));
                }
            }
        }
    }
}

fn serve_one(s: TcpStream, tx: mpsc::Sender<Delivery>) {
    s.set_nodelay(true).ok();
    let mut w = match s.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut r = BufReader::new(s);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let (headers, len, _) = read_headers(&mut r);
        let mut body = vec![0; len.unwrap_or(0)];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let at = Instant::now();
        let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        let _ = tx.send(Delivery {
            headers,
            body: json,
            at,
        });
        if w.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
            .is_err()
        {
            return;
        }
    }
}
