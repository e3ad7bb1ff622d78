//! The peers toolkit's own pcaps (shared/peers, `make_all.sh`) replayed into a session: the
//! PCMU speech + RFC 2833 `1 2 #` call gives exactly those digits at their offsets, the
//! speech is seen as speech, PCMA is decoded only when offered, and digital silence is
//! silence. Skipped when the toolkit or its tools (python3, sox, espeak-ng) are missing.
#![allow(clippy::unwrap_used)] // Tests unwrap freely (STYLE.md).

mod jitter_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use jitter_support::*;
use media::codec::CodecKind;
use media::dtmf::DigitSource;
use media::session::MediaEvent;

/// Builds the toolkit's media once per test binary into a temp dir.
fn media_dir() -> Option<PathBuf> {
    let peers = std::env::var_os("PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peers"));
    let script = peers.join("make_all.sh");
    if !script.exists() {
        eprintln!("skipped: no peers toolkit at {}", peers.display());
        return None;
    }
    static DIR: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        // The toolkit's output is deterministic, so one copy is kept and reused across runs.
        let out = std::env::temp_dir().join("callclip-peers-media");
        let ok = out.join("MANIFEST.sha256").exists()
            || Command::new("bash")
                .arg(&script)
                .arg(&out)
                .output()
                .is_ok_and(|o| o.status.success());
        if !ok {
            eprintln!("skipped: make_all.sh failed (python3, sox and espeak-ng are needed)");
        }
        ok.then_some(out)
    })
    .clone()
}

/// UDP payloads of a pcap with their capture times, relative to the first packet.
fn udp_payloads(path: &Path) -> Schedule {
    let data = std::fs::read(path).unwrap();
    let magic = u32::from_le_bytes(data[0..4].try_into().unwrap());
    let (le, nanos) = match magic {
        0xa1b2_c3d4 => (true, false),
        0xa1b2_3c4d => (true, true),
        0xd4c3_b2a1 => (false, false),
        0x4d3c_b2a1 => (false, true),
        m => panic!("not a pcap: {m:#x}"),
    };
    let u32_at = |b: &[u8]| {
        let a: [u8; 4] = b[..4].try_into().unwrap();
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let link = u32_at(&data[20..]);
    let link_len = match link {
        0 => 4,    // BSD loopback
        1 => 14,   // Ethernet
        101 => 0,  // raw IP
        113 => 16, // Linux cooked
        228 => 0,  // raw IPv4
        l => panic!("link type {l}"),
    };
    let mut out = Schedule::new();
    let mut off = 24;
    let mut first = None;
    while off + 16 <= data.len() {
        let sec = u64::from(u32_at(&data[off..]));
        let frac = u64::from(u32_at(&data[off + 4..]));
        let len = u32_at(&data[off + 8..]) as usize;
        let pkt = &data[off + 16..off + 16 + len];
        off += 16 + len;
        let t = Duration::from_secs(sec)
            + if nanos {
                Duration::from_nanos(frac)
            } else {
                Duration::from_micros(frac)
            };
        let ip = &pkt[link_len..];
        if ip[0] >> 4 != 4 || ip[9] != 17 {
            continue;
        }
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let udp = &ip[ihl..];
        let udp_len = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
        let first = *first.get_or_insert(t);
        out.push((t - first, udp[8..udp_len.min(udp.len())].to_vec()));
    }
    out
}

fn replay(pcap: &str, audio_pts: Vec<(u8, CodecKind)>) -> Option<Driver> {
    let dir = media_dir()?;
    let schedule = udp_payloads(&dir.join("pcap").join(pcap));
    let end = schedule.last().unwrap().0 + ms(1500);
    let mut cfg = config();
    cfg.audio_pts = audio_pts;
    let mut d = Driver::new(cfg);
    d.run(schedule, end);
    Some(d)
}

#[test]
fn sipp_default_pcap_gives_its_three_digits_and_speech() {
    let Some(d) = replay(
        "caller_short_pcmu_dtmf.pcap",
        vec![(0, CodecKind::Pcmu), (8, CodecKind::Pcma)],
    ) else {
        return;
    };
    assert_eq!(d.digit_string(), "12#");
    let first = d.frames()[0].0;
    for ((_, start, end), offset) in d.digits().iter().zip([6400u64, 6900, 7400]) {
        let rel = *start - first;
        assert!(
            rel.abs_diff(ms(offset)) <= ms(40),
            "digit at {rel:?}, expected {offset} ms"
        );
        assert_eq!(end.unwrap() - *start, ms(160));
    }
    assert!(d.events.iter().all(|e| !matches!(
        e,
        MediaEvent::Digit {
            source: DigitSource::InBand,
            ..
        }
    )));
    let started: Vec<Duration> = d
        .events
        .iter()
        .filter_map(|e| match e {
            MediaEvent::SpeechStarted { at } => Some(*at - first),
            _ => None,
        })
        .collect();
    assert!(!started.is_empty(), "the caller's speech is heard");
    assert!(
        started[0] >= ms(800) && started[0] <= ms(1500),
        "speech starts at {:?}",
        started[0]
    );
    let s = d.session.stats();
    assert_eq!((s.lost, s.duplicates, s.unknown_pt), (0, 0, 0));
}

#[test]
fn pcma_pcap_is_decoded_only_when_pcma_was_offered() {
    let Some(d) = replay("caller_short_pcma.pcap", vec![(0, CodecKind::Pcmu)]) else {
        return;
    };
    assert!(d.frames().is_empty());
    assert!(d.session.stats().unknown_pt > 200);
    let d = replay(
        "caller_short_pcma.pcap",
        vec![(0, CodecKind::Pcmu), (8, CodecKind::Pcma)],
    )
    .unwrap();
    assert!(d
        .events
        .iter()
        .any(|e| matches!(e, MediaEvent::SpeechStarted { .. })));
}

#[test]
fn digital_silence_pcap_is_silence() {
    let Some(d) = replay("silence_10s_pcmu.pcap", vec![(0, CodecKind::Pcmu)]) else {
        return;
    };
    assert!(d.frames().len() >= 500);
    assert!(d.frames().iter().all(|f| !f.2));
    assert!(d
        .events
        .iter()
        .all(|e| matches!(e, MediaEvent::Frame { .. })));
}
