//! Voice-activity accuracy on synthesized speech with known boundaries (the corpus of
//! `bench/vad/make_corpus.sh`): speech start/end error and false ends per level × noise × SNR.
//!
//! Run: `cargo bench -p media --bench vad_corpus`. The corpus is read from
//! `CALLCLIP_VAD_CORPUS` when set; otherwise it is built into a temporary directory (needs
//! espeak-ng and sox; without them the bench says so and exits).
//!
//! `CALLCLIP_VAD_REQUIRE_MET=1` makes it exit with status 1 when a condition at SNR ≥ 10 dB
//! misses the targets (or no corpus could be built): `scripts/test.sh` runs it that way, as
//! `cargo test -p media --bench vad_corpus`.
//!
//! `CALLCLIP_VAD_TRACE=NAME_PART` prints the endpoints found in the matching files;
//! `CALLCLIP_VAD_LIST=1` names, on stderr, every file with a false end or an end error over
//! the p95 target. `CALLCLIP_VAD_MODEL` tries the earshot neural detector alone or with `Vad`
//! (see `Model`; "Tried: earshot" in docs/BENCHMARKS.md).
//!
//! Each file goes through the codec of its rate (PCMU at 8 kHz, G.722 at 16 kHz) and then
//! through `Vad` + `Endpointer` in 20 ms frames, built and fed as `MediaSession` does.
//!
//! A false end for a configured silence S: the endpointer declares SpeechEnded at `e` and its
//! next SpeechStarted is emitted only at or after `e + S + confirmation_after(S)` (or never),
//! while the caller's next sentence begins after `e` following a true pause shorter than S. The
//! recorder's `maxSilenceTimeout` timer runs from SpeechEnded and waits that confirmation run
//! too, so that is exactly a recording cut short. The table also counts them with the silence
//! running only to the onset SpeechStarted is dated back to ("dated", no confirmation).
#![allow(clippy::unwrap_used)] // A bench binary: a broken corpus should stop it loudly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use media::codec::{decoder, encoder, CodecKind};
use media::jitter::FRAME;
use media::vad::endpoint::confirmation_after;
use media::vad::{frame_dbfs, Endpoint, Endpointer, Vad};

mod neural;
use neural::{Neural, Upsample};

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
    /// The neural score of frames inside a sentence, and of frames at least 100 ms from any.
    scores_speech: Vec<f32>,
    scores_apart: Vec<f32>,
}

fn main() {
    let require_met = std::env::var_os("CALLCLIP_VAD_REQUIRE_MET").is_some();
    let (dir, temporary) = match std::env::var_os("CALLCLIP_VAD_CORPUS") {
        Some(d) => (PathBuf::from(d), false),
        None => match build_corpus() {
            Some(d) => (d, true),
            None if require_met => std::process::exit(1),
            None => return,
        },
    };
    let model = Model::from_env();
    eprintln!("vad_corpus: {model:?}");
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
        evaluate(&u, &model, by_condition.entry(key).or_default());
    }
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let missed = print_table(&by_condition);
    if model.kind != Kind::Level {
        print_scores(&by_condition);
    }
    if require_met && (missed > 0 || by_condition.is_empty()) {
        std::process::exit(1);
    }
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
/// With a neural model, also the score of every frame into `scores`.
fn endpoints(
    pcm: &[i16],
    rate: u32,
    model: &Model,
    scores: &mut Vec<f32>,
) -> Vec<(Endpoint, Duration)> {
    let mut vad = Vad::default();
    let mut ep = Endpointer::default();
    let mut neural = (model.kind != Kind::Level).then(|| Neural::new(model.upsample));
    let mut gate = PeakGate::default();
    pcm.chunks_exact((rate / 50) as usize)
        .enumerate()
        .filter_map(|(i, f)| {
            let at = FRAME * i as u32;
            let level = vad.process(f);
            let speech = match neural.as_mut() {
                None => level,
                Some(n) => {
                    let score = n.push(f, rate);
                    scores.push(score);
                    let voice = score
                        >= if ep.in_speech() {
                            model.stay
                        } else {
                            model.enter
                        };
                    let db = frame_dbfs(f);
                    let speech = match model.kind {
                        Kind::Level => level,
                        Kind::Earshot => voice,
                        Kind::EarshotGate => voice && gate.admits(db, model.gate_db),
                        Kind::And => level && voice,
                        Kind::AndStart => level && (ep.in_speech() || voice),
                    };
                    gate.observe(db, level);
                    speech
                }
            };
            ep.process(at, FRAME, speech).map(|e| (e, at + FRAME))
        })
        .collect()
}

/// `CALLCLIP_VAD_MODEL`: how the per-frame speech decision is made.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// `Vad` alone (the production detector).
    Level,
    /// earshot's score alone.
    Earshot,
    /// earshot's score, and the frame within `gate_db` of the caller's peak (the peak of the
    /// frames `Vad` calls speech, as `Vad` keeps it).
    EarshotGate,
    /// `Vad` and earshot both.
    And,
    /// `Vad`, with earshot's score needed only to enter speech.
    AndStart,
}

