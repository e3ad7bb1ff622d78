//! The REGISTER client against a scripted registrar, in virtual time.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.

use std::time::Duration;

use signaling::auth::{credentials, Challenge, DigestRequest};
use signaling::message::{
    parse_datagram, HeaderName, Host, Method, Request, Response, SipMessage, Uri, Via,
};
use signaling::registration::{Registration, RegistrationConfig, RegistrationEvent};

const T0: Duration = Duration::ZERO;
const MD5_CHALLENGE: &str = r#"Digest realm="pbx", nonce="abc123", qop="auth", algorithm=MD5"#;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn config() -> RegistrationConfig {
    RegistrationConfig {
        registrar: Uri::parse("sip:pbx.example.com").unwrap(),
        aor: Uri::parse("sip:bot@pbx.example.com").unwrap(),
        contact: Uri::parse("sip:bot@192.0.2.10:5080").unwrap(),
        username: "bot".into(),
        password: "s3cret".into(),
        expires: 3600,
        via: Via::new("UDP", Host::parse("192.0.2.10").unwrap(), Some(5080)),
    }
}

/// The next REGISTER, checked to survive our own serializer and parser.
fn next_register(reg: &mut Registration) -> Request {
    let req = reg.poll_request().expect("a REGISTER is queued");
    assert!(reg.poll_request().is_none(), "one request at a time");
    match parse_datagram(&req.to_bytes()).unwrap() {
        SipMessage::Request(r) => {
            assert_eq!(r.method, Method::Register);
            r
        }
        SipMessage::Response(_) => panic!("not a request"),
    }
}

fn header(req: &Request, name: HeaderName) -> Option<&str> {
    req.headers.first(&name)
}

fn digest_field<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let start = value.find(&format!(" {name}="))? + name.len() + 2;
    let rest = value.get(start..)?;
    let rest = rest.strip_prefix('"').unwrap_or(rest);
    rest.split(['"', ',']).next()
}

fn reply(req: &Request, status: u16, extra: &[(HeaderName, &str)]) -> Response {
    let mut resp = Response::for_request(req, status, "x");
    for (name, value) in extra {
        resp.headers.push(name.clone(), *value);
    }
    resp
}

/// What a registrar does with the Authorization header: recompute the response.
fn assert_valid_credentials(req: &Request, challenge: &str, password: &str) {
    let value = header(req, HeaderName::Authorization)
        .or(header(req, HeaderName::ProxyAuthorization))
        .expect("credentials present");
    let challenge = Challenge::parse(challenge).unwrap();
    assert_eq!(digest_field(value, "uri"), Some("sip:pbx.example.com"));
    let cnonce = digest_field(value, "cnonce").unwrap_or("");
    let nc = u32::from_str_radix(digest_field(value, "nc").unwrap_or("0"), 16).unwrap();
    let expected = credentials(
        &challenge,
        "bot",
        password,
        DigestRequest {
            method: "REGISTER",
            uri: "sip:pbx.example.com",
            body: b"",
        },
        cnonce,
        nc,
    );
    assert_eq!(
        digest_field(value, "response"),
        digest_field(&expected, "response")
    );
}

/// Runs the 401 → authorized REGISTER → 200 exchange and returns the client, registered.
fn registered(granted: &[(HeaderName, &str)]) -> Registration {
    let mut reg = Registration::new(config(), 1);
    let first = next_register(&mut reg);
    reg.handle_response(
        T0,
        &reply(&first, 401, &[(HeaderName::WwwAuthenticate, MD5_CHALLENGE)]),
    );
    let second = next_register(&mut reg);
    reg.handle_response(T0, &reply(&second, 200, granted));
    reg
}

