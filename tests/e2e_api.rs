//! End to end, issue "Graph API", the media cases beyond the basic record flows: silence after
//! speech, prompts fetched over http (missing, resampled, µ-law), barge-in, a caller whose RTP
//! stops, actions before the answer, and where the notifications after an answer go. The test
//! plays the bot: a webhook receiver gets the notifications, the test answers and drives
//! operations over HTTP, a real sipp caller speaks.
#![allow(clippy::unwrap_used)]
// Test code: a failed unwrap is the failure report; no network input reaches it.
// End-to-end tests run in real time against real processes: they read the clock and sleep.
#![allow(clippy::disallowed_methods)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::bot::{arrivals, location_path, recording, summary, Bot, Wav};
use support::http::Webhook;
use support::*;

fn audio(name: &str) -> PathBuf {
    media_dir().join("audio").join(name)
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run a media tool");
    assert!(out.status.success(), "{cmd:?}: {}", text(&out));
}

/// Media this file derives from the toolkit's, built once per test process.
fn made(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = temp_dir("api-media");
        let slice = dir.join("caller_1500ms_8k.wav");
        run(Command::new("sox")
            .arg("-R")
            .arg(audio("caller_short_8k.wav"))
            .arg(&slice)
            .args(["trim", "0", "1.5"]));
        run(Command::new("python3")
            .arg(peers().join("bin/wav2rtp_pcap.py"))
            .arg(&slice)
            .arg(dir.join("caller_1500ms_pcmu.pcap")));
        run(Command::new("sox")
            .arg("-R")
            .arg(audio("prompt_8k.wav"))
            .args(["-r", "44100", "-c", "2"])
            .arg(dir.join("prompt_44k_stereo.wav")));
        run(Command::new("sox")
            .arg("-R")
            .arg(audio("prompt_8k.wav"))
            .args(["-e", "mu-law"])
            .arg(dir.join("prompt_8k_ulaw.wav")));
        dir
    })
    .join(name)
}

/// A tiny prompt server on 127.0.0.1: `files` by path, 404 for anything else.
fn serve_files(files: Vec<(&'static str, Vec<u8>)>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind prompt server");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let Ok(read) = conn.try_clone() else { continue };
            let mut r = BufReader::new(read);
            let mut line = String::new();
            if r.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("");
            let mut w = conn;
            let _ = match files.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => w
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|_| w.write_all(body)),
                None => w.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            };
        }
    });
    addr
}

fn prompt_env() -> Vec<(&'static str, String)> {
    vec![
        ("CALLCLIP_PROMPTS_ALLOW_HTTP", "true".to_string()),
        ("CALLCLIP_PROMPTS_ALLOWED_HOSTS", "127.0.0.1".to_string()),
    ]
}

#[test]
fn max_silence_after_speech_completes_and_keeps_half_a_second_of_the_pause() {
    let _g = serial();
    require_tools(&["sipp"]);
    let bot = Bot::start("maxsilence", &[]);
    // Speech from 1.0 s to about 2.9 s, then silence to 6.3 s.
    let caller = bot.call("caller_short_pcmu.pcap", 9000);
    let id = bot.answer_incoming();
    let posted = Instant::now();
    let op = bot.start_op(
        &id,
        "record",
        json!({"maxSilenceTimeoutInSeconds": 2, "initialSilenceTimeoutInSeconds": 5,
               "maxRecordDurationInSeconds": 30, "playBeep": false}),
    );
    let done = bot.wait_op(&op, Duration::from_secs(15));
    let took = posted.elapsed().as_secs_f64();
    assert_eq!(done["completionReason"], "maxSilenceTimeout", "{done}");
    assert_eq!(done["status"], "completed");
    let r = recording(
        &bot.gw,
        "GET",
        &location_path(&done),
        done["recordingAccessToken"].as_str(),
    );
    assert_eq!(r.status, 200);
    let wav = Wav::parse(&r.body);
    let end_sample = wav.speech_end().expect("the recording holds speech");
    let speech_end = end_sample as f64 / f64::from(wav.rate);
    let late = took - (speech_end + 2.0);
    eprintln!(
        "maxSilence: done {took:.3} s after the POST, speech end {speech_end:.3} s, wav {:.3} s",
        wav.seconds()
    );
    assert!(
        (-0.3..=0.6).contains(&late),
        "completed {took:.2} s after the POST, speech ended at {speech_end:.2} s"
    );
    // 500 ms of the pause, plus one 20 ms frame for where the VAD places the end of speech.
    let kept = wav.samples.len() - end_sample;
    let allowed = (wav.rate / 2 + wav.rate / 50) as usize;
    assert!(
        kept <= allowed,
        "{kept} samples kept after the speech, {allowed} allowed ({:.2} s in all)",
        wav.seconds()
    );
    drop(caller);
}

