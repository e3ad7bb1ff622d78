//! Configuration: the commented `config/callclip.toml` is both the documentation and the embedded
//! default; a file given at start is laid over it, then `CALLCLIP_*` environment variables.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;

use serde::Deserialize;

/// The default configuration, embedded from `config/callclip.toml`.
pub const DEFAULT_TOML: &str = include_str!("../../../config/callclip.toml");

/// The token of the embedded defaults, for a first run on loopback.
pub const DEV_TOKEN: &str = "callclip-dev-token";

/// Short environment names kept for convenience, mapped to their full key.
const ALIASES: &[(&str, &str)] = &[
    ("CALLCLIP_CALLBACK_URL", "calls.callback_url"),
    ("CALLCLIP_INCOMING_MODE", "calls.incoming_mode"),
    ("CALLCLIP_RECORDINGS_DIR", "recordings.dir"),
    ("CALLCLIP_PROMPTS_DIR", "prompts.dir"),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub sip: SipConfig,
    pub rtp: RtpConfig,
    pub api: ApiSection,
    pub calls: CallsConfig,
    pub notifications: NotificationsConfig,
    pub recordings: RecordingsConfig,
    pub prompts: PromptsConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipConfig {
    pub listen: SocketAddr,
    pub public_address: String,
    pub user_agent: String,
    pub t1_ms: u64,
    pub t2_ms: u64,
    pub t4_ms: u64,
    pub ring: bool,
    pub max_call_seconds: u64,
    pub register: RegisterConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterConfig {
    pub registrar: String,
    pub aor: String,
    pub username: String,
    pub password: String,
    pub expires_seconds: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RtpConfig {
    pub ports: String,
    pub codecs: Vec<String>,
    pub ptime_ms: u32,
    pub comfort_noise: bool,
    pub receive_timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    pub listen: SocketAddr,
    pub public_url: String,
    pub tokens: Vec<String>,
    pub jwt_hs256_secret: String,
    pub jwt_rs256_public_key_file: String,
    pub jwt_es256_public_key_file: String,
    pub jwt_audience: String,
    pub max_seconds: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncomingMode {
    Notify,
    Answer,
    Flow,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallsConfig {
    pub incoming_mode: IncomingMode,
    pub callback_url: String,
    pub answer_timeout_seconds: u64,
    pub drain_seconds: u64,
    pub flow: FlowConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowConfig {
    pub prompt: String,
    pub play_beep: bool,
    pub initial_silence_seconds: i64,
    pub max_silence_seconds: i64,
    pub max_record_seconds: i64,
    pub stop_tones: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsConfig {
    pub secret: String,
    pub give_up_seconds: u64,
    pub spool_dir: PathBuf,
    pub backoff_max_seconds: u64,
    pub jwt_hs256_secret: String,
    pub jwt_private_key_file: String,
    pub jwt_audience: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingsConfig {
    pub dir: PathBuf,
    pub retention_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptsConfig {
    pub dir: PathBuf,
    pub allow_http: bool,
    pub allowed_hosts: Vec<String>,
    pub fetch_timeout_seconds: u64,
    pub max_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

/// A configuration problem, naming the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Syntax { path: String, message: String },
    #[error("config key `{key}`: {message}")]
    Invalid { key: String, message: String },
}

impl Config {
    /// The embedded defaults, then `file` (if any), then the environment.
    pub fn load(
        file: Option<&std::path::Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut table = parse_table("embedded default", DEFAULT_TOML)?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let overlay = parse_table(&path.display().to_string(), &text)?;
            merge(&mut table, overlay, "")?;
        }
        apply_env(&mut table, "", &env)?;
        let config: Config =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    key: "config".into(),
                    message: e.message().to_string(),
                })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            key: key.into(),
            message,
        };
        parse_port_range(&self.rtp.ports).map_err(|m| invalid("rtp.ports", m))?;
        if self.rtp.codecs.is_empty() {
            return Err(invalid("rtp.codecs", "needs at least one codec".into()));
        }
        for c in &self.rtp.codecs {
            if !["pcmu", "pcma", "g722", "opus"].contains(&c.to_ascii_lowercase().as_str()) {
                return Err(invalid(
                    "rtp.codecs",
                    format!("unknown codec {c:?} (PCMU, PCMA, G722, opus)"),
                ));
            }
        }
        if !(10..=60).contains(&self.rtp.ptime_ms) || self.rtp.ptime_ms % 10 != 0 {
            return Err(invalid(
                "rtp.ptime_ms",
                "must be 10, 20, 30, 40, 50 or 60".into(),
            ));
        }
        if !self.api.listen.ip().is_loopback() && self.api.tokens.iter().any(|t| t == DEV_TOKEN) {
            return Err(invalid(
                "api.tokens",
                "the development token is only accepted while api.listen is loopback; set your own"
                    .into(),
            ));
        }
        for t in &self.api.tokens {
            if let Some(hex) = t.strip_prefix("sha256:") {
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid(
                        "api.tokens",
                        "a sha256: entry needs 64 hex digits".into(),
                    ));
                }
            }
        }
        if !(1..=300).contains(&self.api.max_seconds) {
            return Err(invalid(
                "api.max_seconds",
                "must be between 1 and 300".into(),
            ));
        }
        if !self.api.public_url.starts_with("http://")
            && !self.api.public_url.starts_with("https://")
        {
            return Err(invalid(
                "api.public_url",
                "must start with http:// or https://".into(),
            ));
        }
        if self.sip.t1_ms == 0 || self.sip.t2_ms < self.sip.t1_ms {
            return Err(invalid("sip.t2_ms", "T1 must be > 0 and T2 >= T1".into()));
        }
        let cb = &self.calls.callback_url;
        if !cb.is_empty() && !cb.starts_with("http://") && !cb.starts_with("https://") {
            return Err(invalid(
                "calls.callback_url",
                "must be empty or an http(s) URL".into(),
            ));
        }
        Ok(())
    }

    /// The RTP port range, validated at load.
    pub fn rtp_ports(&self) -> RangeInclusive<u16> {
        parse_port_range(&self.rtp.ports).unwrap_or(30000..=30999)
    }
}

/// `30000-30999` (inclusive, at least two ports).
pub fn parse_port_range(s: &str) -> Result<RangeInclusive<u16>, String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("{s:?} is not LOW-HIGH"))?;
    let lo: u16 = a
        .trim()
        .parse()
        .map_err(|_| format!("{a:?} is not a port"))?;
    let hi: u16 = b
        .trim()
        .parse()
        .map_err(|_| format!("{b:?} is not a port"))?;
    if lo == 0 || hi <= lo {
        return Err(format!("{s:?}: need 0 < LOW < HIGH"));
    }
    Ok(lo..=hi)
}

fn parse_table(path: &str, text: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>()
        .map_err(|e| ConfigError::Syntax {
            path: path.to_string(),
            message: e.to_string(),
        })
}

/// Lays `overlay` over `base`; a key the defaults do not have is an error naming it.
fn merge(base: &mut toml::Table, overlay: toml::Table, prefix: &str) -> Result<(), ConfigError> {
    for (k, v) in overlay {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o, &key)?,
            (Some(slot), v) => *slot = v,
            (None, _) => {
                return Err(ConfigError::Invalid {
                    key,
                    message: "unknown key".into(),
                });
            }
        }
    }
    Ok(())
}

