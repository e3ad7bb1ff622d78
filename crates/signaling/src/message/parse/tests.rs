//! Unit tests of the message parser.
use super::*;
use crate::message::{Contacts, Host, Scheme};

const INVITE: &str = "INVITE sip:bob@[2001:db8::2]:5080;transport=udp SIP/2.0\r\n\
    Via: SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bK776asdhds;rport\r\n\
    Max-Forwards: 70\r\n\
    To: Bob <sip:bob@example.com>\r\n\
    From: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n\
    Call-ID : a84b4c76e66710@pc33.example.com\r\n\
    CSeq: 314159 INVITE\r\n\
    Contact: <sip:alice@[2001:db8::1]:5062>;+sip.instance=\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\"\r\n\
    Content-Type: application/sdp\r\n\
    Content-Length: 5\r\n\r\nv=0\r\n";

fn request(text: &[u8]) -> Request {
    match parse_datagram(text).unwrap() {
        SipMessage::Request(r) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn kind(r: Result<SipMessage, Error>) -> K {
    match r {
        Err(Error::Parse { kind }) => kind,
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn parse_serialize_parse_is_identity() {
    let first = parse_datagram(INVITE.as_bytes()).unwrap();
    let bytes = first.to_bytes();
    assert_eq!(parse_datagram(&bytes).unwrap(), first);
    let (streamed, used) = parse_stream(&bytes).unwrap().unwrap();
    assert_eq!((streamed, used), (first, bytes.len()));
}

#[test]
fn ipv6_request_uri_space_before_colon_and_instance_id() {
    let r = request(INVITE.as_bytes());
    assert_eq!(r.uri.host, Host::V6("2001:db8::2".parse().unwrap()));
    assert_eq!(r.uri.port, Some(5080));
    assert_eq!(r.call_id().unwrap(), "a84b4c76e66710@pc33.example.com");
    assert_eq!(r.top_via().unwrap().rport(), Some(None));
    let Contacts::List(c) = r.contacts().unwrap() else {
        panic!("wildcard");
    };
    assert_eq!(
        c[0].param("+sip.instance"),
        Some(Some("\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\""))
    );
    assert_eq!(r.to().unwrap().display_name.as_deref(), Some("Bob"));
    assert_eq!(&r.body[..], b"v=0\r\n");
}

#[test]
fn tel_request_uri() {
    let text = INVITE.replace(
        "sip:bob@[2001:db8::2]:5080;transport=udp",
        "tel:+1-201-555-0123;phone-context=example.com",
    );
    let r = request(text.as_bytes());
    assert_eq!(r.uri.scheme, Scheme::Tel);
    assert_eq!(r.uri.user.as_deref(), Some("+1-201-555-0123"));
    assert_eq!(
        r.uri.to_string(),
        "tel:+1-201-555-0123;phone-context=example.com"
    );
}

#[test]
fn compact_headers_reach_typed_accessors() {
    let text = b"OPTIONS sip:a@example.com SIP/2.0\r\n\
        v: SIP/2.0/TCP h.example.com;branch=z9hG4bKc\r\n\
        f: <sip:b@example.com>;tag=9\r\n\
        t: sip:a@example.com\r\n\
        i: compact-1\r\n\
        CSeq: 2 OPTIONS\r\n\
        m: <sip:b@192.0.2.7>;expires=30\r\n\
        c: text/plain\r\n\
        k: path, outbound\r\n\
        o: dialog\r\n\
        r: <sip:c@example.com>\r\n\
        l: 2\r\n\r\nhi";
    let r = request(text);
    assert_eq!(r.top_via().unwrap().transport, "TCP");
    assert_eq!(r.from().unwrap().tag(), Some("9"));
    assert_eq!(r.call_id().unwrap(), "compact-1");
    assert_eq!(r.content_type(), Some("text/plain"));
    assert_eq!(r.content_length().unwrap(), Some(2));
    assert_eq!(
        r.headers.first(&HeaderName::Supported),
        Some("path, outbound")
    );
    assert_eq!(r.headers.first(&HeaderName::Event), Some("dialog"));
    assert_eq!(
        r.headers.first_named("refer-to"),
        Some("<sip:c@example.com>")
    );
    let Contacts::List(c) = r.contacts().unwrap() else {
        panic!("wildcard");
    };
    assert_eq!(c[0].param("expires"), Some(Some("30")));
}

#[test]
fn folded_headers_are_unfolded_with_one_space() {
    let text = INVITE.replace(
        "Max-Forwards: 70\r\n",
        "Subject: first\r\n   second\r\n\tthird\r\nMax-Forwards:\r\n 70\r\n",
    );
    let r = request(text.as_bytes());
    assert_eq!(
        r.headers.first(&HeaderName::Subject),
        Some("first second third")
    );
    assert_eq!(r.max_forwards().unwrap(), Some(70));
}

#[test]
fn datagram_content_length_rules() {
    // Shorter than the datagram: the rest is ignored (RFC 3261 §18.3).
    let text = INVITE.replace("Content-Length: 5", "Content-Length: 3");
    assert_eq!(&request(text.as_bytes()).body[..], b"v=0");
    // Longer than the datagram: error.
    let text = INVITE.replace("Content-Length: 5", "Content-Length: 9");
    assert_eq!(kind(parse_datagram(text.as_bytes())), K::BodyTruncated);
    // Absent: the body runs to the end of the datagram.
    let text = INVITE.replace("Content-Length: 5\r\n", "");
    assert_eq!(&request(text.as_bytes()).body[..], b"v=0\r\n");
    // Serialization always writes the real length.
    let mut r = request(INVITE.as_bytes());
    r.body = Bytes::from_static(b"v=0\r\no=x\r\n");
    let again = request(&r.to_bytes());
    assert_eq!(again.content_length().unwrap(), Some(10));
    assert_eq!(again.body, r.body);
}

#[test]
fn stream_framing_waits_skips_keepalives_and_requires_length() {
    let mut wire = b"\r\n\r\n".to_vec();
    wire.extend_from_slice(INVITE.as_bytes());
    wire.extend_from_slice(b"\r\n");
    for cut in 0..wire.len() - 2 {
        assert!(parse_stream(&wire[..cut]).unwrap().is_none(), "{cut}");
    }
    let (msg, used) = parse_stream(&wire).unwrap().unwrap();
    assert_eq!(used, wire.len() - 2);
    assert_eq!(msg.body().len(), 5);
    assert_eq!(skip_keepalives(&wire[used..]), 2);
    let text = INVITE.replace("Content-Length: 5\r\n", "");
    assert!(matches!(
        parse_stream(text.as_bytes()),
        Err(Error::Parse {
            kind: K::ContentLengthMissing
        })
    ));
    let text = INVITE.replace("Content-Length: 5", "Content-Length: 99999999");
    assert!(matches!(
        parse_stream(text.as_bytes()),
        Err(Error::Parse {
            kind: K::BodyTooLong
        })
    ));
}

#[test]
fn non_utf8_value_keeps_later_headers() {
    let mut text = INVITE.as_bytes().to_vec();
    let at = INVITE.find("Max-Forwards").unwrap();
    text.splice(at..at, b"Subject: caf\xe9\r\n".iter().copied());
    let r = request(&text);
    assert_eq!(r.headers.first(&HeaderName::Subject), Some("caf\u{fffd}"));
    assert_eq!(r.max_forwards().unwrap(), Some(70));
    assert_eq!(r.cseq().unwrap().seq, 314159);
}

#[test]
fn start_line_errors_are_typed() {
    let bad = |from: &str, to: &str| kind(parse_datagram(INVITE.replacen(from, to, 1).as_bytes()));
    assert_eq!(bad("SIP/2.0\r\n", "SIP/3.0\r\n"), K::Version);
    assert_eq!(bad("INVITE sip", "INVITE  sip"), K::StartLine);
    assert_eq!(bad("INVITE sip", "INV ITE sip"), K::StartLine);
    assert_eq!(
        bad("CSeq: 314159 INVITE", "CSeq: 314159 BYE"),
        K::CSeqMethodMismatch
    );
    let resp = |line: &str| {
        kind(parse_datagram(
            format!("{line}\r\nVia: SIP/2.0/UDP h\r\n\r\n").as_bytes(),
        ))
    };
    assert_eq!(resp("SIP/2.0 99 Low"), K::StatusCode);
    assert_eq!(resp("SIP/2.0 700 High"), K::StatusCode);
    assert_eq!(resp("SIP/2.0 2OO OK"), K::StatusCode);
    assert_eq!(resp("SIP/1.0 200 OK"), K::Version);
    assert_eq!(kind(parse_datagram(b"\r\n\r\n")), K::Empty);
    assert_eq!(
        kind(parse_datagram(b"OPTIONS sip:a SIP/2.0\r\nTo: x")),
        K::Incomplete
    );
    assert_eq!(
        kind(parse_datagram(b"OPTIONS sip:a SIP/2.0\r\nno colon\r\n\r\n")),
        K::HeaderLine
    );
    assert_eq!(
        kind(parse_datagram(
            b"OPTIONS sip:a SIP/2.0\r\n folded first\r\n\r\n"
        )),
        K::HeaderLine
    );
}

#[test]
fn missing_mandatory_headers_are_named() {
    for (header, name) in [
        ("Via: ", "Via"),
        ("From: ", "From"),
        ("CSeq: ", "CSeq"),
        ("Call-ID : ", "Call-ID"),
    ] {
        let line_start = INVITE.find(header).unwrap();
        let line_end = line_start + INVITE[line_start..].find("\r\n").unwrap() + 2;
        let text = format!("{}{}", &INVITE[..line_start], &INVITE[line_end..]);
        match parse_datagram(text.as_bytes()) {
            Err(Error::MissingHeader { name: n }) => assert_eq!(n, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn limits_bound_memory() {
    let mut text = INVITE.replace("Content-Length: 5\r\n\r\nv=0\r\n", "");
    for i in 0..MAX_HEADERS {
        text.push_str(&format!("X-H{i}: v\r\n"));
    }
    text.push_str("\r\n");
    assert_eq!(kind(parse_datagram(text.as_bytes())), K::TooManyHeaders);
    let long = format!(
        "{}X-Long: {}\r\n\r\n",
        &INVITE[..INVITE.find("Content-Length").unwrap()],
        "a".repeat(MAX_LINE_LEN)
    );
    assert_eq!(kind(parse_datagram(long.as_bytes())), K::LineTooLong);
    // A stream peer that never ends its header section is cut off.
    let endless = vec![b'a'; MAX_HEAD_LEN + 1];
    assert!(parse_stream(&endless).is_err());
}

#[test]
fn byte_search_matches_naive_search() {
    let mut text = b"0123456789\"abc\\def\nxyz\n".to_vec();
    text.extend_from_slice(&[b'a'; 70]);
    text.push(b'\n');
    for start in 0..text.len() {
        let s = &text[start..];
        assert_eq!(
            find_byte(b'\n', s),
            s.iter().position(|&b| b == b'\n'),
            "{start}"
        );
        let either = s.iter().position(|&b| b == b'"' || b == b'\\');
        assert_eq!(crate::message::text::find_either(b'"', b'\\', s), either);
    }
    assert_eq!(find_byte(b'\n', b"no newline here at all"), None);
}

#[test]
fn trim_bytes_strips_lws_only() {
    assert_eq!(trim_bytes(b" \t a b \t"), b"a b");
    assert_eq!(trim_bytes(b"   "), b"");
}

#[test]
fn a_request_line_that_is_not_utf8_names_its_first_bad_part() {
    let line = |l: &[u8]| {
        let mut m = l.to_vec();
        m.extend_from_slice(b"\r\nVia: SIP/2.0/UDP h\r\n\r\n");
        kind(parse_datagram(&m))
    };
    assert_eq!(line(b"INV\xffITE sip:a@b SIP/2.0"), K::Method);
    assert_eq!(line(b"INVITE sip:a\xff@b SIP/2.0"), K::Uri);
    // A method that is not a token is reported before the URI's octets.
    assert_eq!(line(b"IN\"VITE sip:a\xff@b SIP/2.0"), K::Method);
    assert_eq!(line(b"INVITE sip:\xc3\xa9@b SIP/2.0"), K::Uri);
}
