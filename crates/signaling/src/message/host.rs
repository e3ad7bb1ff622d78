//! Hosts and ports (RFC 3261 §25.1 `host`, `port`), checked by byte tables: every Via and
//! most URIs carry one, so they are on the per-message path.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::uri::Host;
use crate::error::{Error, ParseErrorKind};

/// `hostname` and `IPv4address` characters (RFC 3261 §25.1), plus `_` seen from real peers.
const HOST_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
        i += 1;
    }
    t
};

pub(crate) fn is_host_byte(b: u8) -> bool {
    // Any u8 indexes a 256-entry table.
    HOST_BYTE[usize::from(b)]
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::V4(a) => write!(f, "{a}"),
            Host::V6(a) => write!(f, "[{a}]"),
        }
    }
}

/// RFC 3261 §19.1.2: the port of a sip: URI (and a Via) that names none.
pub const SIP_PORT: u16 = 5060;

impl Host {
    /// Parses `hostname / IPv4address / IPv6reference` (RFC 3261 §25.1).
    pub fn parse(s: &str) -> Result<Host, Error> {
        HostRef::parse(s).map(HostRef::into_host)
    }

    /// The address of an IP literal; `None` for a name (resolving it is the runtime's job).
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        match self {
            Host::V4(v4) => Some((*v4).into()),
            Host::V6(v6) => Some((*v6).into()),
            Host::Domain(_) => None,
        }
    }
}

impl FromStr for Host {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Host::parse(s)
    }
}

/// A host checked but not copied: `validate` needs only the verdict. A name and a dotted
/// quad are told apart when the host is copied, since both are made of host bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HostRef<'a> {
    Name(&'a str),
    V6(Ipv6Addr),
}

impl<'a> HostRef<'a> {
    #[inline]
    pub(crate) fn parse(s: &'a str) -> Result<Self, Error> {
        let bad = || Error::parse(ParseErrorKind::Host);
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner.strip_suffix(']').ok_or_else(bad)?;
            return inner.parse().map(HostRef::V6).map_err(|_| bad());
        }
        if s.is_empty() || !s.bytes().all(is_host_byte) {
            return Err(bad());
        }
        Ok(HostRef::Name(s))
    }

    pub(crate) fn into_host(self) -> Host {
        match self {
            HostRef::Name(d) => {
                parse_v4(d.as_bytes()).map_or_else(|| Host::Domain(d.to_owned()), Host::V4)
            }
            HostRef::V6(a) => Host::V6(a),
        }
    }
}

/// A dotted quad read as `Ipv4Addr::from_str` reads it (four decimal octets of one to three
/// digits, no leading zeros), in one pass over the bytes.
pub(crate) fn parse_v4(s: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut part = 0;
    let mut value = 0u16;
    let mut digits = 0;
    for &b in s {
        if b == b'.' {
            let octet = octets.get_mut(part)?;
            if digits == 0 {
                return None;
            }
            *octet = u8::try_from(value).ok()?;
            part += 1;
            value = 0;
            digits = 0;
        } else if b.is_ascii_digit() {
            // A fourth digit, or a second one after a leading zero.
            if digits == 3 || (digits == 1 && value == 0) {
                return None;
            }
            value = value * 10 + u16::from(b - b'0');
            digits += 1;
        } else {
            return None;
        }
    }
    if part != 3 || digits == 0 {
        return None;
    }
    *octets.get_mut(3)? = u8::try_from(value).ok()?;
    Some(Ipv4Addr::from(octets))
}

/// RFC 3261 §25.1 `port = 1*DIGIT`, at most five digits and within u16.
#[inline]
pub(crate) fn parse_port(p: &[u8]) -> Option<u16> {
    if p.is_empty() || p.len() > 5 {
        return None;
    }
    let n = p.iter().try_fold(0u32, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
    })?;
    u16::try_from(n).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn ipv4_hosts_match_the_standard_parser() {
        for s in [
            "127.0.0.1",
            "255.255.255.255",
            "0.0.0.0",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..3.4",
            "1.2.3.4.",
            "1234.1.1.1",
            "a.b.c.d",
            "",
        ] {
            assert_eq!(parse_v4(s.as_bytes()), s.parse().ok(), "{s}");
        }
        assert_eq!(
            Host::parse("10.0.0.01").unwrap(),
            Host::Domain("10.0.0.01".into())
        );
    }

    #[test]
    fn ports_are_one_to_five_digits_within_u16() {
        assert_eq!(parse_port(b"5060"), Some(5060));
        assert_eq!(parse_port(b"00099"), Some(99));
        assert_eq!(parse_port(b"65535"), Some(65535));
        for p in ["", "65536", "99999", "000001", "5o60", "+1"] {
            assert_eq!(parse_port(p.as_bytes()), None, "{p}");
        }
    }
}
