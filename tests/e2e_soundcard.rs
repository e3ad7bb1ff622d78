//! `callclip record` on a sound card, without hardware: an ALSA `file` PCM feeds a WAV as the
//! microphone and a `null` PCM takes the speaker (tests/alsa/asoundrc.in, installed as the
//! `.asoundrc` of a temporary HOME). The binary paces its reads by the clock, so each run
//! takes the real time of the audio it records.
#![allow(clippy::unwrap_used)]
// Test code: a failed unwrap is the failure report; no network input reaches it.
// End-to-end tests run in real time against real processes.
#![allow(clippy::disallowed_methods)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use support::{media_dir, repo_root, temp_dir, text};

/// A temporary HOME whose `.asoundrc` defines `callclip_in` (reading `mic.raw`) and
/// `callclip_out`.
struct Soundcard {
    home: PathBuf,
}

impl Soundcard {
    /// Installs the devices and writes `samples` as the microphone's raw input, in the format
    /// the binary opens the device with (the file plugin reads raw frames and converts nothing).
    fn with_microphone(name: &str, in_rate: u32, samples: Vec<i16>) -> Soundcard {
        let home = temp_dir(name);
        let raw = home.join("mic.raw");
        std::fs::write(&raw, b"").unwrap();
        let template = std::fs::read_to_string(repo_root().join("tests/alsa/asoundrc.in")).unwrap();
        let rc = template.replace("@INFILE@", raw.to_str().unwrap());
        std::fs::write(home.join(".asoundrc"), rc).unwrap();
        let card = Soundcard { home };

        let out = card.callclip(&["devices"]).output().unwrap();
        let listing = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "devices failed:\n{}", text(&out));
        let (rate, channels, format) = input_format(&listing, "callclip_in")
            .unwrap_or_else(|| panic!("callclip_in is not listed as an input:\n{}", text(&out)));
        assert!(
            listing
                .split("output devices:")
                .nth(1)
                .unwrap_or("")
                .contains("callclip_out"),
            "callclip_out is not listed as an output:\n{listing}"
        );

        let pcm = media::resample::resample(
            &media::wav::Pcm {
                rate: in_rate,
                samples,
            },
            rate,
        )
        .expect("resample");
        std::fs::write(&raw, encode_raw(&pcm.samples, channels, &format)).unwrap();
        card
    }

    fn callclip(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_callclip"));
        c.args(args)
            .env("HOME", &self.home)
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("ALSA_CONFIG_PATH")
            .env_remove("CALLCLIP_LOG")
            .stdin(Stdio::null());
        c
    }

    fn record(&self, extra: &[&str], out: &Path) -> Command {
        let mut args = vec![
            "record",
            "--device",
            "callclip_in",
            "--output-device",
            "callclip_out",
            "--no-beep",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        self.callclip(&args)
    }
}

/// `(rate, channels, format)` from a `callclip devices` line `  name  (44100 Hz, 2 ch, f32)`.
fn input_format(listing: &str, device: &str) -> Option<(u32, usize, String)> {
    let inputs = listing.split("output devices:").next()?;
    let line = inputs.lines().find(|l| {
        l.trim_start_matches([' ', '*'])
            .starts_with(&format!("{device} "))
    })?;
    let inner = line.split('(').nth(1)?.trim_end_matches(')');
    let mut parts = inner.split(", ");
    let rate = parts.next()?.strip_suffix(" Hz")?.parse().ok()?;
    let channels = parts.next()?.strip_suffix(" ch")?.parse().ok()?;
    Some((rate, channels, parts.next()?.to_owned()))
}

fn encode_raw(mono: &[i16], channels: usize, format: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for &s in mono {
        for _ in 0..channels {
            match format {
                "i16" => out.extend_from_slice(&s.to_le_bytes()),
                "i32" => out.extend_from_slice(&(i32::from(s) << 16).to_le_bytes()),
                "f32" => out.extend_from_slice(&(f32::from(s) / 32768.0).to_le_bytes()),
                "f64" => out.extend_from_slice(&(f64::from(s) / 32768.0).to_le_bytes()),
                other => panic!("no raw encoder for the device format {other}"),
            }
        }
    }
    out
}

fn read_wav(path: &Path) -> (u32, Vec<i16>) {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = r.spec();
    assert_eq!(
        (spec.channels, spec.bits_per_sample),
        (1, 16),
        "{}",
        path.display()
    );
    let samples = r.samples::<i16>().map(|s| s.unwrap()).collect();
    (spec.sample_rate, samples)
}

/// First and last instant (s) of audio above 1 % of full scale, in 10 ms RMS windows (the
/// threshold of the toolkit's measure.sh).
fn speech_span(rate: u32, samples: &[i16]) -> Option<(f64, f64)> {
    let win = (rate / 100) as usize;
    let loud: Vec<usize> = samples
        .chunks(win)
        .enumerate()
        .filter(|(_, w)| {
            let ms = w.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / w.len() as f64;
            ms.sqrt() > 0.01 * 32768.0
        })
        .map(|(i, _)| i)
        .collect();
    let (first, last) = (*loud.first()?, *loud.last()?);
    Some((first as f64 / 100.0, (last + 1) as f64 / 100.0))
}

fn duration_s(path: &Path) -> f64 {
    let (rate, samples) = read_wav(path);
    samples.len() as f64 / f64::from(rate)
}

fn line_value<'a>(stdout: &'a str, key: &str) -> Option<&'a str> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
}

