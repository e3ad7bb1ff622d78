//! Dialogs (RFC 3261 §12): identity, CSeq spaces, route set and remote target, and the requests
//! built inside them (BYE, re-INVITE, INFO, and the ACK for a 2xx, §13.2.2.4).

use bytes::Bytes;

use crate::message::{
    CSeq, Contacts, HeaderName, Headers, Method, NameAddr, Request, Response, Uri, Via,
};

/// RFC 3261 §12: Call-ID plus the two tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
}

/// Why a dialog could not be built from a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogError {
    /// A header the dialog is made of is missing or malformed.
    BadHeader(&'static str),
    /// No usable Contact: the remote target would be unknown (§12.1.1).
    NoContact,
    /// The remote side sent no tag.
    NoRemoteTag,
}

#[derive(Debug, Clone)]
pub struct Dialog {
    pub id: DialogId,
    /// Our From (UAC) or To (UAS), with our tag.
    local: NameAddr,
    /// Their To (UAC) or From (UAS), with their tag.
    remote: NameAddr,
    local_seq: u32,
    remote_seq: Option<u32>,
    remote_target: Uri,
    /// Route set in the order requests must carry it (§12.1.1, §12.1.2).
    route_set: Vec<NameAddr>,
    local_contact: Uri,
}

fn first_contact(headers: &Headers) -> Result<Uri, DialogError> {
    match headers.contacts() {
        Ok(Contacts::List(list)) => list
            .into_iter()
            .next()
            .map(|c| c.uri)
            .ok_or(DialogError::NoContact),
        _ => Err(DialogError::NoContact),
    }
}

impl Dialog {
    /// §12.1.1: the UAS side, from the INVITE and the tag our 2xx carries.
    pub fn uas(invite: &Request, local_tag: &str, local_contact: Uri) -> Result<Self, DialogError> {
        let h = &invite.headers;
        let remote = h.from().map_err(|_| DialogError::BadHeader("From"))?;
        let mut local = h.to().map_err(|_| DialogError::BadHeader("To"))?;
        local.set_tag(local_tag);
        let remote_tag = remote.tag().ok_or(DialogError::NoRemoteTag)?.to_string();
        let call_id = h.call_id().map_err(|_| DialogError::BadHeader("Call-ID"))?;
        let cseq = h.cseq().map_err(|_| DialogError::BadHeader("CSeq"))?;
        let route_set = h
            .record_routes()
            .map_err(|_| DialogError::BadHeader("Record-Route"))?;
        Ok(Self {
            id: DialogId {
                call_id: call_id.to_string(),
                local_tag: local_tag.to_string(),
                remote_tag,
            },
            local,
            remote,
            local_seq: 0,
            remote_seq: Some(cseq.seq),
            remote_target: first_contact(h)?,
            route_set,
            local_contact,
        })
    }

    /// §12.1.2: the UAC side, from our INVITE and the 2xx that confirmed it; the route set is
    /// the Record-Route of the response, reversed.
    pub fn uac(
        invite: &Request,
        response: &Response,
        local_contact: Uri,
    ) -> Result<Self, DialogError> {
        let local = invite.from().map_err(|_| DialogError::BadHeader("From"))?;
        let remote = response.to().map_err(|_| DialogError::BadHeader("To"))?;
        let local_tag = local.tag().unwrap_or_default().to_string();
        let remote_tag = remote.tag().ok_or(DialogError::NoRemoteTag)?.to_string();
        let call_id = invite
            .call_id()
            .map_err(|_| DialogError::BadHeader("Call-ID"))?;
        let cseq = invite.cseq().map_err(|_| DialogError::BadHeader("CSeq"))?;
        let mut route_set = response
            .record_routes()
            .map_err(|_| DialogError::BadHeader("Record-Route"))?;
        route_set.reverse();
        Ok(Self {
            id: DialogId {
                call_id: call_id.to_string(),
                local_tag,
                remote_tag,
            },
            local,
            remote,
            local_seq: cseq.seq,
            remote_seq: None,
            remote_target: first_contact(&response.headers)?,
            route_set,
            local_contact,
        })
    }

    pub fn remote_target(&self) -> &Uri {
        &self.remote_target
    }

    pub fn local(&self) -> &NameAddr {
        &self.local
    }

    pub fn remote(&self) -> &NameAddr {
        &self.remote
    }

    /// §12.2.2: a request whose CSeq is lower than the last one is out of order (answer 500).
    /// ACK and CANCEL reuse the CSeq of their INVITE and are not checked.
    pub fn accept_remote_cseq(&mut self, seq: u32) -> bool {
        match self.remote_seq {
            Some(last) if seq < last => false,
            _ => {
                self.remote_seq = Some(seq);
                true
            }
        }
    }

    /// §12.2: a target refresh (re-INVITE, UPDATE) replaces the remote target with its Contact.
    pub fn refresh_target(&mut self, request: &Request) {
        if let Ok(uri) = first_contact(&request.headers) {
            self.remote_target = uri;
        }
    }

