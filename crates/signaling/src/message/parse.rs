//! The parser: framing (RFC 3261 §18.3), start line and header section (§7, §25).
//!
//! One pass over the header section finds the lines, names and value spans; the section is
//! then checked as UTF-8 once and copied once, and every value is a span of that copy (only
//! folded values are rebuilt). Header grammars are checked by the typed accessors, or all at
//! once by `SipMessage::validate`. The parser itself checks framing, the start line, that To,
//! From, Call-ID and CSeq appear once (and Via in a request), and the CSeq, so a message that
//! parses can be matched to a transaction.

use bytes::Bytes;

use super::cseq::CSeq;
use super::text::{find_byte, is_token_byte, is_ws, parse_decimal};
use super::types::{HeaderName, Headers, Method, Request, Response, SipMessage};
use super::uri::Uri;
use crate::error::{Error, ParseErrorKind as K};

/// More header fields than this is an attack, not a call.
pub const MAX_HEADERS: usize = 256;
/// Longest physical line accepted.
pub const MAX_LINE_LEN: usize = 8 * 1024;
/// Longest header section (start line to the empty line) accepted.
pub const MAX_HEAD_LEN: usize = 64 * 1024;
/// Largest Content-Length accepted on a stream, which bounds what a peer can make us buffer.
pub const MAX_BODY_LEN: usize = 1024 * 1024;

/// Parses one message from one datagram (RFC 3261 §18.3): without Content-Length the body runs
/// to the end of the datagram; octets past Content-Length are ignored; a Content-Length larger
/// than what arrived is an error.
pub fn parse_datagram(buf: &[u8]) -> Result<SipMessage, Error> {
    let rest = buf.get(skip_keepalives(buf)..).unwrap_or_default();
    if rest.is_empty() {
        return Err(Error::parse(K::Empty));
    }
    let head = parse_head(rest)?.ok_or(Error::parse(K::Incomplete))?;
    let avail = rest.get(head.body_start..).unwrap_or_default();
    let body = match head.content_length {
        Some(n) => avail.get(..n).ok_or(Error::parse(K::BodyTruncated))?,
        None => avail,
    };
    finish(rest, head, body)
}

/// Parses the first message in a stream buffer (RFC 3261 §18.3, Content-Length required).
/// `Ok(None)`: more bytes are needed. `Ok(Some((msg, n)))`: `n` bytes were used, including any
/// CRLF keep-alives before the message (RFC 5626 §3.5.1).
pub fn parse_stream(buf: &[u8]) -> Result<Option<(SipMessage, usize)>, Error> {
    let skipped = skip_keepalives(buf);
    let rest = buf.get(skipped..).unwrap_or_default();
    let Some(head) = parse_head(rest)? else {
        return Ok(None);
    };
    let len = head
        .content_length
        .ok_or(Error::parse(K::ContentLengthMissing))?;
    if len > MAX_BODY_LEN {
        return Err(Error::parse(K::BodyTooLong));
    }
    let end = head.body_start.saturating_add(len);
    let Some(body) = rest.get(head.body_start..end) else {
        return Ok(None);
    };
    let msg = finish(rest, head, body)?;
    Ok(Some((msg, skipped + end)))
}

/// How many leading CR/LF octets `buf` starts with: keep-alives on a stream (RFC 5626 §3.5.1)
/// and CRLFs before a start line, which are ignored (RFC 3261 §7.5).
pub fn skip_keepalives(buf: &[u8]) -> usize {
    buf.iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count()
}

enum StartLine {
    Request(Method, Uri),
    Response(u16, String),
}

/// The scanned header section; `headers` holds spans of the bytes it was scanned from and no
/// text yet.
struct Head {
    start: StartLine,
    headers: Headers,
    /// Occurrences of To, From, Call-ID, CSeq and Via.
    counts: [usize; 5],
    /// Positions in `headers` of the last Call-ID and CSeq, read by `finish` once their
    /// counts show there is exactly one.
    call_id_at: usize,
    cseq_at: usize,
    content_length: Option<usize>,
    body_start: usize,
}

/// One line without its terminator (CRLF, or a bare LF from lenient peers), and where the
/// next line starts; `None` if the terminator has not arrived.
fn next_line(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(pos..)?;
    // SIMD: the header section is most of the work.
    let nl = find_byte(b'\n', rest)?;
    let line = rest.get(..nl)?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, pos + nl + 1))
}

