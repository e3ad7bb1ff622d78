//! Voice-activity accuracy on synthesized speech with known boundaries (the corpus of
//! `bench/vad/make_corpus.sh`): speech start/end error and false ends per level × noise × SNR.
//!
//! Run: `cargo bench -p media --bench vad_corpus`. The corpus is read from
//! `CALLCLIP_VAD_CORPUS` when set; otherwise it is built into a temporary directory (needs
//! espeak-ng and sox; without them the bench says so and exits).
//!
//! `CALLCLIP_VAD_TRACE=NAME_PART` prints the endpoints found in the matching files;
//! `CALLCLIP_VAD_LIST=1` names, on stderr, every file with a false end or an end error over
//! the p95 target.
//!
//! Each file goes through the codec of its rate (PCMU at 8 kHz, G.722 at 16 kHz) and then
//! through `Vad` + `Endpointer` in 20 ms frames, built and fed as `MediaSession` does.
//!
//! A false end for a configured silence S: the endpointer declares SpeechEnded at `e` and its
//! next SpeechStarted is emitted only at or after `e + S` (or never), while the caller's next
//! sentence begins after `e` following a true pause shorter than S. The recorder's
//! `maxSilenceTimeout` timer runs from SpeechEnded, so that is exactly a recording cut short.
//! The table also counts them with the silence running only to the onset SpeechStarted is dated
//! back to ("dated"), which leaves out the confirmation delay (`RESUME_MIN_SPEECH` after an end).
#![allow(clippy::unwrap_used)] // A bench binary: a broken corpus should stop it loudly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use media::codec::{decoder, encoder, CodecKind};
use media::jitter::FRAME;
use media::vad::{Endpoint, Endpointer, Vad};

/// Configured silences (the recorder's `maxSilenceTimeout`) for the false-end count.
const SILENCES: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(2)];

/// Targets at SNR ≥ 10 dB (media issue).
const END_MEDIAN_MS: f64 = 60.0;
const END_P95_MS: f64 = 150.0;

struct Utterance {
    name: String,
    rate: u32,
    level: i32,
    noise: String,
    snr: String,
    /// (start, end) of each sentence.
    speech: Vec<(Duration, Duration)>,
    pcm: Vec<i16>,
}

#[derive(Default)]
struct Stats {
    files: usize,
    start_err_ms: Vec<f64>,
    end_err_ms: Vec<f64>,
    no_start: usize,
    /// Files whose last endpoint is not a SpeechEnded: the recorder would wait for
    /// `maxRecordDuration`.
    no_end: usize,
    /// Per configured silence: false ends with the restart as emitted, as dated.
    false_ends: [[usize; 2]; 2],
    /// Per configured silence: true pauses shorter than it.
    short_pauses: [usize; 2],
}

fn main() {
    let (dir, temporary) = match std::env::var_os("CALLCLIP_VAD_CORPUS") {
        Some(d) => (PathBuf::from(d), false),
        None => match build_corpus() {
            Some(d) => (d, true),
            None => return,
        },
    };
    let mut by_condition: BTreeMap<(u32, i32, String, String), Stats> = BTreeMap::new();
    let mut truth_files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    truth_files.sort();
    for path in &truth_files {
        let u = load(path);
        let key = (u.rate, u.level, u.noise.clone(), u.snr.clone());
        evaluate(&u, by_condition.entry(key).or_default());
    }
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    print_table(&by_condition);
}

fn build_corpus() -> Option<PathBuf> {
    for tool in ["espeak-ng", "sox"] {
        if Command::new(tool).arg("--version").output().is_err() {
            println!("vad_corpus: skipped, {tool} not found (set CALLCLIP_VAD_CORPUS to a corpus)");
            return None;
        }
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/vad/make_corpus.sh");
    let dir = std::env::temp_dir().join(format!("callclip-vad-corpus-{}", std::process::id()));
    let status = Command::new("bash")
        .arg(&script)
        .arg(&dir)
        // Only the table goes to stdout.
        .stdout(std::io::stderr())
        .status()
        .unwrap();
    assert!(status.success(), "{} failed", script.display());
    Some(dir)
}

fn load(truth: &Path) -> Utterance {
    let text = std::fs::read_to_string(truth).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{}: no {name}", truth.display()))
            .to_string()
    };
    let rate: u32 = field("rate").parse().unwrap();
    // Exact at 8 and 16 kHz, so a 1.0 s pause is not 0.999999 s.
    let at =
        |s: &str| Duration::from_nanos(s.parse::<u64>().unwrap() * 1_000_000_000 / u64::from(rate));
    let speech = text
        .lines()
        .filter_map(|l| l.strip_prefix("speech "))
        .map(|l| {
            let (s, e) = l.split_once(' ').unwrap();
            (at(s), at(e))
        })
        .collect();
    let wav = hound::WavReader::open(truth.with_extension("wav")).unwrap();
    assert_eq!(wav.spec().sample_rate, rate, "{}", truth.display());
    let pcm = wav.into_samples::<i16>().map(|s| s.unwrap()).collect();
    Utterance {
        name: truth.file_stem().unwrap().to_string_lossy().into_owned(),
        rate,
        level: field("level").parse().unwrap(),
        noise: field("noise"),
        snr: field("snr"),
        speech,
        pcm,
    }
}

