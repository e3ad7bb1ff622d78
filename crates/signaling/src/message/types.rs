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

/// One header field, borrowed from its `Headers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub name: &'a HeaderName,
    /// The value with folding undone and surrounding whitespace trimmed.
    pub value: &'a str,
}

/// A stored value: a span of the received header section, or owned (added by callclip, or
/// unfolded). Spans keep parsing to one copy of the header section for the whole message.
#[derive(Debug, Clone)]
enum Value {
    Span(usize, usize),
    Owned(String),
}

#[derive(Debug, Clone)]
struct Entry {
    name: HeaderName,
    value: Value,
}

/// Headers in arrival order.
#[derive(Clone, Default)]
pub struct Headers {
    /// The received header section (valid UTF-8) that `Value::Span`s index.
    text: String,
    entries: Vec<Entry>,
}

impl Headers {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn with_capacity(n: usize) -> Self {
        Headers {
            text: String::new(),
            entries: Vec::with_capacity(n),
        }
    }
    /// The received header section that the spans pushed so far index.
    pub(crate) fn attach_text(&mut self, text: String) {
        self.text = text;
    }
    /// A value at `start..end` of the received text; the parser only splits at ASCII
    /// delimiters, so both ends are on character boundaries.
    #[inline]
    pub(crate) fn push_span(&mut self, name: HeaderName, start: usize, end: usize) {
        self.entries.push(Entry {
            name,
            value: Value::Span(start, end),
        });
    }
    pub fn push(&mut self, name: HeaderName, value: impl Into<String>) {
        self.entries.push(Entry {
            name,
            value: Value::Owned(value.into()),
        });
    }
    fn value<'a>(&'a self, e: &'a Entry) -> &'a str {
        match &e.value {
            Value::Span(start, end) => self.text.get(*start..*end).unwrap_or(""),
            Value::Owned(s) => s,
        }
    }
    /// Every name with its position, for a pass that reads only some of the values.
    pub(crate) fn names(&self) -> impl Iterator<Item = (usize, &HeaderName)> {
        self.entries.iter().map(|e| &e.name).enumerate()
    }
    /// The value at a position `names` gave.
    pub(crate) fn value_at(&self, i: usize) -> &str {
        self.entries.get(i).map_or("", |e| self.value(e))
    }
    /// The first value of `name`.
    pub fn first(&self, name: &HeaderName) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| &e.name == name)
            .map(|e| self.value(e))
    }
    /// Every value of `name`, in order (each may itself be comma-joined).
    pub fn all<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |e| &e.name == name)
            .map(|e| self.value(e))
    }
    pub fn remove(&mut self, name: &HeaderName) {
        self.entries.retain(|e| &e.name != name);
    }
    /// Replaces every value of `name` with one.
    pub fn set(&mut self, name: HeaderName, value: impl Into<String>) {
        self.remove(&name);
        self.push(name, value);
    }
    pub fn iter(&self) -> impl Iterator<Item = Header<'_>> {
        self.entries.iter().map(|e| Header {
            name: &e.name,
            value: self.value(e),
        })
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Equal when the same names carry the same values in the same order, however stored.
impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Headers {}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|h| (h.name, h.value)))
            .finish()
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
