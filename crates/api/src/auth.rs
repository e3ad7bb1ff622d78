//! Bearer-token authentication and the Graph app roles.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderMap};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{ApiConfig, JwtKey, StaticToken};
use crate::error::Error;
use crate::state::AppState;

pub const ROLE_ACCESS_MEDIA: &str = "Calls.AccessMedia.All";
pub const ROLE_INITIATE: &str = "Calls.Initiate.All";

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// The roles an authenticated request holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    access_media: bool,
    initiate: bool,
}

impl Caller {
    /// `403` unless the caller holds `role`.
    pub fn require(&self, role: &'static str) -> Result<(), Error> {
        let held = match role {
            ROLE_ACCESS_MEDIA => self.access_media,
            ROLE_INITIATE => self.initiate,
            _ => false,
        };
        if held {
            Ok(())
        } else {
            Err(Error::AccessDenied { role })
        }
    }

    /// Reading calls, hanging up, reject, redirect and keepAlive need either role.
    pub fn require_any(&self) -> Result<(), Error> {
        if self.access_media || self.initiate {
            Ok(())
        } else {
            Err(Error::AccessDenied {
                role: ROLE_ACCESS_MEDIA,
            })
        }
    }
}

#[derive(serde::Deserialize)]
struct Claims {
    #[serde(default)]
    roles: Vec<String>,
}

/// Checks bearer tokens against the configured static tokens and JWT keys.
pub struct Authenticator {
    static_tokens: Vec<StaticToken>,
    jwt: Vec<(Algorithm, DecodingKey)>,
    audience: Option<String>,
}

impl Authenticator {
    pub fn new(config: &ApiConfig) -> Result<Authenticator, Error> {
        let jwt = config
            .jwt_keys
            .iter()
            .map(|k| match k {
                JwtKey::Hs256 { secret } => {
                    Ok((Algorithm::HS256, DecodingKey::from_secret(secret)))
                }
                JwtKey::Rs256Pem { pem } => DecodingKey::from_rsa_pem(pem.as_bytes())
                    .map(|d| (Algorithm::RS256, d))
                    .map_err(|_| Error::InvalidConfig {
                        what: "RS256 public key",
                    }),
                JwtKey::Es256Pem { pem } => DecodingKey::from_ec_pem(pem.as_bytes())
                    .map(|d| (Algorithm::ES256, d))
                    .map_err(|_| Error::InvalidConfig {
                        what: "ES256 public key",
                    }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Authenticator {
            static_tokens: config.static_tokens.clone(),
            jwt,
            audience: config.jwt_audience.clone(),
        })
    }

    /// A static token grants every role; a JWT grants the roles in its `roles` claim.
    pub fn check(&self, token: &str) -> Result<Caller, Error> {
        let digest = sha256(token.as_bytes());
        let mut static_match = subtle::Choice::from(0);
        for t in &self.static_tokens {
            static_match |= t.sha256.ct_eq(&digest);
        }
        if bool::from(static_match) {
            return Ok(Caller {
                access_media: true,
                initiate: true,
            });
        }
        let alg = jsonwebtoken::decode_header(token)
            .map_err(|_| Error::Unauthenticated)?
            .alg;
        for (key_alg, key) in self.jwt.iter().filter(|(a, _)| *a == alg) {
            let mut v = Validation::new(*key_alg);
            match &self.audience {
                Some(aud) => v.set_audience(&[aud]),
                None => v.validate_aud = false,
            }
            if let Ok(data) = jsonwebtoken::decode::<Claims>(token, key, &v) {
                let has = |r: &str| data.claims.roles.iter().any(|x| x == r);
                return Ok(Caller {
                    access_media: has(ROLE_ACCESS_MEDIA),
                    initiate: has(ROLE_INITIATE),
                });
            }
        }
        Err(Error::Unauthenticated)
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let token = bearer(&parts.headers).ok_or(Error::Unauthenticated)?;
        state.auth().check(token)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn config() -> ApiConfig {
        let mut c = ApiConfig::new("http://x", PathBuf::new(), PathBuf::new());
        c.static_tokens = vec![StaticToken::from_plain("static")];
        c.jwt_keys = vec![JwtKey::Hs256 {
            secret: b"k".to_vec(),
        }];
        c
    }

    fn jwt(roles: &[&str], secret: &[u8]) -> String {
        let claims = serde_json::json!({"roles": roles, "exp": 4_000_000_000u64});
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    #[test]
    fn static_token_grants_all_roles() {
        let a = Authenticator::new(&config()).unwrap();
        let c = a.check("static").unwrap();
        assert!(c.require(ROLE_INITIATE).is_ok() && c.require(ROLE_ACCESS_MEDIA).is_ok());
        assert_eq!(a.check("other"), Err(Error::Unauthenticated));
    }

    #[test]
    fn jwt_roles_decide_and_bad_signature_is_unauthenticated() {
        let a = Authenticator::new(&config()).unwrap();
        let c = a.check(&jwt(&[ROLE_ACCESS_MEDIA], b"k")).unwrap();
        assert!(c.require(ROLE_ACCESS_MEDIA).is_ok());
        assert_eq!(
            c.require(ROLE_INITIATE),
            Err(Error::AccessDenied {
                role: ROLE_INITIATE
            })
        );
        assert_eq!(
            a.check(&jwt(&[ROLE_ACCESS_MEDIA], b"wrong")),
            Err(Error::Unauthenticated)
        );
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "bearer abc".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}
