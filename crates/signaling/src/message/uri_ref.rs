//! Splitting and checking a URI without copying it (RFC 3261 §19.1.1, §25.1; RFC 3966):
//! `validate` needs only the verdict, `Uri::parse` copies the pieces afterwards.

use super::host::{parse_port, HostRef};
use super::text::split_byte;
use super::uri::{Param, Scheme, Uri};
use crate::error::{Error, ParseErrorKind};

const INVALID: u8 = 0;
const PLAIN: u8 = 1;
const DELIMITER: u8 = 2;

/// Characters allowed unescaped anywhere in a SIP URI: `unreserved`, `reserved` and `%`
/// (RFC 3261 §25.1), split into the delimiters the URI is cut at and the rest. Whitespace,
/// quotes and angle brackets are invalid.
const URI_CLASS: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = if matches!(b, b':' | b'@' | b';' | b'?') {
            DELIMITER
        } else if b.is_ascii_alphanumeric()
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
                    | b'/'
                    | b'&'
                    | b'='
                    | b'+'
                    | b'$'
                    | b','
                    | b'['
                    | b']'
            )
        {
            PLAIN
        } else {
            INVALID
        };
        i += 1;
    }
    t
};

/// Where a URI's delimiters are, found in the pass that checks its bytes: the first `:` (end
/// of the scheme), the first `@` after it, and the first `:`, `;` and `?` after each of those
/// two. That is what splitting at the first of each, piece after piece, would find. `NONE`
/// marks a delimiter not found: plain positions keep the struct small on the per-URI path.
struct Marks {
    scheme_end: usize,
    at: usize,
    /// Index 0: after the scheme; index 1: after the `@`.
    colon: [usize; 2],
    semi: [usize; 2],
    query: [usize; 2],
}

const NONE: usize = usize::MAX;

/// A position from `Marks`, `None` for `NONE`.
fn found(i: usize) -> Option<usize> {
    (i != NONE).then_some(i)
}

impl Marks {
    /// `None` if a byte may not appear in a URI.
    fn scan(s: &[u8]) -> Option<Marks> {
        let mut m = Marks {
            scheme_end: NONE,
            at: NONE,
            colon: [NONE; 2],
            semi: [NONE; 2],
            query: [NONE; 2],
        };
        for (i, &b) in s.iter().enumerate() {
            match URI_CLASS[usize::from(b)] {
                PLAIN => continue,
                INVALID => return None,
                _ => {}
            }
            if m.scheme_end == NONE {
                if b == b':' {
                    m.scheme_end = i;
                }
                continue;
            }
            let slots = match b {
                b'@' => {
                    if m.at == NONE {
                        m.at = i;
                    }
                    continue;
                }
                b':' => &mut m.colon,
                b';' => &mut m.semi,
                _ => &mut m.query,
            };
            let [first, after_at] = slots;
            if *first == NONE {
                *first = i;
            }
            if m.at != NONE && *after_at == NONE {
                *after_at = i;
            }
        }
        Some(m)
    }
}

