//! Whole-system latency on loopback, with the bench as both the caller (SIP + RTP) and the bot
//! (webhook + API):
//! (a) the first RFC 4733 `#` packet sent → the recordOperation notification received at the
//!     webhook, one record operation per digit;
//! (b) the record request sent → the first prompt RTP packet (non-silent PCMU) at the caller,
//!     with a `file://` prompt: the first run loads it, later runs hit the prompt cache.
//!
//! ```sh
//! cargo bench -p callclip --bench latency -- --runs 100 --prompt-runs 30
//! ```
//! `BENCH_STATE_DIR=/dev/shm/x` puts recordings and the notification spool there instead of a
//! temp dir on disk (both are fsynced in the stop-tone path).
#![allow(clippy::unwrap_used)]
// Test code: a failed unwrap is the failure report; no network input reaches it.
// A benchmark measures real time against real processes.
#![allow(clippy::disallowed_methods)]

mod caller;
mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn is_record_done(n: &Value) -> bool {
    n["changeType"] == "deleted"
        && n["resourceData"]["@odata.type"] == "#microsoft.graph.recordOperation"
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn summary(name: &str, v: &mut [Duration]) -> String {
    let line = format!(
        "{name}: n={} p50 {:.2} ms, p99 {:.2} ms, min {:.2} ms, max {:.2} ms",
        v.len(),
        ms(percentile(v, 50.0)),
        ms(percentile(v, 99.0)),
        ms(v.iter().min().copied().unwrap_or_default()),
        ms(v.iter().max().copied().unwrap_or_default()),
    );
    println!("{line}");
    line
}

/// 300 ms of a 440 Hz tone at −6 dBFS, 8 kHz: every packet of it is loud.
fn write_prompt(path: &std::path::Path) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("prompts dir");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create prompt");
    for i in 0..2400 {
        let s = (2.0 * std::f64::consts::PI * 440.0 * f64::from(i) / 8000.0).sin() * 16384.0;
        w.write_sample(s as i16).expect("write prompt");
    }
    w.finalize().expect("finalize prompt");
}

fn main() {
    let runs = arg("--runs", 100);
    let prompt_runs = arg("--prompt-runs", 30);
    let hook = Webhook::start();
    let mut env = vec![
        ("CALLCLIP_INCOMING_MODE", "notify".to_string()),
        ("CALLCLIP_CALLBACK_URL", hook.url()),
    ];
    if let Some(d) = std::env::var_os("BENCH_STATE_DIR") {
        let d = std::path::PathBuf::from(d);
        env.push((
            "CALLCLIP_RECORDINGS_DIR",
            d.join("recordings").display().to_string(),
        ));
        env.push((
            "CALLCLIP_NOTIFICATIONS_SPOOL_DIR",
            d.join("spool").display().to_string(),
        ));
    }
    let gw = Gateway::start("latency", &env);
    let prompt = gw.dir.join("prompts/tone.wav");
    write_prompt(&prompt);

    let dialing = caller::dial(gw.sip);
    let created = hook.wait_for(Duration::from_secs(15), |n| n["changeType"] == "created");
    let id = created["resourceData"]["id"]
        .as_str()
        .expect("call id")
        .to_string();
    let answer = json!({"callbackUri": hook.url(), "acceptedModalities": ["audio"],
        "mediaConfig": {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}});
    let r = gw.post(
        &format!("/communications/calls/{id}/answer"),
        &answer.to_string(),
    );
    assert_eq!(r.status, 202, "answer: {}", r.text());
    let call = dialing.established();
    hook.wait_for(Duration::from_secs(10), |n| {
        n["resourceData"]["state"] == "established"
    });
    let record_path = format!("/communications/calls/{id}/record");
    let long = |extra: Value| {
        let mut b = json!({"stopTones": ["#"], "playBeep": false, "initialSilenceTimeoutInSeconds": 60,
            "maxSilenceTimeoutInSeconds": 60, "maxRecordDurationInSeconds": 60});
        if let (Some(b), Some(e)) = (b.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        b.to_string()
    };

    // (a) stop tone → notification.
    let mut stop = Vec::new();
    for _ in 0..runs {
        let r = gw.post(&record_path, &long(json!({})));
        assert_eq!(r.status, 200, "record: {}", r.text());
        // Let the operation reach its recording state (no prompt, no beep).
        std::thread::sleep(Duration::from_millis(100));
        let sent = call.send_pound();
        let (at, done) = hook
            .next_item(Duration::from_secs(10), is_record_done)
            .expect("record completion");
        assert_eq!(
            done["resourceData"]["completionReason"], "stopToneDetected",
            "{done}"
        );
        stop.push(at.saturating_duration_since(sent));
        // The digit's end packets go out 160–220 ms after its first.
        std::thread::sleep(Duration::from_millis(250));
    }

    // (b) record request → first prompt packet; the first run is a cache miss.
    let uri = format!("file://{}", prompt.display());
    let mut cold = None;
    let mut cached = Vec::new();
    for i in 0..prompt_runs {
        call.arm();
        let body = long(
            json!({"prompts": [{"@odata.type": "#microsoft.graph.mediaPrompt",
            "mediaInfo": {"uri": uri, "resourceId": "bench-tone"}}]}),
        );
        let t0 = Instant::now();
        let r = gw.post(&record_path, &body);
        assert_eq!(r.status, 200, "record: {}", r.text());
        let heard = call
            .heard(Duration::from_secs(5))
            .expect("prompt audio at the caller");
        let d = heard.saturating_duration_since(t0);
        if i == 0 {
            cold = Some(d);
        } else {
            cached.push(d);
        }
        // After the 300 ms prompt, stop the recording with `#`.
        std::thread::sleep(Duration::from_millis(500));
        call.send_pound();
        hook.wait_for(Duration::from_secs(10), is_record_done);
        std::thread::sleep(Duration::from_millis(250));
    }
    call.hang_up();

    println!("load average {}", loadavg());
    summary("stop tone sent -> notification received", &mut stop);
    if let Some(c) = cold {
        println!(
            "record request -> first prompt packet, first run (prompt not cached): {:.2} ms",
            ms(c)
        );
    }
    summary(
        "record request -> first prompt packet, cached prompt",
        &mut cached,
    );
}
