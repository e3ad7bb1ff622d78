//! Typed views of the headers, parsed when asked for (RFC 3261 §20).

use super::cseq::CSeq;
use super::name_addr::{Contacts, NameAddr};
use super::text::{parse_decimal, split_commas};
use super::types::{HeaderName, Headers, Request, Response, SipMessage};
use super::via::Via;
use crate::error::{Error, ParseErrorKind};

impl Headers {
    /// The first value of a header whose name matches `name` case-insensitively; for extension
    /// headers kept as `HeaderName::Other`.
    pub fn first_named(&self, name: &str) -> Option<&str> {
        self.iter().find(|h| h.name.is(name)).map(|h| h.value)
    }

    /// Every Via, topmost first, comma-joined values split (RFC 3261 §7.3.1).
    pub fn vias(&self) -> Result<Vec<Via>, Error> {
        let mut out = Vec::new();
        for v in self.all(&HeaderName::Via) {
            for part in split_commas(v) {
                out.push(Via::parse(part)?);
            }
        }
        Ok(out)
    }

    /// The topmost Via, which names the transaction (RFC 3261 §17.2.3).
    pub fn top_via(&self) -> Result<Via, Error> {
        let v = self
            .first(&HeaderName::Via)
            .ok_or(Error::MissingHeader { name: "Via" })?;
        Via::parse(split_commas(v).next().unwrap_or(""))
    }

    pub fn from(&self) -> Result<NameAddr, Error> {
        single_name_addr(self, &HeaderName::From, "From")
    }

    pub fn to(&self) -> Result<NameAddr, Error> {
        single_name_addr(self, &HeaderName::To, "To")
    }

    pub fn call_id(&self) -> Result<&str, Error> {
        self.first(&HeaderName::CallId)
            .filter(|v| !v.is_empty())
            .ok_or(Error::MissingHeader { name: "Call-ID" })
    }

    pub fn cseq(&self) -> Result<CSeq, Error> {
        CSeq::parse(
            self.first(&HeaderName::CSeq)
                .ok_or(Error::MissingHeader { name: "CSeq" })?,
        )
    }

    /// Contact addresses in order, or `*` (RFC 3261 §20.10). No Contact gives an empty list.
    pub fn contacts(&self) -> Result<Contacts, Error> {
        let mut list = Vec::new();
        for v in self.all(&HeaderName::Contact) {
            if v == "*" {
                return Ok(Contacts::Wildcard);
            }
            for part in split_commas(v) {
                list.push(NameAddr::parse(part, "Contact")?);
            }
        }
        Ok(Contacts::List(list))
    }

    pub fn record_routes(&self) -> Result<Vec<NameAddr>, Error> {
        name_addr_list(self, &HeaderName::RecordRoute, "Record-Route")
    }

    pub fn routes(&self) -> Result<Vec<NameAddr>, Error> {
        name_addr_list(self, &HeaderName::Route, "Route")
    }

    /// Content-Length as sent, `None` when absent.
    pub fn content_length(&self) -> Result<Option<usize>, Error> {
        let mut found: Option<usize> = None;
        for v in self.all(&HeaderName::ContentLength) {
            let n = parse_decimal(v)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(Error::header(
                    "Content-Length",
                    ParseErrorKind::ContentLength,
                ))?;
            if found.is_some_and(|f| f != n) {
                return Err(Error::header(
                    "Content-Length",
                    ParseErrorKind::ContentLengthConflict,
                ));
            }
            found = Some(n);
        }
        Ok(found)
    }

    /// The media type, as written (parameters included).
    pub fn content_type(&self) -> Option<&str> {
        self.first(&HeaderName::ContentType)
    }

    /// RFC 3261 §20.22: 0..=255.
    pub fn max_forwards(&self) -> Result<Option<u8>, Error> {
        self.first(&HeaderName::MaxForwards)
            .map(max_forwards)
            .transpose()
    }

    /// RFC 3261 §20.19 delta-seconds; values past 2**32-1 are rejected.
    pub fn expires(&self) -> Result<Option<u32>, Error> {
        self.first(&HeaderName::Expires).map(expires).transpose()
    }
}

fn max_forwards(v: &str) -> Result<u8, Error> {
    parse_decimal(v)
        .and_then(|n| u8::try_from(n).ok())
        .ok_or(Error::header("Max-Forwards", ParseErrorKind::Number))
}

fn expires(v: &str) -> Result<u32, Error> {
    parse_decimal(v)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or(Error::header("Expires", ParseErrorKind::Number))
}

/// Checks each element of a comma-joined name-addr value, as `name_addr_list` parses them.
fn check_name_addrs(v: &str, label: &'static str) -> Result<(), Error> {
    split_commas(v).try_for_each(|part| NameAddr::check(part, label))
}

