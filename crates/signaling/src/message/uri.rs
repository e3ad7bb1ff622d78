use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scheme {
    Sip,
    Sips,
    Tel,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    Domain(String),
    V4(Ipv4Addr),
    /// Written `[..]` in a URI (RFC 3261 §25.1 IPv6reference).
    V6(Ipv6Addr),
}

/// A generic `name[=value]` parameter (URI params, header params).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Param {
    pub name: String,
    pub value: Option<String>,
}

/// A sip:, sips: or tel: URI. For tel: the number is in `user` and `host` is empty domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uri {
    pub scheme: Scheme,
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Vec<Param>,
    /// `?h=v&...` URI headers, kept as written.
    pub headers: Vec<(String, String)>,
}

use std::fmt;
use std::str::FromStr;

use super::text::split_byte;
use crate::error::{Error, ParseErrorKind};

impl Scheme {
    pub fn as_str(&self) -> &'static str {
        match self {
            Scheme::Sip => "sip",
            Scheme::Sips => "sips",
            Scheme::Tel => "tel",
        }
    }
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

impl Host {
    /// Parses `hostname / IPv4address / IPv6reference` (RFC 3261 §25.1).
    pub fn parse(s: &str) -> Result<Host, Error> {
        HostRef::parse(s).map(HostRef::into_host)
    }
}

/// A host checked but not copied: `validate` needs only the verdict.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HostRef<'a> {
    Domain(&'a str),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl<'a> HostRef<'a> {
    pub(crate) fn parse(s: &'a str) -> Result<Self, Error> {
        let bad = || Error::parse(ParseErrorKind::Host);
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner.strip_suffix(']').ok_or_else(bad)?;
            return inner.parse().map(HostRef::V6).map_err(|_| bad());
        }
        if s.is_empty()
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        {
            return Err(bad());
        }
        Ok(parse_v4(s.as_bytes()).map_or(HostRef::Domain(s), HostRef::V4))
    }

    pub(crate) fn into_host(self) -> Host {
        match self {
            HostRef::Domain(d) => Host::Domain(d.to_owned()),
            HostRef::V4(a) => Host::V4(a),
            HostRef::V6(a) => Host::V6(a),
        }
    }
}

/// A dotted quad read as `Ipv4Addr::from_str` reads it (four decimal octets, no leading
/// zeros), scanning bytes: every Via and most URIs from a PBX carry one.
fn parse_v4(s: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split(|&b| b == b'.');
    for octet in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || (p.len() > 1 && p.first() == Some(&b'0')) {
            return None;
        }
        let n = p.iter().try_fold(0u16, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u16::from(d - b'0'))
        })?;
        *octet = u8::try_from(n).ok()?;
    }
    parts.next().is_none().then(|| Ipv4Addr::from(octets))
}

impl FromStr for Host {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Host::parse(s)
    }
}

impl Param {
    pub fn new(name: impl Into<String>, value: Option<String>) -> Self {
        Param {
            name: name.into(),
            value,
        }
    }
}

impl fmt::Display for Param {
    /// `;name[=value]`, the value as stored (quoted strings keep their quotes).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, ";{}={}", self.name, v),
            None => write!(f, ";{}", self.name),
        }
    }
}

/// The first parameter named `name` (case-insensitive, RFC 3261 §19.1.4): `Some(None)` when it
/// is present without a value.
pub fn find_param<'a>(params: &'a [Param], name: &str) -> Option<Option<&'a str>> {
    params
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .map(|p| p.value.as_deref())
}

/// Characters allowed unescaped anywhere in a SIP URI: `unreserved`, `reserved` and `%`
/// (RFC 3261 §25.1). Whitespace, quotes and angle brackets end up here as errors.
const URI_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_'
                    | b'.'
                    | b'!'
                    | b'~'
                    | b'*'
                    | b'\''
                    | b'('
                    | b')'
                    | b'%'
                    | b';'
                    | b'/'
                    | b'?'
                    | b':'
                    | b'@'
                    | b'&'
                    | b'='
                    | b'+'
                    | b'$'
                    | b','
                    | b'['
                    | b']'
            );
        i += 1;
    }
    t
};

fn is_uri_byte(b: u8) -> bool {
    // Any u8 indexes a 256-entry table.
    URI_BYTE[usize::from(b)]
}

