//! Talk-off on real speech: espeak-ng speech (several voices and rates) through the in-band
//! detector must produce no digit. Skipped when espeak-ng or sox are not installed.
#![allow(clippy::unwrap_used)] // Tests unwrap freely (STYLE.md).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use media::dtmf::inband::ToneDetector;

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Speaks `text` and returns it as 8 kHz mono 16-bit PCM.
fn speak(dir: &Path, name: &str, voice: &str, text: &str) -> Vec<i16> {
    let wav = dir.join(format!("{name}.wav"));
    let raw = dir.join(format!("{name}.raw"));
    let ok = Command::new("espeak-ng")
        .args(["-v", voice, "-s", "170", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .unwrap()
        .success();
    assert!(ok, "espeak-ng failed");
    let ok = Command::new("sox")
        .arg("-R")
        .arg(&wav)
        .args([
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            "-t",
            "raw",
        ])
        .arg(&raw)
        .status()
        .unwrap()
        .success();
    assert!(ok, "sox failed");
    std::fs::read(&raw)
        .unwrap()
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

#[test]
fn real_speech_gives_no_false_digits() {
    if !have("espeak-ng") || !have("sox") {
        eprintln!("skipped: espeak-ng and sox are needed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("callclip-talkoff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = "Hello, thanks for calling. Please leave your message after the tone. \
                One two three four five six seven eight nine zero, star and pound. \
                We really appreciate your patience; someone will call you back soon.";
    let mut total = Duration::ZERO;
    for (i, voice) in ["en-us", "en", "en-us+f3", "de", "fr"].iter().enumerate() {
        let pcm = speak(&dir, &format!("s{i}"), voice, text);
        let mut det = ToneDetector::new(8000);
        let mut out = Vec::new();
        for (k, frame) in pcm.chunks(160).enumerate() {
            det.process(Duration::from_millis(20 * k as u64), frame, &mut out);
        }
        total += Duration::from_millis(pcm.len() as u64 / 8);
        assert!(out.is_empty(), "voice {voice}: false digits {out:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        total > Duration::from_secs(20),
        "only {total:?} of speech checked"
    );
}
