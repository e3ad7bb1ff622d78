#![no_main]
//! SIP framing and parsing on both transports; anything that parses must serialize to bytes
//! that parse again to the same message (up to the Content-Length the serializer always
//! writes), and validation must never panic.

use libfuzzer_sys::fuzz_target;
use signaling::message::{parse_datagram, parse_stream, HeaderName, SipMessage};

fn without_length(mut m: SipMessage) -> SipMessage {
    m.headers_mut().remove(&HeaderName::ContentLength);
    m
}

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = parse_datagram(data) {
        let _ = msg.validate();
        let again = parse_datagram(&msg.to_bytes()).expect("serialized message parses");
        assert_eq!(without_length(again), without_length(msg));
    }
    if let Ok(Some((msg, used))) = parse_stream(data) {
        assert!(used <= data.len());
        let _ = msg.validate();
        let bytes = msg.to_bytes();
        let (again, n) = parse_stream(&bytes)
            .expect("serialized message parses")
            .expect("serialized message is complete");
        assert_eq!(n, bytes.len());
        assert_eq!(without_length(again), without_length(msg));
    }
});
