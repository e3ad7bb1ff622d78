//! Payload formats: what each payload type of an `m=` line carries, from `a=rtpmap` or the
//! RFC 3551 static table, never from the number alone.

use rtc_sdp::MediaDescription;

/// The audio codecs callclip can negotiate (telephone-event and CN are extras, not codecs).
/// The runtime maps these one to one onto `media::codec::CodecKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    Pcmu,
    Pcma,
    G722,
    Opus,
}

impl AudioCodec {
    /// The `a=rtpmap` encoding name (RFC 3551 §6, RFC 7587 §7).
    pub fn encoding_name(self) -> &'static str {
        match self {
            AudioCodec::Pcmu => "PCMU",
            AudioCodec::Pcma => "PCMA",
            AudioCodec::G722 => "G722",
            AudioCodec::Opus => "opus",
        }
    }

    /// RTP clock rate (RFC 3551 §4.5.2: G.722 says 8000 though it samples at 16 kHz;
    /// RFC 7587 §4.1: opus always says 48000).
    pub fn clock_rate(self) -> u32 {
        match self {
            AudioCodec::Opus => 48_000,
            _ => 8_000,
        }
    }

    /// Channel count written in `a=rtpmap` (RFC 7587 §7: opus is always `/2`).
    pub fn channels(self) -> u8 {
        match self {
            AudioCodec::Opus => 2,
            _ => 1,
        }
    }

    /// The RFC 3551 §6 static payload type, if the codec has one.
    pub fn static_pt(self) -> Option<u8> {
        match self {
            AudioCodec::Pcmu => Some(0),
            AudioCodec::Pcma => Some(8),
            AudioCodec::G722 => Some(9),
            AudioCodec::Opus => None,
        }
    }
}

/// What callclip is willing to use, in its order of preference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaPrefs {
    /// Preference order; codecs not listed are never chosen.
    pub codecs: Vec<AudioCodec>,
    /// Packetization used when the peer states none (`a=ptime`, RFC 4566 §6).
    pub ptime_ms: u32,
    /// Offer/accept RFC 4733 telephone-event.
    pub telephone_event: bool,
    /// Offer/accept RFC 3389 comfort noise.
    pub comfort_noise: bool,
}

impl Default for MediaPrefs {
    fn default() -> Self {
        MediaPrefs {
            codecs: vec![AudioCodec::Pcmu, AudioCodec::Pcma],
            ptime_ms: 20,
            telephone_event: true,
            comfort_noise: false,
        }
    }
}

/// What one payload type of an `m=` line carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Audio(AudioCodec),
    /// RFC 4733 telephone-event at the given clock rate.
    TelephoneEvent(u32),
    /// RFC 3389 comfort noise at 8000 Hz.
    ComfortNoise,
    Other,
}

/// One offered or answered payload type, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PayloadFormat {
    pub pt: u8,
    pub format: Format,
    pub clock_rate: u32,
    pub channels: u8,
}

/// The formats of an `m=` line in the order listed, each resolved through its `a=rtpmap`, or
/// the static table when there is none (RFC 3551 §6; RFC 3264 §5.1 lets static types go
/// without rtpmap). Tokens that are not RTP payload types (0..=127) are skipped.
pub(crate) fn media_formats(md: &MediaDescription) -> Vec<PayloadFormat> {
    md.media_name
        .formats
        .iter()
        .filter_map(|token| token.parse::<u8>().ok())
        .filter(|pt| *pt < 128)
        .map(|pt| match rtpmap_for(md, pt) {
            Some((name, rate, channels)) => PayloadFormat {
                pt,
                format: classify(name, rate, channels),
                clock_rate: rate,
                channels,
            },
            None => static_format(pt),
        })
        .collect()
}

/// `a=rtpmap:<pt> <name>/<rate>[/<channels>]` (RFC 4566 §6).
fn rtpmap_for(md: &MediaDescription, pt: u8) -> Option<(&str, u32, u8)> {
    md.attributes
        .iter()
        .filter(|a| a.key == "rtpmap")
        .filter_map(|a| a.value.as_deref())
        .find_map(|value| {
            let mut words = value.split_whitespace();
            let num: u8 = words.next()?.parse().ok()?;
            if num != pt {
                return None;
            }
            let mut parts = words.next()?.split('/');
            let name = parts.next()?;
            let rate: u32 = parts.next()?.parse().ok()?;
            let channels = match parts.next() {
                Some(c) => c.parse().ok()?,
                None => 1,
            };
            Some((name, rate, channels))
        })
}

fn classify(name: &str, rate: u32, channels: u8) -> Format {
    let is = |n: &str| name.eq_ignore_ascii_case(n);
    if is("PCMU") && rate == 8_000 && channels == 1 {
        Format::Audio(AudioCodec::Pcmu)
    } else if is("PCMA") && rate == 8_000 && channels == 1 {
        Format::Audio(AudioCodec::Pcma)
    } else if is("G722") && rate == 8_000 && channels == 1 {
        Format::Audio(AudioCodec::G722)
    } else if is("opus") && rate == 48_000 {
        Format::Audio(AudioCodec::Opus)
    } else if is("telephone-event") && rate > 0 {
        Format::TelephoneEvent(rate)
    } else if is("CN") && rate == 8_000 {
        Format::ComfortNoise
    } else {
        Format::Other
    }
}

fn static_format(pt: u8) -> PayloadFormat {
    let format = match pt {
        0 => Format::Audio(AudioCodec::Pcmu),
        8 => Format::Audio(AudioCodec::Pcma),
        9 => Format::Audio(AudioCodec::G722),
        13 => Format::ComfortNoise,
        _ => Format::Other,
    };
    PayloadFormat {
        pt,
        format,
        clock_rate: 8_000,
        channels: 1,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use crate::sdp::parse_sdp;

    fn formats(m: &str) -> Vec<PayloadFormat> {
        let text = format!("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n{m}");
        let sdp = parse_sdp(text.as_bytes()).unwrap();
        media_formats(&sdp.desc().media_descriptions[0])
    }

    #[test]
    fn rtpmap_wins_over_number() {
        let f = formats(
            "m=audio 1 RTP/AVP 96 0\r\na=rtpmap:96 telephone-event/8000\r\na=rtpmap:0 pcmu/8000\r\n",
        );
        assert_eq!(f[0].format, Format::TelephoneEvent(8000));
        assert_eq!(f[1].format, Format::Audio(AudioCodec::Pcmu));
    }

    #[test]
    fn statics_without_rtpmap_and_junk_tokens() {
        let f = formats("m=audio 1 RTP/AVP 0 8 9 13 200 x 34\r\n");
        let kinds: Vec<_> = f.iter().map(|p| p.format).collect();
        assert_eq!(
            kinds,
            vec![
                Format::Audio(AudioCodec::Pcmu),
                Format::Audio(AudioCodec::Pcma),
                Format::Audio(AudioCodec::G722),
                Format::ComfortNoise,
                Format::Other,
            ]
        );
    }

    #[test]
    fn malformed_rtpmap_falls_back_to_static_table() {
        let f = formats("m=audio 1 RTP/AVP 0 97\r\na=rtpmap:0 PCMU\r\na=rtpmap:97 opus/x/2\r\n");
        assert_eq!(f[0].format, Format::Audio(AudioCodec::Pcmu));
        assert_eq!(f[1].format, Format::Other);
    }
}
