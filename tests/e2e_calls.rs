//! End to end, issue "foundation": real sipp and baresip callers against the real binary on
//! loopback, in `answer` mode (no API needed). Needs the peers toolkit (scripts/test.sh installs
//! it) and root for the loopback capture.
#![allow(clippy::unwrap_used)]
// Test code: a failed unwrap is the failure report; no network input reaches it.
// End-to-end tests run in real time against real processes.
#![allow(clippy::disallowed_methods)]

mod support;

use std::time::Duration;

use support::*;

fn answer_mode() -> Vec<(&'static str, String)> {
    vec![("CALLCLIP_INCOMING_MODE", "answer".to_string())]
}

/// `src -> dst PT=n pkts=m` lines of analyze.txt.
fn streams(analyze: &str) -> Vec<(String, String, u32, u32)> {
    analyze
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let (s, rest) = l.split_once(" -> ")?;
            let (d, rest) = rest.split_once(' ')?;
            let pt = rest
                .split("PT=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            let pkts = rest
                .split("pkts=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            Some((s.to_string(), d.to_string(), pt, pkts))
        })
        .collect()
}

fn summary<'a>(analyze: &'a str, key: &str) -> &'a str {
    analyze
        .lines()
        .rev()
        .find(|l| l.starts_with("SUMMARY"))
        .and_then(|l| {
            l.split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        })
        .unwrap_or("")
}

fn sipp_cmd(gw: &Gateway, env: &[(&str, &str)], args: &[&str]) -> Vec<String> {
    let mut cmd = vec!["env".to_string()];
    cmd.push(format!("TARGET={}", gw.sip));
    cmd.push(format!("LPORT={}", free_port()));
    cmd.push(format!("MPORT={}", sipp_media_port()));
    cmd.push(format!("LOGDIR={}", gw.dir.join("sipp").display()));
    for (k, v) in env {
        cmd.push(format!("{k}={v}"));
    }
    cmd.push(peers().join("sipp/run_uac.sh").display().to_string());
    cmd.extend(args.iter().map(|s| s.to_string()));
    cmd
}

fn assert_two_way_audio(analyze: &str, gw: &Gateway, min_pkts: u32) {
    let s = streams(analyze);
    let to_caller = s
        .iter()
        .filter(|(src, _, pt, _)| src.starts_with("127.0.0.1:4") && *pt != 101)
        .map(|x| x.3)
        .sum::<u32>();
    let from_caller = s
        .iter()
        .filter(|(_, dst, pt, _)| dst.starts_with("127.0.0.1:4") && *pt != 101)
        .map(|x| x.3)
        .sum::<u32>();
    assert!(
        to_caller >= min_pkts && from_caller >= min_pkts,
        "want RTP both ways (bot->caller {to_caller}, caller->bot {from_caller})\n{analyze}\n{}",
        gw.log_text()
    );
}

#[test]
fn sipp_over_udp_is_answered_audio_flows_both_ways_and_caller_bye_gets_200() {
    let _g = serial();
    require_tools(&["sipp", "tshark", "sox"]);
    let gw = Gateway::start("udp", &answer_mode());
    let run = gw.dir.join("run");
    let cmd = sipp_cmd(&gw, &[("WAIT_MS", "4000")], &["-m", "1"]);
    let (out, analyze) = with_capture(&gw, &run, &cmd);
    assert!(
        text(&out).contains("COMMAND rc=0"),
        "sipp failed:\n{}\n{}",
        text(&out),
        gw.log_text()
    );
    assert_eq!(summary(&analyze, "invites"), "1", "{analyze}");
    assert!(
        analyze.contains("200(BYE)"),
        "caller BYE must get 200:\n{analyze}"
    );
    // 4 s of call at 50 packets/s each way.
    assert_two_way_audio(&analyze, &gw, 150);
}

#[test]
fn sipp_over_tcp_is_answered() {
    let _g = serial();
    require_tools(&["sipp"]);
    let gw = Gateway::start("tcp", &answer_mode());
    let out = sipp_uac(&gw, &[("WAIT_MS", "2000".into())], &["-m", "1", "-t", "t1"]);
    assert!(
        out.status.success(),
        "sipp over TCP failed:\n{}\n{}",
        text(&out),
        gw.log_text()
    );
    assert!(gw.log_text().contains("incoming call"), "{}", gw.log_text());
}

#[test]
fn bot_side_hang_up_at_max_call_duration_gets_200_from_the_peer() {
    let _g = serial();
    require_tools(&["sipp"]);
    let mut env = answer_mode();
    env.push(("CALLCLIP_SIP_MAX_CALL_SECONDS", "2".into()));
    let gw = Gateway::start("maxdur", &env);
    // EXPECT_BYE: sipp counts the call as failed unless the bot hangs up within WAIT_MS.
    let out = sipp_uac(
        &gw,
        &[("EXPECT_BYE", "1".into()), ("WAIT_MS", "8000".into())],
        &["-m", "1"],
    );
    assert!(
        out.status.success(),
        "the bot did not hang up:\n{}\n{}",
        text(&out),
        gw.log_text()
    );
    assert!(gw.log_text().contains("LocalBye"), "{}", gw.log_text());
}