/// `;name[=value]` URI parameters (RFC 3261 §19.1.1), each passed to `each`; `s` is the text
/// after the first `;`.
fn uri_params<'a>(s: &'a str, mut each: impl FnMut(&'a str, Option<&'a str>)) -> Result<(), Error> {
    if s.is_empty() {
        return Ok(());
    }
    for p in s.split(';') {
        let (name, value) = match split_byte(p, b'=') {
            Some((n, v)) => (n, Some(v)),
            None => (p, None),
        };
        if name.is_empty() {
            return Err(Error::parse(ParseErrorKind::Param));
        }
        each(name, value);
    }
    Ok(())
}

/// `hname=hvalue` pairs after `?`, joined by `&` (RFC 3261 §19.1.1).
fn uri_headers<'a>(q: &'a str, mut each: impl FnMut(&'a str, &'a str)) -> Result<(), Error> {
    for h in q.split('&') {
        let (n, v) = split_byte(h, b'=').ok_or(Error::parse(ParseErrorKind::Uri))?;
        if n.is_empty() {
            return Err(Error::parse(ParseErrorKind::Uri));
        }
        each(n, v);
    }
    Ok(())
}

/// A URI split and checked without copying; `params` and `headers` are the checked text after
/// `;` and `?`. `Uri::parse` copies it; `validate` only needs it to exist.
#[derive(Debug, Clone)]
pub(crate) struct UriRef<'a> {
    scheme: Scheme,
    user: Option<&'a str>,
    password: Option<&'a str>,
    host: HostRef<'a>,
    port: Option<u16>,
    params: &'a str,
    headers: Option<&'a str>,
}

impl<'a> UriRef<'a> {
    pub(crate) fn parse(s: &'a str) -> Result<Self, Error> {
        let bad = |kind| Error::parse(kind);
        if s.is_empty() || !s.bytes().all(is_uri_byte) {
            return Err(bad(ParseErrorKind::Uri));
        }
        let (scheme, rest) = split_byte(s, b':').ok_or(bad(ParseErrorKind::Uri))?;
        let scheme = if scheme.eq_ignore_ascii_case("sip") {
            Scheme::Sip
        } else if scheme.eq_ignore_ascii_case("sips") {
            Scheme::Sips
        } else if scheme.eq_ignore_ascii_case("tel") {
            Scheme::Tel
        } else {
            return Err(bad(ParseErrorKind::UnsupportedScheme));
        };
        if scheme == Scheme::Tel {
            let (number, params) = split_byte(rest, b';').unwrap_or((rest, ""));
            if number.is_empty() {
                return Err(bad(ParseErrorKind::Uri));
            }
            uri_params(params, |_, _| {})?;
            return Ok(UriRef {
                scheme,
                user: Some(number),
                password: None,
                host: HostRef::Domain(""),
                port: None,
                params,
                headers: None,
            });
        }
        // `@` is never unescaped in user, password, parameters or headers, so the first one
        // ends the userinfo.
        let (userinfo, hostpart) = match split_byte(rest, b'@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(u) => {
                let (user, pw) = match split_byte(u, b':') {
                    Some((a, b)) => (a, Some(b)),
                    None => (u, None),
                };
                if user.is_empty() {
                    return Err(bad(ParseErrorKind::Uri));
                }
                (Some(user), pw)
            }
        };
        let (hostpart, headers) = match split_byte(hostpart, b'?') {
            Some((h, q)) => (h, Some(q)),
            None => (hostpart, None),
        };
        let (hostport, params) = split_byte(hostpart, b';').unwrap_or((hostpart, ""));
        let (host, port) = split_host_port(hostport)?;
        if let Some(q) = headers {
            uri_headers(q, |_, _| {})?;
        }
        uri_params(params, |_, _| {})?;
        Ok(UriRef {
            scheme,
            user,
            password,
            host,
            port,
            params,
            headers,
        })
    }

    pub(crate) fn into_uri(self) -> Uri {
        let mut params = Vec::new();
        // Checked by `parse`.
        let _ = uri_params(self.params, |n, v| {
            params.push(Param::new(n, v.map(str::to_owned)));
        });
        let mut headers = Vec::new();
        if let Some(q) = self.headers {
            let _ = uri_headers(q, |n, v| headers.push((n.to_owned(), v.to_owned())));
        }
        Uri {
            scheme: self.scheme,
            user: self.user.map(str::to_owned),
            password: self.password.map(str::to_owned),
            host: self.host.into_host(),
            port: self.port,
            params,
            headers,
        }
    }
}

