//! Where an outgoing call goes. A SIP URI naming an IP address goes there. Anything else (a
//! phone number, an extension, a URI with a host name) goes to the registrar we register with,
//! which is then the outbound proxy (RFC 3261 §8.1.2) and routes it like any of its phones'
//! calls: a number becomes `sip:<number>@<registrar host>;user=phone` (RFC 3261 §19.1.6), a
//! URI is sent as written. Without a registrar a host name would need RFC 3263 DNS, which
//! callclip does not do.

use std::net::SocketAddr;

use api::{EngineError, Party, PartyKind};
use signaling::message::{Param, Scheme, Uri, SIP_PORT};

/// The registrar's URI and the address its host resolved to at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registrar {
    pub uri: Uri,
    pub addr: SocketAddr,
}

/// A party as a URI: `sip:`/`sips:` as written, a phone number as `tel:`.
pub fn party_uri(p: &Party) -> Option<Uri> {
    let text = match p.kind {
        PartyKind::Phone if !p.id.contains(':') => format!("tel:{}", p.id),
        _ => p.id.clone(),
    };
    Uri::parse(&text)
        .ok()
        .filter(|u| u.scheme != Scheme::Tel || p.kind == PartyKind::Phone)
}

/// The Request-URI and the address the INVITE is sent to, for the first target that has a URI.
pub fn outgoing(
    targets: &[Party],
    registrar: Option<&Registrar>,
) -> Result<(Uri, SocketAddr), EngineError> {
    let target = targets
        .iter()
        .find_map(party_uri)
        .ok_or(EngineError::BadTarget {
            reason: "no target is a sip: URI or a phone number",
        })?;
    if target.scheme == Scheme::Tel {
        let r = registrar.ok_or(EngineError::BadTarget {
            reason: "a phone number is routed by the PBX: set sip.register.registrar",
        })?;
        let number = target.user.clone().filter(|n| !n.is_empty());
        let number = number.ok_or(EngineError::BadTarget {
            reason: "the phone number is empty",
        })?;
        let uri = Uri {
            scheme: Scheme::Sip,
            user: Some(number),
            password: None,
            host: r.uri.host.clone(),
            port: r.uri.port,
            params: vec![Param {
                name: "user".into(),
                value: Some("phone".into()),
            }],
            headers: Vec::new(),
        };
        return Ok((uri, r.addr));
    }
    if let Some(ip) = target.host.ip() {
        let port = target.port.unwrap_or(SIP_PORT);
        return Ok((target, SocketAddr::new(ip, port)));
    }
    match registrar {
        Some(r) => Ok((target, r.addr)),
        None => Err(EngineError::BadTarget {
            reason: "a sip: target must name an IP address unless sip.register.registrar is set",
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    fn party(kind: PartyKind, id: &str) -> Party {
        Party {
            kind,
            id: id.into(),
            display_name: None,
        }
    }

    fn pbx() -> Registrar {
        Registrar {
            uri: Uri::parse("sip:pbx.example.com:5070").unwrap(),
            addr: "192.0.2.10:5070".parse().unwrap(),
        }
    }

    #[test]
    fn a_sip_uri_with_an_ip_goes_straight_there() {
        let (uri, addr) =
            outgoing(&[party(PartyKind::User, "sip:alice@127.0.0.1:5099")], None).unwrap();
        assert_eq!(uri.to_string(), "sip:alice@127.0.0.1:5099");
        assert_eq!(addr, "127.0.0.1:5099".parse().unwrap());
    }

    #[test]
    fn a_phone_number_goes_to_the_pbx_we_register_with() {
        let (uri, addr) =
            outgoing(&[party(PartyKind::Phone, "+4930123456")], Some(&pbx())).unwrap();
        assert_eq!(
            uri.to_string(),
            "sip:+4930123456@pbx.example.com:5070;user=phone"
        );
        assert_eq!(addr, pbx().addr);
        assert!(matches!(
            outgoing(&[party(PartyKind::Phone, "+4930123456")], None),
            Err(EngineError::BadTarget { .. })
        ));
    }

    #[test]
    fn host_names_go_to_the_registrar_as_outbound_proxy() {
        for target in [
            "sip:201@PBX.example.com",
            "sip:bob@elsewhere.example;transport=udp",
        ] {
            let (uri, addr) = outgoing(&[party(PartyKind::User, target)], Some(&pbx())).unwrap();
            assert_eq!(uri.to_string(), target, "the Request-URI is the target");
            assert_eq!(addr, pbx().addr);
        }
        assert!(matches!(
            outgoing(&[party(PartyKind::User, "sip:bob@elsewhere.example")], None),
            Err(EngineError::BadTarget { .. })
        ));
        assert!(matches!(
            outgoing(&[party(PartyKind::User, "mailto:x@y")], Some(&pbx())),
            Err(EngineError::BadTarget { .. })
        ));
    }
}
