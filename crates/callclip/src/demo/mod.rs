//! `callclip demo`: a whole recorded call on one machine with nothing installed. The gateway runs
//! in-process on loopback; a webhook receiver plays the bot (answer, record with a beep and stop
//! tone `#`, hang up) over the Graph API; a built-in caller says a bundled phrase and presses `#`.
//! It prints the completion notification, the recording and a text waveform of it.

mod bot;
mod caller;
mod waveform;
mod webhook;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use runtime::config::{Config, IncomingMode};

/// The phrase the caller says: espeak-ng, 8 kHz 16-bit mono.
const PHRASE_WAV: &[u8] = include_bytes!("../../assets/demo_phrase.wav");
/// The whole demo gives up after this long.
const GIVE_UP: Duration = Duration::from_secs(20);
/// How long the bot waits for the call to be over once the caller has hung up.
const NOTIFICATION_WAIT: Duration = Duration::from_secs(5);
const WAVE_COLS: usize = 72;
const WAVE_ROWS: usize = 8;

#[derive(clap::Args)]
pub struct Args {
    /// Directory for the recording, the notification spool and the prompts (default: a new
    /// directory under the system temp directory, kept after the demo).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// What the run produced, for printing.
struct Outcome {
    caller: caller::CallerLog,
    notifications: Vec<serde_json::Value>,
    completion: serde_json::Value,
    recording: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let dir = args.dir.unwrap_or_else(default_dir);
    let phrase = media::wav::decode_wav(PHRASE_WAV).context("the bundled phrase")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let result = rt.block_on(async {
        tokio::time::timeout(GIVE_UP, demo(&dir, Arc::new(phrase)))
            .await
            .map_err(|_| anyhow!("no result within {} s", GIVE_UP.as_secs()))?
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    let outcome = result?;
    print_outcome(&outcome)
}

fn default_dir() -> PathBuf {
    // Wall time only makes the directory name unique.
    #[allow(clippy::disallowed_methods)]
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("callclip-demo-{}-{:x}", std::process::id(), nanos))
}

/// The gateway settings of the demo: the embedded defaults on loopback; incoming calls are
/// notified to the demo's bot.
fn demo_config(dir: &Path, callback: &str) -> anyhow::Result<Config> {
    let base = Config::load(None, |_| None).context("embedded configuration")?;
    let mut config = runtime::embedded::loopback(base, dir);
    config.calls.incoming_mode = IncomingMode::Notify;
    config.calls.callback_url = callback.to_string();
    config.calls.drain_seconds = 1;
    config.rtp.codecs = vec!["PCMU".into()];
    Ok(config)
}

async fn demo(dir: &Path, phrase: Arc<media::wav::Pcm>) -> anyhow::Result<Outcome> {
    let mut hook = webhook::start().await?;
    let config = demo_config(dir, &hook.url)?;
    let gateway = runtime::embedded::start(config)
        .await
        .context("starting the gateway")?;
    println!(
        "gateway  SIP udp:{}  API {}",
        gateway.sip_addr(),
        gateway.public_url()
    );
    println!(
        "bot      notifications to {}; answers, records (beep, stop tone #), hangs up",
        hook.url
    );
    println!(
        "caller   dialing sip:voicemail@{}, then saying {:.2} s of speech and pressing #",
        gateway.sip_addr(),
        phrase.duration_ms() as f64 / 1_000.0
    );
    let bot = bot::Bot {
        api: gateway.api_addr(),
        token: runtime::config::DEV_TOKEN.to_string(),
        callback: hook.url.clone(),
    };
    let script = caller::Script {
        phrase,
        pause_before_digit: Duration::from_millis(500),
    };
    let (caller_done, caller_gone) = tokio::sync::oneshot::channel::<()>();
    let calling = async {
        let result = caller::call(gateway.sip_addr(), &script).await;
        let _ = caller_done.send(());
        result.context("the test caller")
    };
    // The bot goes on until the call is deleted, at most a while after the caller is gone.
    let give_up = async {
        let _ = caller_gone.await;
        tokio::time::sleep(NOTIFICATION_WAIT).await;
    };
    let handling = async {
        bot.run(&mut hook.bodies, give_up)
            .await
            .context("the demo bot")
    };
    // Either side failing ends the demo at once with its reason.
    let both = tokio::try_join!(calling, handling);
    gateway.shutdown().await;
    let (log, handled) = both?;
    let completion = handled.completion.clone().ok_or_else(|| {
        let seen: Vec<String> = handled.notifications.iter().map(summary).collect();
        anyhow!(
            "the call ended but no finished recordOperation was notified; received: [{}]",
            seen.join("; ")
        )
    })?;
    let recording = newest_wav(&dir.join("recordings"))?;
    Ok(Outcome {
        caller: log,
        notifications: handled.notifications,
        completion,
        recording,
    })
}

fn newest_wav(dir: &Path) -> anyhow::Result<PathBuf> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "wav"))
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
        .ok_or_else(|| anyhow!("no recording in {}", dir.display()))
}