fn env_name(key: &str) -> String {
    format!("CALLCLIP_{}", key.replace('.', "_").to_ascii_uppercase())
}

fn apply_env(
    table: &mut toml::Table,
    prefix: &str,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    for (k, v) in table.iter_mut() {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if let toml::Value::Table(t) = v {
            apply_env(t, &key, env)?;
            continue;
        }
        let alias = ALIASES
            .iter()
            .find(|(_, full)| *full == key)
            .map(|(name, _)| *name);
        let raw = env(&env_name(&key)).or_else(|| alias.and_then(env));
        if let Some(raw) = raw {
            *v = env_value(v, &raw).map_err(|message| ConfigError::Invalid {
                key: format!("{key} (from {})", env_name(&key)),
                message,
            })?;
        }
    }
    Ok(())
}

/// Reads an environment string as the same type as the default value it replaces.
fn env_value(default: &toml::Value, raw: &str) -> Result<toml::Value, String> {
    use toml::Value;
    Ok(match default {
        Value::String(_) => Value::String(raw.to_string()),
        Value::Integer(_) => Value::Integer(
            raw.trim()
                .parse()
                .map_err(|_| format!("{raw:?} is not a number"))?,
        ),
        Value::Boolean(_) => Value::Boolean(match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" => false,
            _ => return Err(format!("{raw:?} is not true/false")),
        }),
        Value::Array(_) => Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.into()))
                .collect(),
        ),
        other => {
            return Err(format!(
                "cannot be set from the environment ({})",
                other.type_str()
            ))
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load_env(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load(None, |k| map.get(k).cloned())
    }

    #[test]
    fn embedded_defaults_load() {
        let c = load_env(&[]).unwrap();
        assert_eq!(c.sip.listen.to_string(), "127.0.0.1:5080");
        assert_eq!(c.calls.incoming_mode, IncomingMode::Notify);
        assert_eq!(c.rtp_ports(), 30000..=30999);
    }

    #[test]
    fn environment_overrides_every_named_key() {
        let c = load_env(&[
            ("CALLCLIP_SIP_LISTEN", "127.0.0.1:5999"),
            ("CALLCLIP_SIP_PUBLIC_ADDRESS", "192.0.2.1"),
            ("CALLCLIP_RTP_PORTS", "40000-40100"),
            ("CALLCLIP_API_LISTEN", "127.0.0.1:9999"),
            ("CALLCLIP_API_PUBLIC_URL", "https://bot.example.com"),
            ("CALLCLIP_API_TOKENS", "a, b"),
            ("CALLCLIP_CALLBACK_URL", "http://127.0.0.1:1/cb"),
            ("CALLCLIP_RECORDINGS_DIR", "/tmp/r"),
            ("CALLCLIP_PROMPTS_DIR", "/tmp/p"),
            ("CALLCLIP_INCOMING_MODE", "answer"),
            ("CALLCLIP_SIP_REGISTER_EXPIRES_SECONDS", "120"),
        ])
        .unwrap();
        assert_eq!(c.sip.listen.port(), 5999);
        assert_eq!(c.sip.public_address, "192.0.2.1");
        assert_eq!(c.rtp_ports(), 40000..=40100);
        assert_eq!(c.api.tokens, vec!["a", "b"]);
        assert_eq!(c.calls.callback_url, "http://127.0.0.1:1/cb");
        assert_eq!(c.recordings.dir, PathBuf::from("/tmp/r"));
        assert_eq!(c.calls.incoming_mode, IncomingMode::Answer);
        assert_eq!(c.sip.register.expires_seconds, 120);
    }

    #[test]
    fn invalid_values_name_the_key() {
        let e = load_env(&[("CALLCLIP_RTP_PORTS", "9-3")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("rtp.ports"), "{e}");
        let e = load_env(&[("CALLCLIP_SIP_RING", "maybe")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("sip.ring"), "{e}");
        let e = load_env(&[("CALLCLIP_INCOMING_MODE", "dance")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("incoming_mode") || e.contains("dance"), "{e}");
        let e = load_env(&[("CALLCLIP_RTP_CODECS", "PCMU,GSM")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("rtp.codecs"), "{e}");
    }

    #[test]
    fn unknown_file_key_is_named() {
        let mut base = parse_table("a", DEFAULT_TOML).unwrap();
        let overlay = parse_table("b", "[sip]\nlisten_addr = \"x\"\n").unwrap();
        let e = merge(&mut base, overlay, "").unwrap_err().to_string();
        assert!(e.contains("sip.listen_addr"), "{e}");
    }

    /// Every `section.key` of a TOML table, in order.
    fn keys(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
        for (k, v) in table {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(t) => keys(t, &key, out),
                _ => out.push(key),
            }
        }
    }

    #[test]
    fn the_readme_lists_every_key_with_its_environment_name() {
        let readme = include_str!("../../../README.md");
        let mut all = Vec::new();
        keys(&parse_table("default", DEFAULT_TOML).unwrap(), "", &mut all);
        assert!(all.len() > 40, "{all:?}");
        for key in all {
            let row = format!("| `{key}` |");
            assert!(readme.contains(&row), "README.md does not list `{key}`");
            assert!(
                readme.contains(&format!("`{}`", env_name(&key))),
                "README.md lacks {}",
                env_name(&key)
            );
        }
    }
}
