//! What an operator configures for the HTTP surface.

use std::path::PathBuf;
use std::time::Duration;

/// A static bearer token, kept only as its SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticToken {
    pub sha256: [u8; 32],
}

impl StaticToken {
    /// Hashes a plain token at load time so the plain text need not stay in memory.
    pub fn from_plain(token: &str) -> StaticToken {
        StaticToken {
            sha256: crate::auth::sha256(token.as_bytes()),
        }
    }

    /// Parses the 64-hex-digit SHA-256 form used in config files.
    pub fn from_hex(hex: &str) -> Option<StaticToken> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut sha256 = [0u8; 32];
        for (out, pair) in sha256.iter_mut().zip(bytes.chunks_exact(2)) {
            let s = std::str::from_utf8(pair).ok()?;
            *out = u8::from_str_radix(s, 16).ok()?;
        }
        Some(StaticToken { sha256 })
    }
}

/// A JWT key: for API bearer tokens the verifying key (HS256 secret or public key PEM), for
/// notifications the signing key (HS256 secret or private key PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtKey {
    /// HS256 shared secret.
    Hs256 { secret: Vec<u8> },
    /// RS256 public key, PEM.
    Rs256Pem { pem: String },
    /// ES256 public key, PEM.
    Es256Pem { pem: String },
}

#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Base of every URL the server emits (`Location`, `recordingLocation`), no trailing slash.
    pub public_url: String,
    pub static_tokens: Vec<StaticToken>,
    pub jwt_keys: Vec<JwtKey>,
    /// If set, JWTs must carry this `aud`.
    pub jwt_audience: Option<String>,
    /// Where notifications of calls without a `callbackUri` (and incoming calls) go. `None`
    /// sends them to the `/events` stream instead.
    pub default_callback: Option<String>,
    /// HMAC-SHA256 key for `X-Callclip-Signature`; unsigned when `None`.
    pub notification_secret: Option<Vec<u8>>,
    /// Signs a JWT sent as `Authorization: Bearer` with every notification: the HS256 secret or
    /// an RS256/ES256 private key (PEM). Without it notifications carry no `Authorization`.
    pub notification_jwt: Option<JwtKey>,
    /// `aud` of those JWTs (e.g. the bot's app id); omitted when `None`.
    pub notification_jwt_audience: Option<String>,
    /// How long a notification is retried before it is dropped.
    pub notification_give_up: Duration,
    /// First retry delay; doubles per attempt up to `notification_backoff_max`.
    pub notification_backoff: Duration,
    pub notification_backoff_max: Duration,
    /// Per-attempt HTTP timeout.
    pub notification_timeout: Duration,
    /// One JSON file per pending notification.
    pub spool_dir: PathBuf,
    pub recordings_dir: PathBuf,
    /// Recordings are deleted this long after their call ends.
    pub recording_retention: Duration,
    /// Terminated calls stay readable (GET) this long.
    pub call_retention: Duration,
    pub body_limit: usize,
    /// Operator cap on record durations, ≤ 300.
    pub max_seconds: u32,
    /// How many notifications `/events` keeps for late subscribers.
    pub events_ring: usize,
    /// API requests handled at once; more are answered `429` + `Retry-After`.
    pub max_in_flight: usize,
}

impl ApiConfig {
    /// Defaults for the given directories: 64 KiB bodies, 1 h give-up, 10 min retention.
    pub fn new(public_url: &str, spool_dir: PathBuf, recordings_dir: PathBuf) -> ApiConfig {
        ApiConfig {
            public_url: public_url.trim_end_matches('/').to_string(),
            static_tokens: Vec::new(),
            jwt_keys: Vec::new(),
            jwt_audience: None,
            default_callback: None,
            notification_secret: None,
            notification_jwt: None,
            notification_jwt_audience: None,
            notification_give_up: Duration::from_secs(3600),
            notification_backoff: Duration::from_millis(500),
            notification_backoff_max: Duration::from_secs(60),
            notification_timeout: Duration::from_secs(10),
            spool_dir,
            recordings_dir,
            recording_retention: Duration::from_secs(600),
            call_retention: Duration::from_secs(600),
            body_limit: 64 * 1024,
            max_seconds: recorder::params::MAX_SECONDS,
            events_ring: 256,
            max_in_flight: 256,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn hex_and_plain_forms_agree() {
        let plain = StaticToken::from_plain("s3cret");
        let hex: String = plain.sha256.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(StaticToken::from_hex(&hex), Some(plain));
        assert_eq!(StaticToken::from_hex("zz"), None);
        assert_eq!(StaticToken::from_hex(&"g".repeat(64)), None);
    }
}