/// The PCM a session would decode: the file through the codec negotiated at its rate.
fn through_codec(pcm: &[i16], rate: u32) -> Vec<i16> {
    let kind = if rate == 8000 {
        CodecKind::Pcmu
    } else {
        CodecKind::G722
    };
    let (mut enc, mut dec) = (encoder(kind).unwrap(), decoder(kind).unwrap());
    let frame = (rate / 50) as usize;
    let mut out = Vec::with_capacity(pcm.len());
    let mut payload = Vec::new();
    for chunk in pcm.chunks_exact(frame) {
        payload.clear();
        enc.encode(chunk, &mut payload).unwrap();
        dec.decode(&payload, &mut out).unwrap();
    }
    out
}

/// Endpoints with the end of the frame at which each was emitted.
fn endpoints(pcm: &[i16], rate: u32) -> Vec<(Endpoint, Duration)> {
    let mut vad = Vad::default();
    let mut ep = Endpointer::default();
    pcm.chunks_exact((rate / 50) as usize)
        .enumerate()
        .filter_map(|(i, f)| {
            let at = FRAME * i as u32;
            ep.process(at, FRAME, vad.process(f))
                .map(|e| (e, at + FRAME))
        })
        .collect()
}

fn ms(signed: f64) -> f64 {
    signed * 1000.0
}

fn evaluate(u: &Utterance, stats: &mut Stats) {
    let events = endpoints(&through_codec(&u.pcm, u.rate), u.rate);
    if std::env::var("CALLCLIP_VAD_TRACE").is_ok_and(|t| u.name.contains(&t)) {
        println!("{}: truth {:?}", u.name, u.speech);
        for (e, emitted) in &events {
            println!("  {e:?} emitted {emitted:?}");
        }
    }
    let (Some(&(first, _)), Some(&(_, last))) = (u.speech.first(), u.speech.last()) else {
        return;
    };
    stats.files += 1;
    let start = events.iter().find_map(|(e, _)| match e {
        Endpoint::SpeechStarted { at } => Some(*at),
        _ => None,
    });
    let end = match events.last() {
        Some((Endpoint::SpeechEnded { at }, _)) => Some(*at),
        _ => None,
    };
    match start {
        Some(s) => stats
            .start_err_ms
            .push(ms(s.as_secs_f64() - first.as_secs_f64())),
        None => stats.no_start += 1,
    }
    if std::env::var_os("CALLCLIP_VAD_LIST").is_some() {
        let cut = false_ends(&events, &u.speech, SILENCES[0], false)
            + false_ends(&events, &u.speech, SILENCES[1], false);
        let end_err = end.map(|e| ms(e.as_secs_f64() - last.as_secs_f64()));
        if cut > 0 || end_err.is_none_or(|e| e.abs() > END_P95_MS) {
            let end_err = end_err.map_or("none".into(), |e| format!("{e:.0} ms"));
            eprintln!("{}: false ends {cut}, end error {end_err}", u.name);
        }
    }
    match end {
        Some(e) => stats
            .end_err_ms
            .push(ms(e.as_secs_f64() - last.as_secs_f64())),
        None => stats.no_end += 1,
    }
    for (k, &silence) in SILENCES.iter().enumerate() {
        stats.short_pauses[k] += u
            .speech
            .windows(2)
            .filter(|w| w[1].0 - w[0].1 < silence)
            .count();
        for dated in [false, true] {
            stats.false_ends[k][usize::from(dated)] +=
                false_ends(&events, &u.speech, silence, dated);
        }
    }
}

