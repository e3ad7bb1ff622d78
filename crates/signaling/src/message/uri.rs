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
        let bad = || Error::parse(ParseErrorKind::Host);
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner.strip_suffix(']').ok_or_else(bad)?;
            return inner.parse().map(Host::V6).map_err(|_| bad());
        }
        if s.is_empty()
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        {
            return Err(bad());
        }
        if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            if let Ok(a) = s.parse() {
                return Ok(Host::V4(a));
            }
        }
        Ok(Host::Domain(s.to_owned()))
    }
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
fn is_uri_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
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
        )
}

fn split_params(s: &str) -> Result<Vec<Param>, Error> {
    let mut params = Vec::new();
    if s.is_empty() {
        return Ok(params);
    }
    for p in s.split(';') {
        let (name, value) = match p.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (p, None),
        };
        if name.is_empty() {
            return Err(Error::parse(ParseErrorKind::Param));
        }
        params.push(Param {
            name: name.to_owned(),
            value,
        });
    }
    Ok(params)
}

impl Uri {
    /// Parses a sip:, sips: or tel: URI (RFC 3261 §19.1.1, RFC 3966). Escapes are kept as
    /// written, so the URI serializes back to the same text.
    pub fn parse(s: &str) -> Result<Uri, Error> {
        let bad = |kind| Error::parse(kind);
        if s.is_empty() || !s.bytes().all(is_uri_byte) {
            return Err(bad(ParseErrorKind::Uri));
        }
        let (scheme, rest) = s.split_once(':').ok_or(bad(ParseErrorKind::Uri))?;
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
            let (number, params) = rest.split_once(';').unwrap_or((rest, ""));
            if number.is_empty() {
                return Err(bad(ParseErrorKind::Uri));
            }
            return Ok(Uri {
                scheme,
                user: Some(number.to_owned()),
                password: None,
                host: Host::Domain(String::new()),
                port: None,
                params: split_params(params)?,
                headers: Vec::new(),
            });
        }
        // `@` is never unescaped in user, password, parameters or headers, so the first one
        // ends the userinfo.
        let (userinfo, hostpart) = match rest.split_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(u) => {
                let (user, pw) = match u.split_once(':') {
                    Some((a, b)) => (a, Some(b.to_owned())),
                    None => (u, None),
                };
                if user.is_empty() {
                    return Err(bad(ParseErrorKind::Uri));
                }
                (Some(user.to_owned()), pw)
            }
        };
        let (hostpart, headers) = match hostpart.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (hostpart, None),
        };
        let (hostport, params) = hostpart.split_once(';').unwrap_or((hostpart, ""));
        let (host, port) = split_host_port(hostport)?;
        let headers = match headers {
            None => Vec::new(),
            Some(q) => q
                .split('&')
                .map(|h| {
                    let (n, v) = h.split_once('=').ok_or(bad(ParseErrorKind::Uri))?;
                    if n.is_empty() {
                        return Err(bad(ParseErrorKind::Uri));
                    }
                    Ok((n.to_owned(), v.to_owned()))
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Uri {
            scheme,
            user,
            password,
            host,
            port,
            params: split_params(params)?,
            headers,
        })
    }

    /// The first URI parameter named `name` (`Some(None)` when present without a value).
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }
}

/// `host [":" port]` with IPv6 references in brackets (RFC 3261 §25.1 `hostport`).
pub(crate) fn split_host_port(s: &str) -> Result<(Host, Option<u16>), Error> {
    let (host, port) = if s.starts_with('[') {
        let end = s.find(']').ok_or(Error::parse(ParseErrorKind::Host))?;
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
        match s.split_once(':') {
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
    Ok((Host::parse(host)?, port))
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
