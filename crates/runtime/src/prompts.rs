//! Prompt fetching: `file:` URIs inside the prompts directory and `http(s):` URIs with size, time
//! and redirect limits and no requests to loopback, private or link-local addresses unless the
//! host is allow-listed (no SSRF). Decoded prompts are cached by `resourceId` (or URI) and rate.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use media::wav::Pcm;

#[derive(Debug, Clone)]
pub struct PromptSettings {
    pub dir: PathBuf,
    pub allow_http: bool,
    pub max_bytes: u64,
    pub allowed_hosts: Vec<String>,
    pub timeout: Duration,
}

/// Why a prompt could not be played; the message goes into the operation's resultInfo.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PromptError {
    #[error("prompt URI {uri:?} is not allowed: {why}")]
    NotAllowed { uri: String, why: &'static str },
    #[error("prompt {uri:?} not found")]
    NotFound { uri: String },
    #[error("prompt {uri:?} could not be fetched: {reason}")]
    Fetch { uri: String, reason: String },
    #[error("prompt {uri:?} is larger than {max} bytes")]
    TooBig { uri: String, max: u64 },
    #[error("prompt {uri:?} is not a playable WAV: {reason}")]
    Decode { uri: String, reason: String },
}

/// How many decoded prompts are kept.
const MAX_CACHED_PROMPTS: usize = 256;

/// Decoded prompts by (resourceId or URI, sample rate).
type PromptCache = Arc<Mutex<HashMap<(String, u32), Arc<Pcm>>>>;

#[derive(Clone)]
pub struct PromptStore {
    settings: Arc<PromptSettings>,
    cache: PromptCache,
    http: reqwest::Client,
}

impl PromptStore {
    pub fn new(settings: PromptSettings) -> PromptStore {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                if attempt.previous().len() >= 3 {
                    attempt.error("too many redirects")
                } else if attempt.url().host_str().is_some_and(is_internal_literal) {
                    attempt.error("redirect to an internal address")
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .unwrap_or_default();
        PromptStore {
            settings: Arc::new(settings),
            cache: Arc::default(),
            http,
        }
    }

    /// The prompt as 16-bit mono PCM at `rate`, from the cache or fetched, decoded and resampled.
    pub async fn load(
        &self,
        uri: &str,
        resource_id: Option<&str>,
        rate: u32,
    ) -> Result<Arc<Pcm>, PromptError> {
        let key = (
            resource_id
                .filter(|r| !r.is_empty())
                .unwrap_or(uri)
                .to_string(),
            rate,
        );
        if let Some(hit) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(hit.clone());
        }
        let bytes = self.fetch(uri).await?;
        let decode = |reason: String| PromptError::Decode {
            uri: uri.to_string(),
            reason,
        };
        let pcm = media::wav::decode_wav(&bytes).map_err(|e| decode(e.to_string()))?;
        let pcm = if pcm.rate == rate {
            pcm
        } else {
            media::resample::resample(&pcm, rate).map_err(|e| decode(e.to_string()))?
        };
        let pcm = Arc::new(pcm);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: a bot that sends a new prompt URI every call must not grow memory forever.
        if cache.len() >= MAX_CACHED_PROMPTS {
            if let Some(k) = cache.keys().next().cloned() {
                cache.remove(&k);
            }
        }
        cache.insert(key, pcm.clone());
        Ok(pcm)
    }

