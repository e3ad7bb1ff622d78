//! The CSeq header (RFC 3261 §20.16).

use std::fmt;

use super::text::{is_ws, parse_decimal, Cursor};
use super::types::Method;
use crate::error::{Error, ParseErrorKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    pub fn new(seq: u32, method: Method) -> Self {
        CSeq { seq, method }
    }

    /// `1*DIGIT LWS Method`; the number must be below 2**31 (RFC 3261 §8.1.1.5).
    pub fn parse(s: &str) -> Result<CSeq, Error> {
        let bad = |kind| Error::header("CSeq", kind);
        let mut c = Cursor::new(s);
        c.skip_ws();
        let digits = c.take_while(|b| b.is_ascii_digit());
        let seq = parse_decimal(digits)
            .filter(|n| *n < 1 << 31)
            .ok_or(bad(ParseErrorKind::Number))?;
        if !c.peek().is_some_and(is_ws) {
            return Err(bad(ParseErrorKind::Syntax));
        }
        let method = c.token().ok_or(bad(ParseErrorKind::Method))?;
        c.skip_ws();
        if !c.at_end() {
            return Err(bad(ParseErrorKind::Syntax));
        }
        let method = method.parse().map_err(|_| bad(ParseErrorKind::Method))?;
        // `seq < 2**31` was checked above, so it fits a u32.
        Ok(CSeq {
            seq: u32::try_from(seq).map_err(|_| bad(ParseErrorKind::Number))?,
            method,
        })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn cseq_parses_with_leading_zeros_and_lws() {
        let c = CSeq::parse("0009   INVITE").unwrap();
        assert_eq!(c, CSeq::new(9, Method::Invite));
        assert_eq!(c.to_string(), "9 INVITE");
    }

    #[test]
    fn cseq_out_of_range_or_malformed_is_rejected() {
        for s in [
            "36893488147419103232 INVITE",
            "2147483648 INVITE",
            "INVITE",
            "1",
            "1 INVITE x",
            "-1 INVITE",
        ] {
            assert!(CSeq::parse(s).is_err(), "{s}");
        }
    }
}