/// `;name[=value]` URI parameters (RFC 3261 §19.1.1), each passed to `each`; `s` is the text
/// after the first `;`.
fn uri_params<'a>(s: &'a str, mut each: impl FnMut(&'a str, Option<&'a str>)) -> Result<(), Error> {
    if s.is_empty() {
        return Ok(());
    }
    let mut rest = Some(s);
    while let Some(r) = rest {
        let p = match split_byte(r, b';') {
            Some((p, next)) => {
                rest = Some(next);
                p
            }
            None => {
                rest = None;
                r
            }
        };
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

/// As `uri_params(s, ..)` is `Ok`, without splitting: no parameter has an empty name, i.e.
/// no `;` is followed by `;`, `=` or the end (the text starts after a `;`).
fn uri_params_ok(s: &str) -> bool {
    let mut after_semi = true;
    for &b in s.as_bytes() {
        if after_semi && (b == b';' || b == b'=') {
            return false;
        }
        after_semi = b == b';';
    }
    s.is_empty() || !after_semi
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
        let m = match Marks::scan(s.as_bytes()) {
            Some(m) if !s.is_empty() => m,
            _ => return Err(bad(ParseErrorKind::Uri)),
        };
        let colon = found(m.scheme_end).ok_or(bad(ParseErrorKind::Uri))?;
        let part = |from: usize, to: usize| s.get(from..to).unwrap_or("");
        let end = s.len();
        let scheme = part(0, colon);
        let scheme = if scheme.eq_ignore_ascii_case("sip") {
            Scheme::Sip
        } else if scheme.eq_ignore_ascii_case("sips") {
            Scheme::Sips
        } else if scheme.eq_ignore_ascii_case("tel") {
            Scheme::Tel
        } else {
            return Err(bad(ParseErrorKind::UnsupportedScheme));
        };
        let rest = colon + 1;
        if scheme == Scheme::Tel {
            let (number, params) = match found(m.semi[0]) {
                Some(i) => (part(rest, i), part(i + 1, end)),
                None => (part(rest, end), ""),
            };
            if number.is_empty() {
                return Err(bad(ParseErrorKind::Uri));
            }
            check_params(params)?;
            return Ok(UriRef {
                scheme,
                user: Some(number),
                password: None,
                host: HostRef::Name(""),
                port: None,
                params,
                headers: None,
            });
        }
        // `@` is never unescaped in user, password, parameters or headers, so the first one
        // ends the userinfo; the password starts at the first `:` before it.
        let (user, password, host_start, side) = match found(m.at) {
            None => (None, None, rest, 0),
            Some(at) => {
                let (user, password) = match found(m.colon[0]).filter(|&c| c < at) {
                    Some(c) => (part(rest, c), Some(part(c + 1, at))),
                    None => (part(rest, at), None),
                };
                if user.is_empty() {
                    return Err(bad(ParseErrorKind::Uri));
                }
                (Some(user), password, at + 1, 1)
            }
        };
        let pick = |slots: [usize; 2]| slots.get(side).copied().and_then(found);
        let query = pick(m.query);
        let hostpart_end = query.unwrap_or(end);
        let semi = pick(m.semi).filter(|&i| i < hostpart_end);
        let hostport_end = semi.unwrap_or(hostpart_end);
        let hostport = part(host_start, hostport_end);
        let (host, port) = if hostport.starts_with('[') {
            split_bracketed(hostport)?
        } else {
            let (host, port) = match pick(m.colon).filter(|&c| c < hostport_end) {
                Some(c) => (part(host_start, c), Some(part(c + 1, hostport_end))),
                None => (hostport, None),
            };
            let port = port
                .map(|p| parse_port(p.as_bytes()).ok_or(bad(ParseErrorKind::Port)))
                .transpose()?;
            (HostRef::parse(host)?, port)
        };
        let headers = query.map(|q| part(q + 1, end));
        if let Some(q) = headers {
            uri_headers(q, |_, _| {})?;
        }
        let params = semi.map_or("", |i| part(i + 1, hostpart_end));
        check_params(params)?;
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

fn check_params(params: &str) -> Result<(), Error> {
    if uri_params_ok(params) {
        Ok(())
    } else {
        Err(Error::parse(ParseErrorKind::Param))
    }
}

/// `"[" IPv6address "]" [":" port]` (RFC 3261 §25.1 `hostport`).
fn split_bracketed(s: &str) -> Result<(HostRef<'_>, Option<u16>), Error> {
    let end = s
        .bytes()
        .position(|b| b == b']')
        .ok_or(Error::parse(ParseErrorKind::Host))?;
    let (host, rest) = s.split_at_checked(end + 1).unwrap_or((s, ""));
    let port = match rest {
        "" => None,
        _ => {
            let p = rest
                .strip_prefix(':')
                .ok_or(Error::parse(ParseErrorKind::Port))?;
            Some(parse_port(p.as_bytes()).ok_or(Error::parse(ParseErrorKind::Port))?)
        }
    };
    Ok((HostRef::parse(host)?, port))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn param_check_agrees_with_splitting() {
        for s in [
            "",
            "lr",
            "transport=udp",
            "a;b=c",
            ";",
            "a;",
            ";a",
            "a;;b",
            "=x",
            "a;=x",
            "a=;b",
            "a==b",
            "=",
            "a=b;c=d;",
        ] {
            assert_eq!(uri_params_ok(s), uri_params(s, |_, _| {}).is_ok(), "{s:?}");
        }
    }
}
