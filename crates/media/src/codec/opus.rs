//! Opus (RFC 6716, RTP payload RFC 7587) through libopus. callclip runs Opus at 16 kHz mono:
//! libopus resamples whatever bandwidth the peer sends, and prompts and recordings stay at 16 kHz.
//! The RTP clock is always 48 kHz (RFC 7587 §4.1).

use super::{CodecKind, Decoder, Encoder};
use crate::Error;

const RATE: u32 = 16_000;
/// 120 ms at 16 kHz, the longest frame a packet can carry (RFC 6716 §3.2.5).
const MAX_FRAME_SAMPLES: usize = 1_920;
/// Large enough for any single-stream packet (RFC 6716 §3.4 R2: at most 1275 bytes per frame).
const MAX_PACKET_BYTES: usize = 1_500;
/// RFC 7587 §3.1.1 suggests 16–20 kbit/s for wideband speech; prompts also carry beeps and
/// music, which the extra rate keeps clean at a cost that is negligible next to G.711's 64.
const BITRATE: i32 = 32_000;

fn codec_error(e: opus::Error) -> Error {
    Error::Codec {
        codec: CodecKind::Opus,
        reason: e.to_string(),
    }
}

pub struct OpusDecoder {
    inner: opus::Decoder,
    scratch: Vec<i16>,
}

impl OpusDecoder {
    pub fn new() -> Result<OpusDecoder, Error> {
        let inner = opus::Decoder::new(RATE, opus::Channels::Mono).map_err(codec_error)?;
        Ok(OpusDecoder {
            inner,
            scratch: vec![0; MAX_FRAME_SAMPLES],
        })
    }
}

impl Decoder for OpusDecoder {
    fn kind(&self) -> CodecKind {
        CodecKind::Opus
    }

    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<(), Error> {
        if payload.is_empty() {
            // An empty payload would be read by libopus as a loss; RFC 7587 never sends one.
            return Err(Error::Malformed {
                what: "opus payload",
                reason: "empty",
            });
        }
        let n = self
            .inner
            .decode(payload, &mut self.scratch, false)
            .map_err(codec_error)?;
        out.extend_from_slice(self.scratch.get(..n).unwrap_or(&[]));
        Ok(())
    }

    /// libopus packet-loss concealment (decode of a missing packet, FEC off). `samples` is
    /// rounded down to a 2.5 ms multiple as libopus requires; any remainder is filled with zeros.
    fn conceal(&mut self, samples: usize, out: &mut Vec<i16>) {
        let step = (RATE / 400) as usize;
        let want = (samples.min(MAX_FRAME_SAMPLES) / step) * step;
        let mut produced = 0;
        if want > 0 {
            if let Some(buf) = self.scratch.get_mut(..want) {
                if let Ok(n) = self.inner.decode(&[], buf, false) {
                    produced = n.min(want);
                    out.extend_from_slice(buf.get(..produced).unwrap_or(&[]));
                }
            }
        }
        out.resize(out.len() + samples.saturating_sub(produced), 0);
    }
}

pub struct OpusEncoder {
    inner: opus::Encoder,
    scratch: Vec<u8>,
}

impl OpusEncoder {
    pub fn new() -> Result<OpusEncoder, Error> {
        let mut inner = opus::Encoder::new(RATE, opus::Channels::Mono, opus::Application::Voip)
            .map_err(codec_error)?;
        inner
            .set_bitrate(opus::Bitrate::Bits(BITRATE))
            .map_err(codec_error)?;
        Ok(OpusEncoder {
            inner,
            scratch: vec![0; MAX_PACKET_BYTES],
        })
    }
}

impl Encoder for OpusEncoder {
    fn kind(&self) -> CodecKind {
        CodecKind::Opus
    }

    /// `pcm` must be 2.5, 5, 10, 20, 40 or 60 ms at 16 kHz (RFC 6716 §2.1.4).
    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<(), Error> {
        let n = self
            .inner
            .encode(pcm, &mut self.scratch)
            .map_err(codec_error)?;
        out.extend_from_slice(self.scratch.get(..n).unwrap_or(&[]));
        Ok(())
    }
}
