//! JWT bearer tokens: RS256 and ES256 public keys, roles, expiry, audience. The PEM files in
//! tests/data are throwaway test keys.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

mod common;

use std::sync::Arc;

use api::{CallState, JwtKey};
use axum::http::{Method, StatusCode};
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

const RS_PRIV: &str = include_str!("data/rs256_private.pem");
const RS_PUB: &str = include_str!("data/rs256_public.pem");
const ES_PRIV: &str = include_str!("data/es256_private.pem");
const ES_PUB: &str = include_str!("data/es256_public.pem");

fn sign(alg: Algorithm, key: &EncodingKey, claims: serde_json::Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), &claims, key).unwrap()
}

fn media_claims() -> serde_json::Value {
    serde_json::json!({"roles": ["Calls.AccessMedia.All"], "exp": 4_000_000_000u64, "aud": "callclip"})
}

async fn get_call(h: &Harness, call: &api::CallId, token: &str) -> StatusCode {
    let auth = format!("Bearer {token}");
    send_raw(
        &h.state,
        Method::GET,
        &format!("/communications/calls/{call}"),
        &[("authorization", &auth)],
        vec![],
    )
    .await
    .status
}

#[tokio::test]
async fn rs256_and_es256_tokens_with_roles_are_accepted() {
    let mut c = config();
    c.jwt_keys = vec![
        JwtKey::Rs256Pem { pem: RS_PUB.into() },
        JwtKey::Es256Pem { pem: ES_PUB.into() },
    ];
    c.jwt_audience = Some("callclip".into());
    let h = harness_with(c, Arc::new(FakeWebhook::default()));
    let call = incoming_call(&h, Some(CallState::Established));
    let rs = EncodingKey::from_rsa_pem(RS_PRIV.as_bytes()).unwrap();
    let es = EncodingKey::from_ec_pem(ES_PRIV.as_bytes()).unwrap();

    let t = sign(Algorithm::RS256, &rs, media_claims());
    assert_eq!(get_call(&h, &call, &t).await, StatusCode::OK);
    let t = sign(Algorithm::ES256, &es, media_claims());
    assert_eq!(get_call(&h, &call, &t).await, StatusCode::OK);

    let mut expired = media_claims();
    expired["exp"] = 1_000_000_000u64.into();
    let t = sign(Algorithm::RS256, &rs, expired);
    assert_eq!(get_call(&h, &call, &t).await, StatusCode::UNAUTHORIZED);

    let mut other_aud = media_claims();
    other_aud["aud"] = "someone-else".into();
    let t = sign(Algorithm::ES256, &es, other_aud);
    assert_eq!(get_call(&h, &call, &t).await, StatusCode::UNAUTHORIZED);

    // HS256 with the public key as secret (algorithm confusion) is refused.
    let confused = EncodingKey::from_secret(RS_PUB.as_bytes());
    let t = sign(Algorithm::HS256, &confused, media_claims());
    assert_eq!(get_call(&h, &call, &t).await, StatusCode::UNAUTHORIZED);

    let mut no_roles = media_claims();
    no_roles["roles"] = serde_json::json!([]);
    let t = sign(Algorithm::RS256, &rs, no_roles);
    assert_eq!(get_call(&h, &call, &t).await, StatusCode::FORBIDDEN);
}
