//! Starts the endpoint's REGISTER client from `[sip.register]` (RFC 3261 §10.2): the registrar
//! URI gives the Request-URI and, through its host (an IP address, or a name resolved once at
//! start-up from A/AAAA records; no SRV/NAPTR), the address every REGISTER goes to.

use std::net::SocketAddr;
use std::time::Duration;

use signaling::endpoint::{Endpoint, RegistrationConfig};
use signaling::message::{Host, Scheme, Uri, Via, SIP_PORT};

use crate::config::{Config, RegisterConfig};
use crate::sip_loop::route::Registrar;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterSetupError {
    #[error("sip.register.registrar {0:?} is not a sip: URI")]
    BadRegistrar(String),
    #[error("sip.register.registrar: cannot resolve {0:?}")]
    Unresolved(String),
    #[error("sip.register.aor {0:?} is not a sip: URI")]
    BadAor(String),
    #[error("sip.register needs an aor or a username")]
    NoAor,
}

/// Starts registering when `sip.register.registrar` is set; `Ok(None)` when it is empty.
pub async fn start(
    endpoint: &mut Endpoint,
    now: Duration,
    config: &Config,
) -> Result<Option<Registrar>, RegisterSetupError> {
    let Some((registration, host, port)) = registration_config(endpoint, &config.sip.register)?
    else {
        return Ok(None);
    };
    let addr = match host.ip() {
        Some(ip) => SocketAddr::new(ip, port),
        None => {
            let name = host.to_string();
            tokio::net::lookup_host((name.as_str(), port))
                .await
                .ok()
                .and_then(|mut addrs| addrs.next())
                .ok_or(RegisterSetupError::Unresolved(name))?
        }
    };
    let uri = registration.registrar.clone();
    endpoint.register(now, registration, addr);
    Ok(Some(Registrar { uri, addr }))
}

/// The client's settings and the registrar's host and port, `None` when registration is off.
fn registration_config(
    endpoint: &Endpoint,
    register: &RegisterConfig,
) -> Result<Option<(RegistrationConfig, Host, u16)>, RegisterSetupError> {
    let text = register.registrar.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let registrar = Uri::parse(text)
        .ok()
        .filter(|u| u.scheme == Scheme::Sip)
        .ok_or_else(|| RegisterSetupError::BadRegistrar(text.into()))?;
    let host = registrar.host.clone();
    let port = registrar.port.unwrap_or(SIP_PORT);
    let aor = aor(register, &registrar)?;
    let ep = endpoint.config();
    let via = Via::new(ep.transport.via_token(), ep.host.clone(), Some(ep.port));
    Ok(Some((
        RegistrationConfig {
            registrar,
            aor,
            contact: ep.contact.clone(),
            username: register.username.clone(),
            password: register.password.clone(),
            expires: register.expires_seconds,
            via,
        },
        host,
        port,
    )))
}

/// The configured address-of-record, else `sip:<username>@<registrar host>`.
fn aor(register: &RegisterConfig, registrar: &Uri) -> Result<Uri, RegisterSetupError> {
    let text = register.aor.trim();
    if !text.is_empty() {
        return Uri::parse(text).map_err(|_| RegisterSetupError::BadAor(text.into()));
    }
    let user = register.username.trim();
    if user.is_empty() {
        return Err(RegisterSetupError::NoAor);
    }
    Ok(Uri {
        scheme: Scheme::Sip,
        user: Some(user.into()),
        password: None,
        host: registrar.host.clone(),
        port: None,
        params: Vec::new(),
        headers: Vec::new(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use signaling::endpoint::EndpointConfig;

    fn endpoint() -> Endpoint {
        Endpoint::new(EndpointConfig::new("127.0.0.1:5080".parse().unwrap()))
    }

    fn register(registrar: &str, aor: &str) -> RegisterConfig {
        RegisterConfig {
            registrar: registrar.into(),
            aor: aor.into(),
            username: "bot".into(),
            password: "secret".into(),
            expires_seconds: 600,
        }
    }

    #[test]
    fn empty_registrar_means_no_registration() {
        let got = registration_config(&endpoint(), &register("", "")).unwrap();
        assert!(got.is_none());
    }

    #[test]
    fn registrar_ip_and_port_give_the_destination_and_the_aor() {
        let (c, host, port) = registration_config(&endpoint(), &register("sip:127.0.0.1:5999", ""))
            .unwrap()
            .unwrap();
        assert_eq!((host, port), (Host::V4([127, 0, 0, 1].into()), 5999));
        assert_eq!(c.registrar.to_string(), "sip:127.0.0.1:5999");
        assert_eq!(c.aor.to_string(), "sip:bot@127.0.0.1");
        assert_eq!(c.contact.to_string(), "sip:callclip@127.0.0.1:5080");
        assert_eq!(c.expires, 600);
        assert_eq!(c.via.to_string(), "SIP/2.0/UDP 127.0.0.1:5080");
    }

    #[test]
    fn default_port_and_configured_aor() {
        let (c, _, port) = registration_config(
            &endpoint(),
            &register("sip:192.0.2.1", "sip:bot@pbx.example.com"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(port, 5060);
        assert_eq!(c.aor.to_string(), "sip:bot@pbx.example.com");
    }

    #[tokio::test]
    async fn a_registrar_named_by_host_name_is_resolved() {
        let config = crate::config::Config::load(None, |k| match k {
            "CALLCLIP_SIP_REGISTER_REGISTRAR" => Some("sip:localhost:5999".to_string()),
            "CALLCLIP_SIP_REGISTER_USERNAME" => Some("bot".to_string()),
            _ => None,
        })
        .unwrap();
        let mut ep = endpoint();
        let r = start(&mut ep, Duration::ZERO, &config)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.uri.to_string(), "sip:localhost:5999");
        assert!(r.addr.ip().is_loopback() && r.addr.port() == 5999, "{r:?}");
        // The Request-URI keeps the name; the REGISTER goes to the resolved address.
        let sent = ep.poll_transmit().unwrap();
        assert_eq!(sent.to, r.addr);
        assert!(
            String::from_utf8_lossy(&sent.bytes).starts_with("REGISTER sip:localhost:5999 SIP/2.0")
        );
    }
}
