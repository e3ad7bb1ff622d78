//! Media for callclip: RTP in and out, jitter buffer, codecs, prompt and beep playout, DTMF and
//! voice activity, as sans-IO state machines.

pub mod codec;
pub mod digit;
mod error;

pub use digit::Digit;
pub use error::Error;
