//! Shared plumbing of the end-to-end tests: start the real `callclip` binary on free loopback
//! ports, find the peers toolkit (../shared/peers), run sipp and baresip, read what they saw.

#![allow(dead_code)]
// End-to-end tests run in real time against real processes: they read the clock and sleep.
#![allow(clippy::disallowed_methods)]

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The peers share fixed ports (sipp's control port, baresip's RTP range): one scenario at a time.
static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root exists")
}

/// `../shared/peers`, or `$CALLCLIP_PEERS`.
pub fn peers() -> PathBuf {
    std::env::var_os("CALLCLIP_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/peers"))
}

/// Fails with the way to fix it when a peer tool is missing (scripts/test.sh installs them).
pub fn require_tools(tools: &[&str]) {
    for t in tools {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {t}"))
            .output()
            .map(|o| o.status.success());
        assert!(
            found.unwrap_or(false),
            "{t} is not installed: run scripts/test.sh (or scripts/install-deps.sh --test) first"
        );
    }
    assert!(
        peers().join("README.md").exists(),
        "peers toolkit not found at {}",
        peers().display()
    );
}

/// A new directory for one test's files: `callclip-e2e-<name>-<pid>-<nanos>` in the temp dir.
/// They are kept after the test, for a failure's logs and captures, until a later test process
/// sweeps away those of processes that are gone and at least `KEEP_OUTPUTS` old.
pub fn temp_dir(name: &str) -> PathBuf {
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(sweep_old_outputs);
    let d = std::env::temp_dir().join(format!(
        "callclip-e2e-{name}-{}-{}",
        std::process::id(),
        nanos()
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// How long a finished test process's directories are kept.
const KEEP_OUTPUTS: Duration = Duration::from_secs(3600);

fn sweep_old_outputs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("callclip-e2e-") else {
            continue;
        };
        // <name>-<pid>-<nanos>; the test name may itself contain dashes.
        let mut parts = rest.rsplitn(3, '-');
        let (Some(_), Some(pid)) = (parts.next(), parts.next()) else {
            continue;
        };
        let alive = Path::new("/proc").join(pid).exists();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= KEEP_OUTPUTS);
        if !alive && old {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// A port free on both UDP and TCP on 127.0.0.1.
pub fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = udp.local_addr().expect("addr").port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() && port > 20000 {
            return port;
        }
    }
}

/// An RTP base port for a sipp caller: inside the range the toolkit's capture covers
/// (16000–16200) and free right now, so concurrent runs do not collide.
pub fn sipp_media_port() -> u16 {
    for _ in 0..200 {
        let p = 16000 + 4 * (free_port() % 50);
        if UdpSocket::bind(("127.0.0.1", p)).is_ok()
            && UdpSocket::bind(("127.0.0.1", p + 2)).is_ok()
        {
            return p;
        }
    }
    16000
}

/// The media the toolkit generates (make_all.sh), built once per test process.
pub fn media_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let out = std::env::var_os("PEERS_OUT")
            .map(PathBuf::from)
            .unwrap_or_else(|| temp_dir("media"));
        if !out.join("MANIFEST.sha256").exists() {
            let st = Command::new(peers().join("make_all.sh"))
                .arg(&out)
                .stdout(Stdio::null())
                .status();
            assert!(
                st.map(|s| s.success()).unwrap_or(false),
                "make_all.sh failed"
            );
        }
        out
    })
    .clone()
}

/// A running gateway; killed on drop.
pub struct Gateway {
    pub child: Child,
    pub sip: SocketAddr,
    pub api: SocketAddr,
    pub dir: PathBuf,
    pub log: PathBuf,
}

impl Gateway {
    /// Starts `callclip serve` with the embedded defaults plus `env`, in a new directory.
    pub fn start(name: &str, env: &[(&str, String)]) -> Gateway {
        Self::start_in(name, &temp_dir(name), env)
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.log_text().contains("callclip ready") {
                return;
            }
            // Polling a log file the child writes; nothing to wait on instead.
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("callclip did not start:\n{}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then wait for exit (graceful shutdown).
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        wait_child(&mut self.child, within)
    }
}

/// Waits up to `within` for `child` to exit; `None` if it is still running.
pub fn wait_child(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(Some(st)) = child.try_wait() {
            return Some(st);
        }
        // Polling a child process; std offers no wait with a timeout.
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the sipp caller of the toolkit against the gateway.
pub fn sipp_uac(gw: &Gateway, extra_env: &[(&str, String)], args: &[&str]) -> Output {
    let logdir = gw.dir.join(format!("sipp-{}", nanos()));
    let mut cmd = Command::new(peers().join("sipp/run_uac.sh"));
    cmd.args(args)
        .env("TARGET", gw.sip.to_string())
        .env("LOGDIR", &logdir)
        .env("PEERS_OUT", media_dir())
        .env("LPORT", free_port().to_string())
        .env("MPORT", sipp_media_port().to_string())
        .stdin(Stdio::null());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().expect("run sipp")
}

/// Runs a command under the toolkit's loopback capture and returns analyze.txt.
pub fn with_capture(gw: &Gateway, rundir: &Path, cmd: &[String]) -> (Output, String) {
    let mut c = Command::new(peers().join("bin/with_capture.sh"));
    c.arg(rundir)
        .arg("--")
        .args(cmd)
        .env("NO_UAS", "1")
        .env("BOT_PORT", gw.sip.port().to_string())
        .env("CAP_PORTS_EXTRA", "42000-43999")
        .env("PEERS_OUT", media_dir())
        .stdin(Stdio::null());
    let out = c.output().expect("run with_capture");
    let analyze = std::fs::read_to_string(rundir.join("analyze.txt")).unwrap_or_default();
    (out, analyze)
}

pub fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
pub mod http;

impl Gateway {
    /// Starts `callclip serve` in an existing `dir` (its recordings and spool included), as a
    /// restart after a crash or a SIGTERM finds them; fresh ports, log `callclip-<name>.log`.
    pub fn start_in(name: &str, dir: &Path, env: &[(&str, String)]) -> Gateway {
        let sip_port = free_port();
        let api_port = free_port();
        let rtp_base = 42000 + (free_port() % 190) * 10;
        let log = dir.join(format!("callclip-{name}.log"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_callclip"));
        cmd.arg("serve")
            .current_dir(dir)
            .env("CALLCLIP_SIP_LISTEN", format!("127.0.0.1:{sip_port}"))
            .env("CALLCLIP_API_LISTEN", format!("127.0.0.1:{api_port}"))
            .env(
                "CALLCLIP_API_PUBLIC_URL",
                format!("http://127.0.0.1:{api_port}"),
            )
            .env(
                "CALLCLIP_RTP_PORTS",
                format!("{}-{}", rtp_base, rtp_base + 9),
            )
            .env("CALLCLIP_RECORDINGS_DIR", dir.join("recordings"))
            .env("CALLCLIP_NOTIFICATIONS_SPOOL_DIR", dir.join("spool"))
            .env("CALLCLIP_LOG", "debug")
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
            dir: dir.to_path_buf(),
            log,
        };
        gw.wait_ready();
        gw
    }
}
pub mod bot;