/// The variant under test, from the environment: `CALLCLIP_VAD_MODEL` = level | earshot |
/// earshot_gate | and | and_start; `CALLCLIP_VAD_ENTER` / `CALLCLIP_VAD_STAY` score thresholds
/// (0.5); `CALLCLIP_VAD_GATE_DB` (20); `CALLCLIP_VAD_UPSAMPLE` = linear | fir (fir).
#[derive(Debug)]
struct Model {
    kind: Kind,
    enter: f32,
    stay: f32,
    gate_db: f32,
    upsample: Upsample,
}

impl Model {
    fn from_env() -> Model {
        let var = |name: &str| std::env::var(name).ok();
        let num = |name: &str, default: f32| var(name).map_or(default, |v| v.parse().unwrap());
        let kind = match var("CALLCLIP_VAD_MODEL").as_deref() {
            None | Some("level") => Kind::Level,
            Some("earshot") => Kind::Earshot,
            Some("earshot_gate") => Kind::EarshotGate,
            Some("and") => Kind::And,
            Some("and_start") => Kind::AndStart,
            Some(other) => panic!("CALLCLIP_VAD_MODEL={other}: unknown"),
        };
        let enter = num("CALLCLIP_VAD_ENTER", 0.5);
        Model {
            kind,
            enter,
            stay: num("CALLCLIP_VAD_STAY", enter),
            gate_db: num("CALLCLIP_VAD_GATE_DB", 20.0),
            upsample: match var("CALLCLIP_VAD_UPSAMPLE").as_deref() {
                Some("linear") => Upsample::Linear,
                None | Some("fir") => Upsample::Fir,
                Some(other) => panic!("CALLCLIP_VAD_UPSAMPLE={other}: unknown"),
            },
        }
    }
}

/// The caller's peak frame level, as `Vad` keeps it: set by the first speech frame, rising at
/// most 3 dB per speech frame, decaying 0.5 dB/s.
#[derive(Default)]
struct PeakGate {
    peak: Option<f32>,
}

impl PeakGate {
    fn admits(&self, db: f32, below_db: f32) -> bool {
        self.peak.is_none_or(|p| db > p - below_db)
    }

    fn observe(&mut self, db: f32, speech: bool) {
        self.peak = match self.peak {
            Some(p) if speech => Some((p - 0.01).max(db.min(p + 3.0))),
            Some(p) => Some(p - 0.01),
            None => speech.then_some(db),
        };
    }
}

fn ms(signed: f64) -> f64 {
    signed * 1000.0
}

fn evaluate(u: &Utterance, model: &Model, stats: &mut Stats) {
    let mut scores = Vec::new();
    let events = endpoints(&through_codec(&u.pcm, u.rate), u.rate, model, &mut scores);
    for (i, &score) in scores.iter().enumerate() {
        let (from, to) = (FRAME * i as u32, FRAME * (i as u32 + 1));
        let margin = Duration::from_millis(100);
        if u.speech.iter().any(|&(s, e)| s <= from && to <= e) {
            stats.scores_speech.push(score);
        } else if u
            .speech
            .iter()
            .all(|&(s, e)| to + margin <= s || e + margin <= from)
        {
            stats.scores_apart.push(score);
        }
    }
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
/// shorter than `silence`. The silence runs to the next SpeechStarted as emitted, against
/// `silence` plus the confirmation run the recorder's timer waits for (`RESUME_MIN_SPEECH` or
/// `MIN_SPEECH` after the onset), or, with `dated`, to the onset that event is dated back to.
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
            // The recorder's timer waits for the confirmation run too (`confirmation_after`).
            let waited = if dated {
                silence
            } else {
                silence + confirmation_after(silence)
            };
            if resumed - ended < waited {
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

/// Per noise and SNR: how often the neural score says voice inside the caller's sentences and
/// away from them (where only the noise is).
fn print_scores(rows: &BTreeMap<(u32, i32, String, String), Stats>) {
    let mut by_noise: BTreeMap<(String, String), (Vec<f32>, Vec<f32>)> = BTreeMap::new();
    for ((_, _, noise, snr), s) in rows {
        let e = by_noise.entry((noise.clone(), snr.clone())).or_default();
        e.0.extend(&s.scores_speech);
        e.1.extend(&s.scores_apart);
    }
    println!("\n| noise | SNR dB | in sentences: median · ≥ 0.5 | away from them: median · p90 · ≥ 0.5 |");
    println!("|---|---|---|---|");
    let share =
        |v: &[f32]| 100.0 * v.iter().filter(|&&x| x >= 0.5).count() as f64 / v.len().max(1) as f64;
    let quantile = |v: &[f32], p: f64| {
        let mut a = v.to_vec();
        a.sort_by(f32::total_cmp);
        a.get(((p * a.len() as f64) as usize).min(a.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f32::NAN)
    };
    for ((noise, snr), (speech, apart)) in &by_noise {
        println!(
            "| {noise} | {snr} | {:.2} · {:.0} % | {:.2} · {:.2} · {:.0} % |",
            quantile(speech, 0.5),
            share(speech),
            quantile(apart, 0.5),
            quantile(apart, 0.9),
            share(apart),
        );
    }
}

/// Prints the table; returns how many conditions at SNR ≥ 10 dB miss the targets.
fn print_table(rows: &BTreeMap<(u32, i32, String, String), Stats>) -> usize {
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
    failed
}
