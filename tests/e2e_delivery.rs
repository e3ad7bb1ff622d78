//! End to end, issue "Graph API", what a bot relies on after the media is done: recording
//! tokens, notifications that outlive a webhook outage and a restart, and a recording that
//! survives `kill -9`. The test plays the bot: a webhook receiver gets the notifications, the
//! test answers and drives operations over HTTP, a real sipp caller speaks.
#![allow(clippy::unwrap_used)]
// Test code: a failed unwrap is the failure report; no network input reaches it.
// End-to-end tests run in real time against real processes: they read the clock and sleep.
#![allow(clippy::disallowed_methods)]

mod support;

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::bot::{arrivals, bot_env, location_path, recording, summary, Bot, Wav, TOKEN};
use support::http::{request, Webhook};
use support::*;

/// Every notification item `hook` receives until one matches `last` (included), in order.
fn collect_until(hook: &Webhook, within: Duration, last: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + within;
    let mut items = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let d = hook
            .rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no final notification within {within:?}; got {items:#?}"));
        for item in d.body["value"].as_array().cloned().unwrap_or_default() {
            let done = last(&item);
            items.push(item);
            if done {
                return items;
            }
        }
    }
}

fn is_call_terminated(n: &Value) -> bool {
    n["changeType"] == "deleted" && n["resourceData"]["state"] == "terminated"
}

/// The notifications of one call after its answer: `early` reached the default callback, `late`
/// reached the answer's `callbackUri` once the webhook came back (which webhook gets what is
/// `e2e_api`'s routing test's concern; here only completeness and order count). Each arrives exactly once, in the order the call
/// went through them.
fn assert_complete_and_ordered(early: &[Value], late: &[Value], op: &str) {
    let all: Vec<Value> = early.iter().chain(late).cloned().collect();
    let short = (summary(early), summary(late));
    for (i, a) in all.iter().enumerate() {
        assert!(
            !all[i + 1..].contains(a),
            "delivered twice: {a}\n{short:#?}"
        );
    }
    let at = |items: &[Value], pred: &dyn Fn(&Value) -> bool| -> Vec<usize> {
        items
            .iter()
            .enumerate()
            .filter(|(_, n)| pred(n))
            .map(|(i, _)| i)
            .collect()
    };
    let established =
        |n: &Value| n["changeType"] == "updated" && n["resourceData"]["state"] == "established";
    let op_done = |n: &Value| n["changeType"] == "deleted" && n["resourceData"]["id"] == op;
    let terminating =
        |n: &Value| n["changeType"] == "updated" && n["resourceData"]["state"] == "terminating";
    assert_eq!(at(&all, &established).len(), 1, "{short:#?}");
    let [op_done, terminating, terminated] = [
        at(late, &op_done),
        at(late, &terminating),
        at(late, &is_call_terminated),
    ]
    .map(|found| {
        assert_eq!(found.len(), 1, "{short:#?}");
        found[0]
    });
    if let Some(&e) = at(late, &established).first() {
        assert!(e < op_done, "{short:#?}");
    }
    assert!(
        op_done < terminating && terminating < terminated,
        "{short:#?}"
    );
    assert_eq!(terminated, late.len() - 1, "{short:#?}");
    let op_done = &late[op_done]["resourceData"];
    assert_eq!(
        op_done["completionReason"], "maxRecordDurationReached",
        "{op_done}"
    );
}

