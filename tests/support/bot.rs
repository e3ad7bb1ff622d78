//! The test as a Graph bot: a gateway started with a webhook and a token, the API calls a bot
//! makes, a sipp caller to answer, the notifications and recordings that come back.

#![allow(dead_code)]
// End-to-end tests run in real time against real processes: they read the clock and sleep.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::http::{request, Response, Webhook};
use super::{free_port, media_dir, peers, sipp_media_port, Gateway};

/// The API token every bot gateway accepts.
pub const TOKEN: &str = "e2e-token";

/// The gateway environment of a bot: incoming calls notified to `callback`, `TOKEN` accepted,
/// free RTP ports; `extra` last so it can override any of them.
pub fn bot_env<'a>(callback: String, extra: &[(&'a str, String)]) -> Vec<(&'a str, String)> {
    let mut env = vec![
        ("CALLCLIP_INCOMING_MODE", "notify".to_string()),
        ("CALLCLIP_CALLBACK_URL", callback),
        ("CALLCLIP_API_TOKENS", TOKEN.to_string()),
        ("CALLCLIP_RTP_PORTS", rtp_ports()),
    ];
    env.extend(extra.iter().cloned());
    env
}

/// Ten RTP ports free right now, away from 30000-31999 where other runs on this machine (load
/// benchmarks) may hold thousands of ports at once.
fn rtp_ports() -> String {
    for _ in 0..500 {
        let base = 40000 + (free_port() % 1000) * 10;
        let held: Vec<_> = (base..base + 10)
            .map_while(|p| std::net::UdpSocket::bind(("127.0.0.1", p)).ok())
            .collect();
        if held.len() == 10 {
            return format!("{}-{}", base, base + 9);
        }
    }
    panic!("no ten free UDP ports in 40000-49999");
}

pub struct Bot {
    pub gw: Gateway,
    pub hook: Webhook,
}

impl Bot {
    pub fn start(name: &str, extra: &[(&str, String)]) -> Bot {
        let hook = Webhook::start();
        let gw = Gateway::start(name, &bot_env(hook.url(), extra));
        Bot { gw, hook }
    }

    pub fn post(&self, path: &str, body: Value) -> Response {
        request(
            self.gw.api,
            "POST",
            path,
            Some(TOKEN),
            Some(&body.to_string()),
        )
    }

    pub fn get(&self, path: &str) -> Response {
        request(self.gw.api, "GET", path, Some(TOKEN), None)
    }

    /// `DELETE /communications/calls/{id}`: the bot hangs up.
    pub fn hang_up(&self, id: &str) -> Response {
        let path = format!("/communications/calls/{id}");
        request(self.gw.api, "DELETE", &path, Some(TOKEN), None)
    }

