//! The optional JWT in a notification's `Authorization` header (API_CONTRACT.md,
//! "Notifications", ext). A bot validates it as it would Graph's: the signature (the shared
//! HS256 secret, or our RS256/ES256 public key), `iss` = this instance's public URL, `aud` when
//! one is configured, and the `nbf`/`exp` window.

use std::sync::Mutex;

use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::config::JwtKey;
use crate::error::Error;

/// How long a token is valid, and how long one is reused before a fresh one is signed (an
/// RS256 signature costs about a millisecond; reuse keeps it off the notification path).
const LIFETIME_S: u64 = 600;
const REUSE_S: u64 = 300;
/// Tolerance for the bot's clock running behind ours.
const NOT_BEFORE_SKEW_S: u64 = 60;

#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
    iat: u64,
    nbf: u64,
    exp: u64,
}

/// The signing key in a private-key PEM: RS256 for an RSA key, else ES256 (a key that is
/// neither is refused by [`NotificationSigner::new`]).
pub fn private_key_from_pem(pem: String) -> JwtKey {
    if EncodingKey::from_rsa_pem(pem.as_bytes()).is_ok() {
        JwtKey::Rs256Pem { pem }
    } else {
        JwtKey::Es256Pem { pem }
    }
}

pub struct NotificationSigner {
    key: EncodingKey,
    algorithm: Algorithm,
    issuer: String,
    audience: Option<String>,
    /// (issued at, token) of the token handed out last.
    cached: Mutex<Option<(u64, String)>>,
}

impl NotificationSigner {
    /// `key` holds the HS256 secret or the RS256/ES256 *private* key in PEM.
    pub fn new(
        key: &JwtKey,
        issuer: &str,
        audience: Option<&str>,
    ) -> Result<NotificationSigner, Error> {
        let (algorithm, key) = match key {
            JwtKey::Hs256 { secret } => (Algorithm::HS256, EncodingKey::from_secret(secret)),
            JwtKey::Rs256Pem { pem } => (
                Algorithm::RS256,
                EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| Error::InvalidConfig {
                    what: "notification JWT key (RS256 private key PEM)",
                })?,
            ),
            JwtKey::Es256Pem { pem } => (
                Algorithm::ES256,
                EncodingKey::from_ec_pem(pem.as_bytes()).map_err(|_| Error::InvalidConfig {
                    what: "notification JWT key (ES256 private key PEM, PKCS#8)",
                })?,
            ),
        };
        let signer = NotificationSigner {
            key,
            algorithm,
            issuer: issuer.to_string(),
            audience: audience.map(str::to_string),
            cached: Mutex::new(None),
        };
        // A key that parses but cannot sign (a public key given as the private one) fails here,
        // at start-up, rather than on every notification.
        signer.sign(0).ok_or(Error::InvalidConfig {
            what: "notification JWT key cannot sign",
        })?;
        Ok(signer)
    }

    /// A token valid at `now_unix`.
    pub fn token(&self, now_unix: u64) -> Option<String> {
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((iat, token)) = cached.as_ref() {
            if now_unix >= *iat && now_unix - *iat < REUSE_S {
                return Some(token.clone());
            }
        }
        let token = self.sign(now_unix)?;
        *cached = Some((now_unix, token.clone()));
        Some(token)
    }

    fn sign(&self, now_unix: u64) -> Option<String> {
        let claims = Claims {
            iss: &self.issuer,
            aud: self.audience.as_deref(),
            iat: now_unix,
            nbf: now_unix.saturating_sub(NOT_BEFORE_SKEW_S),
            exp: now_unix.saturating_add(LIFETIME_S),
        };
        match jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.key) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(error = %e, "notification JWT not signed");
                None
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    #[derive(serde::Deserialize)]
    struct Seen {
        iss: String,
        aud: String,
        exp: u64,
    }

    #[test]
    fn a_bot_validates_the_token_with_the_shared_secret() {
        let s = NotificationSigner::new(
            &JwtKey::Hs256 {
                secret: b"shared".to_vec(),
            },
            "https://callclip.example",
            Some("bot-app-id"),
        )
        .unwrap();
        let now = crate::clock::unix_seconds();
        let token = s.token(now).unwrap();
        let mut v = Validation::new(Algorithm::HS256);
        v.set_audience(&["bot-app-id"]);
        v.set_issuer(&["https://callclip.example"]);
        let seen = jsonwebtoken::decode::<Seen>(&token, &DecodingKey::from_secret(b"shared"), &v)
            .unwrap()
            .claims;
        assert_eq!(seen.iss, "https://callclip.example");
        assert_eq!(seen.aud, "bot-app-id");
        assert_eq!(seen.exp, now + LIFETIME_S);
        assert!(jsonwebtoken::decode::<Seen>(&token, &DecodingKey::from_secret(b"x"), &v).is_err());
    }

    #[test]
    fn tokens_are_reused_for_a_while_then_renewed() {
        let s = NotificationSigner::new(
            &JwtKey::Hs256 {
                secret: b"k".to_vec(),
            },
            "i",
            None,
        )
        .unwrap();
        let a = s.token(1_000).unwrap();
        assert_eq!(s.token(1_000 + REUSE_S - 1).unwrap(), a);
        assert_ne!(s.token(1_000 + REUSE_S).unwrap(), a);
    }

    #[test]
    fn a_key_that_is_not_a_private_key_is_a_config_error() {
        let bad = JwtKey::Rs256Pem {
            pem: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".into(),
        };
        assert!(matches!(
            NotificationSigner::new(&bad, "i", None),
            Err(Error::InvalidConfig { .. })
        ));
    }
}
