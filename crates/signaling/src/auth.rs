//! HTTP Digest authentication as SIP uses it (RFC 3261 §22.4, RFC 2617, RFC 7616, RFC 8760):
//! reading `WWW-Authenticate` / `Proxy-Authenticate` challenges and writing the matching
//! `Authorization` / `Proxy-Authorization` credentials.

use std::fmt::{self, Write as _};

use md5::Md5;
use rand::RngCore;
use sha2::{Digest as _, Sha256};

use crate::error::ParseErrorKind;
use crate::Error;

/// The `algorithm` of a challenge (RFC 7616 §3.3, RFC 8760 §2). Absent means MD5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    fn parse(s: &str) -> Option<Algorithm> {
        [
            Algorithm::Md5,
            Algorithm::Md5Sess,
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
        ]
        .into_iter()
        .find(|a| a.as_str().eq_ignore_ascii_case(s))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    fn is_sess(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    /// Lowercase hex of the digest of `data` (RFC 7616 §3.4.1 `H`).
    fn hash(self, data: &[u8]) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex(&Md5::digest(data)),
            Algorithm::Sha256 | Algorithm::Sha256Sess => hex(&Sha256::digest(data)),
        }
    }
}

/// Quality of protection (RFC 7616 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qop {
    Auth,
    AuthInt,
}

impl Qop {
    pub fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }
}

/// What made a challenge unanswerable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    #[error("scheme is not Digest")]
    Scheme,
    #[error("unknown digest algorithm")]
    Algorithm,
    #[error("no qop we can do")]
    Qop,
}

/// A parsed `Digest` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: Algorithm,
    /// Offered qop values; empty means the RFC 2069 form without qop.
    pub qop: Vec<Qop>,
    /// The nonce expired but the credentials were right: retry with the new nonce
    /// (RFC 7616 §3.3).
    pub stale: bool,
}

impl Challenge {
    /// Parses one header value. It may hold several challenges (RFC 7235 §4.1); the strongest
    /// usable Digest one is returned (RFC 7616 §3.7: SHA-256 before MD5).
    pub fn parse(value: &str) -> Result<Challenge, Error> {
        Challenge::best([value])
    }

    /// The strongest usable Digest challenge among several header values.
    pub fn best<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Challenge, Error> {
        let mut best: Option<Challenge> = None;
        let mut failure = Error::UnsupportedChallenge {
            unsupported: Unsupported::Scheme,
        };
        for value in values {
            let raw =
                split_challenges(value).map_err(|kind| Error::header("WWW-Authenticate", kind))?;
            for (scheme, params) in raw {
                match Challenge::from_params(scheme, &params) {
                    Ok(c) if best.as_ref().is_none_or(|b| strength(&c) > strength(b)) => {
                        best = Some(c)
                    }
                    Ok(_) => {}
                    Err(e) => failure = e,
                }
            }
        }
        best.ok_or(failure)
    }

    fn from_params(scheme: &str, params: &[(String, String)]) -> Result<Challenge, Error> {
        let unsupported = |unsupported| Error::UnsupportedChallenge { unsupported };
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(unsupported(Unsupported::Scheme));
        }
        let get = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let missing = || Error::header("WWW-Authenticate", ParseErrorKind::Param);
        let algorithm = match get("algorithm") {
            None => Algorithm::Md5,
            Some(a) => Algorithm::parse(a).ok_or(unsupported(Unsupported::Algorithm))?,
        };
        let qop: Vec<Qop> = match get("qop") {
            None => Vec::new(),
            Some(list) => {
                let qop: Vec<Qop> = list
                    .split(',')
                    .filter_map(|q| match q.trim() {
                        q if q.eq_ignore_ascii_case("auth") => Some(Qop::Auth),
                        q if q.eq_ignore_ascii_case("auth-int") => Some(Qop::AuthInt),
                        _ => None,
                    })
                    .collect();
                if qop.is_empty() {
                    return Err(unsupported(Unsupported::Qop));
                }
                qop
            }
        };
        Ok(Challenge {
            realm: get("realm").ok_or_else(missing)?.to_owned(),
            nonce: get("nonce").ok_or_else(missing)?.to_owned(),
            opaque: get("opaque").map(str::to_owned),
            algorithm,
            qop,
            stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }
}

fn strength(c: &Challenge) -> u8 {
    match c.algorithm {
        Algorithm::Md5 | Algorithm::Md5Sess => 0,
        Algorithm::Sha256 | Algorithm::Sha256Sess => 1,
    }
}

/// One request to sign (RFC 7616 §3.4).
#[derive(Debug, Clone, Copy)]
pub struct DigestRequest<'a> {
    pub method: &'a str,
    /// The Request-URI as written in the request (RFC 3261 §22.4: `digest-uri`).
    pub uri: &'a str,
    /// Only read for qop=auth-int.
    pub body: &'a [u8],
}

