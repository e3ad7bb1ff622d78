//! The answerer side of RFC 3264 §6, and reading the answer to our own offer (§7).

use std::net::{IpAddr, SocketAddr};

use rtc_sdp::MediaDescription;

use super::format::{media_formats, AudioCodec, Format, MediaPrefs, PayloadFormat};
use super::write::{audio_section, refused_section, session_text, AudioSection};
use super::{Direction, NegotiationError, Sdp};

/// Our end of the audio stream, written into `o=`, `c=` and `m=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalMedia {
    pub ip: IpAddr,
    pub rtp_port: u16,
    /// `o=` sess-id and sess-version (RFC 4566 §5.2). The version must grow by one whenever a
    /// later SDP of the same session differs (RFC 3264 §8); `SdpSession` does that bookkeeping.
    pub session_id: u64,
    pub session_version: u64,
}

/// The audio codec both sides agreed on, with the payload type the peer uses for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiatedCodec {
    pub codec: AudioCodec,
    pub pt: u8,
    pub clock_rate: u32,
    pub channels: u8,
}

/// The outcome of an offer/answer exchange: everything the media layer needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Where to send RTP: `c=` (media level, else session level) and the `m=` port. An
    /// unspecified address (`0.0.0.0`, RFC 3264 §8.4 hold) is kept; `direction` then forbids
    /// sending.
    pub remote_addr: SocketAddr,
    /// Where the peer wants RTCP: the RTP address with `a=rtcp-mux` (RFC 5761 §5.1.1), the
    /// `a=rtcp:` port (RFC 3605), else RTP port + 1.
    pub remote_rtcp_addr: Option<SocketAddr>,
    /// RTP and RTCP share one port; the media layer must demultiplex (RFC 5761 §4).
    pub rtcp_mux: bool,
    pub codec: NegotiatedCodec,
    /// Every audio payload type the line listed with a codec we know, chosen one included: some
    /// peers (pcap replayers) keep sending another offered codec, which is still decodable.
    pub offered_audio: Vec<(u8, AudioCodec)>,
    /// The telephone-event payload type we send with, at `telephone_event_rate`.
    pub telephone_event_pt: Option<u8>,
    pub telephone_event_rate: u32,
    /// Every telephone-event payload type the peer listed with its clock rate: some peers keep
    /// sending events on a type the answer did not pick.
    pub telephone_events: Vec<(u8, u32)>,
    pub cn_pt: Option<u8>,
    pub ptime_ms: u32,
    /// Our direction.
    pub direction: Direction,
}

impl Negotiated {
    /// The peer has put the call on hold (`sendonly`, `inactive` or `c=0.0.0.0`): send nothing.
    pub fn on_hold(&self) -> bool {
        !self.direction.sends()
    }
}

/// Answers an offer (RFC 3264 §6). The first plain-RTP audio line with a codec in common is
/// accepted; every other `m=` line is refused with port 0, keeping the offer's count and order.
pub fn answer(
    offer: &Sdp,
    prefs: &MediaPrefs,
    local: LocalMedia,
) -> Result<(Negotiated, String), NegotiationError> {
    let desc = offer.desc();
    let mut accepted: Option<(usize, Negotiated)> = None;
    let mut first_error = NegotiationError::NoAudio;
    for (index, md) in desc.media_descriptions.iter().enumerate() {
        match usable_audio(md) {
            Ok(()) => {}
            Err(NegotiationError::NoAudio) => continue,
            Err(e) => {
                if first_error == NegotiationError::NoAudio {
                    first_error = e;
                }
                continue;
            }
        }
        match negotiate_line(offer, md, prefs, Pick::OurPreference) {
            Ok(n) => {
                accepted = Some((index, n));
                break;
            }
            Err(e) => {
                if matches!(
                    first_error,
                    NegotiationError::NoAudio | NegotiationError::SrtpOnly
                ) {
                    first_error = e;
                }
            }
        }
    }
    let Some((accepted_index, negotiated)) = accepted else {
        return Err(first_error);
    };

    let sections = desc
        .media_descriptions
        .iter()
        .enumerate()
        .map(|(index, md)| {
            if index == accepted_index {
                audio_section(&answer_section(md, &negotiated, local.rtp_port))
            } else {
                refused_section(md)
            }
        })
        .collect();
    Ok((negotiated, session_text(&local, sections)))
}

