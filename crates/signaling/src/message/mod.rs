//! SIP messages (RFC 3261 §7, §20, §25): the types, the parser and the serializer.
//!
//! Headers are kept as (name, unfolded value) pairs in arrival order; typed accessors parse a
//! value when it is asked for, so a proxy-style pass-through never pays for what it does not read.

mod accessors;
mod cseq;
mod header_name;
mod host;
mod method;
mod name_addr;
mod params;
mod parse;
mod response;
pub(crate) mod text;
mod types;
mod uri;
mod uri_ref;
mod via;
mod write;

pub use cseq::CSeq;
pub use host::SIP_PORT;
pub use name_addr::{Contacts, NameAddr};
pub use parse::{
    parse_datagram, parse_stream, skip_keepalives, MAX_BODY_LEN, MAX_HEADERS, MAX_HEAD_LEN,
    MAX_LINE_LEN,
};
pub use response::reason_phrase;
pub use types::*;
pub use uri::*;
pub use via::Via;