#[test]
fn a_recording_token_opens_only_its_recording_and_delete_removes_it() {
    let _g = serial();
    require_tools(&["sipp"]);
    let bot = Bot::start("tokens", &[]);
    let caller = bot.call("caller_pcmu.pcap", 12000);
    let id = bot.answer_incoming();
    let mut recs = Vec::new();
    for _ in 0..2 {
        let op = bot.start_op(
            &id,
            "record",
            json!({"maxRecordDurationInSeconds": 1, "playBeep": false}),
        );
        let done = bot.wait_op(&op, Duration::from_secs(10));
        let token = done["recordingAccessToken"]
            .as_str()
            .expect("token")
            .to_string();
        recs.push((location_path(&done), token));
    }
    let [(path_a, token_a), (path_b, token_b)] = [recs[0].clone(), recs[1].clone()];
    assert_ne!(path_a, path_b);
    for token in [Some(token_b.as_str()), Some(TOKEN), None] {
        let r = recording(&bot.gw, "GET", &path_a, token);
        assert!(
            matches!(r.status, 401 | 403 | 404),
            "GET A with {token:?}: {}",
            r.status
        );
        let r = recording(&bot.gw, "DELETE", &path_a, token);
        assert!(
            matches!(r.status, 401 | 403 | 404),
            "DELETE A with {token:?}: {}",
            r.status
        );
    }
    assert_eq!(
        recording(&bot.gw, "GET", &path_a, Some(&token_a)).status,
        200
    );
    assert_eq!(
        recording(&bot.gw, "DELETE", &path_a, Some(&token_a)).status,
        204
    );
    assert_eq!(
        recording(&bot.gw, "GET", &path_a, Some(&token_a)).status,
        404
    );
    let b = recording(&bot.gw, "GET", &path_b, Some(&token_b));
    assert_eq!(b.status, 200, "B is untouched");
    assert!(Wav::parse(&b.body).seconds() > 0.9);
    drop(caller);
}

/// Answers a call with a callback on `down` (nothing listens there), records 1 s, hangs up;
/// returns the operation id once the call is terminated.
fn run_call_while_the_webhook_is_down(bot: &Bot, down: u16) -> String {
    let id = bot.incoming();
    bot.answer(&id, &format!("http://127.0.0.1:{down}/callback"));
    let call = format!("/communications/calls/{id}");
    bot.poll(&call, "state", "established", Duration::from_secs(10));
    let op = bot.start_op(
        &id,
        "record",
        json!({"maxRecordDurationInSeconds": 1, "playBeep": false}),
    );
    bot.poll(
        &format!("{call}/operations/{op}"),
        "status",
        "completed",
        Duration::from_secs(10),
    );
    let r = request(bot.gw.api, "DELETE", &call, Some(TOKEN), None);
    assert_eq!(r.status, 204, "{}", r.text());
    let deadline = Instant::now() + Duration::from_secs(10);
    while bot.get(&call).json()["state"] != "terminated" {
        assert!(Instant::now() < deadline, "the call never ended");
        // Polling the API; nothing to wait on instead.
        std::thread::sleep(Duration::from_millis(100));
    }
    op
}

#[test]
fn notifications_held_back_by_a_webhook_outage_arrive_once_and_in_order() {
    let _g = serial();
    require_tools(&["sipp"]);
    let down = free_port();
    let bot = Bot::start("hookdown", &[]);
    let caller = bot.call("caller_pcmu.pcap", 15000);
    let outage = Instant::now();
    let op = run_call_while_the_webhook_is_down(&bot, down);
    // The webhook stays down about 20 s while delivery backs off (0.5 s doubling).
    std::thread::sleep(Duration::from_secs(20).saturating_sub(outage.elapsed()));
    let hook =
        Webhook::start_on(TcpListener::bind(("127.0.0.1", down)).expect("bind the webhook port"));
    let items = collect_until(&hook, Duration::from_secs(40), is_call_terminated);
    assert_complete_and_ordered(
        &arrivals(&bot.hook, Duration::from_millis(100)),
        &items,
        &op,
    );
    let late = arrivals(&hook, Duration::from_secs(2));
    assert!(late.is_empty(), "delivered again: {late:#?}");
    let _ = caller.join();
}