/// Reads the answer to an offer made with `super::offer` (RFC 3264 §7): the first accepted
/// audio line, its first format we support (the answerer's preference, §6.1).
pub fn negotiated_from_answer(
    prefs: &MediaPrefs,
    answer: &Sdp,
) -> Result<Negotiated, NegotiationError> {
    let mut error = NegotiationError::NoAudio;
    for md in &answer.desc().media_descriptions {
        match usable_audio(md) {
            Ok(()) => return negotiate_line(answer, md, prefs, Pick::TheirOrder),
            Err(NegotiationError::NoAudio) => {}
            Err(e) => error = e,
        }
    }
    Err(error)
}

/// Whose order decides the codec.
#[derive(Clone, Copy)]
enum Pick {
    /// Answering: our configured order among what was offered.
    OurPreference,
    /// Reading an answer: the answerer's order among what we support.
    TheirOrder,
}

/// Ok for an audio line we can take: nonzero port, plain RTP/AVP(F).
fn usable_audio(md: &MediaDescription) -> Result<(), NegotiationError> {
    let name = &md.media_name;
    if !name.media.eq_ignore_ascii_case("audio") || name.port.value == 0 {
        return Err(NegotiationError::NoAudio);
    }
    let proto = name.protos.join("/");
    if proto.eq_ignore_ascii_case("RTP/AVP") || proto.eq_ignore_ascii_case("RTP/AVPF") {
        Ok(())
    } else if proto.to_ascii_uppercase().contains("SAVP") {
        Err(NegotiationError::SrtpOnly)
    } else {
        Err(NegotiationError::NoAudio)
    }
}

fn negotiate_line(
    sdp: &Sdp,
    md: &MediaDescription,
    prefs: &MediaPrefs,
    pick: Pick,
) -> Result<Negotiated, NegotiationError> {
    let formats = media_formats(md);
    let chosen = choose_codec(&formats, prefs, pick).ok_or(NegotiationError::NoCommonCodec)?;
    let codec = NegotiatedCodec {
        codec: chosen.0,
        pt: chosen.1.pt,
        clock_rate: chosen.1.clock_rate,
        channels: chosen.1.channels,
    };

    let events: Vec<&PayloadFormat> = formats
        .iter()
        .filter(|f| matches!(f.format, Format::TelephoneEvent(_)))
        .collect();
    // RFC 4733 §2.1: events share the audio clock; the /8000 one next (peers README §(e)1).
    let event = events
        .iter()
        .find(|f| f.clock_rate == codec.clock_rate)
        .or_else(|| events.iter().find(|f| f.clock_rate == 8_000))
        .or_else(|| events.first())
        .filter(|_| prefs.telephone_event);
    let cn_pt = formats
        .iter()
        .find(|f| f.format == Format::ComfortNoise)
        .filter(|_| prefs.comfort_noise && codec.clock_rate == 8_000)
        .map(|f| f.pt);

    let ip = connection_ip(sdp, md)?;
    let port = u16::try_from(md.media_name.port.value).map_err(|_| NegotiationError::NoAudio)?;
    let remote_addr = SocketAddr::new(ip, port);
    let mut their_direction = media_direction(sdp, md);
    if ip.is_unspecified() {
        // RFC 3264 §8.4: c=0.0.0.0 is the pre-RFC 3264 way of saying "do not send to me".
        their_direction = match their_direction {
            Direction::SendRecv | Direction::SendOnly => Direction::SendOnly,
            Direction::RecvOnly | Direction::Inactive => Direction::Inactive,
        };
    }
    let rtcp_mux = md.has_attribute("rtcp-mux");
    let remote_rtcp_addr = if rtcp_mux {
        Some(remote_addr)
    } else {
        rtcp_attribute(md, ip).or_else(|| port.checked_add(1).map(|p| SocketAddr::new(ip, p)))
    };
    let ptime_ms = md
        .attribute("ptime")
        .flatten()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|p| (1..=1_000).contains(p))
        .unwrap_or(prefs.ptime_ms);

    Ok(Negotiated {
        remote_addr,
        remote_rtcp_addr,
        rtcp_mux,
        codec,
        offered_audio: formats
            .iter()
            .filter_map(|f| match f.format {
                Format::Audio(c) => Some((f.pt, c)),
                _ => None,
            })
            .collect(),
        telephone_event_pt: event.map(|f| f.pt),
        telephone_event_rate: event.map_or(8_000, |f| f.clock_rate),
        telephone_events: events.iter().map(|f| (f.pt, f.clock_rate)).collect(),
        cn_pt,
        ptime_ms,
        direction: their_direction.reversed(),
    })
}