#[test]
fn challenge_then_ok_registers_with_the_granted_time() {
    let mut reg = Registration::new(config(), 1);
    let first = next_register(&mut reg);
    assert_eq!(first.uri.to_string(), "sip:pbx.example.com");
    assert_eq!(header(&first, HeaderName::CSeq), Some("1 REGISTER"));
    assert_eq!(header(&first, HeaderName::Expires), Some("3600"));
    assert!(header(&first, HeaderName::Authorization).is_none());
    let via1 = first.headers.top_via().unwrap();
    assert!(via1.branch().unwrap().starts_with("z9hG4bK"));
    assert!(first.headers.from().unwrap().tag().is_some());
    assert_eq!(reg.poll_timeout(), None);

    reg.handle_response(
        T0,
        &reply(&first, 401, &[(HeaderName::WwwAuthenticate, MD5_CHALLENGE)]),
    );
    let second = next_register(&mut reg);
    assert_eq!(header(&second, HeaderName::CSeq), Some("2 REGISTER"));
    assert_eq!(
        second.headers.call_id().unwrap(),
        first.headers.call_id().unwrap()
    );
    assert_eq!(
        second.headers.from().unwrap().tag(),
        first.headers.from().unwrap().tag()
    );
    assert_ne!(
        second.headers.top_via().unwrap().branch(),
        via1.branch(),
        "each REGISTER is a new transaction"
    );
    let auth = header(&second, HeaderName::Authorization).unwrap();
    assert_eq!(digest_field(auth, "nonce"), Some("abc123"));
    assert_eq!(digest_field(auth, "nc"), Some("00000001"));
    assert_valid_credentials(&second, MD5_CHALLENGE, "s3cret");

    reg.handle_response(
        T0,
        &reply(
            &second,
            200,
            &[(
                HeaderName::Contact,
                "<sip:bot@192.0.2.10:5080>;expires=1800",
            )],
        ),
    );
    assert_eq!(
        reg.poll_event(),
        Some(RegistrationEvent::Registered { expires: 1800 })
    );
    assert_eq!(reg.poll_timeout(), Some(secs(900)));
}

#[test]
fn refresh_happens_at_half_the_grant_in_virtual_time() {
    let mut reg = registered(&[(HeaderName::Expires, "120")]);
    assert_eq!(
        reg.poll_event(),
        Some(RegistrationEvent::Registered { expires: 120 })
    );
    assert_eq!(reg.poll_timeout(), Some(secs(60)));
    reg.handle_timeout(secs(59));
    assert!(reg.poll_request().is_none());

    reg.handle_timeout(secs(60));
    let refresh = next_register(&mut reg);
    assert_eq!(header(&refresh, HeaderName::CSeq), Some("3 REGISTER"));
    // Signed up front with the known nonce, next nonce count.
    let auth = header(&refresh, HeaderName::Authorization).unwrap();
    assert_eq!(digest_field(auth, "nc"), Some("00000002"));
    assert_valid_credentials(&refresh, MD5_CHALLENGE, "s3cret");

    reg.handle_response(
        secs(60),
        &reply(&refresh, 200, &[(HeaderName::Expires, "120")]),
    );
    assert_eq!(
        reg.poll_event(),
        Some(RegistrationEvent::Registered { expires: 120 })
    );
    assert_eq!(reg.poll_timeout(), Some(secs(120)));
}

#[test]
fn sha256_challenge_is_preferred_and_answered() {
    let sha = r#"Digest realm="pbx", nonce="n256", qop="auth", algorithm=SHA-256"#;
    let mut reg = Registration::new(config(), 2);
    let first = next_register(&mut reg);
    reg.handle_response(
        T0,
        &reply(
            &first,
            401,
            &[
                (HeaderName::WwwAuthenticate, MD5_CHALLENGE),
                (HeaderName::WwwAuthenticate, sha),
            ],
        ),
    );
    let second = next_register(&mut reg);
    let auth = header(&second, HeaderName::Authorization).unwrap();
    assert_eq!(digest_field(auth, "algorithm"), Some("SHA-256"));
    assert_valid_credentials(&second, sha, "s3cret");
}

#[test]
fn proxy_challenge_is_answered_with_proxy_authorization() {
    let mut reg = Registration::new(config(), 3);
    let first = next_register(&mut reg);
    reg.handle_response(
        T0,
        &reply(
            &first,
            407,
            &[(HeaderName::ProxyAuthenticate, MD5_CHALLENGE)],
        ),
    );
    let second = next_register(&mut reg);
    assert!(header(&second, HeaderName::Authorization).is_none());
    assert_valid_credentials(&second, MD5_CHALLENGE, "s3cret");
}

