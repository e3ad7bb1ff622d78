//! `callclip record` and `callclip devices`: the recorder on the sound card, with a level meter
//! on stderr and the outcome on stdout.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use recorder::params::{validate, Limits, ParamError, RawRecordParams};
use recorder::{OperationStatus, PromptRef};
use runtime::soundcard::{self, Progress, RecordOptions, Stage};

#[derive(clap::Args)]
pub struct Args {
    /// Input device (exact name, or a unique part of it; see `callclip devices`).
    #[arg(long)]
    device: Option<String>,
    /// Output device for the prompt and the beep.
    #[arg(long)]
    output_device: Option<String>,
    /// WAV file to play before recording.
    #[arg(long)]
    prompt: Option<PathBuf>,
    /// Do not beep before recording.
    #[arg(long)]
    no_beep: bool,
    /// Seconds to wait for speech to start (1-300, default 5).
    #[arg(long, value_name = "S")]
    initial_silence: Option<i64>,
    /// Seconds of silence after speech that end the recording (1-300, default 5).
    #[arg(long, value_name = "S")]
    max_silence: Option<i64>,
    /// Longest recording in seconds (1-300, default 5).
    #[arg(long, value_name = "S")]
    max_duration: Option<i64>,
    /// Keys that stop the recording, typed or as in-band DTMF, e.g. '#*'.
    #[arg(long, value_name = "KEYS")]
    stop_tones: Option<String>,
    /// Where to write the recording (default: callclip-<unix time>.wav).
    #[arg(long, value_name = "FILE.wav")]
    out: Option<PathBuf>,
}

/// The flag that carries each validated field, for error messages.
fn flag_of(e: &ParamError) -> &'static str {
    match e.field {
        "initialSilenceTimeoutInSeconds" => "--initial-silence",
        "maxSilenceTimeoutInSeconds" => "--max-silence",
        "maxRecordDurationInSeconds" => "--max-duration",
        "stopTones" => "--stop-tones",
        "prompts" => "--prompt",
        _ => "argument",
    }
}

fn default_out() -> PathBuf {
    // Wall time only names the file.
    #[allow(clippy::disallowed_methods)]
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    PathBuf::from(format!("callclip-{secs}.wav"))
}

fn options(args: Args) -> anyhow::Result<RecordOptions> {
    let raw = RawRecordParams {
        prompts: args.prompt.map(|p| {
            vec![PromptRef {
                uri: p.display().to_string(),
                resource_id: None,
                looped: false,
            }]
        }),
        initial_silence_timeout_in_seconds: args.initial_silence,
        max_silence_timeout_in_seconds: args.max_silence,
        max_record_duration_in_seconds: args.max_duration,
        play_beep: Some(!args.no_beep),
        stop_tones: args
            .stop_tones
            .map(|keys| keys.chars().map(String::from).collect()),
        ..RawRecordParams::default()
    };
    let params =
        validate(raw, Limits::default()).map_err(|e| anyhow::anyhow!("{}: {e}", flag_of(&e)))?;
    Ok(RecordOptions {
        input: args.device,
        output: args.output_device,
        params,
        out: args.out.unwrap_or_else(default_out),
    })
}

fn stage_name(p: &Progress) -> &'static str {
    match p.stage {
        Stage::Prompt => "prompt",
        Stage::Beep => "beep",
        Stage::Recording if p.speaking => "speech",
        Stage::Recording => "listening",
    }
}

/// `  3.4 s  speech     [#############                 ]  -23.5 dBFS`
fn meter_line(p: &Progress) -> String {
    const WIDTH: usize = 30;
    const FLOOR_DB: f32 = -60.0;
    let db = p.level_dbfs.clamp(FLOOR_DB, 0.0);
    let filled = (((db - FLOOR_DB) / -FLOOR_DB) * WIDTH as f32).round() as usize;
    format!(
        "{:>6.1} s  {:<9} [{:<WIDTH$}] {:>6.1} dBFS",
        p.elapsed.as_secs_f64(),
        stage_name(p),
        "#".repeat(filled.min(WIDTH)),
        p.level_dbfs.max(-120.0),
    )
}

pub fn record(args: Args) -> anyhow::Result<()> {
    let opts = options(args)?;
    let tty = std::io::stderr().is_terminal();
    let mut last_line = Duration::ZERO;
    let mut draw = |p: &Progress| {
        if tty {
            eprint!("\r{}\x1b[K", meter_line(p));
            let _ = std::io::stderr().flush();
        } else if p.elapsed >= last_line + Duration::from_secs(1) {
            last_line = p.elapsed;
            eprintln!("{}", meter_line(p));
        }
    };
    let report = soundcard::record(opts, &mut draw).context("record")?;
    if tty {
        eprintln!();
    }
    let o = &report.outcome;
    println!("reason: {}", o.completion_reason.as_str());
    println!("status: {}", o.status.as_str());
    match (&report.file, &o.recording) {
        (Some(f), Some(r)) => {
            println!("file: {}", f.path.display());
            println!("duration: {:.3} s", r.duration.as_secs_f64());
        }
        _ => println!("file: none"),
    }
    if let Some(e) = &report.file_error {
        anyhow::bail!("the recording could not be finished: {e}");
    }
    if o.status != OperationStatus::Completed {
        anyhow::bail!("{}", o.result_info.message);
    }
    Ok(())
}

pub fn devices() -> anyhow::Result<()> {
    let list = soundcard::list_devices()?;
    for (title, devices) in [("input", &list.inputs), ("output", &list.outputs)] {
        println!("{title} devices:");
        for d in devices {
            let mark = if d.is_default { '*' } else { ' ' };
            println!("  {mark} {}  ({})", d.name, d.format);
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    fn progress(db: f32) -> Progress {
        Progress {
            elapsed: Duration::from_millis(3_400),
            level_dbfs: db,
            stage: Stage::Recording,
            speaking: true,
            recorded: Duration::from_secs(3),
        }
    }

    #[test]
    fn meter_fills_with_level() {
        let line = meter_line(&progress(-30.0));
        assert!(line.contains("3.4 s"), "{line}");
        assert!(line.contains("speech"), "{line}");
        assert!(
            line.contains(&format!("[{}{}]", "#".repeat(15), " ".repeat(15))),
            "{line}"
        );
        assert!(meter_line(&progress(-120.0)).contains(&format!("[{}]", " ".repeat(30))));
    }

    #[test]
    fn bad_flags_name_the_flag() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: Args,
        }
        let cli = Cli::parse_from(["x", "--max-silence", "0"]);
        let e = options(cli.args)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("--max-silence:"), "{e}");
        let cli = Cli::parse_from(["x", "--stop-tones", "#x"]);
        let e = options(cli.args)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("--stop-tones:"), "{e}");
        let cli = Cli::parse_from(["x", "--stop-tones", "#*", "--no-beep"]);
        let o = options(cli.args).unwrap();
        assert_eq!(
            o.params.stop_tones,
            vec![media::Digit::Pound, media::Digit::Star]
        );
        assert!(!o.params.play_beep);
    }
}
