/// Everything that can go wrong in the media crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("malformed {what}: {reason}")]
    Malformed {
        what: &'static str,
        reason: &'static str,
    },
    #[error("no audio payload type was negotiated")]
    NoAudioPayloadType,
    #[error("{codec:?} codec failure: {reason}")]
    Codec {
        codec: crate::codec::CodecKind,
        reason: String,
    },
    #[error("invalid WAV: {reason}")]
    Wav { reason: crate::wav::WavError },
    #[error("cannot resample {from} Hz to {to} Hz: {reason}")]
    Resample { from: u32, to: u32, reason: String },
    #[error("prompt is at {actual} Hz but the codec takes {expected} Hz")]
    PromptRate { expected: u32, actual: u32 },
    #[error("invalid RTP sender configuration: {reason}")]
    SenderConfig { reason: &'static str },
}
