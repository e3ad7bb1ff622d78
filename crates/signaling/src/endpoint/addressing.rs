//! Where messages go: the server transport's Via stamping (RFC 3261 §18.2.1, RFC 3581 §4), the
//! response address (§18.2.2, RFC 3581 §4) and next-hop resolution of IP-literal URIs.

use std::net::{IpAddr, SocketAddr};

use crate::message::{HeaderName, Request, Uri, Via, SIP_PORT};
use crate::transaction::{Target, Transport};

/// §18.2.1: `received` when the sent-by host is not the packet's source, and RFC 3581 `rport`
/// filled in when the client asked for it. Leaves the request as is when its Vias do not parse.
pub(crate) fn stamp_via(request: &mut Request, source: SocketAddr) {
    let Ok(mut vias) = request.headers.vias() else {
        return;
    };
    let Some(top) = vias.first_mut() else {
        return;
    };
    let rport_asked = top.rport().is_some();
    if top.host.ip() != Some(source.ip()) || rport_asked {
        top.set_param("received", Some(source.ip().to_string()));
    }
    if rport_asked {
        top.set_param("rport", Some(source.port().to_string()));
    }
    request.headers.remove(&HeaderName::Via);
    for via in vias {
        request.headers.push(HeaderName::Via, via.to_string());
    }
}

/// §18.2.2: reliable transports answer on the connection; UDP answers go to `received` (or the
/// sent-by host) at the `rport` (or sent-by) port.
pub(crate) fn reply_target(via: Option<&Via>, source: SocketAddr, transport: Transport) -> Target {
    let addr = match via {
        Some(via) if !transport.is_reliable() => {
            let ip = via
                .received()
                .and_then(|r| r.parse::<IpAddr>().ok())
                .or_else(|| via.host.ip())
                .unwrap_or(source.ip());
            let port = match via.rport() {
                Some(Some(p)) => p,
                _ => via.port.unwrap_or(SIP_PORT),
            };
            SocketAddr::new(ip, port)
        }
        _ => source,
    };
    Target { addr, transport }
}

/// Resolves a URI whose host is an IP literal; domains need DNS (RFC 3263), which is left to
/// the runtime.
pub(crate) fn resolve(uri: &Uri) -> Option<SocketAddr> {
    Some(SocketAddr::new(
        uri.host.ip()?,
        uri.port.unwrap_or(SIP_PORT),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use crate::message::{Headers, Method};

    #[test]
    fn rport_request_is_answered_at_the_source_port() {
        let mut headers = Headers::new();
        headers.push(
            HeaderName::Via,
            "SIP/2.0/UDP 10.0.0.5:5062;rport;branch=z9hG4bKx",
        );
        let mut req = Request {
            method: Method::Options,
            uri: Uri::parse("sip:bot@192.0.2.2").unwrap(),
            headers,
            body: bytes::Bytes::new(),
        };
        let source: SocketAddr = "203.0.113.7:40000".parse().unwrap();
        stamp_via(&mut req, source);
        let via = req.top_via().unwrap();
        assert_eq!(via.received(), Some("203.0.113.7"));
        assert_eq!(via.rport(), Some(Some(40000)));
        assert_eq!(
            reply_target(Some(&via), source, Transport::Udp).addr,
            source
        );
    }

    #[test]
    fn without_rport_the_sent_by_port_is_used() {
        let via = Via::parse("SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKx").unwrap();
        let source: SocketAddr = "192.0.2.1:40000".parse().unwrap();
        let t = reply_target(Some(&via), source, Transport::Udp);
        assert_eq!(t.addr, "192.0.2.1:5062".parse().unwrap());
    }
}