impl Uri {
    /// Parses a sip:, sips: or tel: URI (RFC 3261 §19.1.1, RFC 3966). Escapes are kept as
    /// written, so the URI serializes back to the same text.
    pub fn parse(s: &str) -> Result<Uri, Error> {
        UriRef::parse(s).map(UriRef::into_uri)
    }

    /// The first URI parameter named `name` (`Some(None)` when present without a value).
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }
}

/// `host [":" port]` with IPv6 references in brackets (RFC 3261 §25.1 `hostport`).
fn split_host_port(s: &str) -> Result<(HostRef<'_>, Option<u16>), Error> {
    let (host, port) = if s.starts_with('[') {
        let end = s
            .bytes()
            .position(|b| b == b']')
            .ok_or(Error::parse(ParseErrorKind::Host))?;
        let (h, rest) = s.split_at(end + 1);
        match rest {
            "" => (h, None),
            _ => (
                h,
                Some(
                    rest.strip_prefix(':')
                        .ok_or(Error::parse(ParseErrorKind::Port))?,
                ),
            ),
        }
    } else {
        match split_byte(s, b':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::parse(ParseErrorKind::Port));
            }
            Some(p.parse().map_err(|_| Error::parse(ParseErrorKind::Port))?)
        }
    };
    Ok((HostRef::parse(host)?, port))
}

impl FromStr for Uri {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Uri::parse(s)
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scheme.as_str())?;
        f.write_str(":")?;
        if self.scheme == Scheme::Tel {
            f.write_str(self.user.as_deref().unwrap_or(""))?;
        } else {
            if let Some(u) = &self.user {
                f.write_str(u)?;
                if let Some(p) = &self.password {
                    write!(f, ":{p}")?;
                }
                f.write_str("@")?;
            }
            write!(f, "{}", self.host)?;
            if let Some(p) = self.port {
                write!(f, ":{p}")?;
            }
        }
        for p in &self.params {
            write!(f, "{p}")?;
        }
        for (i, (n, v)) in self.headers.iter().enumerate() {
            f.write_str(if i == 0 { "?" } else { "&" })?;
            write!(f, "{n}={v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sip_uri_round_trips() {
        for s in [
            "sip:alice@example.com",
            "sips:alice:secret@example.com:5061;transport=tcp;lr",
            "sip:[2001:db8::10]:5070;maddr=x",
            "sip:192.0.2.4",
            "sip:user;par=u%40example.net@example.com",
            "sip:a@b?Subject=hi&Priority=urgent",
            "tel:+1-201-555-0123;phone-context=example.com",
        ] {
            let u = Uri::parse(s).unwrap();
            assert_eq!(u.to_string(), s);
        }
    }

    #[test]
    fn parts_are_split_per_rfc3261_19_1() {
        let u = Uri::parse("sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
        assert_eq!(u.host, Host::Domain("example.com".into()));
        let u = Uri::parse("sip:[2001:db8::10]:5070").unwrap();
        assert_eq!(u.host, Host::V6("2001:db8::10".parse().unwrap()));
        assert_eq!(u.port, Some(5070));
        let u = Uri::parse("tel:+15551234;phone-context=x").unwrap();
        assert_eq!(u.scheme, Scheme::Tel);
        assert_eq!(u.user.as_deref(), Some("+15551234"));
        assert_eq!(u.param("phone-context"), Some(Some("x")));
    }

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
    fn malformed_uris_are_rejected() {
        for s in [
            "sip:user@example.com lr",
            "<sip:a@b>",
            "sip:a@b:99999",
            "sip:a@[::1",
            "sip:@b",
            "sip:a@",
        ] {
            assert!(Uri::parse(s).is_err(), "{s}");
        }
        assert!(matches!(
            Uri::parse("soap.beep://192.0.2.103:3002"),
            Err(Error::Parse {
                kind: ParseErrorKind::UnsupportedScheme
            })
        ));
    }
}
