//! DTMF on the receive side: RFC 4733 events, in-band tones, and the dedup that makes one key
//! press one digit whichever paths carried it.

pub mod dedup;
pub mod inband;
pub mod rfc4733;

/// Which path a digit arrived by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigitSource {
    Rfc4733,
    SipInfo,
    InBand,
}