    /// The URI the next hop is resolved from: the first route when loose routing, else the
    /// remote target (§12.2.1.1, §16.12).
    pub fn next_hop(&self) -> &Uri {
        self.route_set
            .first()
            .map_or(&self.remote_target, |r| &r.uri)
    }

    /// §12.2.1.1: a new request inside the dialog with the next local CSeq number.
    pub fn request(
        &mut self,
        method: Method,
        via: Via,
        content_type: Option<&str>,
        body: Bytes,
    ) -> Request {
        self.local_seq = self.local_seq.saturating_add(1);
        self.build(method, self.local_seq, via, content_type, body)
    }

    /// §13.2.2.4: the ACK for a 2xx carries the INVITE's CSeq number and a new branch.
    pub fn ack(&self, invite_seq: u32, via: Via) -> Request {
        self.build(Method::Ack, invite_seq, via, None, Bytes::new())
    }

    fn build(
        &self,
        method: Method,
        seq: u32,
        via: Via,
        content_type: Option<&str>,
        body: Bytes,
    ) -> Request {
        let strict = self
            .route_set
            .first()
            .is_some_and(|r| r.uri.param("lr").is_none());
        let (uri, routes): (Uri, Vec<String>) = if strict {
            // §12.2.1.1 strict routing: the first route becomes the Request-URI and the remote
            // target goes last in the Route header.
            let mut rest: Vec<String> = self
                .route_set
                .iter()
                .skip(1)
                .map(ToString::to_string)
                .collect();
            rest.push(format!("<{}>", self.remote_target));
            let first = self.route_set.first().map(|r| r.uri.clone());
            (first.unwrap_or_else(|| self.remote_target.clone()), rest)
        } else {
            let routes = self.route_set.iter().map(ToString::to_string).collect();
            (self.remote_target.clone(), routes)
        };
        let mut headers = Headers::new();
        headers.push(HeaderName::Via, via.to_string());
        headers.push(HeaderName::MaxForwards, "70");
        for route in routes {
            headers.push(HeaderName::Route, route);
        }
        headers.push(HeaderName::From, self.local.to_string());
        headers.push(HeaderName::To, self.remote.to_string());
        headers.push(HeaderName::CallId, self.id.call_id.clone());
        headers.push(HeaderName::CSeq, CSeq::new(seq, method.clone()).to_string());
        if matches!(method, Method::Invite | Method::Update) {
            headers.push(HeaderName::Contact, format!("<{}>", self.local_contact));
        }
        if let Some(ct) = content_type {
            headers.push(HeaderName::ContentType, ct);
        }
        Request {
            method,
            uri,
            headers,
            body,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use crate::message::Host;

    fn invite() -> Request {
        let mut headers = Headers::new();
        headers.push(
            HeaderName::Via,
            "SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKa",
        );
        headers.push(HeaderName::RecordRoute, "<sip:p1.example;lr>");
        headers.push(HeaderName::RecordRoute, "<sip:p2.example;lr>");
        headers.push(HeaderName::From, "\"Alice\" <sip:alice@192.0.2.1>;tag=abc");
        headers.push(HeaderName::To, "<sip:bot@192.0.2.2>");
        headers.push(HeaderName::CallId, "call-1");
        headers.push(HeaderName::CSeq, "7 INVITE");
        headers.push(HeaderName::Contact, "<sip:alice@192.0.2.1:5062>");
        Request {
            method: Method::Invite,
            uri: Uri::parse("sip:bot@192.0.2.2").unwrap(),
            headers,
            body: Bytes::new(),
        }
    }

    fn via() -> Via {
        Via::new("UDP", Host::V4("192.0.2.2".parse().unwrap()), Some(5080))
    }

    #[test]
    fn uas_bye_goes_to_contact_through_record_route_in_order() {
        let mut d = Dialog::uas(
            &invite(),
            "xyz",
            Uri::parse("sip:bot@192.0.2.2:5080").unwrap(),
        )
        .unwrap();
        assert_eq!(d.id.remote_tag, "abc");
        let bye = d.request(Method::Bye, via(), None, Bytes::new());
        assert_eq!(bye.uri.to_string(), "sip:alice@192.0.2.1:5062");
        let routes: Vec<_> = bye.headers.all(&HeaderName::Route).collect();
        assert_eq!(routes, ["<sip:p1.example;lr>", "<sip:p2.example;lr>"]);
        assert_eq!(bye.to().unwrap().tag(), Some("abc"));
        assert_eq!(bye.from().unwrap().tag(), Some("xyz"));
        assert_eq!(d.next_hop().to_string(), "sip:p1.example;lr");
    }

    #[test]
    fn out_of_order_remote_cseq_is_refused() {
        let mut d = Dialog::uas(
            &invite(),
            "xyz",
            Uri::parse("sip:bot@192.0.2.2:5080").unwrap(),
        )
        .unwrap();
        assert!(!d.accept_remote_cseq(6));
        assert!(d.accept_remote_cseq(8));
    }
}
