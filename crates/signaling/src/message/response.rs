//! Building responses (RFC 3261 §8.2.6) and the default reason phrases (§21).

use bytes::Bytes;

use super::types::{HeaderName, Headers, Request, Response};

impl Response {
    /// A response to `req` carrying every Via (in order), From, To, Call-ID and CSeq
    /// (RFC 3261 §8.2.6.2). The caller adds the To tag and anything else.
    pub fn for_request(req: &Request, status: u16, reason: &str) -> Response {
        let mut headers = Headers::new();
        for name in [
            HeaderName::Via,
            HeaderName::From,
            HeaderName::To,
            HeaderName::CallId,
            HeaderName::CSeq,
        ] {
            for v in req.headers.all(&name) {
                headers.push(name.clone(), v);
            }
        }
        Response {
            status,
            reason: reason.to_owned(),
            headers,
            body: Bytes::new(),
        }
    }
}

/// The RFC 3261 §21 reason phrase for `status` (plus RFC 3262, 3265, 4028, 6665 codes);
/// a generic class phrase for codes not listed.
// Specific codes first, then the class of anything else.
#[allow(clippy::match_overlapping_arm)]
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        204 => "No Notification",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        305 => "Use Proxy",
        380 => "Alternative Service",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        422 => "Session Interval Too Small",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        485 => "Ambiguous",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        491 => "Request Pending",
        493 => "Undecipherable",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        100..=199 => "Provisional",
        200..=299 => "Success",
        300..=399 => "Redirection",
        400..=499 => "Client Error",
        500..=599 => "Server Error",
        _ => "Global Failure",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use crate::message::{Method, Uri};

    #[test]
    fn response_copies_dialog_and_transaction_headers() {
        let mut headers = Headers::new();
        headers.push(HeaderName::Via, "SIP/2.0/UDP a;branch=z9hG4bK1");
        headers.push(HeaderName::Via, "SIP/2.0/UDP b;branch=z9hG4bK2");
        headers.push(HeaderName::MaxForwards, "70");
        headers.push(HeaderName::From, "<sip:a@x>;tag=1");
        headers.push(HeaderName::To, "<sip:b@y>");
        headers.push(HeaderName::CallId, "c1");
        headers.push(HeaderName::CSeq, "1 INVITE");
        headers.push(HeaderName::Contact, "<sip:a@192.0.2.1>");
        let req = Request {
            method: Method::Invite,
            uri: Uri::parse("sip:b@y").unwrap(),
            headers,
            body: Bytes::from_static(b"v=0\r\n"),
        };
        let resp = Response::for_request(&req, 180, reason_phrase(180));
        assert_eq!(resp.vias().unwrap().len(), 2);
        assert_eq!(resp.call_id().unwrap(), "c1");
        assert_eq!(resp.headers.len(), 6);
        assert!(resp.headers.first(&HeaderName::Contact).is_none());
        assert!(resp.body.is_empty());
        let text = String::from_utf8(resp.to_bytes()).unwrap();
        assert!(text.starts_with("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n"));
        assert!(text.ends_with("CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"));
    }

    #[test]
    fn reason_phrases() {
        assert_eq!(reason_phrase(486), "Busy Here");
        assert_eq!(reason_phrase(499), "Client Error");
    }
}
