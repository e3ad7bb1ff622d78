//! SDP (RFC 4566) and the offer/answer model (RFC 3264) for one audio stream.
//!
//! `rtc-sdp` does the syntax; this module owns the semantics callclip needs: payload types are
//! resolved from `a=rtpmap` (or the RFC 3551 static table), the audio codec is chosen by our
//! preference order, and the answer reuses the offer's payload numbers (RFC 3264 §6.1).

mod answer;
mod format;
mod offer;
mod write;

use std::io::Cursor;

use rtc_sdp::SessionDescription;

pub use answer::{answer, negotiated_from_answer, LocalMedia, Negotiated, NegotiatedCodec};
pub use format::{AudioCodec, MediaPrefs};
pub use offer::{offer, SdpSession};

/// An SDP body larger than this is refused before parsing; real offers are well under 4 KiB.
const MAX_SDP_LEN: usize = 64 * 1024;

/// A parsed session description.
#[derive(Debug, Clone)]
pub struct Sdp {
    desc: SessionDescription,
}

impl Sdp {
    /// The number of `m=` lines.
    pub fn media_count(&self) -> usize {
        self.desc.media_descriptions.len()
    }

    /// `o=` session id and version (RFC 4566 §5.2).
    pub fn origin(&self) -> (u64, u64) {
        (
            self.desc.origin.session_id,
            self.desc.origin.session_version,
        )
    }

    pub(crate) fn desc(&self) -> &SessionDescription {
        &self.desc
    }
}

/// Why an SDP body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    #[error("SDP body of {len} bytes exceeds {max}")]
    TooLarge { len: usize, max: usize },
    #[error("malformed SDP: {reason}")]
    Malformed { reason: String },
}

/// Why no answer (or no usable session) came out of an offer/answer exchange. The UA answers
/// an offer that fails here with 488 Not Acceptable Here (RFC 3261 §21.4.26).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NegotiationError {
    #[error("no audio stream offered")]
    NoAudio,
    #[error("no codec in common")]
    NoCommonCodec,
    /// Only secure RTP (RTP/SAVP, RTP/SAVPF) was offered; callclip has no SRTP.
    #[error("only SRTP offered")]
    SrtpOnly,
    #[error("no connection address for the audio stream")]
    NoConnection,
    /// A `c=` address that is not an IP literal (a host name, or garbage).
    #[error("unusable connection address {address:?}")]
    BadConnectionAddress { address: String },
}

/// Parses an SDP body (RFC 4566 §5).
pub fn parse_sdp(bytes: &[u8]) -> Result<Sdp, crate::Error> {
    if bytes.len() > MAX_SDP_LEN {
        return Err(SdpError::TooLarge {
            len: bytes.len(),
            max: MAX_SDP_LEN,
        }
        .into());
    }
    let desc = SessionDescription::unmarshal(&mut Cursor::new(bytes)).map_err(|e| {
        SdpError::Malformed {
            reason: e.to_string(),
        }
    })?;
    Ok(Sdp { desc })
}

/// Media direction (RFC 3264 §5.1, §6.1), always from the point of view of the side that wrote
/// the SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    /// The direction the other side must use (RFC 3264 §6.1).
    pub fn reversed(self) -> Direction {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }

    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    fn from_attribute(key: &str) -> Option<Direction> {
        match key {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn parses_minimal_sdp() {
        let sdp = parse_sdp(b"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n").unwrap();
        assert_eq!(sdp.origin(), (1, 2));
        assert_eq!(sdp.media_count(), 0);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(matches!(
            parse_sdp(b"hello"),
            Err(crate::Error::Sdp {
                source: SdpError::Malformed { .. }
            })
        ));
        assert!(parse_sdp(&[0xff, 0xfe, b'=', b'\n']).is_err());
    }

    #[test]
    fn oversized_body_is_refused() {
        let big = vec![b'a'; MAX_SDP_LEN + 1];
        assert!(matches!(
            parse_sdp(&big),
            Err(crate::Error::Sdp {
                source: SdpError::TooLarge { .. }
            })
        ));
    }
}
