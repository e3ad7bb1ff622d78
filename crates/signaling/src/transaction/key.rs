//! Transaction matching keys (RFC 3261 §17.1.3 for responses, §17.2.3 for requests).

use crate::message::{Method, Request, Response};

/// RFC 3261 §8.1.1.7: branches that start with this were built to be globally unique.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// A client transaction: the branch we put in our Via plus the CSeq method (§17.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey {
    pub branch: String,
    pub method: Method,
}

/// A server transaction: branch, sent-by and method, ACK folded onto INVITE (§17.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerKey {
    pub branch: String,
    pub sent_by: String,
    pub method: Method,
}

impl ClientKey {
    pub fn for_request(request: &Request) -> Option<Self> {
        Some(Self {
            branch: request.top_via().ok()?.branch()?.to_string(),
            method: request.method.clone(),
        })
    }

    pub fn for_response(response: &Response) -> Option<Self> {
        Some(Self {
            branch: response.top_via().ok()?.branch()?.to_string(),
            method: response.cseq().ok()?.method,
        })
    }
}

impl ServerKey {
    /// ACK is folded onto INVITE so a non-2xx ACK finds its INVITE transaction; CANCEL keeps its
    /// own method (it is a transaction of its own, §9.2).
    pub fn for_request(request: &Request) -> Option<Self> {
        let method = match request.method {
            Method::Ack => Method::Invite,
            ref m => m.clone(),
        };
        Self::with_method(request, method)
    }

    /// The key of the INVITE a CANCEL refers to (§9.2: same branch and sent-by).
    pub fn invite_of(request: &Request) -> Option<Self> {
        Self::with_method(request, Method::Invite)
    }

    fn with_method(request: &Request, method: Method) -> Option<Self> {
        let via = request.top_via().ok()?;
        let sent_by = match via.port {
            Some(p) => format!("{}:{p}", via.host),
            None => via.host.to_string(),
        }
        .to_ascii_lowercase();
        let branch = match via.branch() {
            Some(b) if b.starts_with(MAGIC_COOKIE) => b.to_string(),
            // RFC 2543 peers: §17.2.3 falls back to dialog identifiers; the To tag is left
            // out because an ACK carries the tag our final response added.
            _ => format!(
                "2543|{}|{}|{}",
                request.call_id().unwrap_or(""),
                request.from().ok()?.tag().unwrap_or(""),
                request.cseq().ok()?.seq,
            ),
        };
        Some(Self {
            branch,
            sent_by,
            method,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use crate::message::{HeaderName, Headers, Uri};

    fn request(method: Method, via: &str, cseq: &str) -> Request {
        let mut headers = Headers::new();
        headers.push(HeaderName::Via, via);
        headers.push(HeaderName::From, "<sip:a@192.0.2.1>;tag=f1");
        headers.push(HeaderName::To, "<sip:b@192.0.2.2>");
        headers.push(HeaderName::CallId, "c1");
        headers.push(HeaderName::CSeq, cseq);
        Request {
            method,
            uri: Uri::parse("sip:b@192.0.2.2").unwrap(),
            headers,
            body: bytes::Bytes::new(),
        }
    }

    #[test]
    fn ack_and_cancel_find_their_invite() {
        let via = "SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKabc";
        let invite = request(Method::Invite, via, "1 INVITE");
        let ack = request(Method::Ack, via, "1 ACK");
        let cancel = request(Method::Cancel, via, "1 CANCEL");
        let invite_key = ServerKey::for_request(&invite).unwrap();
        assert_eq!(ServerKey::for_request(&ack).unwrap(), invite_key);
        assert_ne!(ServerKey::for_request(&cancel).unwrap(), invite_key);
        assert_eq!(ServerKey::invite_of(&cancel).unwrap(), invite_key);
    }

    #[test]
    fn same_branch_from_another_sent_by_is_another_transaction() {
        let a = request(
            Method::Invite,
            "SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKx",
            "1 INVITE",
        );
        let b = request(
            Method::Invite,
            "SIP/2.0/UDP 192.0.2.9:5062;branch=z9hG4bKx",
            "1 INVITE",
        );
        assert_ne!(ServerKey::for_request(&a), ServerKey::for_request(&b));
    }
}
