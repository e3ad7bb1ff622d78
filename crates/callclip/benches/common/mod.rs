//! Plumbing shared by the whole-system benchmarks: start the release `callclip` binary on free
//! loopback ports, talk HTTP/1.1 to its API, receive its webhooks, and read a process's CPU time
//! and resident memory from `/proc`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "bench-token";

// One copy of the loopback plumbing: the end-to-end tests' support module.
#[path = "../../../../tests/support/mod.rs"]
mod support;

#[allow(unused_imports)] // the latency bench's webhook
pub use support::http::Webhook;
#[allow(unused_imports)] // each bench uses its own subset
pub use support::{free_port, media_dir, peers, repo_root, temp_dir};

/// A running gateway, killed on drop.
pub struct Gateway {
    pub child: Child,
    pub sip: SocketAddr,
    pub api: SocketAddr,
    pub dir: PathBuf,
    pub log: PathBuf,
}

impl Gateway {
    /// Starts `callclip serve` (the binary cargo built for this bench, i.e. the release
    /// profile under `cargo bench`) with `ulimit -n` raised, plus `env`.
    pub fn start(name: &str, env: &[(&str, String)]) -> Gateway {
        let dir = temp_dir(name);
        let sip_port = free_port();
        let api_port = free_port();
        let log = dir.join("callclip.log");
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("ulimit -n \"$(ulimit -Hn)\"; exec \"$0\" serve")
            .arg(env!("CARGO_BIN_EXE_callclip"))
            .current_dir(&dir)
            .env("CALLCLIP_SIP_LISTEN", format!("127.0.0.1:{sip_port}"))
            .env("CALLCLIP_API_LISTEN", format!("127.0.0.1:{api_port}"))
            .env(
                "CALLCLIP_API_PUBLIC_URL",
                format!("http://127.0.0.1:{api_port}"),
            )
            .env("CALLCLIP_API_TOKENS", TOKEN)
            .env("CALLCLIP_RECORDINGS_DIR", dir.join("recordings"))
            .env("CALLCLIP_NOTIFICATIONS_SPOOL_DIR", dir.join("spool"))
            .env("CALLCLIP_PROMPTS_DIR", dir.join("prompts"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start callclip");
        let gw = Gateway {
            child,
            sip: SocketAddr::from(([127, 0, 0, 1], sip_port)),
            api: SocketAddr::from(([127, 0, 0, 1], api_port)),
            dir,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !gw.log_text().contains("callclip ready") {
            assert!(
                Instant::now() < deadline,
                "callclip did not start:\n{}",
                gw.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        gw
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn post(&self, path: &str, body: &str) -> Response {
        request(self.api, "POST", path, Some(TOKEN), Some(body))
    }

    /// `callclip_calls{state="established"}` from `/metrics`.
    pub fn established(&self) -> usize {
        self.metric("callclip_calls{state=\"established\"}") as usize
    }

    /// One sample of `/metrics` by its full name (with labels); 0 when absent.
    pub fn metric(&self, name: &str) -> f64 {
        let r = request(self.api, "GET", "/metrics", Some(TOKEN), None);
        r.text()
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// utime + stime of `pid` (all its threads), from `/proc/<pid>/stat`.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    let ticks = f.iter().sum::<u64>();
    Duration::from_secs_f64(ticks as f64 / clock_ticks() as f64)
}

fn clock_ticks() -> u64 {
    static HZ: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *HZ.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100)
    })
}

/// VmRSS of `pid` in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The 1-minute load average.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .unwrap_or("?")
        .to_string()
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// One HTTP/1.1 request per connection, as a bot would send it.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Response {
    let mut s = TcpStream::connect(addr).expect("connect to the API");
    s.set_nodelay(true).ok();
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or("");
    if method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("send request");
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (headers, len) = read_headers(&mut r);
    let mut body = Vec::new();
    match len {
        Some(n) => {
            body.resize(n, 0);
            r.read_exact(&mut body).expect("body");
        }
        None => {
            r.read_to_end(&mut body).ok();
        }
    }
    Response {
        status,
        headers,
        body,
    }
}

fn read_headers(r: &mut impl BufRead) -> (Vec<(String, String)>, Option<usize>) {
    let mut headers = Vec::new();
    let mut len = None;
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
            headers.push((k, v));
        }
    }
    (headers, len)
}

/// p-th percentile (nearest rank) of `v`, sorted in place.
pub fn percentile(v: &mut [Duration], p: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}