/// The credentials header value for `challenge` (RFC 7616 §3.4), with an explicit client
/// nonce and nonce count. `qop=auth` is used when offered, `auth-int` when only that is.
pub fn credentials(
    challenge: &Challenge,
    username: &str,
    password: &str,
    request: DigestRequest<'_>,
    cnonce: &str,
    nc: u32,
) -> String {
    let alg = challenge.algorithm;
    let qop = if challenge.qop.contains(&Qop::Auth) {
        Some(Qop::Auth)
    } else {
        challenge.qop.first().copied()
    };
    let mut ha1 = alg.hash(format!("{username}:{}:{password}", challenge.realm).as_bytes());
    if alg.is_sess() {
        ha1 = alg.hash(format!("{ha1}:{}:{cnonce}", challenge.nonce).as_bytes());
    }
    let ha2 = match qop {
        Some(Qop::AuthInt) => alg.hash(
            format!(
                "{}:{}:{}",
                request.method,
                request.uri,
                alg.hash(request.body)
            )
            .as_bytes(),
        ),
        _ => alg.hash(format!("{}:{}", request.method, request.uri).as_bytes()),
    };
    let nc_text = format!("{nc:08x}");
    let response = match qop {
        Some(q) => alg.hash(
            format!(
                "{ha1}:{}:{nc_text}:{cnonce}:{}:{ha2}",
                challenge.nonce,
                q.as_str()
            )
            .as_bytes(),
        ),
        None => alg.hash(format!("{ha1}:{}:{ha2}", challenge.nonce).as_bytes()),
    };

    let mut out = String::from("Digest ");
    let mut field = |name: &str, value: &str, quote: bool| {
        if !out.ends_with(' ') {
            out.push_str(", ");
        }
        out.push_str(name);
        out.push('=');
        if quote {
            // Writing into a String cannot fail.
            let _ = write_quoted(&mut out, value);
        } else {
            out.push_str(value);
        }
    };
    field("username", username, true);
    field("realm", &challenge.realm, true);
    field("nonce", &challenge.nonce, true);
    field("uri", request.uri, true);
    field("response", &response, true);
    field("algorithm", alg.as_str(), false);
    if let Some(opaque) = &challenge.opaque {
        field("opaque", opaque, true);
    }
    if let Some(q) = qop {
        field("qop", q.as_str(), false);
        field("nc", &nc_text, false);
        field("cnonce", cnonce, true);
    }
    out
}

/// A user's credentials with the nonce count bookkeeping of RFC 7616 §3.4: `nc` restarts at 1
/// for each new nonce and grows with every request signed under the same one.
#[derive(Debug, Clone)]
pub struct DigestClient {
    username: String,
    password: String,
    nonce: Option<String>,
    nc: u32,
}