/// `Ok(None)` while the empty line ending the header section has not arrived.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, Error> {
    let Some((first, mut pos)) = next_line(buf, 0) else {
        return incomplete(buf.len());
    };
    if first.len() > MAX_LINE_LEN {
        return Err(Error::parse(K::LineTooLong));
    }
    let start = parse_start_line(first)?;
    let mut headers = Headers::with_capacity(16);
    let mut counts = [0usize; 5];
    let (mut call_id_at, mut cseq_at) = (0, 0);
    let mut content_length: Option<usize> = None;
    let body_start = loop {
        let Some((line, next)) = next_line(buf, pos) else {
            return incomplete(buf.len());
        };
        if line.is_empty() {
            break next;
        }
        if line.len() > MAX_LINE_LEN {
            return Err(Error::parse(K::LineTooLong));
        }
        // Continuation lines start with SP or HT (RFC 3261 §7.3.1); one can only follow a
        // header line, which the loop below consumes with it.
        let mut end = next;
        let mut folded = false;
        while buf.get(end).copied().is_some_and(is_ws) {
            let Some((cont, after)) = next_line(buf, end) else {
                return incomplete(buf.len());
            };
            if cont.len() > MAX_LINE_LEN {
                return Err(Error::parse(K::LineTooLong));
            }
            folded = true;
            end = after;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(Error::parse(K::TooManyHeaders));
        }
        // field-name HCOLON: a token, optional LWS, a colon (RFC 3261 §7.3.1, §25.1). A line
        // starting with LWS has an empty name.
        let name_len = line
            .iter()
            .position(|&b| !is_token_byte(b))
            .unwrap_or(line.len());
        let mut colon = name_len;
        while line.get(colon).copied().is_some_and(is_ws) {
            colon += 1;
        }
        if name_len == 0 || line.get(colon) != Some(&b':') {
            return Err(Error::parse(K::HeaderLine));
        }
        let name = HeaderName::from_bytes(line.get(..name_len).unwrap_or_default());
        let slot = match name {
            HeaderName::To => Some(0),
            HeaderName::From => Some(1),
            HeaderName::CallId => Some(2),
            HeaderName::CSeq => Some(3),
            HeaderName::Via => Some(4),
            _ => None,
        };
        if let Some(c) = slot.and_then(|i| counts.get_mut(i)) {
            *c += 1;
        }
        match slot {
            Some(2) => call_id_at = headers.len(),
            Some(3) => cseq_at = headers.len(),
            _ => {}
        }
        let is_length = matches!(name, HeaderName::ContentLength);
        let (from, to) = trim_span(line, colon + 1);
        let value = line.get(from..to).unwrap_or_default();
        let length = if folded {
            let value = unfold(value, buf.get(next..end).unwrap_or_default());
            let length = is_length.then(|| parse_decimal(&value));
            headers.push(name, value);
            length
        } else {
            headers.push_span(name, pos + from, pos + to);
            is_length.then(|| parse_decimal(value))
        };
        if let Some(n) = length {
            let n = n
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(Error::parse(K::ContentLength))?;
            if content_length.is_some_and(|c| c != n) {
                return Err(Error::parse(K::ContentLengthConflict));
            }
            content_length = Some(n);
        }
        pos = end;
        if pos > MAX_HEAD_LEN {
            return Err(Error::parse(K::HeaderSectionTooLong));
        }
    };
    Ok(Some(Head {
        start,
        headers,
        counts,
        call_id_at,
        cseq_at,
        content_length,
        body_start,
    }))
}

fn incomplete<T>(have: usize) -> Result<Option<T>, Error> {
    if have > MAX_HEAD_LEN {
        Err(Error::parse(K::HeaderSectionTooLong))
    } else {
        Ok(None)
    }
}

/// Joins a value and its continuation lines with single spaces (RFC 3261 §7.3.1: folding is
/// equivalent to one SP).
fn unfold(first: &[u8], continuation: &[u8]) -> String {
    let mut out = to_string(first);
    for line in continuation.split(|&b| b == b'\n') {
        let part = trim_bytes(line.strip_suffix(b"\r").unwrap_or(line));
        if part.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&String::from_utf8_lossy(part));
    }
    out
}

/// `line[from..]` without surrounding LWS, as a range of `line`.
fn trim_span(line: &[u8], mut from: usize) -> (usize, usize) {
    let mut to = line.len();
    while from < to && line.get(from).copied().is_some_and(is_ws) {
        from += 1;
    }
    while to > from && line.get(to - 1).copied().is_some_and(is_ws) {
        to -= 1;
    }
    (from, to)
}

fn trim_bytes(s: &[u8]) -> &[u8] {
    let (from, to) = trim_span(s, 0);
    s.get(from..to).unwrap_or_default()
}

/// Header values are text (RFC 3261 §25.1 TEXT-UTF8); invalid octets become U+FFFD rather
/// than losing the header.
fn to_string(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

fn is_sip_version(v: &[u8]) -> bool {
    v.eq_ignore_ascii_case(b"SIP/2.0")
}

/// A version-looking token other than 2.0 earns 505 Version Not Supported (RFC 3261 §21.5.6);
/// anything else is a malformed start line.
fn version_error(v: &[u8]) -> Error {
    if v.len() > 4 && v.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/")) {
        Error::parse(K::Version)
    } else {
        Error::parse(K::StartLine)
    }
}

