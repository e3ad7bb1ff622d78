//! Audio codecs behind one interface. Payload types are never chosen here: the SDP negotiation
//! says which codec a payload type carries, and the session builds the matching codec.

pub mod cn;
pub mod g711;
pub mod g722;
pub mod opus;

/// The codecs callclip speaks (telephone-event and CN are handled by their own modules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodecKind {
    Pcmu,
    Pcma,
    G722,
    Opus,
}

impl CodecKind {
    /// Rate of the PCM this codec's decoder emits and encoder takes (Opus is run at 16 kHz
    /// internally, see `docs/ARCHITECTURE.md`; G.722 is 16 kHz audio on an 8 kHz RTP clock).
    pub fn pcm_rate(self) -> u32 {
        match self {
            CodecKind::Pcmu | CodecKind::Pcma => 8_000,
            CodecKind::G722 | CodecKind::Opus => 16_000,
        }
    }

    /// The RTP timestamp clock rate (RFC 3551 §4.5.2: G.722 says 8000 for historical reasons).
    pub fn rtp_clock_rate(self) -> u32 {
        match self {
            CodecKind::Pcmu | CodecKind::Pcma | CodecKind::G722 => 8_000,
            CodecKind::Opus => 48_000,
        }
    }
}

/// Turns payloads into 16-bit mono PCM at `CodecKind::pcm_rate`.
pub trait Decoder: Send {
    fn kind(&self) -> CodecKind;
    /// Appends the decoded samples of one payload to `out`.
    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<(), crate::Error>;
    /// Appends `samples` samples of concealment for a lost packet (silence where the codec has no
    /// packet-loss concealment of its own).
    fn conceal(&mut self, samples: usize, out: &mut Vec<i16>);
}

/// Turns 16-bit mono PCM at `CodecKind::pcm_rate` into payloads.
pub trait Encoder: Send {
    fn kind(&self) -> CodecKind;
    /// Encodes exactly one packet's worth of samples (ptime × pcm_rate) and appends the payload.
    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<(), crate::Error>;
}

/// Builds a decoder emitting PCM at `kind.pcm_rate()`.
pub fn decoder(kind: CodecKind) -> Result<Box<dyn Decoder>, crate::Error> {
    Ok(match kind {
        CodecKind::Pcmu => Box::new(g711::G711::ulaw()),
        CodecKind::Pcma => Box::new(g711::G711::alaw()),
        CodecKind::G722 => Box::new(g722::G722Decoder::new()),
        CodecKind::Opus => Box::new(opus::OpusDecoder::new()?),
    })
}

/// Builds an encoder taking PCM at `kind.pcm_rate()`.
pub fn encoder(kind: CodecKind) -> Result<Box<dyn Encoder>, crate::Error> {
    Ok(match kind {
        CodecKind::Pcmu => Box::new(g711::G711::ulaw()),
        CodecKind::Pcma => Box::new(g711::G711::alaw()),
        CodecKind::G722 => Box::new(g722::G722Encoder::new()),
        CodecKind::Opus => Box::new(opus::OpusEncoder::new()?),
    })
}
