//! Our own offers, and the `o=` version bookkeeping of one session (RFC 3264 §5, §8).

use std::convert::Infallible;
use std::net::IpAddr;

use super::answer::{answer, LocalMedia, Negotiated};
use super::format::{AudioCodec, Format, MediaPrefs};
use super::write::{audio_section, session_text, AudioSection};
use super::{Direction, NegotiationError, Sdp};

/// Dynamic payload types (RFC 3551 §3) we assign in offers. 101 for telephone-event/8000
/// matches what most SIP peers use, which keeps traces easy to read.
const OPUS_PT: u8 = 96;
const EVENT_48K_PT: u8 = 97;
const EVENT_8K_PT: u8 = 101;
const CN_PT: u8 = 13;

/// An offer for one sendrecv RTP/AVP audio stream with the codecs of `prefs` in order.
/// A re-offer must carry the next `o=` version (RFC 3264 §8); `SdpSession` does that.
pub fn offer(prefs: &MediaPrefs, local: LocalMedia) -> String {
    let mut formats: Vec<(Format, u8)> = prefs
        .codecs
        .iter()
        .map(|c| (Format::Audio(*c), c.static_pt().unwrap_or(OPUS_PT)))
        .collect();
    if prefs.telephone_event {
        formats.push((Format::TelephoneEvent(8_000), EVENT_8K_PT));
        if prefs.codecs.contains(&AudioCodec::Opus) {
            formats.push((Format::TelephoneEvent(48_000), EVENT_48K_PT));
        }
    }
    if prefs.comfort_noise {
        formats.push((Format::ComfortNoise, CN_PT));
    }
    let section = AudioSection {
        port: local.rtp_port,
        proto: "RTP/AVP".to_owned(),
        formats,
        ptime_ms: prefs.ptime_ms,
        direction: Direction::SendRecv,
        rtcp_mux: false,
    };
    session_text(&local, vec![audio_section(&section)])
}

/// The SDP side of one call: keeps `o=` identical across the session and increments its
/// version exactly when the body changes (RFC 3264 §8: "MUST increment by one").
#[derive(Debug, Clone)]
pub struct SdpSession {
    session_id: u64,
    version: u64,
    /// The last body sent, with the `o=` line removed, to tell a change from a repeat.
    last_body: Option<String>,
}

impl SdpSession {
    /// `session_id` should come from the caller's RNG (RFC 4566 §5.2: globally unique).
    pub fn new(session_id: u64) -> Self {
        SdpSession {
            session_id,
            version: 1,
            last_body: None,
        }
    }

    /// The `o=` version of the last SDP produced.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn offer(&mut self, prefs: &MediaPrefs, ip: IpAddr, rtp_port: u16) -> String {
        let Ok(((), text)) = self.versioned(
            |local| Ok::<_, Infallible>(((), offer(prefs, local))),
            ip,
            rtp_port,
        );
        text
    }

    pub fn answer(
        &mut self,
        remote_offer: &Sdp,
        prefs: &MediaPrefs,
        ip: IpAddr,
        rtp_port: u16,
    ) -> Result<(Negotiated, String), NegotiationError> {
        self.versioned(|local| answer(remote_offer, prefs, local), ip, rtp_port)
    }

    fn versioned<T, E>(
        &mut self,
        make: impl Fn(LocalMedia) -> Result<(T, String), E>,
        ip: IpAddr,
        rtp_port: u16,
    ) -> Result<(T, String), E> {
        let local = |version| LocalMedia {
            ip,
            rtp_port,
            session_id: self.session_id,
            session_version: version,
        };
        let (value, text) = make(local(self.version))?;
        let body = without_origin(&text);
        match &self.last_body {
            Some(last) if *last != body => {
                self.version = self.version.wrapping_add(1);
                let (value, text) = make(local(self.version))?;
                self.last_body = Some(body);
                Ok((value, text))
            }
            _ => {
                self.last_body = Some(body);
                Ok((value, text))
            }
        }
    }
}

fn without_origin(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("o="))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use crate::sdp::{negotiated_from_answer, parse_sdp};
    use std::net::Ipv4Addr;

    const IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn origin_version(text: &str) -> u64 {
        parse_sdp(text.as_bytes()).unwrap().origin().1
    }

    #[test]
    fn offer_lists_statics_and_dynamic_types() {
        let prefs = MediaPrefs {
            codecs: vec![AudioCodec::Opus, AudioCodec::Pcmu, AudioCodec::Pcma],
            ..MediaPrefs::default()
        };
        let text = SdpSession::new(7).offer(&prefs, IP, 20_000);
        assert!(
            text.contains("m=audio 20000 RTP/AVP 96 0 8 101 97\r\n"),
            "{text}"
        );
        assert!(text.contains("a=rtpmap:96 opus/48000/2\r\n"));
        assert!(text.contains("a=rtpmap:101 telephone-event/8000\r\n"));
        assert!(text.contains("a=fmtp:101 0-16\r\n"));
        assert!(text.contains("c=IN IP4 127.0.0.1\r\n"));
        assert!(text.contains("a=sendrecv\r\n"));
    }

    #[test]
    fn version_grows_only_when_the_body_changes() {
        let mut session = SdpSession::new(7);
        let prefs = MediaPrefs::default();
        let first = session.offer(&prefs, IP, 20_000);
        let same = session.offer(&prefs, IP, 20_000);
        let moved = session.offer(&prefs, IP, 20_002);
        assert_eq!(origin_version(&first), 1);
        assert_eq!(origin_version(&same), 1);
        assert_eq!(origin_version(&moved), 2);
    }

    #[test]
    fn our_offer_round_trips_through_an_answer() {
        let prefs = MediaPrefs::default();
        let mut ours = SdpSession::new(1);
        let mut theirs = SdpSession::new(2);
        let offer_text = ours.offer(&prefs, IP, 20_000);
        let offer = parse_sdp(offer_text.as_bytes()).unwrap();
        let (their_view, answer_text) = theirs.answer(&offer, &prefs, IP, 30_000).unwrap();
        let our_view =
            negotiated_from_answer(&prefs, &parse_sdp(answer_text.as_bytes()).unwrap()).unwrap();
        assert_eq!(their_view.codec, our_view.codec);
        assert_eq!(our_view.codec.codec, AudioCodec::Pcmu);
        assert_eq!(our_view.remote_addr.port(), 30_000);
        assert_eq!(their_view.remote_addr.port(), 20_000);
        assert_eq!(our_view.telephone_event_pt, Some(101));
    }
}