    /// Starts a sipp caller in the background that replays `pcap` (a bare name is one of the
    /// toolkit's stock captures) and hangs up `wait_ms` after its ACK unless the gateway hangs up
    /// first; it is killed if the test ends first.
    pub fn call(&self, pcap: impl AsRef<Path>, wait_ms: u32) -> Caller {
        let pcap = pcap.as_ref();
        let pcap = if pcap.is_absolute() {
            pcap.to_path_buf()
        } else {
            media_dir().join("pcap").join(pcap)
        };
        let child = Command::new(peers().join("sipp/run_uac.sh"))
            .args(["-m", "1"])
            .env("TARGET", self.gw.sip.to_string())
            .env("LPORT", free_port().to_string())
            .env("MPORT", sipp_media_port().to_string())
            .env("WAIT_MS", wait_ms.to_string())
            .env("PCAP", pcap)
            .env("LOGDIR", self.gw.dir.join(format!("sipp-{}", free_port())))
            .env("PEERS_OUT", media_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sipp");
        Caller(child)
    }

    /// Waits for the `created` notification of an incoming call; returns its id.
    pub fn incoming(&self) -> String {
        let created = self
            .hook
            .wait_for(Duration::from_secs(15), |n| n["changeType"] == "created");
        created["resourceData"]["id"]
            .as_str()
            .expect("call id")
            .to_string()
    }

    pub fn answer(&self, id: &str, callback: &str) {
        let r = self.post(
            &format!("/communications/calls/{id}/answer"),
            json!({"callbackUri": callback, "acceptedModalities": ["audio"],
                   "mediaConfig": {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}}),
        );
        assert_eq!(r.status, 202, "answer: {}", r.text());
    }

    /// Answers the next incoming call with this bot's webhook and waits until it is established.
    pub fn answer_incoming(&self) -> String {
        let id = self.incoming();
        self.answer(&id, &self.hook.url());
        self.hook.wait_for(Duration::from_secs(10), |n| {
            n["resourceData"]["state"] == "established"
        });
        id
    }

    /// POSTs a media action and returns the operation's id.
    pub fn start_op(&self, call: &str, action: &str, body: Value) -> String {
        let r = self.post(&format!("/communications/calls/{call}/{action}"), body);
        assert_eq!(r.status, 200, "{action}: {}", r.text());
        r.json()["id"].as_str().expect("operation id").to_string()
    }

    /// The completion (`deleted`) of operation `op`, as notified.
    pub fn wait_op(&self, op: &str, within: Duration) -> Value {
        self.hook.wait_for(within, |n| {
            n["changeType"] == "deleted" && n["resourceData"]["id"] == op
        })["resourceData"]
            .clone()
    }

    /// The completion (`deleted`) of whichever operation ends next, as notified.
    pub fn wait_op_done(&self, within: Duration) -> Value {
        self.hook.wait_for(within, |n| {
            n["changeType"] == "deleted"
                && n["resourceData"]["@odata.type"] != "#microsoft.graph.call"
        })
    }

    /// Polls `GET path` until `field` equals `want`; returns the resource.
    pub fn poll(&self, path: &str, field: &str, want: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let r = self.get(path);
            if r.json()[field] == want {
                return r.json();
            }
            assert!(
                Instant::now() < deadline,
                "{path}: {field} never became {want}: {}",
                r.text()
            );
            // Polling the API; nothing to wait on instead.
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Downloads the recording of operation resource `op` with its own access token.
    pub fn download(&self, op: &Value) -> (u16, Vec<u8>) {
        let token = op["recordingAccessToken"].as_str().expect("token");
        let r = recording(&self.gw, "GET", &location_path(op), Some(token));
        (r.status, r.body)
    }
}

/// The path of a `recordingLocation` URL.
pub fn location_path(op: &Value) -> String {
    let loc = op["recordingLocation"].as_str().expect("recordingLocation");
    let rest = loc.split_once("://").map_or(loc, |(_, r)| r);
    rest.find('/')
        .map_or("/".to_string(), |i| rest[i..].to_string())
}

pub fn recording(gw: &Gateway, method: &str, path: &str, token: Option<&str>) -> Response {
    request(gw.api, method, path, token, None)
}

/// A background sipp process, killed on drop.
pub struct Caller(pub Child);

impl Caller {
    pub fn join(mut self) -> Option<ExitStatus> {
        self.0.wait().ok()
    }
}

impl Drop for Caller {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A downloaded recording: 16-bit mono samples.
pub struct Wav {
    pub rate: u32,
    pub samples: Vec<i16>,
}

impl Wav {
    pub fn parse(bytes: &[u8]) -> Wav {
        let mut r = hound::WavReader::new(std::io::Cursor::new(bytes)).expect("a valid WAV");
        let spec = r.spec();
        assert_eq!((spec.channels, spec.bits_per_sample), (1, 16));
        let samples = r.samples::<i16>().map(|s| s.expect("sample")).collect();
        Wav {
            rate: spec.sample_rate,
            samples,
        }
    }

    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.rate)
    }

    /// The end (in samples) of the last 20 ms window whose RMS is above −40 dBFS.
    pub fn speech_end(&self) -> Option<usize> {
        let win = (self.rate / 50) as usize;
        let threshold = 32768.0 * 10f64.powf(-40.0 / 20.0);
        self.samples
            .chunks(win)
            .enumerate()
            .rfind(|(_, c)| {
                let rms =
                    (c.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / c.len() as f64).sqrt();
                rms > threshold
            })
            .map(|(i, c)| i * win + c.len())
    }

    pub fn rms(&self) -> f64 {
        let sum: f64 = self.samples.iter().map(|&s| f64::from(s).powi(2)).sum();
        (sum / self.samples.len().max(1) as f64).sqrt()
    }
}

/// What else arrives at `hook` within `quiet`.
pub fn arrivals(hook: &Webhook, quiet: Duration) -> Vec<Value> {
    let mut items = Vec::new();
    while let Ok(d) = hook.rx.recv_timeout(quiet) {
        items.extend(d.body["value"].as_array().cloned().unwrap_or_default());
    }
    items
}

/// One line per notification: change type, resource type, state or status.
pub fn summary(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|n| {
            let d = &n["resourceData"];
            let what = if d["state"].is_null() {
                &d["status"]
            } else {
                &d["state"]
            };
            format!("{} {} {}", n["changeType"], d["@odata.type"], what)
        })
        .collect()
}
