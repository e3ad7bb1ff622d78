//! Whole-system load: the release gateway under N concurrent sipp calls. For each N it reports
//! the gateway's CPU time (utime + stime from /proc) per call-second over a steady window while
//! all N calls are up, and its resident memory per established call.
//!
//! ```sh
//! cargo bench -p callclip --bench load -- --scenario idle --calls 100,300,1000
//! ```
//! Options (after `--`): `--scenario idle|speech|record|rtp|rtp-record` (idle: SIP only, no RTP,
//! `answer` mode; speech: sipp replays a PCMU speech pcap, `answer` mode; record: the same speech
//! with `flow` mode so every call records; rtp / rtp-record: SIP from the idle scenario and the
//! speech sent by this bench instead of sipp, see `rtp_blaster`), `--calls N,N,..`, `--rate CPS` (sipp's -r, default
//! 100), `--window S` (default 10). `PEERS_OUT` reuses a media dir from the toolkit's make_all.sh.
#![allow(clippy::unwrap_used)]
// Test code: a failed unwrap is the failure report; no network input reaches it.
// A benchmark measures real time against real processes.
#![allow(clippy::disallowed_methods)]

mod common;
mod rtp_blaster;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scenario {
    Idle,
    Speech,
    Record,
    Rtp,
    RtpRecord,
}

impl Scenario {
    fn records(self) -> bool {
        matches!(self, Scenario::Record | Scenario::RtpRecord)
    }
    /// SIP from sipp's idle scenario (no raw sockets), RTP from this bench.
    fn own_rtp(self) -> bool {
        matches!(self, Scenario::Rtp | Scenario::RtpRecord)
    }
}

struct Options {
    scenario: Scenario,
    calls: Vec<usize>,
    rate: usize,
    window: Duration,
}

fn options() -> Options {
    let mut o = Options {
        scenario: Scenario::Idle,
        calls: vec![100, 300, 1000],
        rate: 100,
        window: Duration::from_secs(10),
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--scenario" => {
                o.scenario = match v.as_str() {
                    "speech" => Scenario::Speech,
                    "record" => Scenario::Record,
                    "rtp" => Scenario::Rtp,
                    "rtp-record" => Scenario::RtpRecord,
                    _ => Scenario::Idle,
                };
                i += 1;
            }
            "--calls" => {
                o.calls = v.split(',').filter_map(|n| n.trim().parse().ok()).collect();
                i += 1;
            }
            "--rate" => {
                o.rate = v.parse().unwrap_or(100);
                i += 1;
            }
            "--window" => {
                o.window = Duration::from_secs(v.parse().unwrap_or(10));
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    o
}

/// The sipp caller for `n` calls held `hold` each. sipp's RTP ports are MPORT + 4·n, kept below
/// the gateway's range (30000–39999).
fn start_sipp(o: &Options, gw: &Gateway, n: usize, hold: Duration) -> Child {
    let logdir = gw.dir.join("sipp");
    std::fs::create_dir_all(&logdir).expect("sipp log dir");
    let lport = free_port().to_string();
    let load = [
        "-r".to_string(),
        o.rate.to_string(),
        "-l".into(),
        n.to_string(),
        "-m".into(),
        n.to_string(),
    ];
    let mut cmd = match o.scenario {
        Scenario::Idle | Scenario::Rtp | Scenario::RtpRecord => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg("ulimit -n \"$(ulimit -Hn)\"; exec sipp \"$@\"")
                .arg("sipp")
                .arg("-sf")
                .arg(repo_root().join("bench/sipp/uac_idle.xml"))
                .arg(gw.sip.to_string())
                .args([
                    "-s",
                    "bot",
                    "-i",
                    "127.0.0.1",
                    "-p",
                    &lport,
                    "-mi",
                    "127.0.0.1",
                    "-mp",
                    "16000",
                ])
                .args(["-nostdin", "-timeout", "600s", "-trace_err", "-d"])
                .arg(hold.as_millis().to_string())
                .args(&load)
                .current_dir(&logdir);
            c
        }
        Scenario::Speech | Scenario::Record => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg("ulimit -n \"$(ulimit -Hn)\"; exec \"$0\" \"$@\"")
                .arg(peers().join("sipp/run_uac.sh"))
                .args(&load)
                .env("TARGET", gw.sip.to_string())
                .env("LPORT", &lport)
                .env("MPORT", "16000")
                .env("TIMEOUT", "600s")
                .env("WAIT_MS", hold.as_millis().to_string())
                .env("PCAP", media_dir().join("pcap/caller_long_pcmu.pcap"))
                .env("PEERS_OUT", media_dir())
                .env("LOGDIR", &logdir);
            c
        }
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sipp")
}