fn single_name_addr(
    headers: &Headers,
    name: &HeaderName,
    label: &'static str,
) -> Result<NameAddr, Error> {
    let v = headers
        .first(name)
        .ok_or(Error::MissingHeader { name: label })?;
    NameAddr::parse(v, label)
}

fn name_addr_list(
    headers: &Headers,
    name: &HeaderName,
    label: &'static str,
) -> Result<Vec<NameAddr>, Error> {
    let mut out = Vec::new();
    for v in headers.all(name) {
        for part in split_commas(v) {
            out.push(NameAddr::parse(part, label)?);
        }
    }
    Ok(out)
}

/// The same accessors on requests and responses.
macro_rules! delegate_accessors {
    ($ty:ty) => {
        impl $ty {
            pub fn vias(&self) -> Result<Vec<Via>, Error> {
                self.headers.vias()
            }
            pub fn top_via(&self) -> Result<Via, Error> {
                self.headers.top_via()
            }
            pub fn from(&self) -> Result<NameAddr, Error> {
                self.headers.from()
            }
            pub fn to(&self) -> Result<NameAddr, Error> {
                self.headers.to()
            }
            pub fn call_id(&self) -> Result<&str, Error> {
                self.headers.call_id()
            }
            pub fn cseq(&self) -> Result<CSeq, Error> {
                self.headers.cseq()
            }
            pub fn contacts(&self) -> Result<Contacts, Error> {
                self.headers.contacts()
            }
            pub fn record_routes(&self) -> Result<Vec<NameAddr>, Error> {
                self.headers.record_routes()
            }
            pub fn routes(&self) -> Result<Vec<NameAddr>, Error> {
                self.headers.routes()
            }
            pub fn content_length(&self) -> Result<Option<usize>, Error> {
                self.headers.content_length()
            }
            pub fn content_type(&self) -> Option<&str> {
                self.headers.content_type()
            }
            pub fn max_forwards(&self) -> Result<Option<u8>, Error> {
                self.headers.max_forwards()
            }
            pub fn expires(&self) -> Result<Option<u32>, Error> {
                self.headers.expires()
            }
        }
    };
}

delegate_accessors!(Request);
delegate_accessors!(Response);

impl SipMessage {
    pub fn headers(&self) -> &Headers {
        match self {
            SipMessage::Request(r) => &r.headers,
            SipMessage::Response(r) => &r.headers,
        }
    }

    pub fn headers_mut(&mut self) -> &mut Headers {
        match self {
            SipMessage::Request(r) => &mut r.headers,
            SipMessage::Response(r) => &mut r.headers,
        }
    }

    /// Checks the grammar of every header callclip interprets: all Vias, From, To, Contact,
    /// Route, Record-Route, Max-Forwards, Expires (RFC 3261 §25.1). The parser leaves these to
    /// the accessors for speed; a UA calls this before acting on a request and answers 400 on
    /// error (RFC 3261 §8.2).
    ///
    /// One pass in arrival order. The error reported is the one checking the kinds in the
    /// order above would meet first: the lowest-ranked kind, and its first bad value.
    pub fn validate(&self) -> Result<(), Error> {
        const FROM: usize = 1;
        const TO: usize = 2;
        const CONTACT: usize = 3;
        let h = self.headers();
        let mut found: Option<(usize, Error)> = None;
        // Kinds whose later values are not checked: From, To and the scalars are read from
        // their first value; as in `contacts`, a `*` Contact ends the list.
        let mut done = [false; 8];
        for (i, name) in h.names() {
            let rank = match name {
                HeaderName::Via => 0,
                HeaderName::From => FROM,
                HeaderName::To => TO,
                HeaderName::Contact => CONTACT,
                HeaderName::Route => 4,
                HeaderName::RecordRoute => 5,
                HeaderName::MaxForwards => 6,
                HeaderName::Expires => 7,
                _ => continue,
            };
            let skip = done.get(rank).copied().unwrap_or(true);
            if skip || found.as_ref().is_some_and(|(r, _)| *r <= rank) {
                continue;
            }
            let v = h.value_at(i);
            let checked = match rank {
                0 => split_commas(v).try_for_each(Via::check),
                FROM => NameAddr::check(v, "From"),
                TO => NameAddr::check(v, "To"),
                CONTACT if v == "*" => Ok(()),
                CONTACT => check_name_addrs(v, "Contact"),
                4 => check_name_addrs(v, "Route"),
                5 => check_name_addrs(v, "Record-Route"),
                6 => max_forwards(v).map(|_| ()),
                _ => expires(v).map(|_| ()),
            };
            if matches!(rank, FROM | TO | 6 | 7) || (rank == CONTACT && v == "*") {
                if let Some(d) = done.get_mut(rank) {
                    *d = true;
                }
            }
            if let Err(e) = checked {
                found = Some((rank, e));
            }
        }
        for (rank, name) in [(FROM, "From"), (TO, "To")] {
            let present = done.get(rank).copied().unwrap_or(false);
            if !present && found.as_ref().is_none_or(|(r, _)| *r >= rank) {
                found = Some((rank, Error::MissingHeader { name }));
            }
        }
        found.map_or(Ok(()), |(_, e)| Err(e))
    }

