//! Header names: case folding and compact forms (RFC 3261 §7.3.3).

use std::fmt;

use super::text::is_token_byte;
use super::types::HeaderName;

impl HeaderName {
    /// Maps a received name to its canonical value. Names are case-insensitive
    /// (RFC 3261 §7.3.5); compact forms come from RFC 3261 §7.3.3 (i m e l c f s k t v),
    /// RFC 3265 (o u), RFC 3515 (r), RFC 3841 (a j d), RFC 3892 (b), RFC 4028 (x) and
    /// RFC 4474 (y n). Extension headers without a variant get their full name in `Other`;
    /// any other name is kept verbatim.
    pub fn parse(name: &str) -> HeaderName {
        if !name.bytes().all(is_token_byte) {
            return HeaderName::Other(name.to_owned());
        }
        Self::from_bytes(name.as_bytes())
    }

    /// As `parse`, on a name of token bytes (RFC 3261 §25.1); runs once per header line on
    /// the hot path, so it picks one candidate by length and first letter, then compares the
    /// name with it in a few word-sized loads.
    pub(crate) fn from_bytes(name: &[u8]) -> HeaderName {
        use HeaderName as H;
        let first = name.first().map_or(0, u8::to_ascii_lowercase);
        let candidate = match (name.len(), first) {
            (1, c) => return compact(c, name),
            (2, b't') => H::To,
            (3, b'v') => H::Via,
            (4, b'f') => H::From,
            (4, b'c') => H::CSeq,
            (5, b'r') => H::Route,
            (5, b'a') => H::Allow,
            (5, b'e') => H::Event,
            (6, b'a') => H::Accept,
            (6, b's') => H::Server,
            (7, b'c') if name.get(2).is_some_and(|&b| b | 0x20 == b'l') => H::CallId,
            (7, b'c') => H::Contact,
            (7, b'r') => H::Require,
            (7, b'e') => H::Expires,
            (7, b's') => H::Subject,
            (9, b's') => H::Supported,
            (10, b'u') => H::UserAgent,
            (11, b'r') => H::RetryAfter,
            (12, b'c') => H::ContentType,
            (12, b'm') => H::MaxForwards,
            (12, b'r') => H::RecordRoute,
            (13, b'a') => H::Authorization,
            (14, b'c') => H::ContentLength,
            (15, b's') => H::SessionExpires,
            (16, b'c') => H::ContentEncoding,
            (16, b'w') => H::WwwAuthenticate,
            (18, b'p') => H::ProxyAuthenticate,
            (19, b'p') => H::ProxyAuthorization,
            _ => return verbatim(name),
        };
        if eq_folded(name, candidate.as_str().as_bytes()) {
            candidate
        } else {
            verbatim(name)
        }
    }

    /// The full canonical spelling, used when serializing.
    pub fn as_str(&self) -> &str {
        match self {
            HeaderName::Via => "Via",
            HeaderName::From => "From",
            HeaderName::To => "To",
            HeaderName::CallId => "Call-ID",
            HeaderName::CSeq => "CSeq",
            HeaderName::Contact => "Contact",
            HeaderName::ContentLength => "Content-Length",
            HeaderName::ContentType => "Content-Type",
            HeaderName::ContentEncoding => "Content-Encoding",
            HeaderName::MaxForwards => "Max-Forwards",
            HeaderName::Route => "Route",
            HeaderName::RecordRoute => "Record-Route",
            HeaderName::Allow => "Allow",
            HeaderName::Accept => "Accept",
            HeaderName::Supported => "Supported",
            HeaderName::Require => "Require",
            HeaderName::Expires => "Expires",
            HeaderName::WwwAuthenticate => "WWW-Authenticate",
            HeaderName::Authorization => "Authorization",
            HeaderName::ProxyAuthenticate => "Proxy-Authenticate",
            HeaderName::ProxyAuthorization => "Proxy-Authorization",
            HeaderName::UserAgent => "User-Agent",
            HeaderName::Server => "Server",
            HeaderName::Event => "Event",
            HeaderName::Subject => "Subject",
            HeaderName::RetryAfter => "Retry-After",
            HeaderName::SessionExpires => "Session-Expires",
            HeaderName::Other(s) => s,
        }
    }

    /// True if this is `name`, comparing case-insensitively (RFC 3261 §7.3.5).
    pub fn is(&self, name: &str) -> bool {
        self.as_str().eq_ignore_ascii_case(name)
    }
}

/// Case-insensitive equality of names of equal length, compared in two overlapping loads of
/// 2, 4 or 8 bytes (and 8-byte steps past 16), so every byte is compared at least once. Setting
/// bit 5 folds exactly the letters among token bytes: `-`, `.`, digits and the other symbols
/// keep it or, like `_` (to DEL), land on no letter or `-`, the only bytes of canonical names.
#[inline(always)]
fn eq_folded(name: &[u8], canonical: &[u8]) -> bool {
    let len = name.len();
    if len != canonical.len() {
        return false;
    }
    match len {
        0 => true,
        1 => name.first().map(|b| b | 0x20) == canonical.first().map(|b| b | 0x20),
        2..=3 => eq_at::<2>(name, canonical, 0) && eq_at::<2>(name, canonical, len - 2),
        4..=7 => eq_at::<4>(name, canonical, 0) && eq_at::<4>(name, canonical, len - 4),
        _ => {
            let mut at = 0;
            while at + 8 < len {
                if !eq_at::<8>(name, canonical, at) {
                    return false;
                }
                at += 8;
            }
            eq_at::<8>(name, canonical, len - 8)
        }
    }
}

