#![no_main]
//! SIP framing and parsing on both transports; anything that parses must serialize to bytes
//! that parse again to the same message, and validation must never panic.

use libfuzzer_sys::fuzz_target;
use signaling::message::{parse_datagram, parse_stream};

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = parse_datagram(data) {
        let _ = msg.validate();
        let again = parse_datagram(&msg.to_bytes()).expect("serialized message parses");
        assert_eq!(again, msg);
    }
    if let Ok(Some((msg, used))) = parse_stream(data) {
        assert!(used <= data.len());
        let _ = msg.validate();
        let bytes = msg.to_bytes();
        let (again, n) = parse_stream(&bytes)
            .expect("serialized message parses")
            .expect("serialized message is complete");
        assert_eq!(n, bytes.len());
        assert_eq!(again, msg);
    }
});