/// Silences of the endpointer that reach `silence` and cut the caller off inside a true pause
/// shorter than `silence`. The silence runs to the next SpeechStarted as emitted (what the
/// recorder's timer sees, `RESUME_MIN_SPEECH` or `MIN_SPEECH` of confirmation after the onset)
/// or, with `dated`, to the onset that event is dated back to.
fn false_ends(
    events: &[(Endpoint, Duration)],
    speech: &[(Duration, Duration)],
    silence: Duration,
    dated: bool,
) -> usize {
    events
        .iter()
        .enumerate()
        .filter_map(|(i, (e, _))| match e {
            Endpoint::SpeechEnded { at } => Some((i, *at)),
            _ => None,
        })
        .filter(|&(i, ended)| {
            let resumed = events
                .get(i + 1..)
                .and_then(|rest| {
                    rest.iter().find_map(|(e, emitted)| match e {
                        Endpoint::SpeechStarted { at } => Some(if dated { *at } else { *emitted }),
                        Endpoint::SpeechEnded { .. } => None,
                    })
                })
                .unwrap_or(Duration::MAX);
            if resumed - ended < silence {
                return false;
            }
            // The caller's next sentence after the declared end, and the pause before it.
            let Some(next) = speech.iter().position(|(s, _)| *s > ended) else {
                return false;
            };
            let pause_start = next.checked_sub(1).and_then(|p| speech.get(p)).map(|s| s.1);
            pause_start.is_some_and(|p| speech[next].0 - p < silence)
        })
        .count()
}

/// Nearest-rank percentile of absolute values.
fn percentile_abs(v: &[f64], p: f64) -> Option<f64> {
    let mut a: Vec<f64> = v.iter().map(|x| x.abs()).collect();
    a.sort_by(f64::total_cmp);
    let rank = ((p * a.len() as f64).ceil() as usize).max(1);
    a.get(rank - 1).copied()
}

fn median_signed(v: &[f64]) -> Option<f64> {
    let mut a = v.to_vec();
    a.sort_by(f64::total_cmp);
    a.get(a.len() / 2).copied()
}

fn cell(x: Option<f64>) -> String {
    x.map_or("–".into(), |x| format!("{x:.0}"))
}

fn print_table(rows: &BTreeMap<(u32, i32, String, String), Stats>) {
    println!(
        "| rate | level dBFS | noise | SNR dB | files | start \\|err\\| median / p95 ms | \
         end \\|err\\| median / p95 ms | end bias ms | no start / no end | false ends S=1 s, emitted · dated | \
         false ends S=2 s, emitted · dated | target |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut failed = 0;
    // Loudest first; clean, white, then babble; high SNR first.
    let mut keys: Vec<_> = rows.keys().collect();
    keys.sort_by_key(|(rate, level, noise, snr)| {
        let snr: i32 = snr.parse().unwrap_or(1000);
        (*rate, -level, noise != "clean", noise == "babble", -snr)
    });
    for key in keys {
        let (rate, level, noise, snr) = key;
        let s = &rows[key];
        let end_median = percentile_abs(&s.end_err_ms, 0.5);
        let end_p95 = percentile_abs(&s.end_err_ms, 0.95);
        let target = if snr.parse::<f64>().unwrap_or(f64::INFINITY) < 10.0 {
            "n/a"
        } else if s.no_start + s.no_end == 0
            && s.false_ends.iter().all(|f| f[0] == 0)
            && end_median.is_some_and(|m| m <= END_MEDIAN_MS)
            && end_p95.is_some_and(|m| m <= END_P95_MS)
        {
            "met"
        } else {
            failed += 1;
            "MISSED"
        };
        println!(
            "| {} kHz | {level} | {noise} | {snr} | {} | {} / {} | {} / {} | {} | {} / {} | {} · {} of {} | \
             {} · {} of {} | {target} |",
            rate / 1000,
            s.files,
            cell(percentile_abs(&s.start_err_ms, 0.5)),
            cell(percentile_abs(&s.start_err_ms, 0.95)),
            cell(end_median),
            cell(end_p95),
            cell(median_signed(&s.end_err_ms)),
            s.no_start,
            s.no_end,
            s.false_ends[0][0],
            s.false_ends[0][1],
            s.short_pauses[0],
            s.false_ends[1][0],
            s.false_ends[1][1],
            s.short_pauses[1],
        );
    }
    println!("\n{failed} condition(s) at SNR ≥ 10 dB miss the targets");
}
