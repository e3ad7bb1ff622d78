//! The signaling crate's one error type.

/// What was wrong with a SIP message or header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    #[error("no message, only whitespace")]
    Empty,
    #[error("the header section is not terminated by an empty line")]
    Incomplete,
    #[error("malformed start line")]
    StartLine,
    #[error("malformed method token")]
    Method,
    #[error("unsupported SIP version")]
    Version,
    #[error("status code is not three digits in 100..=699")]
    StatusCode,
    #[error("malformed URI")]
    Uri,
    #[error("URI scheme is not sip, sips or tel")]
    UnsupportedScheme,
    #[error("a Request-URI must not carry URI headers")]
    UriHeadersInRequestUri,
    #[error("malformed header line")]
    HeaderLine,
    #[error("too many header fields")]
    TooManyHeaders,
    #[error("line too long")]
    LineTooLong,
    #[error("header section too long")]
    HeaderSectionTooLong,
    #[error("body larger than allowed")]
    BodyTooLong,
    #[error("Content-Length is not a non-negative decimal number")]
    ContentLength,
    #[error("Content-Length headers disagree")]
    ContentLengthConflict,
    #[error("Content-Length is required on a stream transport")]
    ContentLengthMissing,
    #[error("Content-Length is larger than the body received")]
    BodyTruncated,
    #[error("a single-valued header appears more than once")]
    MultipleValues,
    #[error("CSeq method differs from the request method")]
    CSeqMethodMismatch,
    #[error("number missing or out of range")]
    Number,
    #[error("malformed host")]
    Host,
    #[error("malformed port")]
    Port,
    #[error("malformed parameter")]
    Param,
    #[error("unterminated quoted string")]
    Quote,
    #[error("unbalanced angle brackets")]
    AngleBracket,
    #[error("malformed display name")]
    DisplayName,
    #[error("malformed sent-protocol")]
    SentProtocol,
    #[error("unexpected characters")]
    Syntax,
}

/// Errors from the signaling crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The message as a whole is malformed: start line, framing or header section
    /// (RFC 3261 §7, §18.3).
    #[error("malformed SIP message: {kind}")]
    Parse { kind: ParseErrorKind },
    /// A header that the message must carry is absent (RFC 3261 §8.1.1, §8.2.6.2).
    #[error("missing {name} header")]
    MissingHeader { name: &'static str },
    /// A header value does not match its grammar (RFC 3261 §25.1).
    #[error("malformed {name} header: {kind}")]
    BadHeader {
        name: &'static str,
        kind: ParseErrorKind,
    },
    /// An SDP body could not be read (RFC 4566 §5).
    #[error("unreadable SDP body")]
    Sdp {
        #[from]
        source: crate::sdp::SdpError,
    },
    /// An offer or answer leaves no usable audio stream (RFC 3264 §6); the UA answers 488.
    #[error("SDP negotiation failed")]
    Negotiation {
        #[from]
        source: crate::sdp::NegotiationError,
    },
    /// A digest challenge asks for what callclip cannot do (RFC 7616 §3.3).
    #[error("cannot answer authentication challenge: {unsupported}")]
    UnsupportedChallenge {
        unsupported: crate::auth::Unsupported,
    },
}

impl Error {
    pub(crate) fn parse(kind: ParseErrorKind) -> Self {
        Error::Parse { kind }
    }
    pub(crate) fn header(name: &'static str, kind: ParseErrorKind) -> Self {
        Error::BadHeader { name, kind }
    }
}
