//! Writing our SDP through `rtc-sdp`'s serializer.

use std::net::IpAddr;

use rtc_sdp::description::common::{Address, Attribute, ConnectionInformation};
use rtc_sdp::description::media::{MediaName, RangedPort};
use rtc_sdp::description::session::{Origin, TimeDescription, Timing};
use rtc_sdp::{MediaDescription, SessionDescription};

use super::answer::LocalMedia;
use super::format::Format;
use super::Direction;

/// RFC 4733 §2.4.1 events we handle: DTMF 0-9 * # A-D (0-15) and flash (16).
const TELEPHONE_EVENTS: &str = "0-16";

/// One audio `m=` section we write.
pub(crate) struct AudioSection {
    pub port: u16,
    pub proto: String,
    /// In the order to list them, each with its payload type.
    pub formats: Vec<(Format, u8)>,
    pub ptime_ms: u32,
    pub direction: Direction,
    pub rtcp_mux: bool,
}

pub(crate) fn audio_section(s: &AudioSection) -> MediaDescription {
    let mut attributes = Vec::new();
    for (format, pt) in &s.formats {
        if let Some(map) = rtpmap(*format) {
            attributes.push(attr("rtpmap", Some(format!("{pt} {map}"))));
        }
        if let Format::TelephoneEvent(_) = format {
            attributes.push(attr("fmtp", Some(format!("{pt} {TELEPHONE_EVENTS}"))));
        }
    }
    attributes.push(attr("ptime", Some(s.ptime_ms.to_string())));
    if s.rtcp_mux {
        attributes.push(attr("rtcp-mux", None));
    }
    attributes.push(attr(s.direction.as_str(), None));
    MediaDescription {
        media_name: MediaName {
            media: "audio".to_owned(),
            port: RangedPort {
                value: s.port as isize, // lossless: isize is at least 32 bits on every target callclip builds for
                range: None,
            },
            protos: s.proto.split('/').map(str::to_owned).collect(),
            formats: s.formats.iter().map(|(_, pt)| pt.to_string()).collect(),
        },
        attributes,
        ..Default::default()
    }
}

/// RFC 3264 §6: a refused stream is answered with port 0 and the offered formats.
pub(crate) fn refused_section(offered: &MediaDescription) -> MediaDescription {
    MediaDescription {
        media_name: MediaName {
            port: RangedPort {
                value: 0,
                range: None,
            },
            ..offered.media_name.clone()
        },
        ..Default::default()
    }
}

/// A whole SDP: `v= o= s= c= t=` and the sections (RFC 4566 §5).
pub(crate) fn session_text(local: &LocalMedia, media: Vec<MediaDescription>) -> String {
    let address_type = match local.ip {
        IpAddr::V4(_) => "IP4",
        IpAddr::V6(_) => "IP6",
    };
    SessionDescription {
        version: 0,
        origin: Origin {
            username: "callclip".to_owned(),
            session_id: local.session_id,
            session_version: local.session_version,
            network_type: "IN".to_owned(),
            address_type: address_type.to_owned(),
            unicast_address: local.ip.to_string(),
        },
        session_name: "callclip".to_owned(),
        connection_information: Some(ConnectionInformation {
            network_type: "IN".to_owned(),
            address_type: address_type.to_owned(),
            address: Some(Address {
                address: local.ip.to_string(),
                ttl: None,
                range: None,
            }),
        }),
        time_descriptions: vec![TimeDescription {
            timing: Timing {
                start_time: 0,
                stop_time: 0,
            },
            repeat_times: Vec::new(),
        }],
        media_descriptions: media,
        ..Default::default()
    }
    .marshal()
}

fn rtpmap(format: Format) -> Option<String> {
    match format {
        Format::Audio(codec) if codec.channels() > 1 => Some(format!(
            "{}/{}/{}",
            codec.encoding_name(),
            codec.clock_rate(),
            codec.channels()
        )),
        Format::Audio(codec) => Some(format!("{}/{}", codec.encoding_name(), codec.clock_rate())),
        Format::TelephoneEvent(rate) => Some(format!("telephone-event/{rate}")),
        Format::ComfortNoise => Some("CN/8000".to_owned()),
        Format::Other => None,
    }
}

fn attr(key: &str, value: Option<String>) -> Attribute {
    Attribute::new(key.to_owned(), value)
}