impl DigestClient {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        DigestClient {
            username: username.into(),
            password: password.into(),
            nonce: None,
            nc: 0,
        }
    }

    /// Signs `request` for `challenge` with a fresh client nonce from `rng`.
    pub fn authorize(
        &mut self,
        challenge: &Challenge,
        request: DigestRequest<'_>,
        rng: &mut impl RngCore,
    ) -> String {
        if self.nonce.as_deref() == Some(challenge.nonce.as_str()) {
            self.nc = self.nc.wrapping_add(1).max(1);
        } else {
            self.nonce = Some(challenge.nonce.clone());
            self.nc = 1;
        }
        let cnonce = format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
        credentials(
            challenge,
            &self.username,
            &self.password,
            request,
            &cnonce,
            self.nc,
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing into a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Writes `s` as a quoted string, escaping `"` and `\` (RFC 7230 §3.2.6 `quoted-pair`).
fn write_quoted(out: &mut String, s: &str) -> fmt::Result {
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(())
}

type RawChallenge<'a> = (&'a str, Vec<(String, String)>);

/// Splits `Scheme a=b, c="d", Other e=f` into schemes and their `auth-param`s
/// (RFC 7235 §2.1, §4.1), quoted values unquoted.
fn split_challenges(value: &str) -> Result<Vec<RawChallenge<'_>>, ParseErrorKind> {
    let bytes = value.as_bytes();
    let mut pos = 0;
    let mut out: Vec<RawChallenge<'_>> = Vec::new();
    let is_ws = |b: u8| b == b' ' || b == b'\t';
    let is_token = |b: u8| !(b.is_ascii_control() || b" \t,=\"".contains(&b));
    loop {
        while bytes.get(pos).is_some_and(|b| is_ws(*b) || *b == b',') {
            pos += 1;
        }
        if pos >= bytes.len() {
            return Ok(out);
        }
        let start = pos;
        while bytes.get(pos).copied().is_some_and(is_token) {
            pos += 1;
        }
        let word = value.get(start..pos).ok_or(ParseErrorKind::Syntax)?;
        if word.is_empty() {
            return Err(ParseErrorKind::Syntax);
        }
        while bytes.get(pos).copied().is_some_and(is_ws) {
            pos += 1;
        }
        if bytes.get(pos) != Some(&b'=') {
            out.push((word, Vec::new()));
            continue;
        }
        pos += 1;
        while bytes.get(pos).copied().is_some_and(is_ws) {
            pos += 1;
        }
        let param_value = if bytes.get(pos) == Some(&b'"') {
            let mut v = String::new();
            let mut chars = value
                .get(pos + 1..)
                .ok_or(ParseErrorKind::Quote)?
                .char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => v.extend(chars.next().map(|(_, n)| n)),
                    '"' => {
                        end = Some(pos + 1 + i + 1);
                        break;
                    }
                    c => v.push(c),
                }
            }
            pos = end.ok_or(ParseErrorKind::Quote)?;
            v
        } else {
            let vstart = pos;
            while bytes.get(pos).copied().is_some_and(is_token) {
                pos += 1;
            }
            value
                .get(vstart..pos)
                .ok_or(ParseErrorKind::Syntax)?
                .to_owned()
        };
        let (_, params) = out.last_mut().ok_or(ParseErrorKind::Syntax)?;
        params.push((word.to_owned(), param_value));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    const RFC7616_CHALLENGE: &str = r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;

    fn get_index() -> DigestRequest<'static> {
        DigestRequest {
            method: "GET",
            uri: "/dir/index.html",
            body: b"",
        }
    }

    fn field<'a>(header: &'a str, name: &str) -> Option<&'a str> {
        let start = header.find(&format!("{name}="))? + name.len() + 1;
        let rest = header.get(start..)?;
        let rest = rest.strip_prefix('"').unwrap_or(rest);
        rest.split(['"', ',']).next()
    }

    #[test]
    fn rfc2617_section_3_5_example() {
        let c = Challenge::parse(
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap();
        assert_eq!(c.algorithm, Algorithm::Md5);
        assert_eq!(c.qop, vec![Qop::Auth, Qop::AuthInt]);
        let h = credentials(&c, "Mufasa", "Circle Of Life", get_index(), "0a4f113b", 1);
        assert_eq!(
            field(&h, "response"),
            Some("6629fae49393a05397450978507c4ef1")
        );
        assert_eq!(field(&h, "nc"), Some("00000001"));
        assert_eq!(field(&h, "qop"), Some("auth"));
        assert_eq!(
            field(&h, "opaque"),
            Some("5ccc069c403ebaf9f0171e9517f40e41")
        );
    }

    #[test]
    fn rfc7616_section_3_9_1_sha256_and_md5() {
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let c = Challenge::parse(RFC7616_CHALLENGE).unwrap();
        assert_eq!(c.algorithm, Algorithm::Sha256);
        let h = credentials(&c, "Mufasa", "Circle of Life", get_index(), cnonce, 1);
        assert_eq!(
            field(&h, "response"),
            Some("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
        );
        assert_eq!(field(&h, "algorithm"), Some("SHA-256"));

        let md5 = Challenge {
            algorithm: Algorithm::Md5,
            ..c
        };
        let h = credentials(&md5, "Mufasa", "Circle of Life", get_index(), cnonce, 1);
        assert_eq!(
            field(&h, "response"),
            Some("8ca523f5e9506fed4657c9700eebdbec")
        );
    }

    #[test]
    fn strongest_of_several_challenges_wins() {
        let two = format!(r#"{RFC7616_CHALLENGE}, Digest realm="r", nonce="n", algorithm=MD5"#);
        assert_eq!(Challenge::parse(&two).unwrap().algorithm, Algorithm::Sha256);
        let split = Challenge::best([r#"Digest realm="r", nonce="n""#, RFC7616_CHALLENGE]).unwrap();
        assert_eq!(split.algorithm, Algorithm::Sha256);
    }

    #[test]
    fn no_qop_form_rfc2069() {
        let c = Challenge::parse(r#"Digest realm="asterisk",nonce="1f2e3d""#).unwrap();
        assert!(c.qop.is_empty());
        let h = credentials(
            &c,
            "alice",
            "secret",
            DigestRequest {
                method: "REGISTER",
                uri: "sip:pbx.example.com",
                body: b"",
            },
            "unused",
            1,
        );
        assert!(!h.contains("qop="), "{h}");
        assert!(!h.contains("cnonce="));
        // H(H(alice:asterisk:secret):1f2e3d:H(REGISTER:sip:pbx.example.com))
        let alg = Algorithm::Md5;
        let ha1 = alg.hash(b"alice:asterisk:secret");
        let ha2 = alg.hash(b"REGISTER:sip:pbx.example.com");
        let want = alg.hash(format!("{ha1}:1f2e3d:{ha2}").as_bytes());
        assert_eq!(field(&h, "response"), Some(want.as_str()));
    }

    #[test]
    fn stale_and_unsupported() {
        let c = Challenge::parse(r#"Digest realm="r", nonce="n", stale=TRUE"#).unwrap();
        assert!(c.stale);
        assert!(matches!(
            Challenge::parse(r#"Basic realm="r""#),
            Err(Error::UnsupportedChallenge {
                unsupported: Unsupported::Scheme
            })
        ));
        assert!(matches!(
            Challenge::parse(r#"Digest realm="r", nonce="n", algorithm=SHA-512-256"#),
            Err(Error::UnsupportedChallenge {
                unsupported: Unsupported::Algorithm
            })
        ));
        assert!(Challenge::parse(r#"Digest realm="r"#).is_err());
        assert!(Challenge::parse(r#"Digest nonce="n""#).is_err());
        assert!(Challenge::parse("=").is_err());
    }

    #[test]
    fn nonce_count_grows_per_nonce_and_restarts_on_a_new_one() {
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7);
        let mut client = DigestClient::new("alice", "secret");
        let c1 = Challenge::parse(r#"Digest realm="r", nonce="n1", qop="auth""#).unwrap();
        let c2 = Challenge::parse(r#"Digest realm="r", nonce="n2", qop="auth""#).unwrap();
        let req = get_index();
        assert_eq!(
            field(&client.authorize(&c1, req, &mut rng), "nc"),
            Some("00000001")
        );
        let again = client.authorize(&c1, req, &mut rng);
        assert_eq!(field(&again, "nc"), Some("00000002"));
        assert_eq!(field(&again, "cnonce").map(str::len), Some(32));
        assert_eq!(
            field(&client.authorize(&c2, req, &mut rng), "nc"),
            Some("00000001")
        );
    }

    #[test]
    fn quotes_in_user_names_are_escaped() {
        let c = Challenge::parse(r#"Digest realm="a\"b", nonce="n""#).unwrap();
        assert_eq!(c.realm, "a\"b");
        let h = credentials(&c, "x\"y", "p", get_index(), "c", 1);
        assert!(h.contains(r#"username="x\"y""#), "{h}");
        assert!(h.contains(r#"realm="a\"b""#));
    }
}
