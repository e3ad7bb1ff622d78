use bytes::Bytes;

use super::uri::Uri;

/// How a message was framed on the wire (RFC 3261 §18.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One message per datagram; without Content-Length the body runs to the end.
    Datagram,
    /// A byte stream; Content-Length is required.
    Stream,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Register,
    Info,
    Update,
    Prack,
    Subscribe,
    Notify,
    Refer,
    Message,
    Publish,
    Other(String),
}

/// A header name, compact forms and case folded to one canonical value (RFC 3261 §7.3.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HeaderName {
    Via,
    From,
    To,
    CallId,
    CSeq,
    Contact,
    ContentLength,
    ContentType,
    ContentEncoding,
    MaxForwards,
    Route,
    RecordRoute,
    Allow,
    Accept,
    Supported,
    Require,
    Expires,
    WwwAuthenticate,
    Authorization,
    ProxyAuthenticate,
    ProxyAuthorization,
    UserAgent,
    Server,
    Event,
    Subject,
    RetryAfter,
    SessionExpires,
    /// Any other header, name kept verbatim as received.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: HeaderName,
    /// The value with folding undone and surrounding whitespace trimmed.
    pub value: String,
}

/// Headers in arrival order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<Header>,
}

impl Headers {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn with_capacity(n: usize) -> Self {
        Headers {
            entries: Vec::with_capacity(n),
        }
    }
    pub fn push(&mut self, name: HeaderName, value: impl Into<String>) {
        self.entries.push(Header {
            name,
            value: value.into(),
        });
    }
    /// The first value of `name`.
    pub fn first(&self, name: &HeaderName) -> Option<&str> {
        self.entries
            .iter()
            .find(|h| &h.name == name)
            .map(|h| h.value.as_str())
    }
    /// Every value of `name`, in order (each may itself be comma-joined).
    pub fn all<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |h| &h.name == name)
            .map(|h| h.value.as_str())
    }
    pub fn remove(&mut self, name: &HeaderName) {
        self.entries.retain(|h| &h.name != name);
    }
    /// Replaces every value of `name` with one.
    pub fn set(&mut self, name: HeaderName, value: impl Into<String>) {
        self.remove(&name);
        self.push(name, value);
    }
    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.entries.iter()
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub uri: Uri,
    pub headers: Headers,
    pub body: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
    pub body: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipMessage {
    Request(Request),
    Response(Response),
}
