//! The Via header (RFC 3261 §20.42, §18.2.1, RFC 3581).

use std::fmt;

use super::host::{is_host_byte, HostRef};
use super::params::scan_params;
use super::text::{is_ws, Cursor};
use super::uri::{find_param, Host, Param};
use crate::error::{Error, ParseErrorKind};

/// One `via-parm`. The sent-protocol is always SIP/2.0, so only the transport is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// `UDP`, `TCP`, `TLS`, `SCTP`, `WS`, ... as written.
    pub transport: String,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Vec<Param>,
}

const NAME: &str = "Via";

impl Via {
    pub fn new(transport: impl Into<String>, host: Host, port: Option<u16>) -> Self {
        Via {
            transport: transport.into(),
            host,
            port,
            params: Vec::new(),
        }
    }

    /// Parses one element of a (possibly comma-joined) Via value.
    pub fn parse(s: &str) -> Result<Via, Error> {
        parse_via(s).map_err(|kind| Error::header(NAME, kind))
    }

    /// Checks one element without copying it, as `parse` would (for `validate`).
    pub(crate) fn check(s: &str) -> Result<(), Error> {
        scan_via(s, |_, _| Ok(()))
            .map(|_| ())
            .map_err(|kind| Error::header(NAME, kind))
    }

    pub fn branch(&self) -> Option<&str> {
        self.param("branch").flatten()
    }

    pub fn received(&self) -> Option<&str> {
        self.param("received").flatten()
    }

    /// RFC 3581 §4: `Some(None)` when the client asked for rport, `Some(Some(p))` once filled.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.param("rport")
            .map(|v| v.and_then(|p| p.parse::<u16>().ok()))
    }

    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    /// Sets or replaces a parameter, keeping its position when present.
    pub fn set_param(&mut self, name: &str, value: Option<String>) {
        match self
            .params
            .iter_mut()
            .find(|p| p.name.eq_ignore_ascii_case(name))
        {
            Some(p) => p.value = value,
            None => self.params.push(Param::new(name, value)),
        }
    }
}

fn parse_via(s: &str) -> Result<Via, ParseErrorKind> {
    let mut params = Vec::new();
    let (transport, host, port) = scan_via(s, |name, value| {
        params.push(Param::new(name, value.map(str::to_owned)));
        Ok(())
    })?;
    Ok(Via {
        transport: transport.to_owned(),
        host: host.into_host(),
        port,
        params,
    })
}

/// The transport, host and port of one `via-parm`; each parameter goes to `each`.
fn scan_via<'a>(
    s: &'a str,
    mut each: impl FnMut(&'a str, Option<&'a str>) -> Result<(), ParseErrorKind>,
) -> Result<(&'a str, HostRef<'a>, Option<u16>), ParseErrorKind> {
    let mut c = Cursor::new(s);
    // RFC 3261 §25.1 sent-protocol = protocol-name SLASH protocol-version SLASH transport,
    // each SLASH allowing LWS on both sides.
    let name = c.token().ok_or(ParseErrorKind::SentProtocol)?;
    if !name.eq_ignore_ascii_case("SIP") || !c.eat(b'/') {
        return Err(ParseErrorKind::SentProtocol);
    }
    if c.token() != Some("2.0") {
        return Err(ParseErrorKind::Version);
    }
    if !c.eat(b'/') {
        return Err(ParseErrorKind::SentProtocol);
    }
    let transport = c.token().ok_or(ParseErrorKind::SentProtocol)?;
    if !c.peek().is_some_and(is_ws) {
        return Err(ParseErrorKind::SentProtocol);
    }
    c.skip_ws();
    let host = if c.peek() == Some(b'[') {
        let start = c.pos;
        c.take_while(|b| b != b']');
        if !c.eat(b']') {
            return Err(ParseErrorKind::Host);
        }
        HostRef::parse(s.get(start..c.pos).unwrap_or(""))
    } else {
        HostRef::parse(c.take_while(is_host_byte))
    }
    .map_err(|_| ParseErrorKind::Host)?;
    let port = if c.eat(b':') {
        c.skip_ws();
        let p = c.take_while(|b| b.is_ascii_digit());
        if p.is_empty() || p.len() > 5 {
            return Err(ParseErrorKind::Port);
        }
        Some(p.parse::<u16>().map_err(|_| ParseErrorKind::Port)?)
    } else {
        None
    };
    // RFC 3581 §4: a filled-in rport is a port number (the first one is the one read).
    let mut seen_rport = false;
    scan_params(&mut c, |name, value| {
        if !seen_rport && name.eq_ignore_ascii_case("rport") {
            seen_rport = true;
            if let Some(v) = value {
                v.parse::<u16>().map_err(|_| ParseErrorKind::Param)?;
            }
        }
        each(name, value)
    })?;
    Ok((transport, host, port))
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        for p in &self.params {
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn via_with_lws_everywhere_parses() {
        let v =
            Via::parse("SIP  / 2.0  / TCP     spindle.example.com   ;   branch  =   z9hG4bK9ikj8")
                .unwrap();
        assert_eq!(v.transport, "TCP");
        assert_eq!(v.host, Host::Domain("spindle.example.com".into()));
        assert_eq!(v.branch(), Some("z9hG4bK9ikj8"));
    }

    #[test]
    fn rport_distinguishes_request_and_value() {
        let v = Via::parse("SIP/2.0/UDP 192.0.2.1:5062;rport;branch=z9hG4bKa").unwrap();
        assert_eq!(v.rport(), Some(None));
        assert_eq!(v.port, Some(5062));
        let v = Via::parse("SIP/2.0/UDP [2001:db8::1]:5062;received=192.0.2.9;rport=4000").unwrap();
        assert_eq!(v.rport(), Some(Some(4000)));
        assert_eq!(v.received(), Some("192.0.2.9"));
        assert_eq!(v.host, Host::V6("2001:db8::1".parse().unwrap()));
        assert_eq!(
            v.to_string(),
            "SIP/2.0/UDP [2001:db8::1]:5062;received=192.0.2.9;rport=4000"
        );
        assert_eq!(Via::parse("SIP/2.0/UDP h").unwrap().rport(), None);
    }

    #[test]
    fn malformed_vias_are_rejected() {
        for s in [
            "SIP/2.0/UDP 192.0.2.15;;",
            "SIP/3.0/UDP h",
            "SIP/2.0 h",
            "SIP/2.0/UDP",
            "SIP/2.0/UDP h:port",
            "SIP/2.0/UDP h;rport=x",
            "SIP/2.0/UDP h junk",
        ] {
            assert!(Via::parse(s).is_err(), "{s}");
        }
    }
}