fn choose_codec(
    formats: &[PayloadFormat],
    prefs: &MediaPrefs,
    pick: Pick,
) -> Option<(AudioCodec, PayloadFormat)> {
    let audio = |f: &PayloadFormat| match f.format {
        Format::Audio(c) => Some((c, *f)),
        _ => None,
    };
    match pick {
        Pick::OurPreference => prefs
            .codecs
            .iter()
            .find_map(|want| formats.iter().filter_map(audio).find(|(c, _)| c == want)),
        Pick::TheirOrder => formats
            .iter()
            .filter_map(audio)
            .find(|(c, _)| prefs.codecs.contains(c)),
    }
}

/// RFC 4566 §5.7: media-level `c=` overrides session-level.
fn connection_ip(sdp: &Sdp, md: &MediaDescription) -> Result<IpAddr, NegotiationError> {
    let info = md
        .connection_information
        .as_ref()
        .or(sdp.desc().connection_information.as_ref())
        .ok_or(NegotiationError::NoConnection)?;
    let address = info
        .address
        .as_ref()
        .ok_or(NegotiationError::NoConnection)?;
    address
        .address
        .parse()
        .map_err(|_| NegotiationError::BadConnectionAddress {
            address: address.address.clone(),
        })
}

/// RFC 3264 §5.1: media-level direction, else session-level, else sendrecv.
fn media_direction(sdp: &Sdp, md: &MediaDescription) -> Direction {
    md.attributes
        .iter()
        .find_map(|a| Direction::from_attribute(&a.key))
        .or_else(|| {
            sdp.desc()
                .attributes
                .iter()
                .find_map(|a| Direction::from_attribute(&a.key))
        })
        .unwrap_or(Direction::SendRecv)
}

/// `a=rtcp:<port> [IN IP4 <addr>]` (RFC 3605 §2.1).
fn rtcp_attribute(md: &MediaDescription, default_ip: IpAddr) -> Option<SocketAddr> {
    let value = md.attribute("rtcp").flatten()?;
    let mut words = value.split_whitespace();
    let port: u16 = words.next()?.parse().ok()?;
    let ip = match (words.next(), words.next(), words.next()) {
        (Some(_), Some(_), Some(addr)) => addr.parse().ok()?,
        _ => default_ip,
    };
    Some(SocketAddr::new(ip, port))
}

/// Our accepted audio line: the chosen codec, then telephone-event, then CN, all with the
/// offer's payload numbers (RFC 3264 §6.1).
fn answer_section(md: &MediaDescription, n: &Negotiated, port: u16) -> AudioSection {
    let mut formats = vec![(Format::Audio(n.codec.codec), n.codec.pt)];
    if let Some(pt) = n.telephone_event_pt {
        formats.push((Format::TelephoneEvent(n.telephone_event_rate), pt));
    }
    if let Some(pt) = n.cn_pt {
        formats.push((Format::ComfortNoise, pt));
    }
    AudioSection {
        port,
        proto: md.media_name.protos.join("/"),
        formats,
        ptime_ms: n.ptime_ms,
        direction: n.direction,
        rtcp_mux: n.rtcp_mux,
    }
}
