//! The network lab (tests/lab/run.sh): callclip in its own network namespace registers with a
//! real Kamailio and records calls from sipp and baresip routed through it, once on a clean link
//! and once with netem delay, loss and reordering on the caller's link. The script prints one
//! PASS/FAIL line per check; these tests require every check to pass.
#![allow(clippy::unwrap_used)]
// Test code: a failed unwrap is the failure report; no network input reaches it.
// End-to-end tests run in real time against real processes.
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use support::{peers, repo_root, serial, temp_dir, wait_child};

/// A clean run takes about 25 s; the bound leaves room for a first media build and retransmissions.
const LAB_TIMEOUT: Duration = Duration::from_secs(150);

/// Runs the lab script with this build's binary; returns its exit status (None: timed out) and
/// everything it printed.
// The child is waited for on every path (try_wait, or kill + wait after the deadline).
#[allow(clippy::zombie_processes)]
fn run_lab(name: &str, args: &[&str]) -> (Option<ExitStatus>, String) {
    let dir = temp_dir(name);
    let out_path = dir.join("run.out");
    let out = std::fs::File::create(&out_path).expect("output file");
    let mut child = Command::new("bash")
        .arg(repo_root().join("tests/lab/run.sh"))
        .args(args)
        .env("CALLCLIP_BIN", env!("CARGO_BIN_EXE_callclip"))
        .env("CALLCLIP_PEERS", peers())
        .env("LAB_DIR", dir.join("lab"))
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("output handle"))
        .stderr(out)
        .spawn()
        .expect("start tests/lab/run.sh");
    let status = wait_child(&mut child, LAB_TIMEOUT);
    if status.is_none() {
        // SIGTERM lets the script's trap remove the namespaces and stop what it started.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let _ = wait_child(&mut child, Duration::from_secs(10));
        let _ = child.kill();
        let _ = child.wait();
    }
    (status, read(&out_path))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn assert_lab_passes(name: &str, args: &[&str]) {
    let _serial = serial();
    let (status, output) = run_lab(name, args);
    println!("{output}");
    assert!(
        status.is_some_and(|s| s.success()),
        "tests/lab/run.sh {} {}:\n{output}",
        args.join(" "),
        status.map_or("timed out".to_string(), |s| s.to_string()),
    );
    assert!(!output.contains("FAIL "), "{output}");
    assert!(output.contains("PASS record-route"), "{output}");
}

#[test]
fn calls_through_kamailio_are_recorded_until_the_stop_tone() {
    assert_lab_passes("lab", &[]);
}

#[test]
fn calls_through_kamailio_survive_delay_loss_and_reordering() {
    assert_lab_passes("lab-impaired", &["--impair"]);
}
