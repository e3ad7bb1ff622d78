//! End to end, issue "Graph API": a bot written against the Graph calls API drives callclip over
//! HTTP while a real sipp caller speaks and presses digits. The test plays the bot: a webhook
//! receiver gets the notifications, answers through the API, starts operations and downloads
//! the recording.
#![allow(clippy::unwrap_used)]
// Test code: a failed unwrap is the failure report; no network input reaches it.
// End-to-end tests run in real time against real processes: they read the clock and sleep.
#![allow(clippy::disallowed_methods)]

mod support;

use std::time::Duration;

use serde_json::json;
use support::bot::{Bot, Caller, Wav, TOKEN};
use support::http::request;
use support::*;

#[test]
fn stop_tone_ends_the_recording_and_the_wav_holds_the_speech_without_the_tone() {
    let _g = serial();
    require_tools(&["sipp"]);
    let bot = Bot::start("stoptone", &[]);
    // Speech from 1.0 s to about 5.3 s, then RFC 4733 digits 1, 2, # at 6.4, 6.9, 7.4 s.
    let caller = bot.call("caller_short_pcmu_dtmf.pcap", 12000);
    let id = bot.answer_incoming();
    for (field, value) in [
        ("maxRecordDurationInSeconds", json!(301)),
        ("initialSilenceTimeoutInSeconds", json!(0)),
        ("stopTones", json!(["E"])),
        ("clientContext", json!("x".repeat(257))),
        ("playBeep", json!("yes")),
    ] {
        let r = bot.post(
            &format!("/communications/calls/{id}/record"),
            json!({ field: value }),
        );
        assert_eq!(r.status, 400, "{field}: {}", r.text());
        assert!(
            r.text().contains(field),
            "the error names {field}: {}",
            r.text()
        );
    }
    let r = bot.post(
        &format!("/communications/calls/{id}/record"),
        json!({"stopTones": ["#"], "maxRecordDurationInSeconds": 20, "maxSilenceTimeoutInSeconds": 5,
               "initialSilenceTimeoutInSeconds": 5, "playBeep": true, "clientContext": "ctx-1"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.header("Location").unwrap_or("").contains("/operations/"),
        "{:?}",
        r.headers
    );
    let op = bot.wait_op_done(Duration::from_secs(20))["resourceData"].clone();
    assert_eq!(
        op["completionReason"],
        "stopToneDetected",
        "{op}\n{}",
        bot.gw.log_text()
    );
    assert_eq!(op["status"], "completed");
    assert_eq!(op["clientContext"], "ctx-1");
    let (status, wav) = bot.download(&op);
    assert_eq!(status, 200);
    let secs = Wav::parse(&wav).seconds();
    // From the end of the beep (~0.4 s after answer) to the # at 7.4 s, minus the tone.
    assert!((5.5..=7.3).contains(&secs), "recording is {secs:.2} s");
    assert!(Wav::parse(&wav).rms() > 300.0, "the recording holds speech");
    let _ = caller.join();
}

#[test]
fn caller_hang_up_mid_recording_completes_the_operation_before_the_call_is_deleted() {
    let _g = serial();
    require_tools(&["sipp"]);
    let bot = Bot::start("hangup", &[]);
    let caller = bot.call("caller_pcmu.pcap", 4000);
    let id = bot.answer_incoming();
    let r = bot.post(
        &format!("/communications/calls/{id}/record"),
        json!({"maxRecordDurationInSeconds": 30, "maxSilenceTimeoutInSeconds": 20, "initialSilenceTimeoutInSeconds": 20}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let mut order = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while order.len() < 2 && std::time::Instant::now() < deadline {
        let n = bot
            .hook
            .wait_for(Duration::from_secs(20), |n| n["changeType"] == "deleted");
        order.push(n);
    }
    assert_eq!(
        order[0]["resourceData"]["@odata.type"], "#microsoft.graph.recordOperation",
        "{order:?}"
    );
    assert_eq!(order[1]["resourceData"]["state"], "terminated", "{order:?}");
    let op = &order[0]["resourceData"];
    assert_eq!(op["completionReason"], "operationCanceled");
    assert_eq!(op["status"], "completed");
    let (status, wav) = bot.download(op);
    assert_eq!(status, 200);
    assert!(
        Wav::parse(&wav).seconds() > 2.0,
        "the audio before the hang-up is kept"
    );
    let _ = caller.join();
}

#[test]
fn max_record_duration_caps_the_wav_length() {
    let _g = serial();
    require_tools(&["sipp"]);
    let bot = Bot::start("maxdur", &[]);
    let caller = bot.call("caller_pcmu.pcap", 9000);
    let id = bot.answer_incoming();
    let r = bot.post(
        &format!("/communications/calls/{id}/record"),
        json!({"maxRecordDurationInSeconds": 3, "playBeep": false}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let op = bot.wait_op_done(Duration::from_secs(15))["resourceData"].clone();
    assert_eq!(op["completionReason"], "maxRecordDurationReached", "{op}");
    assert_eq!(op["resultInfo"]["subcode"], 8515);
    let (_, wav) = bot.download(&op);
    let secs = Wav::parse(&wav).seconds();
    assert!(
        (secs - 3.0).abs() <= 0.0201,
        "recording is {secs:.3} s, want 3 s ± 20 ms"
    );
    let _ = caller.join();
}

#[test]
fn initial_silence_times_out_and_fails() {
    let _g = serial();
    require_tools(&["sipp"]);
    let bot = Bot::start("silence", &[]);
    let caller = bot.call("silence_10s_pcmu.pcap", 8000);
    let id = bot.answer_incoming();
    let r = bot.post(
        &format!("/communications/calls/{id}/record"),
        json!({"initialSilenceTimeoutInSeconds": 2}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let op = bot.wait_op_done(Duration::from_secs(15))["resourceData"].clone();
    assert_eq!(op["completionReason"], "initialSilenceTimeout", "{op}");
    assert_eq!(op["status"], "failed");
    let _ = caller.join();
}

#[test]
fn subscribe_to_tone_reports_each_digit_with_increasing_sequence_ids() {
    let _g = serial();
    require_tools(&["sipp"]);
    let bot = Bot::start("tones", &[]);
    let caller = bot.call("caller_short_pcmu_dtmf.pcap", 9000);
    let id = bot.answer_incoming();
    let r = bot.post(
        &format!("/communications/calls/{id}/subscribeToTone"),
        json!({"clientContext": "t"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let mut tones = Vec::new();
    while tones.len() < 3 {
        let n = bot.hook.wait_for(Duration::from_secs(15), |n| {
            !n["resourceData"]["toneInfo"].is_null()
        });
        tones.push(n["resourceData"]["toneInfo"].clone());
    }
    let names: Vec<&str> = tones
        .iter()
        .map(|t| t["tone"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["tone1", "tone2", "pound"]);
    let seq: Vec<i64> = tones
        .iter()
        .map(|t| t["sequenceId"].as_i64().unwrap_or(-1))
        .collect();
    assert!(seq.windows(2).all(|w| w[1] == w[0] + 1), "{seq:?}");
    let _ = caller.join();
}

#[test]
fn cancel_media_processing_fails_the_running_record_with_operation_canceled() {
    let _g = serial();
    require_tools(&["sipp"]);
    let bot = Bot::start("cancel", &[]);
    let caller = bot.call("caller_pcmu.pcap", 8000);
    let id = bot.answer_incoming();
    let r = bot.post(
        &format!("/communications/calls/{id}/record"),
        json!({"maxRecordDurationInSeconds": 30}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    std::thread::sleep(Duration::from_secs(2)); // let the recording run a while
    let r = bot.post(
        &format!("/communications/calls/{id}/cancelMediaProcessing"),
        json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let op = bot.wait_op_done(Duration::from_secs(10))["resourceData"].clone();
    assert_eq!(op["completionReason"], "operationCanceled", "{op}");
    assert_eq!(op["status"], "failed");
    assert_eq!(op["resultInfo"]["code"], 400);
    assert_eq!(op["resultInfo"]["subcode"], 8508);
    let _ = caller.join();
}

#[test]
fn errors_use_the_graph_envelope() {
    let _g = serial();
    let bot = Bot::start("errors", &[]);
    let r = request(bot.gw.api, "GET", "/communications/calls/nope", None, None);
    assert_eq!(r.status, 401);
    let r = request(
        bot.gw.api,
        "GET",
        "/communications/calls/nope",
        Some(TOKEN),
        None,
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "8522");
    let r = request(
        bot.gw.api,
        "POST",
        "/communications/calls",
        Some(TOKEN),
        Some("{not json"),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "invalidRequest");
    let r = request(bot.gw.api, "GET", "/no/such/route", Some(TOKEN), None);
    assert_eq!(r.status, 404);
    assert!(r.json()["error"]["code"].is_string(), "{}", r.text());
}

#[test]
fn stream_while_recording_publishes_the_location_while_running_and_streams_to_the_end() {
    let _g = serial();
    require_tools(&["sipp"]);
    let bot = Bot::start("stream", &[]);
    let caller = bot.call("caller_short_pcmu_dtmf.pcap", 12000);
    let id = bot.answer_incoming();
    let r = bot.post(
        &format!("/communications/calls/{id}/record"),
        json!({"stopTones": ["#"], "maxRecordDurationInSeconds": 20, "streamWhileRecording": true}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let running = bot.hook.wait_for(Duration::from_secs(10), |n| {
        n["changeType"] == "updated" && n["resourceData"]["status"] == "running"
    });
    let op = running["resourceData"].clone();
    assert!(op["recordingLocation"].is_string(), "{op}");
    // The download started now follows the file until the recording ends.
    let started = std::time::Instant::now();
    let (status, streamed) = bot.download(&op);
    assert_eq!(status, 200);
    assert!(
        started.elapsed() > Duration::from_secs(2),
        "the download followed the live recording"
    );
    let done = bot.wait_op_done(Duration::from_secs(20))["resourceData"].clone();
    assert_eq!(done["completionReason"], "stopToneDetected", "{done}");
    let (_, finished) = bot.download(&done);
    // The live stream saw every sample of the final file (it may hold the cut tone too).
    assert!(
        streamed.len() + 100 >= finished.len(),
        "streamed {} bytes, file {}",
        streamed.len(),
        finished.len()
    );
    let _ = caller.join();
}

#[test]
fn the_built_in_flow_records_without_a_bot_and_notifies_the_completion() {
    let _g = serial();
    require_tools(&["sipp"]);
    let bot = Bot::start(
        "flow",
        &[
            ("CALLCLIP_INCOMING_MODE", "flow".to_string()),
            ("CALLCLIP_CALLS_FLOW_MAX_SILENCE_SECONDS", "5".to_string()),
        ],
    );
    // The flow hangs up after the recording: EXPECT_BYE-like, the caller waits for it.
    let caller = bot.call("caller_short_pcmu_dtmf.pcap", 15000);
    let op = bot.wait_op_done(Duration::from_secs(20))["resourceData"].clone();
    assert_eq!(
        op["@odata.type"], "#microsoft.graph.recordOperation",
        "{op}"
    );
    assert_eq!(op["completionReason"], "stopToneDetected", "{op}");
    let (status, wav) = bot.download(&op);
    assert_eq!(status, 200);
    assert!(
        (5.5..=7.3).contains(&Wav::parse(&wav).seconds()),
        "{}",
        Wav::parse(&wav).seconds()
    );
    let ended = bot.hook.wait_for(Duration::from_secs(10), |n| {
        n["resourceData"]["state"] == "terminated"
    });
    assert_eq!(ended["changeType"], "deleted");
    let _ = caller.join();
}

#[test]
fn create_call_places_an_outgoing_call_that_can_record_and_hang_up() {
    let _g = serial();
    require_tools(&["sipp"]);
    let bot = Bot::start("outgoing", &[]);
    let uas_port = free_port();
    // The toolkit's stand-in answers, streams a 3 s prompt and beep, and waits for our BYE.
    let mut uas = Caller(
        std::process::Command::new(peers().join("sipp/run_uas.sh"))
            .env("UAS_PORT", uas_port.to_string())
            .env("MPORT", sipp_media_port().to_string())
            .env("BYE_AFTER_MS", "30000")
            .env("LOGDIR", bot.gw.dir.join("uas"))
            .env("PEERS_OUT", media_dir())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the sipp UAS"),
    );
    std::thread::sleep(Duration::from_millis(500)); // sipp binds its port
    let r = bot.post(
        "/communications/calls",
        json!({"@odata.type": "#microsoft.graph.call", "callbackUri": bot.hook.url(),
               "targets": [{"@odata.type": "#microsoft.graph.invitationParticipantInfo",
                            "identity": {"user": {"id": format!("sip:callee@127.0.0.1:{uas_port}")}}}],
               "requestedModalities": ["audio"],
               "mediaConfig": {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.header("Location").is_some());
    let id = r.json()["id"].as_str().expect("call id").to_string();
    assert_eq!(r.json()["state"], "establishing");
    bot.hook.wait_for(Duration::from_secs(10), |n| {
        n["resourceData"]["state"] == "established"
    });
    // The stand-in's prompt is "speech" to the recorder: 2 s cap.
    let r = bot.post(
        &format!("/communications/calls/{id}/record"),
        json!({"maxRecordDurationInSeconds": 2, "playBeep": false}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let op = bot.wait_op_done(Duration::from_secs(10))["resourceData"].clone();
    assert_eq!(op["completionReason"], "maxRecordDurationReached", "{op}");
    let r = bot.hang_up(&id);
    assert_eq!(r.status, 204);
    bot.hook.wait_for(Duration::from_secs(10), |n| {
        n["resourceData"]["state"] == "terminated"
    });
    let st = uas.0.wait().expect("sipp UAS exits");
    assert!(st.success(), "the UAS saw a clean call ending with our BYE");
}