fn baresip_answered_codec(name: &str, codecs: &str) -> String {
    require_tools(&["baresip", "tshark", "sox"]);
    let gw = Gateway::start(name, &answer_mode());
    let run = gw.dir.join("run");
    let cmd = vec![
        "python3".to_string(),
        peers()
            .join("baresip/baresip_call.py")
            .display()
            .to_string(),
        "--target".into(),
        format!("sip:bot@{}", gw.sip),
        "--codecs".into(),
        codecs.into(),
        "--hangup-after".into(),
        "3".into(),
        "--log".into(),
        gw.dir.join("baresip.log").display().to_string(),
    ];
    let (out, analyze) = with_capture(&gw, &run, &cmd);
    assert!(
        text(&out).contains("COMMAND rc=0"),
        "baresip call failed:\n{}\n{}",
        text(&out),
        gw.log_text()
    );
    assert_two_way_audio(&analyze, &gw, 50);
    gw.log_text()
}

#[test]
fn baresip_offering_opus_first_gets_the_configured_preference() {
    let _g = serial();
    let log = baresip_answered_codec("opusfirst", "opus/48000/2,PCMU/8000/1,PCMA/8000/1");
    assert!(
        log.contains("codec=Pcmu"),
        "PCMU is first in rtp.codecs:\n{log}"
    );
}

#[test]
fn baresip_offering_pcma_only_gets_pcma() {
    let _g = serial();
    let log = baresip_answered_codec("pcmaonly", "PCMA/8000/1");
    assert!(log.contains("codec=Pcma"), "{log}");
}

#[test]
fn sigterm_refuses_new_calls_hangs_up_after_drain_and_exits_zero() {
    let _g = serial();
    require_tools(&["sipp"]);
    let mut env = answer_mode();
    env.push(("CALLCLIP_CALLS_DRAIN_SECONDS", "1".into()));
    let mut gw = Gateway::start("drain", &env);
    let target = gw.sip.to_string();
    let logdir = gw.dir.join("sipp");
    let peers_dir = peers();
    let media = media_dir();
    let caller = std::thread::spawn(move || {
        std::process::Command::new(peers_dir.join("sipp/run_uac.sh"))
            .args(["-m", "1"])
            .env("TARGET", target)
            .env("LPORT", free_port().to_string())
            .env("MPORT", sipp_media_port().to_string())
            .env("EXPECT_BYE", "1")
            .env("WAIT_MS", "10000")
            .env("LOGDIR", logdir)
            .env("PEERS_OUT", media)
            .output()
            .expect("sipp")
    });
    // Wait for the call to be up before signalling.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !gw.log_text().contains("state=established") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = gw
        .terminate(Duration::from_secs(15))
        .expect("callclip exits after the drain");
    assert!(
        status.success(),
        "exit status {status:?}\n{}",
        gw.log_text()
    );
    let out = caller.join().expect("caller thread");
    assert!(
        out.status.success(),
        "the bot must hang up the call on shutdown:\n{}\n{}",
        text(&out),
        gw.log_text()
    );
}

/// RMS of a 16-bit WAV, and its sample rate.
fn wav_rms(path: &std::path::Path) -> (f64, u32) {
    let mut r = hound::WavReader::open(path).expect("a valid WAV");
    let rate = r.spec().sample_rate;
    let s: Vec<f64> = r
        .samples::<i16>()
        .map(|s| f64::from(s.unwrap_or(0)))
        .collect();
    (
        (s.iter().map(|x| x * x).sum::<f64>() / s.len().max(1) as f64).sqrt(),
        rate,
    )
}

#[test]
fn opus_from_baresip_decodes_to_speech_in_the_recording() {
    let _g = serial();
    require_tools(&["baresip"]);
    let gw = Gateway::start(
        "opus",
        &[
            ("CALLCLIP_INCOMING_MODE", "flow".to_string()),
            ("CALLCLIP_RTP_CODECS", "opus,PCMU".to_string()),
            ("CALLCLIP_CALLS_FLOW_MAX_SILENCE_SECONDS", "10".to_string()),
        ],
    );
    // caller_8k.wav: 1 s silence, speech, 3 s silence (12 s); # at 10 s ends the recording.
    let out = std::process::Command::new("python3")
        .arg(peers().join("baresip/baresip_call.py"))
        .args(["--target", &format!("sip:bot@{}", gw.sip)])
        .args(["--codecs", "opus/48000/2,PCMU/8000/1"])
        .arg("--wav")
        .arg(media_dir().join("audio/caller_8k.wav"))
        .args(["--dtmf", "#@10", "--hangup-after", "0", "--max-call", "20"])
        .arg("--log")
        .arg(gw.dir.join("baresip.log"))
        .output()
        .expect("baresip");
    assert!(
        out.status.success(),
        "baresip call failed:\n{}\n{}",
        text(&out),
        gw.log_text()
    );
    let log = gw.log_text();
    assert!(
        log.contains("codec=Opus"),
        "opus must be negotiated:\n{log}"
    );
    assert!(log.contains("stopToneDetected"), "{log}");
    let wav = std::fs::read_dir(gw.dir.join("recordings"))
        .expect("recordings dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "wav"))
        .expect("a recording");
    let (rms, rate) = wav_rms(&wav);
    assert_eq!(rate, 16_000, "opus is recorded at 16 kHz");
    assert!(
        rms > 300.0,
        "the opus audio decoded to speech (RMS {rms:.0})"
    );
}
