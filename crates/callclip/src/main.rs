//! The callclip binary: `serve` runs the gateway; the other subcommands are tools around it.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

mod demo;
mod logging;
mod record_cmd;

#[derive(Parser)]
#[command(
    name = "callclip",
    version,
    about = "Graph-style voice recording for any SIP PBX or softphone"
)]
struct Cli {
    /// Log as JSON lines instead of readable text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (SIP + RTP + the Graph-compatible HTTP API).
    Serve {
        /// Configuration file laid over the embedded defaults (default: config/callclip.toml if
        /// it exists).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print the configuration in effect (defaults, file and environment) and exit.
    CheckConfig {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Record from the sound card with the same rules as a call: prompt, beep, silence
    /// timeouts, stop keys (typed or in-band DTMF); Ctrl-C cancels and keeps the audio.
    Record(record_cmd::Args),
    /// List the sound devices `record` can use.
    Devices,
    /// Run the gateway on loopback with a built-in bot and a caller who leaves a message and
    /// presses #; print the notification, the recording and its waveform.
    Demo(demo::Args),
}

fn config_path(given: Option<PathBuf>) -> Option<PathBuf> {
    given.or_else(|| {
        let default = PathBuf::from("config/callclip.toml");
        default.exists().then_some(default)
    })
}

fn load_config(given: Option<PathBuf>) -> anyhow::Result<runtime::config::Config> {
    let path = config_path(given);
    runtime::config::Config::load(path.as_deref(), |k| std::env::var(k).ok())
        .context("invalid configuration")
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("callclip: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { config } => {
            let config = load_config(config)?;
            logging::init(
                cli.log_json || config.log.format == runtime::config::LogFormat::Json,
                &config.log.level,
            )?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("tokio runtime")?;
            rt.block_on(runtime::gateway::serve(config))?;
            Ok(())
        }
        Command::CheckConfig { config } => {
            let config = load_config(config)?;
            println!("{config:#?}");
            Ok(())
        }
        Command::Record(args) => {
            logging::init(cli.log_json, "warn")?;
            record_cmd::record(args)
        }
        Command::Devices => record_cmd::devices(),
        Command::Demo(args) => {
            logging::init(cli.log_json, "warn")?;
            demo::run(args)
        }
    }
}