/// `Request-Line = Method SP Request-URI SP SIP-Version` or
/// `Status-Line = SIP-Version SP Status-Code SP Reason-Phrase` (RFC 3261 §7.1, §7.2): single
/// spaces, nothing trailing.
fn parse_start_line(line: &[u8]) -> Result<StartLine, Error> {
    if line.len() >= 4
        && line
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"))
    {
        let mut parts = line.splitn(3, |&b| b == b' ');
        let version = parts.next().unwrap_or_default();
        if !is_sip_version(version) {
            return Err(version_error(version));
        }
        let code = parts.next().unwrap_or_default();
        if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
            return Err(Error::parse(K::StatusCode));
        }
        let status = code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        if !(100..=699).contains(&status) {
            return Err(Error::parse(K::StatusCode));
        }
        let reason = to_string(parts.next().unwrap_or_default());
        return Ok(StartLine::Response(status, reason));
    }
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::parse(K::StartLine));
    };
    if !is_sip_version(version) {
        return Err(version_error(version));
    }
    // One UTF-8 check of the whole line, not one per part: spaces split it at character
    // boundaries.
    let Ok(text) = std::str::from_utf8(line) else {
        return Err(request_line_error(method, uri));
    };
    let uri_start = method.len() + 1;
    let part = |from, to| text.get(from..to).unwrap_or_default();
    let (method, uri) = (
        part(0, method.len()),
        part(uri_start, uri_start + uri.len()),
    );
    let method: Method = method.parse()?;
    let uri = Uri::parse(uri)?;
    if !uri.headers.is_empty() {
        return Err(Error::parse(K::UriHeadersInRequestUri));
    }
    Ok(StartLine::Request(method, uri))
}

/// The error for a request line that is not UTF-8 (its version is ASCII, so the method or the
/// URI is not): checked part by part in order, as the method is parsed before the URI.
#[cold]
fn request_line_error(method: &[u8], uri: &[u8]) -> Error {
    let method = match std::str::from_utf8(method) {
        Ok(m) => m.parse::<Method>(),
        Err(_) => return Error::parse(K::Method),
    };
    match (method, std::str::from_utf8(uri)) {
        (Err(e), _) => e,
        _ => Error::parse(K::Uri),
    }
}

/// Checks the headers RFC 3261 §8.1.1 makes mandatory and builds the message. `buf` is what
/// `head` was scanned from.
fn finish(buf: &[u8], head: Head, body: &[u8]) -> Result<SipMessage, Error> {
    const NAMES: [&str; 4] = ["To", "From", "Call-ID", "CSeq"];
    for (name, count) in NAMES.iter().zip(head.counts) {
        match count {
            0 => return Err(Error::MissingHeader { name }),
            1 => {}
            _ => return Err(Error::header(name, K::MultipleValues)),
        }
    }
    let section = buf.get(..head.body_start).unwrap_or_default();
    // Copy first, then check: the copy starts on an allocator-aligned address, where the
    // UTF-8 check runs its word-at-a-time ASCII loop from the first byte.
    let head = match String::from_utf8(section.to_vec()) {
        Ok(text) => with_text(head, text),
        // Invalid octets become U+FFFD (RFC 3261 §25.1 TEXT-UTF8), which moves every later
        // span: scan the repaired section again. Its framing is unchanged (CR, LF and `:`
        // are never replaced).
        Err(_) => {
            let text = String::from_utf8_lossy(section).into_owned();
            let again = parse_head(text.as_bytes())?.ok_or(Error::parse(K::Incomplete))?;
            with_text(again, text)
        }
    };
    let headers = head.headers;
    // Exactly one of each, checked above: what `call_id()` and `cseq()` would find first.
    if headers.value_at(head.call_id_at).is_empty() {
        return Err(Error::MissingHeader { name: "Call-ID" });
    }
    let cseq = CSeq::parse(headers.value_at(head.cseq_at))?;
    let has_via = head.counts.get(4).is_some_and(|&n| n > 0);
    let body = Bytes::copy_from_slice(body);
    Ok(match head.start {
        StartLine::Request(method, uri) => {
            if !has_via {
                return Err(Error::MissingHeader { name: "Via" });
            }
            if cseq.method != method {
                return Err(Error::parse(K::CSeqMethodMismatch));
            }
            SipMessage::Request(Request {
                method,
                uri,
                headers,
                body,
            })
        }
        StartLine::Response(status, reason) => SipMessage::Response(Response {
            status,
            reason,
            headers,
            body,
        }),
    })
}

fn with_text(mut head: Head, text: String) -> Head {
    head.headers.attach_text(text);
    head
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
// Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests;
