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

use super::uri_ref::UriRef;
use crate::error::Error;

impl Scheme {
    pub fn as_str(&self) -> &'static str {
        match self {
            Scheme::Sip => "sip",
            Scheme::Sips => "sips",
            Scheme::Tel => "tel",
        }
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
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use crate::error::ParseErrorKind;

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