fn gateway(o: &Options, n: usize) -> Gateway {
    let mode = if o.scenario.records() {
        "flow"
    } else {
        "answer"
    };
    let mut env = vec![
        ("CALLCLIP_INCOMING_MODE", mode.to_string()),
        ("CALLCLIP_RTP_PORTS", "30000-39999".to_string()),
    ];
    if o.scenario.records() {
        // Keep every call recording through the window: no silence or length cut-off.
        env.push(("CALLCLIP_CALLS_FLOW_MAX_SILENCE_SECONDS", "120".into()));
        env.push(("CALLCLIP_CALLS_FLOW_INITIAL_SILENCE_SECONDS", "120".into()));
        env.push(("CALLCLIP_CALLS_FLOW_MAX_RECORD_SECONDS", "300".into()));
    }
    Gateway::start(&format!("load-{n}"), &env)
}

fn run_one(o: &Options, n: usize) {
    let gw = gateway(o, n);
    let pid = gw.pid();
    std::thread::sleep(Duration::from_secs(1));
    let rss0 = rss_kib(pid);
    let ramp = Duration::from_secs_f64(n as f64 / o.rate as f64);
    let settle = Duration::from_secs(3);
    let hold = ramp + settle + o.window + Duration::from_secs(15);
    let mut sipp = start_sipp(o, &gw, n, hold);
    let sipp_pid = sipp.id();
    let stop = Arc::new(AtomicBool::new(false));
    let blaster = o.scenario.own_rtp().then(|| {
        let audio =
            std::fs::read(media_dir().join("audio/caller_8k.ulaw")).expect("caller_8k.ulaw");
        let (log, stop) = (gw.log.clone(), stop.clone());
        std::thread::spawn(move || rtp_blaster::run(log, audio, stop))
    });
    let up_by = Instant::now() + ramp + Duration::from_secs(30);
    let mut up = 0;
    while Instant::now() < up_by {
        up = gw.established();
        if up >= n {
            break;
        }
        if let Ok(Some(st)) = sipp.try_wait() {
            eprintln!("sipp exited early: {st}");
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    if up < n {
        println!(
            "N={n}: only {up} calls established (sipp logs in {})",
            gw.dir.display()
        );
        stop.store(true, Ordering::Relaxed);
        let _ = sipp.kill();
        let _ = sipp.wait();
        return;
    }
    std::thread::sleep(settle);
    const RTP_IN: &str = "callclip_rtp_packets_received_total";
    let p0 = gw.metric(RTP_IN);
    let (c0, s0, b0, t0) = (
        cpu_time(pid),
        cpu_time(sipp_pid),
        cpu_time(std::process::id()),
        Instant::now(),
    );
    std::thread::sleep(o.window);
    let (c1, s1, b1, t1) = (
        cpu_time(pid),
        cpu_time(sipp_pid),
        cpu_time(std::process::id()),
        Instant::now(),
    );
    let p1 = gw.metric(RTP_IN);
    let rss = rss_kib(pid);
    let load = loadavg();
    let still = gw.established();
    let window = (t1 - t0).as_secs_f64();
    let cpu = (c1 - c0).as_secs_f64();
    let per_call_us = cpu * 1e6 / (n as f64 * window);
    let rss_per_call = (rss.saturating_sub(rss0)) as f64 / n as f64;
    println!(
        "{:?} N={n}: gateway CPU {:.2} s in {:.1} s ({:.0}% of one core) = {per_call_us:.1} µs per call-second; \
         RSS {rss0} KiB -> {rss} KiB = {rss_per_call:.1} KiB per call; sipp CPU {:.0}% of one core; bench (RTP generator) CPU {:.0}%; \
         RTP in {:.0} packets/s ({:.1} per call-second, counted per 500 per call); \
         load average {load}; established at end {still}",
        o.scenario,
        cpu,
        window,
        cpu * 100.0 / window,
        (s1 - s0).as_secs_f64() * 100.0 / window,
        (b1 - b0).as_secs_f64() * 100.0 / window,
        (p1 - p0) / window,
        (p1 - p0) / window / n as f64,
    );
    stop.store(true, Ordering::Relaxed);
    if let Some(b) = blaster {
        let _ = b.join();
    }
    let _ = sipp.kill();
    let _ = sipp.wait();
}

fn main() {
    let o = options();
    if matches!(o.scenario, Scenario::Speech | Scenario::Record) {
        let ok = Command::new(repo_root().join("bench/make_long_pcap.sh"))
            .arg(media_dir())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "bench/make_long_pcap.sh failed");
    }
    for &n in &o.calls {
        run_one(&o, n);
    }
}