#[test]
fn notifications_pending_at_sigterm_are_delivered_by_the_next_process() {
    let _g = serial();
    require_tools(&["sipp"]);
    let down = free_port();
    let mut bot = Bot::start("spool", &[]);
    let caller = bot.call("caller_pcmu.pcap", 15000);
    let op = run_call_while_the_webhook_is_down(&bot, down);
    let spool = bot.gw.dir.join("spool");
    let spooled = |what: &str| {
        std::fs::read_dir(&spool)
            .expect("spool")
            .flatten()
            .any(|e| {
                std::fs::read_to_string(e.path())
                    .unwrap_or_default()
                    .contains(what)
            })
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !spooled("terminated") {
        assert!(
            Instant::now() < deadline,
            "the call's end never reached the spool"
        );
        // The spool is written in the background; nothing to wait on instead.
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = bot
        .gw
        .terminate(Duration::from_secs(15))
        .expect("callclip exits on SIGTERM");
    assert!(status.success(), "{status:?}\n{}", bot.gw.log_text());
    let dir = bot.gw.dir.clone();
    let gw = Gateway::start_in("restarted", &dir, &bot_env(bot.hook.url(), &[]));
    let hook =
        Webhook::start_on(TcpListener::bind(("127.0.0.1", down)).expect("bind the webhook port"));
    let items = collect_until(&hook, Duration::from_secs(20), is_call_terminated);
    assert_complete_and_ordered(
        &arrivals(&bot.hook, Duration::from_millis(100)),
        &items,
        &op,
    );
    let late = arrivals(&hook, Duration::from_secs(2));
    assert!(late.is_empty(), "delivered again: {late:#?}");
    // The link in a notification the next process delivered still opens the recording.
    let done = items
        .iter()
        .find(|n| n["changeType"] == "deleted" && n["resourceData"]["id"] == op.as_str())
        .map(|n| &n["resourceData"])
        .expect("the operation's completion");
    let token = done["recordingAccessToken"].as_str().expect("token");
    let r = recording(&gw, "GET", &location_path(done), Some(token));
    assert_eq!(r.status, 200, "{}\n{}", r.text(), gw.log_text());
    assert!(Wav::parse(&r.body).seconds() > 0.9);
    let left = std::fs::read_dir(&spool).expect("spool").count();
    assert_eq!(
        left,
        0,
        "the spool is empty once everything is delivered\n{}",
        gw.log_text()
    );
    let _ = caller.join();
}

#[test]
fn a_recording_cut_by_kill_9_is_repaired_at_restart_and_keeps_the_audio() {
    let _g = serial();
    require_tools(&["sipp"]);
    let mut bot = Bot::start("crash", &[]);
    // Speech from 1.0 s to about 9 s.
    let caller = bot.call("caller_pcmu.pcap", 15000);
    let id = bot.answer_incoming();
    bot.start_op(
        &id,
        "record",
        json!({"maxRecordDurationInSeconds": 30, "initialSilenceTimeoutInSeconds": 10,
               "maxSilenceTimeoutInSeconds": 10, "playBeep": false}),
    );
    let started = Instant::now();
    // About 3 s of speech reach the recording before the crash.
    std::thread::sleep(Duration::from_secs(4));
    bot.gw.child.kill().expect("kill -9");
    let recorded = started.elapsed().as_secs_f64();
    let _ = bot.gw.child.wait();
    let dir = bot.gw.dir.clone();
    let wavs: Vec<PathBuf> = std::fs::read_dir(dir.join("recordings"))
        .expect("recordings dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    assert_eq!(wavs.len(), 1, "{wavs:?}");
    let gw = Gateway::start_in("after-crash", &dir, &bot_env(bot.hook.url(), &[]));
    assert!(gw.log_text().contains("repaired"), "{}", gw.log_text());
    let bytes = std::fs::read(&wavs[0]).expect("read the recording");
    let wav = Wav::parse(&bytes);
    assert_eq!(
        bytes.len() as u64,
        44 + 2 * wav.samples.len() as u64,
        "the header matches the file"
    );
    let secs = wav.seconds();
    eprintln!("kill -9: {secs:.3} s in the file, {recorded:.3} s between the POST and the kill");
    assert!(
        secs >= recorded - 0.3 && secs <= recorded + 0.05,
        "{secs:.3} s kept of {recorded:.3} s recorded before the kill"
    );
    assert!(wav.rms() > 300.0, "the recording holds speech");
    drop(caller);
}
