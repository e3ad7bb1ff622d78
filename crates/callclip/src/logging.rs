//! Log output: readable text by default, JSON lines with `--log-json` or `log.format = "json"`.
//! Every call's lines carry its `call` field through the runtime's per-call spans.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(json: bool, level: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_env("CALLCLIP_LOG").or_else(|_| EnvFilter::try_new(level))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let result = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
    result.map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))
}