#[test]
fn a_prompt_that_cannot_be_fetched_fails_the_record_and_the_call_goes_on() {
    let _g = serial();
    require_tools(&["sipp", "sox"]);
    let files = serve_files(vec![(
        "/prompt.wav",
        std::fs::read(audio("prompt_8k.wav")).expect("prompt"),
    )]);
    let bot = Bot::start("promptfail", &prompt_env());
    let caller = bot.call("caller_pcmu.pcap", 15000);
    let id = bot.answer_incoming();
    let op = bot.start_op(
        &id,
        "record",
        json!({"prompts": [{"mediaInfo": {"uri": format!("http://{files}/missing.wav")}}],
               "maxRecordDurationInSeconds": 5}),
    );
    let done = bot.wait_op(&op, Duration::from_secs(10));
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["completionReason"], "playPromptFailed", "{done}");
    assert!(
        done["resultInfo"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("missing.wav"),
        "{done}"
    );
    let call = bot.get(&format!("/communications/calls/{id}"));
    assert_eq!(call.json()["state"], "established", "{}", call.text());
    let op = bot.start_op(
        &id,
        "playPrompt",
        json!({"prompts": [{"mediaInfo": {"uri": format!("http://{files}/prompt.wav")}}]}),
    );
    let done = bot.wait_op(&op, Duration::from_secs(10));
    assert_eq!(done["completionReason"], "completedSuccessfully", "{done}");
    drop(caller);
}

#[test]
fn prompts_over_http_in_44k_stereo_and_mu_law_play_for_their_length() {
    let _g = serial();
    require_tools(&["sipp", "sox"]);
    let files = serve_files(vec![
        (
            "/stereo.wav",
            std::fs::read(made("prompt_44k_stereo.wav")).expect("prompt"),
        ),
        (
            "/ulaw.wav",
            std::fs::read(made("prompt_8k_ulaw.wav")).expect("prompt"),
        ),
    ]);
    let bot = Bot::start("promptformats", &prompt_env());
    let caller = bot.call("caller_pcmu.pcap", 15000);
    let id = bot.answer_incoming();
    // prompt_8k.wav lasts 2.31 s; a wrong rate or channel count would change that.
    for path in ["/stereo.wav", "/ulaw.wav"] {
        let posted = Instant::now();
        let op = bot.start_op(
            &id,
            "playPrompt",
            json!({"prompts": [{"mediaInfo": {"uri": format!("http://{files}{path}")}}]}),
        );
        let done = bot.wait_op(&op, Duration::from_secs(10));
        let took = posted.elapsed().as_secs_f64();
        eprintln!("{path}: played {took:.2} s");
        assert_eq!(
            done["completionReason"], "completedSuccessfully",
            "{path}: {done}"
        );
        assert_eq!(done["status"], "completed", "{path}: {done}");
        assert!((2.2..=2.8).contains(&took), "{path} played for {took:.2} s");
    }
    drop(caller);
}

