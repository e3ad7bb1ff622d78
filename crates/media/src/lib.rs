//! Media for callclip: RTP in and out, jitter buffer, codecs, prompt and beep playout, DTMF and
//! voice activity, as sans-IO state machines.

pub mod beep;
pub mod codec;
pub mod digit;
pub mod dtmf;
mod error;
pub mod jitter;
pub mod resample;
pub mod rtcp;
pub mod rtp;
pub mod send;
pub mod session;
pub mod vad;
pub mod wav;

pub use digit::Digit;
pub use error::Error;