#[test]
fn wrong_password_fails_once_then_retries_with_backoff() {
    let mut reg = Registration::new(config(), 4);
    let first = next_register(&mut reg);
    let challenge = [(HeaderName::WwwAuthenticate, MD5_CHALLENGE)];
    reg.handle_response(T0, &reply(&first, 401, &challenge));
    let second = next_register(&mut reg);
    reg.handle_response(T0, &reply(&second, 401, &challenge));
    assert_eq!(
        reg.poll_event(),
        Some(RegistrationEvent::Failed { status: 401 })
    );
    assert!(
        reg.poll_request().is_none(),
        "no loop on a rejected password"
    );
    assert_eq!(reg.poll_timeout(), Some(secs(30)));

    reg.handle_timeout(secs(30));
    let retry = next_register(&mut reg);
    assert!(header(&retry, HeaderName::Authorization).is_none());
    reg.handle_no_response(secs(62));
    assert_eq!(
        reg.poll_event(),
        Some(RegistrationEvent::Failed { status: 408 })
    );
    assert_eq!(reg.poll_timeout(), Some(secs(62 + 60)), "backoff doubles");
}

#[test]
fn stale_nonce_is_retried_with_the_new_one() {
    let mut reg = Registration::new(config(), 5);
    let first = next_register(&mut reg);
    reg.handle_response(
        T0,
        &reply(&first, 401, &[(HeaderName::WwwAuthenticate, MD5_CHALLENGE)]),
    );
    let second = next_register(&mut reg);
    let stale = r#"Digest realm="pbx", nonce="fresh", qop="auth", stale=true"#;
    reg.handle_response(
        T0,
        &reply(&second, 401, &[(HeaderName::WwwAuthenticate, stale)]),
    );
    let third = next_register(&mut reg);
    let auth = header(&third, HeaderName::Authorization).unwrap();
    assert_eq!(digest_field(auth, "nonce"), Some("fresh"));
    assert_eq!(digest_field(auth, "nc"), Some("00000001"));
    reg.handle_response(T0, &reply(&third, 200, &[]));
    assert_eq!(
        reg.poll_event(),
        Some(RegistrationEvent::Registered { expires: 3600 })
    );
}

#[test]
fn unregister_sends_expires_zero_and_stops_refreshing() {
    let mut reg = registered(&[(HeaderName::Expires, "600")]);
    assert!(matches!(
        reg.poll_event(),
        Some(RegistrationEvent::Registered { .. })
    ));
    reg.unregister(secs(10));
    assert_eq!(reg.poll_timeout(), None);
    let bye = next_register(&mut reg);
    assert_eq!(header(&bye, HeaderName::Expires), Some("0"));
    assert_valid_credentials(&bye, MD5_CHALLENGE, "s3cret");
    reg.handle_response(secs(10), &reply(&bye, 200, &[]));
    assert_eq!(reg.poll_event(), Some(RegistrationEvent::Unregistered));
    assert_eq!(reg.poll_timeout(), None);
    reg.handle_timeout(secs(10_000));
    assert!(reg.poll_request().is_none());
}

#[test]
fn responses_to_older_requests_are_ignored() {
    let mut reg = Registration::new(config(), 6);
    let first = next_register(&mut reg);
    reg.handle_response(
        T0,
        &reply(&first, 401, &[(HeaderName::WwwAuthenticate, MD5_CHALLENGE)]),
    );
    let _second = next_register(&mut reg);
    reg.handle_response(T0, &reply(&first, 200, &[]));
    assert_eq!(reg.poll_event(), None);
}

#[test]
fn interval_too_brief_retries_with_min_expires() {
    let mut reg = Registration::new(config(), 7);
    let first = next_register(&mut reg);
    reg.handle_response(
        T0,
        &reply(
            &first,
            423,
            &[(HeaderName::Other("Min-Expires".into()), "7200")],
        ),
    );
    let second = next_register(&mut reg);
    assert_eq!(header(&second, HeaderName::Expires), Some("7200"));
}
