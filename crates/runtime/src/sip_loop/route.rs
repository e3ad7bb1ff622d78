//! Where an outgoing call goes. A SIP URI naming an IP address goes there. Anything the PBX has
//! to route (a phone number, an extension, a URI in the registrar's domain) goes to the
//! registrar we register with, which is then the outbound proxy: a number becomes
//! `sip:<number>@<registrar host>;user=phone` (RFC 3261 §19.1.6). Other host names would need
//! RFC 3263 DNS, which callclip does not do.

use std::net::SocketAddr;

use api::{EngineError, Party, PartyKind};
use signaling::message::{Host, Param, Scheme, Uri, SIP_PORT};

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
        Some(r) if same_host(&target.host, &r.uri.host) => Ok((target, r.addr)),
        _ => Err(EngineError::BadTarget {
            reason: "a sip: target must name an IP address or the registrar's domain",
        }),
    }
}

fn same_host(a: &Host, b: &Host) -> bool {
    match (a, b) {
        (Host::Domain(x), Host::Domain(y)) => x.eq_ignore_ascii_case(y),
        _ => a == b,
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
    fn the_registrars_domain_goes_to_the_registrar_other_names_are_refused() {
        let (uri, addr) = outgoing(
            &[party(PartyKind::User, "sip:201@PBX.example.com")],
            Some(&pbx()),
        )
        .unwrap();
        assert_eq!(uri.to_string(), "sip:201@PBX.example.com");
        assert_eq!(addr, pbx().addr);
        assert!(matches!(
            outgoing(
                &[party(PartyKind::User, "sip:bob@elsewhere.example")],
                Some(&pbx())
            ),
            Err(EngineError::BadTarget { .. })
        ));
        assert!(matches!(
            outgoing(&[party(PartyKind::User, "mailto:x@y")], Some(&pbx())),
            Err(EngineError::BadTarget { .. })
        ));
    }
}