fn print_outcome(o: &Outcome) -> anyhow::Result<()> {
    let secs = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    let c = &o.caller;
    println!(
        "caller   codec {}; answered after {}",
        c.codec.map_or("?", |k| k.encoding_name()),
        c.answered.map_or("-".into(), secs)
    );
    if let Some((start, end)) = c.beep {
        println!(
            "caller   heard the beep {} – {}",
            secs(start),
            end.map_or("?".into(), secs)
        );
    }
    if let Some((start, end)) = c.phrase {
        println!(
            "caller   spoke {} – {}",
            secs(start),
            end.map_or("?".into(), secs)
        );
    }
    if let Some(at) = c.digit {
        println!("caller   pressed # at {}", secs(at));
    }
    if let Some((at, reason)) = c.ended {
        println!("caller   call ended at {} ({reason:?})", secs(at));
    }
    println!(
        "caller   RTP sent {} packets, received {}",
        c.packets_sent, c.packets_received
    );
    println!("\nnotifications received: {}", o.notifications.len());
    for n in &o.notifications {
        println!("  {}", summary(n));
    }
    println!("\nrecord operation notification:");
    println!("{}", serde_json::to_string_pretty(&o.completion)?);

    let bytes = std::fs::read(&o.recording)
        .with_context(|| format!("reading {}", o.recording.display()))?;
    let pcm = media::wav::decode_wav(&bytes)
        .with_context(|| format!("decoding {}", o.recording.display()))?;
    let data = o.completion.pointer("/value/0/resourceData");
    let reason = data
        .and_then(|d| d.get("completionReason"))
        .and_then(|r| r.as_str())
        .unwrap_or("?");
    let span = waveform::speech_span(&pcm);
    println!("\nrecording {}", o.recording.display());
    println!(
        "duration  {:.2} s ({} Hz, {} samples)",
        pcm.samples.len() as f64 / f64::from(pcm.rate.max(1)),
        pcm.rate,
        pcm.samples.len()
    );
    match span {
        Some((a, b)) => println!("speech    {} – {}", secs(a), secs(b)),
        None => println!("speech    none detected"),
    }
    let tone = reason == "stopToneDetected";
    if tone {
        println!("stop tone # at the end (cut from the audio)");
    }
    println!();
    print!(
        "{}",
        waveform::render(&pcm, WAVE_COLS, WAVE_ROWS, span, tone)
    );
    println!("  [===] speech    # stop tone");
    if reason != "stopToneDetected" {
        bail!("the recording ended with {reason}, not stopToneDetected");
    }
    Ok(())
}

/// `changeType resource-type state/status` of one notification.
fn summary(body: &serde_json::Value) -> String {
    let n = body.pointer("/value/0");
    let field = |p: &str| {
        n.and_then(|n| n.pointer(p))
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let kind = field("/resourceData/@odata.type");
    let state = [field("/resourceData/state"), field("/resourceData/status")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "{:<8} {} {}",
        field("/changeType"),
        kind.trim_start_matches("#microsoft.graph."),
        state
    )
}
