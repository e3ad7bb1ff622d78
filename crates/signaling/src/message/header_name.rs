//! Header names: case folding and compact forms (RFC 3261 §7.3.3).

use std::fmt;

use super::types::HeaderName;

impl HeaderName {
    /// Maps a received name to its canonical value. Names are case-insensitive
    /// (RFC 3261 §7.3.5); compact forms come from RFC 3261 §7.3.3 (i m e l c f s k t v),
    /// RFC 3265 (o u), RFC 3515 (r), RFC 3841 (a j d), RFC 3892 (b), RFC 4028 (x) and
    /// RFC 4474 (y n). Extension headers without a variant get their full name in `Other`;
    /// any other name is kept verbatim.
    pub fn parse(name: &str) -> HeaderName {
        if name.len() == 1 {
            return match name.as_bytes()[0].to_ascii_lowercase() {
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
                _ => HeaderName::Other(name.to_owned()),
            };
        }
        // Dispatch on length first: this runs once per header line on the hot path.
        let candidates: &[HeaderName] = match name.len() {
            2 => &[HeaderName::To],
            3 => &[HeaderName::Via],
            4 => &[HeaderName::From, HeaderName::CSeq],
            5 => &[HeaderName::Route, HeaderName::Allow, HeaderName::Event],
            6 => &[HeaderName::Accept, HeaderName::Server],
            7 => &[
                HeaderName::CallId,
                HeaderName::Contact,
                HeaderName::Require,
                HeaderName::Expires,
                HeaderName::Subject,
            ],
            9 => &[HeaderName::Supported],
            10 => &[HeaderName::UserAgent],
            11 => &[HeaderName::RetryAfter],
            12 => &[
                HeaderName::ContentType,
                HeaderName::MaxForwards,
                HeaderName::RecordRoute,
            ],
            13 => &[HeaderName::Authorization],
            14 => &[HeaderName::ContentLength],
            15 => &[HeaderName::SessionExpires],
            16 => &[HeaderName::ContentEncoding, HeaderName::WwwAuthenticate],
            18 => &[HeaderName::ProxyAuthenticate],
            19 => &[HeaderName::ProxyAuthorization],
            _ => &[],
        };
        for known in candidates {
            if known.as_str().eq_ignore_ascii_case(name) {
                return known.clone();
            }
        }
        HeaderName::Other(name.to_owned())
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

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
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
    }
}
