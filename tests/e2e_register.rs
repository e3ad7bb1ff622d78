//! callclip registers with a real registrar (sipp, tests/sipp/registrar_401.xml): the first
//! REGISTER is challenged, the digest-authorized retry is granted 4 s, and the refresh arrives
//! before the binding runs out. And a create call to a phone number goes to the PBX it
//! registered with (tests/sipp/pbx_number_uas.xml).
#![allow(clippy::unwrap_used)]
// Test code: a failed unwrap is the failure report; no network input reaches it.
// End-to-end tests run in real time against real processes.
#![allow(clippy::disallowed_methods)]

mod support;

use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::bot::Bot;
use support::{
    free_port, repo_root, require_tools, serial, sipp_media_port, temp_dir, wait_child, Gateway,
};

/// The sipp registrar; killed on drop if it is still running.
struct Registrar {
    child: Child,
    port: u16,
}

impl Registrar {
    fn start(dir: &Path) -> Registrar {
        Registrar::start_scenario(dir, "registrar_401.xml", 1)
    }

    /// `calls` sipp calls of `tests/sipp/<scenario>`, media on a free port.
    fn start_scenario(dir: &Path, scenario: &str, calls: u32) -> Registrar {
        let port = free_port();
        let scenario = repo_root().join("tests/sipp").join(scenario);
        let out = std::fs::File::create(dir.join("sipp.out")).expect("sipp log");
        let child = Command::new("sipp")
            .arg("-sf")
            .arg(&scenario)
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-m", &calls.to_string(), "-nostdin", "-timeout", "30s"])
            .args(["-mi", "127.0.0.1", "-mp", &sipp_media_port().to_string()])
            .args(["-trace_err", "-trace_msg", "-trace_logs"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out)
            .spawn()
            .expect("start sipp");
        let registrar = Registrar { child, port };
        registrar.wait_bound();
        registrar
    }

    /// Until sipp holds its UDP port (a bind of our own then fails).
    fn wait_bound(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if UdpSocket::bind(("127.0.0.1", self.port)).is_err() {
                return;
            }
            // sipp offers nothing to wait on but its socket.
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("sipp did not bind 127.0.0.1:{}", self.port);
    }

    fn wait(&mut self, within: Duration) -> Option<ExitStatus> {
        wait_child(&mut self.child, within)
    }
}

impl Drop for Registrar {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every file sipp wrote (screen, errors, messages, log actions), for a failure message.
fn sipp_files(dir: &Path) -> String {
    let mut out = String::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().is_some_and(|x| x == "log" || x == "out") {
                out.push_str(&format!("--- {}\n", path.display()));
                out.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    out
}

/// Settings registering the bot as "bot" / "secret" with the sipp registrar on `port`.
fn registering_with(port: u16) -> Vec<(&'static str, String)> {
    vec![
        (
            "CALLCLIP_SIP_REGISTER_REGISTRAR",
            format!("sip:127.0.0.1:{port}"),
        ),
        ("CALLCLIP_SIP_REGISTER_USERNAME", "bot".to_string()),
        ("CALLCLIP_SIP_REGISTER_PASSWORD", "secret".to_string()),
    ]
}

#[test]
fn registers_with_digest_auth_and_refreshes_before_expiry() {
    require_tools(&["sipp"]);
    let _serial = serial();
    let dir = temp_dir("register-sipp");
    let mut registrar = Registrar::start(&dir);

    let gw = Gateway::start(
        "register",
        &[
            registering_with(registrar.port),
            vec![("CALLCLIP_SIP_REGISTER_EXPIRES_SECONDS", "4".to_string())],
        ]
        .concat(),
    );

    // 401, authorized REGISTER, 200 (4 s granted), refresh after max(1, min(4/2, 4-5)) = 1 s, 200.
    let status = registrar.wait(Duration::from_secs(25));
    let diagnostics = || format!("{}\n--- callclip log\n{}", sipp_files(&dir), gw.log_text());
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "sipp registrar did not see challenge, authorized REGISTER and refresh:\n{}",
        diagnostics()
    );

    let logs = sipp_files(&dir);
    assert!(logs.contains("REGISTER 2 Authorization=Digest"), "{logs}");
    assert!(logs.contains(r#"username="bot""#), "{logs}");
    assert!(logs.contains(r#"realm="callclip.test""#), "{logs}");

    let registered = gw.log_text().matches("Registered").count();
    assert!(
        registered >= 2,
        "expected the registration and its refresh in the log:\n{}",
        diagnostics()
    );
}

#[test]
fn calls_to_a_phone_number_and_to_a_host_name_go_to_the_pbx_the_bot_registered_with() {
    require_tools(&["sipp"]);
    let _serial = serial();
    let dir = temp_dir("pbx-number");
    let mut pbx = Registrar::start_scenario(&dir, "pbx_number_uas.xml", 3);
    let bot = Bot::start("pbx-number", &registering_with(pbx.port));
    let diagnostics = || {
        format!(
            "{}\n--- callclip log\n{}",
            sipp_files(&dir),
            bot.gw.log_text()
        )
    };
    // One call at a time: established, then hung up (the PBX's BYE handling is sequential).
    let mut chains = Vec::new();
    for identity in [
        json!({"phone": {"id": "+4930123456"}}),
        json!({"user": {"id": "sip:bob@elsewhere.example"}}),
    ] {
        let r = bot.post(
            "/communications/calls",
            json!({"@odata.type": "#microsoft.graph.call", "callbackUri": bot.hook.url(),
                   "targets": [{"@odata.type": "#microsoft.graph.invitationParticipantInfo",
                                "identity": identity}],
                   "requestedModalities": ["audio"],
                   "mediaConfig": {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}}),
        );
        assert_eq!(r.status, 201, "{}\n{}", r.text(), diagnostics());
        let id = r.json()["id"].as_str().expect("call id").to_string();
        chains.push(
            r.json()["callChainId"]
                .as_str()
                .expect("callChainId")
                .to_string(),
        );
        bot.hook.wait_for(Duration::from_secs(10), |n| {
            n["resourceData"]["state"] == "established"
                && n["resourceUrl"].as_str().is_some_and(|u| u.contains(&id))
        });
        let r = bot.hang_up(&id);
        assert_eq!(r.status, 204);
    }
    let status = pbx.wait(Duration::from_secs(20));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "the PBX did not see REGISTER, then INVITEs for sip:+4930123456@<its host>;user=phone \
         and sip:bob@elsewhere.example:\n{}",
        diagnostics()
    );
    let logs = sipp_files(&dir);
    assert!(
        logs.contains("INVITE INVITE sip:+4930123456@127.0.0.1:") && logs.contains(";user=phone"),
        "{logs}"
    );
    assert!(
        logs.contains("INVITE INVITE sip:bob@elsewhere.example SIP/2.0"),
        "{logs}"
    );
    // The API's callChainId is the SIP Call-ID the PBX sees (API_CONTRACT.md).
    for chain in &chains {
        assert!(
            logs.contains(&format!("CALL-ID {chain}")),
            "{chain}\n{logs}"
        );
    }
}