/// Reads the meter lines (one a second when stderr is not a terminal) until `secs` have
/// passed in the recording; returns the rest of stderr's reader.
fn wait_for_elapsed(child: &mut Child, secs: f64) -> BufReader<std::process::ChildStderr> {
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if err.read_line(&mut line).unwrap() == 0 {
            panic!("callclip ended before {secs} s:\n{seen}");
        }
        seen.push_str(&line);
        let elapsed = line
            .trim_start()
            .split(" s ")
            .next()
            .and_then(|v| v.parse::<f64>().ok());
        if elapsed.is_some_and(|e| e >= secs) {
            return err;
        }
    }
}

fn finish(child: Child, mut err: BufReader<std::process::ChildStderr>) -> (Output, String) {
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    (out, rest)
}

fn caller_wav() -> PathBuf {
    media_dir().join("audio/caller_8k.wav")
}

#[test]
fn silence_after_speech_ends_the_recording_with_the_speech_kept() {
    let (in_rate, input) = read_wav(&caller_wav());
    let card = Soundcard::with_microphone("snd-silence", in_rate, input.clone());
    let wav = card.home.join("x.wav");
    let out = card
        .record(
            &[
                "--max-silence",
                "2",
                "--initial-silence",
                "5",
                "--max-duration",
                "20",
            ],
            &wav,
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        line_value(&stdout, "reason"),
        Some("maxSilenceTimeout"),
        "{}",
        text(&out)
    );
    assert_eq!(line_value(&stdout, "file"), wav.to_str(), "{}", text(&out));

    let (in_start, in_end) = speech_span(in_rate, &input).unwrap();
    let (rate, recorded) = read_wav(&wav);
    let (start, end) = speech_span(rate, &recorded).expect("speech in the recording");
    let dur = duration_s(&wav);
    // The file starts with the microphone, so the speech sits where it sits in the input, and
    // ends 0.5 s (the trailing silence kept) after the speech.
    assert!(
        (start - in_start).abs() < 0.1,
        "speech starts at {start} s, input {in_start} s"
    );
    assert!(
        (end - in_end).abs() < 0.1,
        "speech ends at {end} s, input {in_end} s"
    );
    assert!(
        (dur - (in_end + 0.5)).abs() <= 0.3,
        "recording {dur} s, expected {} s ± 0.3",
        in_end + 0.5
    );
    let printed: f64 = line_value(&stdout, "duration")
        .and_then(|d| d.strip_suffix(" s"))
        .and_then(|d| d.parse().ok())
        .unwrap();
    assert!(
        (printed - dur).abs() < 0.001,
        "printed {printed} s, file {dur} s"
    );
}

#[test]
fn a_stop_key_typed_on_stdin_ends_the_recording_there() {
    let (in_rate, input) = read_wav(&caller_wav());
    let card = Soundcard::with_microphone("snd-key", in_rate, input);
    let wav = card.home.join("key.wav");
    let mut child = card
        .record(&["--stop-tones", "#", "--max-duration", "20"], &wav)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = wait_for_elapsed(&mut child, 3.0);
    // A key the recording does not stop on, then the stop key.
    child.stdin.as_mut().unwrap().write_all(b"1#").unwrap();
    let (out, rest) = finish(child, err);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{}\n{rest}", text(&out));
    assert_eq!(
        line_value(&stdout, "reason"),
        Some("stopToneDetected"),
        "{}",
        text(&out)
    );
    let dur = duration_s(&wav);
    assert!(
        (2.9..4.0).contains(&dur),
        "recording {dur} s, the key came at ~3 s"
    );
}

#[test]
fn interrupt_cancels_and_keeps_the_audio() {
    let (in_rate, input) = read_wav(&caller_wav());
    let card = Soundcard::with_microphone("snd-int", in_rate, input);
    let wav = card.home.join("int.wav");
    let mut child = card
        .record(&["--max-duration", "20"], &wav)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = wait_for_elapsed(&mut child, 2.0);
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let (out, rest) = finish(child, err);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        line_value(&stdout, "reason"),
        Some("operationCanceled"),
        "{}\n{rest}",
        text(&out)
    );
    assert_eq!(line_value(&stdout, "file"), wav.to_str(), "{}", text(&out));
    assert!(
        !out.status.success(),
        "a canceled operation is a failure:\n{}",
        text(&out)
    );
    let dur = duration_s(&wav);
    assert!(
        (1.9..3.0).contains(&dur),
        "kept {dur} s, interrupted at ~2 s"
    );
}

#[test]
fn an_in_band_stop_tone_from_the_microphone_ends_the_recording_at_the_tone() {
    let (rate, mut input) = read_wav(&caller_wav());
    // '#' (941 Hz + 1477 Hz, ITU-T Q.23) for 120 ms at 3.0 s, over the caller's speech.
    let at = 3 * rate as usize;
    for (n, s) in input
        .iter_mut()
        .skip(at)
        .take(rate as usize * 120 / 1000)
        .enumerate()
    {
        let t = n as f64 / f64::from(rate);
        let tone = 0.25
            * ((2.0 * std::f64::consts::PI * 941.0 * t).sin()
                + (2.0 * std::f64::consts::PI * 1477.0 * t).sin());
        *s = (tone * 32767.0) as i16;
    }
    let card = Soundcard::with_microphone("snd-dtmf", rate, input);
    let wav = card.home.join("dtmf.wav");
    let out = card
        .record(&["--stop-tones", "#*", "--max-duration", "20"], &wav)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        line_value(&stdout, "reason"),
        Some("stopToneDetected"),
        "{}",
        text(&out)
    );
    // The file ends where the tone starts: no tone in the recording.
    let dur = duration_s(&wav);
    assert!(
        (dur - 3.0).abs() < 0.1,
        "recording {dur} s, the tone starts at 3.0 s"
    );
}
