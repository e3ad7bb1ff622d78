//! Operator settings for the recorder, the same for every call.

use std::time::Duration;

/// Settings that are not part of the Graph request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecorderConfig {
    /// No RTP at all for this long while waiting for speech or recording ends the operation with
    /// `mediaReceiveTimeout` (API_CONTRACT.md, "record").
    pub media_receive_timeout: Duration,
    /// Silence kept after the last speech when `maxSilenceTimeout` fires; the rest is cut.
    pub trailing_silence_keep: Duration,
    /// The decoded audio's sample rate when it is known before the first frame (the negotiated
    /// codec's), so a recording stopped before any audio arrived is still an (empty) file.
    /// Without it the rate is learned from the first frame.
    pub audio_rate: Option<u32>,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig {
            media_receive_timeout: Duration::from_secs(10),
            trailing_silence_keep: Duration::from_millis(500),
            audio_rate: None,
        }
    }
}
