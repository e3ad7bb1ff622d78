/// Everything that can go wrong in the media crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("malformed {what}: {reason}")]
    Malformed {
        what: &'static str,
        reason: &'static str,
    },
    #[error("{codec:?} codec failure: {reason}")]
    Codec {
        codec: crate::codec::CodecKind,
        reason: String,
    },
}
