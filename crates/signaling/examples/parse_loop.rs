//! Parses the benchmark INVITE `n` times, for instruction counts under callgrind:
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-sip cargo build --release -p signaling --example parse_loop
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p \
//!     /work/target-sip/release/examples/parse_loop parse 2000
//! ```
//!
//! Run it for two counts and divide the difference in `Ir` by the difference in `n`: that
//! cancels start-up. Modes: `parse` (parse_datagram), `validate` (parse + `validate`),
//! `accessors` (parse + top Via, From, To, CSeq, Contact).

use signaling::message::parse_datagram;

const INVITE: &[u8] = include_bytes!("../benches/invite_sdp.sip");

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "parse".to_string());
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let mut ok = 0u64;
    for _ in 0..n {
        let Ok(m) = parse_datagram(std::hint::black_box(INVITE)) else {
            continue;
        };
        let good = match mode.as_str() {
            "validate" => m.validate().is_ok(),
            "accessors" => {
                let h = m.headers();
                h.top_via().is_ok()
                    && h.from().is_ok()
                    && h.to().is_ok()
                    && h.cseq().is_ok()
                    && h.contacts().is_ok()
            }
            _ => true,
        };
        ok += u64::from(good);
        std::hint::black_box(&m);
    }
    println!("{mode}: {ok}/{n} ok");
}