/// `N` (2, 4 or 8) bytes of both names from `at`, compared with bit 5 set in every byte;
/// false if either is too short.
#[inline(always)]
fn eq_at<const N: usize>(name: &[u8], canonical: &[u8], at: usize) -> bool {
    const FOLD: u64 = 0x2020_2020_2020_2020;
    #[inline(always)]
    fn load<const N: usize>(s: &[u8], at: usize) -> Option<u64> {
        let c = s.get(at..at.checked_add(N)?)?;
        Some(match N {
            2 => u64::from(u16::from_le_bytes(c.try_into().ok()?)),
            4 => u64::from(u32::from_le_bytes(c.try_into().ok()?)),
            _ => u64::from_le_bytes(c.try_into().ok()?),
        })
    }
    match (load::<N>(name, at), load::<N>(canonical, at)) {
        (Some(a), Some(b)) => a | FOLD == b | FOLD,
        _ => false,
    }
}

#[cold]
fn verbatim(name: &[u8]) -> HeaderName {
    HeaderName::Other(String::from_utf8_lossy(name).into_owned())
}

/// RFC 3261 §7.3.3 and the extensions listed on `HeaderName::parse`; `c` is lowercased.
#[inline(never)]
fn compact(c: u8, name: &[u8]) -> HeaderName {
    match c {
        b'i' => HeaderName::CallId,
        b'm' => HeaderName::Contact,
        b'e' => HeaderName::ContentEncoding,
        b'l' => HeaderName::ContentLength,
        b'c' => HeaderName::ContentType,
        b'f' => HeaderName::From,
        b's' => HeaderName::Subject,
        b'k' => HeaderName::Supported,
        b't' => HeaderName::To,
        b'v' => HeaderName::Via,
        b'o' => HeaderName::Event,
        b'x' => HeaderName::SessionExpires,
        b'r' => HeaderName::Other("Refer-To".into()),
        b'u' => HeaderName::Other("Allow-Events".into()),
        b'a' => HeaderName::Other("Accept-Contact".into()),
        b'j' => HeaderName::Other("Reject-Contact".into()),
        b'd' => HeaderName::Other("Request-Disposition".into()),
        b'b' => HeaderName::Other("Referred-By".into()),
        b'y' => HeaderName::Other("Identity".into()),
        b'n' => HeaderName::Other("Identity-Info".into()),
        _ => verbatim(name),
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn every_full_name_parses_to_itself() {
        for name in [
            HeaderName::Via,
            HeaderName::From,
            HeaderName::To,
            HeaderName::CallId,
            HeaderName::CSeq,
            HeaderName::Contact,
            HeaderName::ContentLength,
            HeaderName::ContentType,
            HeaderName::ContentEncoding,
            HeaderName::MaxForwards,
            HeaderName::Route,
            HeaderName::RecordRoute,
            HeaderName::Allow,
            HeaderName::Accept,
            HeaderName::Supported,
            HeaderName::Require,
            HeaderName::Expires,
            HeaderName::WwwAuthenticate,
            HeaderName::Authorization,
            HeaderName::ProxyAuthenticate,
            HeaderName::ProxyAuthorization,
            HeaderName::UserAgent,
            HeaderName::Server,
            HeaderName::Event,
            HeaderName::Subject,
            HeaderName::RetryAfter,
            HeaderName::SessionExpires,
        ] {
            assert_eq!(HeaderName::parse(&name.as_str().to_ascii_uppercase()), name);
        }
    }

    #[test]
    fn compact_and_case_folded_names_map_to_one_value() {
        assert_eq!(HeaderName::parse("i"), HeaderName::CallId);
        assert_eq!(HeaderName::parse("V"), HeaderName::Via);
        assert_eq!(HeaderName::parse("cALL-id"), HeaderName::CallId);
        assert_eq!(HeaderName::parse("MaX-fOrWaRdS"), HeaderName::MaxForwards);
        assert_eq!(HeaderName::parse("r"), HeaderName::Other("Refer-To".into()));
        assert_eq!(HeaderName::parse("z"), HeaderName::Other("z".into()));
        assert_eq!(
            HeaderName::parse("X-Custom"),
            HeaderName::Other("X-Custom".into())
        );
        assert!(HeaderName::parse("refer-TO").is("Refer-To"));
        // Bit 5 folding must not confuse CR with `-` or `_` with a letter.
        assert_eq!(
            HeaderName::parse("Call\rID"),
            HeaderName::Other("Call\rID".into())
        );
        assert_eq!(HeaderName::parse("T_"), HeaderName::Other("T_".into()));
        assert_eq!(HeaderName::parse("Via_"), HeaderName::Other("Via_".into()));
    }

    #[test]
    fn word_compare_agrees_with_byte_compare() {
        let bytewise = |a: &[u8], b: &[u8]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x | 0x20 == y | 0x20)
        };
        let base = b"Proxy-Authorization-Extra";
        for len in 0..=base.len() {
            let canonical = &base[..len];
            for i in 0..len {
                for x in [b'_', b'\r', b'-', b'p', b'P', b'\x7f', 0xff, b'0'] {
                    let mut name = canonical.to_vec();
                    name[i] = x;
                    assert_eq!(eq_folded(&name, canonical), bytewise(&name, canonical));
                }
            }
            assert!(eq_folded(&canonical.to_ascii_uppercase(), canonical));
            assert!(!eq_folded(canonical, &base[..len.saturating_sub(1)]) || len == 0);
        }
    }
}
