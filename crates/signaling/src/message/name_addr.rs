//! `name-addr / addr-spec` values: From, To, Contact, Route, Record-Route (RFC 3261 §20.10,
//! §25.1).

use std::fmt;

use super::params::scan_params;
use super::text::{find_byte, is_token_byte, is_ws, trim_ws, unquote, write_quoted, Cursor};
use super::uri::{find_param, Param, Uri};
use super::uri_ref::UriRef;
use crate::error::{Error, ParseErrorKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// Without quotes, quoted-pairs undone.
    pub display_name: Option<String>,
    pub uri: Uri,
    /// Header parameters (after `>`), e.g. `tag`, `expires`, `q`, `+sip.instance`.
    pub params: Vec<Param>,
}

/// The Contact header's value: `*` (only in REGISTER, RFC 3261 §10.2.2) or addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contacts {
    Wildcard,
    List(Vec<NameAddr>),
}

impl NameAddr {
    pub fn new(uri: Uri) -> Self {
        NameAddr {
            display_name: None,
            uri,
            params: Vec::new(),
        }
    }

    /// Parses one element; `header` names the header in errors.
    pub fn parse(s: &str, header: &'static str) -> Result<NameAddr, Error> {
        parse_name_addr(s).map_err(|kind| Error::header(header, kind))
    }

    /// Checks one element without copying it, as `parse` would (for `validate`).
    pub(crate) fn check(s: &str, header: &'static str) -> Result<(), Error> {
        scan_name_addr(s, |_, _| Ok(()))
            .map(|_| ())
            .map_err(|kind| Error::header(header, kind))
    }

    pub fn tag(&self) -> Option<&str> {
        self.param("tag").flatten()
    }

    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    /// Sets or replaces the `tag` parameter (RFC 3261 §19.3).
    pub fn set_tag(&mut self, tag: impl Into<String>) {
        let tag = Some(tag.into());
        match self
            .params
            .iter_mut()
            .find(|p| p.name.eq_ignore_ascii_case("tag"))
        {
            Some(p) => p.value = tag,
            None => self.params.push(Param::new("tag", tag)),
        }
    }
}

fn parse_name_addr(s: &str) -> Result<NameAddr, ParseErrorKind> {
    let mut params = Vec::new();
    let (display, uri) = scan_name_addr(s, |name, value| {
        params.push(Param::new(name, value.map(str::to_owned)));
        Ok(())
    })?;
    Ok(NameAddr {
        display_name: display.map(|d| match d {
            Display::Quoted(q) => unquote(q),
            Display::Tokens(t) => t.to_owned(),
        }),
        uri: uri.into_uri(),
        params,
    })
}

/// A display name as written.
enum Display<'a> {
    /// With its quotes and quoted-pairs.
    Quoted(&'a str),
    Tokens(&'a str),
}

/// The display name and URI of one `name-addr / addr-spec`; each header parameter goes to
/// `each`.
fn scan_name_addr<'a>(
    s: &'a str,
    each: impl FnMut(&'a str, Option<&'a str>) -> Result<(), ParseErrorKind>,
) -> Result<(Option<Display<'a>>, UriRef<'a>), ParseErrorKind> {
    let s = trim_ws(s);
    let mut c = Cursor::new(s);
    let display_name = if c.peek() == Some(b'"') {
        let q = c.quoted().ok_or(ParseErrorKind::Quote)?;
        c.skip_ws();
        if c.peek() != Some(b'<') {
            return Err(ParseErrorKind::AngleBracket);
        }
        Some(Display::Quoted(q))
    } else if let Some(lt) = find_byte(b'<', s.as_bytes()) {
        // RFC 3261 §25.1: display-name = *(token LWS) / quoted-string
        let raw = trim_ws(s.get(..lt).unwrap_or(""));
        if !raw.bytes().all(|b| is_token_byte(b) || is_ws(b)) {
            return Err(if raw.contains('"') {
                ParseErrorKind::Quote
            } else {
                ParseErrorKind::DisplayName
            });
        }
        c.pos = lt;
        (!raw.is_empty()).then_some(Display::Tokens(raw))
    } else {
        None
    };
    let uri = if c.peek() == Some(b'<') {
        c.pos += 1;
        let inner = c.take_until(b'>');
        if !c.eat(b'>') {
            return Err(ParseErrorKind::AngleBracket);
        }
        UriRef::parse(inner).map_err(uri_kind)?
    } else {
        // addr-spec: parameters after the URI belong to the header, and a URI with `?`, `,`
        // or `;` of its own must be in angle brackets (RFC 3261 §20.10).
        let spec = c.take_while(|b| b != b';');
        let spec = trim_ws(spec);
        if spec.contains(['?', ',', '>']) {
            return Err(ParseErrorKind::Syntax);
        }
        UriRef::parse(spec).map_err(uri_kind)?
    };
    scan_params(&mut c, each)?;
    Ok((display_name, uri))
}

fn uri_kind(e: Error) -> ParseErrorKind {
    match e {
        Error::Parse { kind } | Error::BadHeader { kind, .. } => kind,
        _ => ParseErrorKind::Uri,
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display_name {
            write_quoted(f, d)?;
            f.write_str(" ")?;
        }
        write!(f, "<{}>", self.uri)?;
        for p in &self.params {
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Contacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Contacts::Wildcard => f.write_str("*"),
            Contacts::List(list) => {
                for (i, a) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use crate::message::Host;

    #[test]
    fn quoted_display_name_with_escapes() {
        let a = NameAddr::parse(
            r#""J Rosenberg \\\""       <sip:jdrosen@example.com> ;  tag = 98asjd8"#,
            "From",
        )
        .unwrap();
        assert_eq!(a.display_name.as_deref(), Some(r#"J Rosenberg \""#));
        assert_eq!(a.tag(), Some("98asjd8"));
        let again = NameAddr::parse(&a.to_string(), "From").unwrap();
        assert_eq!(again, a);
    }

    #[test]
    fn addr_spec_params_belong_to_the_header() {
        let a = NameAddr::parse("sip:user@example.com;tag=1918181833n", "To").unwrap();
        assert!(a.uri.params.is_empty());
        assert_eq!(a.tag(), Some("1918181833n"));
        assert_eq!(a.uri.host, Host::Domain("example.com".into()));
    }

    #[test]
    fn token_display_name_without_space() {
        let a = NameAddr::parse("caller<sip:caller@example.com>;tag=323", "From").unwrap();
        assert_eq!(a.display_name.as_deref(), Some("caller"));
    }

    #[test]
    fn sip_instance_param_keeps_quotes() {
        let a = NameAddr::parse(
            r#"<sip:bob@192.0.2.4:5062;transport=udp>;expires=3600;+sip.instance="<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>""#,
            "Contact",
        )
        .unwrap();
        assert_eq!(
            a.param("+sip.instance"),
            Some(Some(r#""<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>""#))
        );
        assert_eq!(a.uri.param("transport"), Some(Some("udp")));
    }

    #[test]
    fn malformed_name_addrs_are_rejected() {
        for s in [
            r#""Mr J. User <sip:j.user@example.com>"#,
            "Bell, Alexander <sip:a.g.bell@example.com>",
            "<sip:user@example.com",
            "< sip:user@example.com >",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "<sip:a@b> junk",
        ] {
            assert!(NameAddr::parse(s, "To").is_err(), "{s}");
        }
    }
}
