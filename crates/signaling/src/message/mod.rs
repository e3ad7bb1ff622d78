//! SIP messages (RFC 3261 §7, §20, §25): the types, the parser and the serializer.
//!
//! Headers are kept as (name, unfolded value) pairs in arrival order; typed accessors parse a
//! value when it is asked for, so a proxy-style pass-through never pays for what it does not read.

mod types;
mod uri;

pub use types::*;
pub use uri::*;