    async fn fetch(&self, uri: &str) -> Result<Vec<u8>, PromptError> {
        let not_allowed = |why| PromptError::NotAllowed {
            uri: uri.to_string(),
            why,
        };
        if let Some(path) = uri.strip_prefix("file://") {
            return self.read_file(uri, Path::new(path)).await;
        }
        let url = reqwest::Url::parse(uri).map_err(|_| not_allowed("not a URI"))?;
        match url.scheme() {
            "https" => {}
            "http" if self.settings.allow_http => {}
            "http" => return Err(not_allowed("plain http is disabled (prompts.allow_http)")),
            _ => return Err(not_allowed("scheme must be https, http or file")),
        }
        let host = url.host_str().unwrap_or_default().to_string();
        let allowed = self
            .settings
            .allowed_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&host));
        if !allowed {
            let port = url.port_or_known_default().unwrap_or(443);
            let addrs = tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|e| PromptError::Fetch {
                    uri: uri.to_string(),
                    reason: e.to_string(),
                })?;
            for a in addrs {
                if is_internal(a.ip()) {
                    return Err(not_allowed(
                        "the host resolves to an internal address (prompts.allowed_hosts)",
                    ));
                }
            }
        }
        let fetch_err = |reason: String| PromptError::Fetch {
            uri: uri.to_string(),
            reason,
        };
        let mut resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| fetch_err(e.to_string()))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Err(PromptError::NotFound {
                uri: uri.to_string(),
            });
        }
        if !resp.status().is_success() {
            return Err(fetch_err(format!("HTTP {}", resp.status())));
        }
        let max = self.settings.max_bytes;
        if resp.content_length().is_some_and(|l| l > max) {
            return Err(PromptError::TooBig {
                uri: uri.to_string(),
                max,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| fetch_err(e.to_string()))? {
            if body.len() as u64 + chunk.len() as u64 > max {
                return Err(PromptError::TooBig {
                    uri: uri.to_string(),
                    max,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    async fn read_file(&self, uri: &str, path: &Path) -> Result<Vec<u8>, PromptError> {
        let not_found = || PromptError::NotFound {
            uri: uri.to_string(),
        };
        let dir = tokio::fs::canonicalize(&self.settings.dir)
            .await
            .map_err(|_| not_found())?;
        let full = tokio::fs::canonicalize(path)
            .await
            .map_err(|_| not_found())?;
        if !full.starts_with(&dir) {
            return Err(PromptError::NotAllowed {
                uri: uri.to_string(),
                why: "file: prompts must be inside prompts.dir",
            });
        }
        let meta = tokio::fs::metadata(&full).await.map_err(|_| not_found())?;
        if meta.len() > self.settings.max_bytes {
            return Err(PromptError::TooBig {
                uri: uri.to_string(),
                max: self.settings.max_bytes,
            });
        }
        tokio::fs::read(&full).await.map_err(|_| not_found())
    }
}

fn is_internal_literal(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(is_internal)
}

/// Loopback, private (RFC 1918, RFC 4193), link-local, unspecified and CGNAT addresses.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    fn store(dir: PathBuf) -> PromptStore {
        PromptStore::new(PromptSettings {
            dir,
            allow_http: false,
            max_bytes: 1 << 20,
            allowed_hosts: vec![],
            timeout: Duration::from_secs(2),
        })
    }

    #[test]
    fn internal_ranges() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "172.16.0.1",
            "169.254.1.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "100.64.0.1",
        ] {
            assert!(is_internal(a.parse().unwrap()), "{a}");
        }
        for a in ["8.8.8.8", "2001:db8::1"] {
            assert!(!is_internal(a.parse().unwrap()), "{a}");
        }
    }

    #[tokio::test]
    async fn refuses_unsafe_uris() {
        let s = store(std::env::temp_dir());
        for uri in [
            "http://example.com/a.wav",
            "ftp://x/a.wav",
            "https://127.0.0.1/a.wav",
            "https://10.0.0.1/a.wav",
            "file:///etc/passwd",
        ] {
            let e = s.load(uri, None, 8000).await.unwrap_err();
            assert!(
                matches!(
                    e,
                    PromptError::NotAllowed { .. } | PromptError::NotFound { .. }
                ),
                "{uri}: {e}"
            );
        }
    }

    #[tokio::test]
    async fn file_prompt_decoded_resampled_and_cached() {
        let dir = std::env::temp_dir().join(format!("callclip-prompts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut wav = media::wav::encode_wav_header(16000, 1, 16, 3200).to_vec();
        wav.extend(std::iter::repeat_n([0x10u8, 0x00], 1600).flatten());
        let path = dir.join("p.wav");
        std::fs::write(&path, &wav).unwrap();
        let s = store(dir.clone());
        let uri = format!("file://{}", path.display());
        let pcm = s.load(&uri, Some("id-1"), 8000).await.unwrap();
        assert_eq!(pcm.rate, 8000);
        assert!(
            (790..=810).contains(&pcm.samples.len()),
            "{}",
            pcm.samples.len()
        );
        std::fs::remove_file(&path).unwrap();
        assert!(
            s.load(&uri, Some("id-1"), 8000).await.is_ok(),
            "served from the cache"
        );
        assert!(matches!(
            s.load(&uri, None, 8000).await,
            Err(PromptError::NotFound { .. })
        ));
        let _ = std::fs::remove_dir_all(dir);
    }
}