    pub fn body(&self) -> &bytes::Bytes {
        match self {
            SipMessage::Request(r) => &r.body,
            SipMessage::Response(r) => &r.body,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use crate::message::{Host, Method};

    fn headers(lines: &[(HeaderName, &str)]) -> Headers {
        let mut h = Headers::new();
        for (n, v) in lines {
            h.push(n.clone(), *v);
        }
        h
    }

    #[test]
    fn vias_split_across_lines_and_commas() {
        let h = headers(&[
            (HeaderName::Via, "SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com:5070;branch=z9hG4bK2"),
            (HeaderName::Via, "SIP/2.0/UDP [::1];branch=z9hG4bK3;rport"),
        ]);
        let v = h.vias().unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[1].port, Some(5070));
        assert_eq!(v[2].host, Host::V6("::1".parse().unwrap()));
        assert_eq!(h.top_via().unwrap().branch(), Some("z9hG4bK1"));
    }

    #[test]
    fn contacts_handle_wildcard_and_quoted_commas() {
        let h = headers(&[(
            HeaderName::Contact,
            r#""Doe, John" <sip:j@a.example.com;transport=tcp>;q=0.5, sip:k@b.example.com;expires=60"#,
        )]);
        let Contacts::List(list) = h.contacts().unwrap() else {
            panic!("expected a list");
        };
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].display_name.as_deref(), Some("Doe, John"));
        assert_eq!(list[1].param("expires"), Some(Some("60")));
        let h = headers(&[(HeaderName::Contact, "*")]);
        assert_eq!(h.contacts().unwrap(), Contacts::Wildcard);
        assert_eq!(Headers::new().contacts().unwrap(), Contacts::List(vec![]));
    }

    #[test]
    fn validate_checks_what_the_accessors_parse() {
        for v in [
            "SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKa;rport",
            "SIP/2.0/UDP [2001:db8::1]:5062;received=192.0.2.9;rport=4000",
            "SIP  / 2.0  / TCP  spindle.example.com  ;  branch = z9hG4bK9",
            "SIP/2.0/UDP [::1",
            "SIP/2.0/UDP h;rport=x",
            "SIP/2.0/UDP h;rport;rport=x",
            "SIP/2.0/UDP 192.0.2.15;;",
            "SIP/2.0/UDP h junk",
        ] {
            assert_eq!(Via::check(v).is_ok(), Via::parse(v).is_ok(), "{v}");
        }
        for v in [
            r#""J \"R\"" <sip:j@example.com;transport=tcp?Subject=x>;tag=1"#,
            "caller<sip:caller@example.com>;tag=323",
            "sip:user@example.com;tag=1",
            "tel:+1-201-555-0123;phone-context=example.com",
            "<sip:a@[2001:db8::1]:99999>",
            "<sip:a@b;=x>",
            "<sip:a@b?=x>",
            "Bell, Alexander <sip:a.g.bell@example.com>",
            "<sip:a@b> junk",
        ] {
            assert_eq!(
                NameAddr::check(v, "To").is_ok(),
                NameAddr::parse(v, "To").is_ok(),
                "{v}"
            );
        }
    }

    #[test]
    fn scalar_headers_are_range_checked() {
        let h = headers(&[
            (HeaderName::MaxForwards, "0068"),
            (HeaderName::Expires, "3600"),
            (HeaderName::ContentLength, "150"),
            (HeaderName::CSeq, "9 INVITE"),
        ]);
        assert_eq!(h.max_forwards().unwrap(), Some(68));
        assert_eq!(h.expires().unwrap(), Some(3600));
        assert_eq!(h.content_length().unwrap(), Some(150));
        assert_eq!(h.cseq().unwrap().method, Method::Invite);
        let h = headers(&[
            (HeaderName::MaxForwards, "300"),
            (HeaderName::Expires, "10000000000000000000"),
            (HeaderName::ContentLength, "-999"),
        ]);
        assert!(h.max_forwards().is_err());
        assert!(h.expires().is_err());
        assert!(h.content_length().is_err());
        assert!(matches!(
            Headers::new().call_id(),
            Err(Error::MissingHeader { name: "Call-ID" })
        ));
    }
}