#[test]
fn barge_in_cancels_the_running_record_before_the_new_one_completes() {
    let _g = serial();
    require_tools(&["sipp"]);
    let prompts = temp_dir("api-prompts");
    let prompt = prompts.join("prompt.wav");
    std::fs::copy(audio("prompt_8k.wav"), &prompt).expect("copy prompt");
    let bot = Bot::start(
        "bargein",
        &[("CALLCLIP_PROMPTS_DIR", prompts.display().to_string())],
    );
    let caller = bot.call("caller_pcmu.pcap", 15000);
    let id = bot.answer_incoming();
    let first = bot.start_op(
        &id,
        "record",
        json!({"prompts": [{"mediaInfo": {"uri": format!("file://{}", prompt.display())}, "loop": true}],
               "maxRecordDurationInSeconds": 30}),
    );
    // Let the looped prompt play a while.
    std::thread::sleep(Duration::from_millis(1500));
    let running = bot.get(&format!("/communications/calls/{id}/operations/{first}"));
    assert_eq!(running.json()["status"], "running", "{}", running.text());
    let second = bot.start_op(
        &id,
        "record",
        json!({"bargeInAllowed": true, "maxRecordDurationInSeconds": 2, "playBeep": false}),
    );
    let op_done = |n: &Value| {
        n["changeType"] == "deleted"
            && n["resourceData"]["@odata.type"] == "#microsoft.graph.recordOperation"
    };
    let a = bot.hook.wait_for(Duration::from_secs(10), op_done)["resourceData"].clone();
    assert_eq!(
        a["id"],
        first.as_str(),
        "the barged-in record completes first: {a}"
    );
    assert_eq!(a["status"], "failed");
    assert_eq!(a["completionReason"], "operationCanceled");
    assert_eq!(a["resultInfo"]["code"], 400);
    assert_eq!(a["resultInfo"]["subcode"], 8508);
    let b = bot.hook.wait_for(Duration::from_secs(10), op_done)["resourceData"].clone();
    assert_eq!(b["id"], second.as_str(), "{b}");
    assert_eq!(b["completionReason"], "maxRecordDurationReached", "{b}");
    drop(caller);
}

#[test]
fn a_caller_that_stops_sending_rtp_ends_the_record_with_media_receive_timeout() {
    let _g = serial();
    require_tools(&["sipp", "sox"]);
    let bot = Bot::start(
        "rtptimeout",
        &[("CALLCLIP_RTP_RECEIVE_TIMEOUT_SECONDS", "2".to_string())],
    );
    // 1.5 s of RTP, then the caller stays in the call and sends nothing.
    let caller = bot.call(made("caller_1500ms_pcmu.pcap"), 15000);
    let id = bot.answer_incoming();
    let posted = Instant::now();
    let op = bot.start_op(
        &id,
        "record",
        json!({"initialSilenceTimeoutInSeconds": 20, "maxSilenceTimeoutInSeconds": 20,
               "maxRecordDurationInSeconds": 30, "playBeep": false}),
    );
    let done = bot.wait_op(&op, Duration::from_secs(15));
    let took = posted.elapsed().as_secs_f64();
    eprintln!("mediaReceiveTimeout: done {took:.2} s after the POST");
    assert_eq!(done["completionReason"], "mediaReceiveTimeout", "{done}");
    assert!(
        (2.5..=5.0).contains(&took),
        "completed {took:.2} s after the POST"
    );
    drop(caller);
}

#[test]
fn record_before_the_answer_is_409_not_allowed_and_works_once_answered() {
    let _g = serial();
    require_tools(&["sipp"]);
    let bot = Bot::start("notanswered", &[]);
    let caller = bot.call("caller_pcmu.pcap", 12000);
    let id = bot.incoming();
    let r = bot.post(
        &format!("/communications/calls/{id}/record"),
        json!({"maxRecordDurationInSeconds": 1}),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "notAllowed", "{}", r.text());
    bot.answer(&id, &bot.hook.url());
    bot.hook.wait_for(Duration::from_secs(10), |n| {
        n["resourceData"]["state"] == "established"
    });
    let op = bot.start_op(
        &id,
        "record",
        json!({"maxRecordDurationInSeconds": 1, "playBeep": false}),
    );
    let done = bot.wait_op(&op, Duration::from_secs(10));
    assert_eq!(
        done["completionReason"], "maxRecordDurationReached",
        "{done}"
    );
    drop(caller);
}

/// The answer's `callbackUri` is in force before the engine answers, so `establishing` and
/// `established` (even when the ACK wins the race with the HTTP response) reach it, not the
/// default callback.
#[test]
fn every_notification_after_the_answer_goes_to_the_answer_callback_uri() {
    let _g = serial();
    require_tools(&["sipp"]);
    let bot = Bot::start("routing", &[]);
    let caller = bot.call("caller_pcmu.pcap", 12000);
    let id = bot.incoming();
    let own = Webhook::start();
    bot.answer(&id, &own.url());
    own.wait_for(Duration::from_secs(10), |n| {
        n["resourceData"]["state"] == "established"
    });
    let strays = arrivals(&bot.hook, Duration::from_millis(500));
    assert!(
        strays.is_empty(),
        "sent to the default callback after the answer: {:#?}",
        summary(&strays)
    );
    drop(caller);
}
